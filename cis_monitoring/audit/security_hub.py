"""``--security-hub``: import the findings (ASFF, ``cis_monitoring.report.asff``) into the caller's Security Hub.

``securityhub:BatchImportFindings`` takes 1 to 100 findings per call (the botocore model's
``Findings`` list: ``min`` 1, ``max`` 100), so the findings go in batches of ``BATCH``. Its answer
counts what it took (``SuccessCount``) and lists each finding it refused (``FailedFindings``: ``Id``,
``ErrorCode``, ``ErrorMessage``); every refused finding is named. It runs after the local reports
are written, so nothing is lost when the import fails:

- AWS denies the call (``AccessDenied``/``AccessDeniedException``) or Security Hub is not enabled
  in the account and Region (``InvalidAccessException``): a ``CannotLookError`` (exit 2) naming
  the permission and the policy that grants it (``iam/security-hub-import-policy.json``), or to
  enable Security Hub;
- refused findings, or any other AWS error: a ``CannotLookError`` too, naming each finding and
  how many were imported before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cis_monitoring.audit.aws import read_error
from cis_monitoring.audit.proofs.result import ACCESS_DENIED
from cis_monitoring.core.errors import CannotLookError

BATCH = 100
"""The most findings one BatchImportFindings call takes (botocore: securityhub ``BatchImportFindingsRequestFindingsList`` max 100)."""
ACTION = "securityhub:BatchImportFindings"
POLICY = "iam/security-hub-import-policy.json"
NOT_ENABLED = "InvalidAccessException"
"""Security Hub's answer for an account and Region where it is not enabled."""


@dataclass
class ImportResult:
    imported: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    """``FailedFindings`` entries as AWS gave them: ``Id``, ``ErrorCode``, ``ErrorMessage``."""
    calls: int = 0


def batches(findings: Sequence[dict[str, Any]], size: int = BATCH) -> list[Sequence[dict[str, Any]]]:
    return [findings[i : i + size] for i in range(0, len(findings), size)]


def import_findings(client: Any, findings: Sequence[dict[str, Any]], where: str) -> ImportResult:
    """Import ``findings`` (ASFF dicts) with ``client`` (securityhub); ``CannotLookError`` unless all were taken.

    ``where``: the account and Region, for the messages (``account 111111111111 in us-east-1``).
    """
    result = ImportResult()
    for batch in batches(findings):
        try:
            answer = client.batch_import_findings(Findings=list(batch))
        except (ClientError, BotoCoreError) as error:
            raise CannotLookError(_refused(error, where, result)) from None
        result.calls += 1
        result.imported += int(answer.get("SuccessCount", 0))
        result.failed += list(answer.get("FailedFindings") or ())
    if result.failed:
        raise CannotLookError(_failed_lines(result, where))
    return result


def _refused(error: ClientError | BotoCoreError, where: str, result: ImportResult) -> list[str]:
    found = read_error(error)
    before = f" ({result.imported} finding(s) were imported before)" if result.imported else ""
    if found.code in ACCESS_DENIED:
        return [
            f"--security-hub: {ACTION} was denied in {where}{before}: attach {POLICY} to the identity that"
            f" runs the audit, or leave out --security-hub ({found.code}: {found.message}). The local reports"
            " were written."
        ]
    if found.code == NOT_ENABLED:
        return [
            f"--security-hub: Security Hub refused the import in {where}{before}: {found.code}: {found.message};"
            " enable Security Hub in that account and Region, or leave out --security-hub. The local reports"
            " were written."
        ]
    return [
        f"--security-hub: {ACTION} failed in {where}{before}: {found.code}: {found.message}. The local"
        " reports were written."
    ]


def _failed_lines(result: ImportResult, where: str) -> list[str]:
    lines = [
        f"--security-hub: Security Hub refused {len(result.failed)} finding(s) in {where}"
        f" ({result.imported} imported); the local reports were written:"
    ]
    lines += [f"  - {f.get('Id')}: {f.get('ErrorCode')}: {f.get('ErrorMessage')}" for f in result.failed]
    return lines
