"""What the audit reports per target: a row (PASS, FAIL or ERROR) with one finding per check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cis_monitoring.audit.aws_errors import AwsError, read_error, unexpected
from cis_monitoring.audit.aws_session import AccountMismatchError
from cis_monitoring.audit.proofs import ProofResult

__all__ = ["AWS_ERRORS", "AwsError", "Finding", "TargetResult", "aws_error"]

AWS_ERRORS = (ClientError, BotoCoreError, AccountMismatchError)
"""What an AWS call can raise that makes a row ERROR (anything else is a bug, still an ERROR row)."""


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool | None
    """None: not checked, because an earlier link failed or errored."""
    detail: str
    codes: tuple[str, ...] = ()
    """The core judge's problem codes when the check failed (``alarm.treat_missing_data`` ...)."""

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail, "codes": list(self.codes)}


@dataclass(frozen=True)
class TargetResult:
    account_id: str
    account_name: str
    region: str
    log_group: str
    status: str
    """PASS, FAIL or ERROR."""
    reasons: list[str]
    findings: list[Finding]
    error: AwsError | None = None
    codes: tuple[str, ...] = field(default=())
    """The problem codes of the failing check (empty for PASS and ERROR)."""
    proofs: tuple[ProofResult, ...] = ()
    """AWS as the judge of the links the checks reached (``cis_monitoring.audit.proof_run``), the drill's too."""
    control: str | None = None
    """The catalog control these checks were for."""
    alarm: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The working chain's alarm as DescribeAlarms gave it (what a drill starts from); not in the JSON."""

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"

    def verdict_dict(self) -> dict[str, Any]:
        """What the checks found, without where (a chain's JSON entry names the place once)."""
        return {
            "status": self.status,
            "reasons": list(self.reasons),
            "codes": list(self.codes),
            "findings": [f.to_dict() for f in self.findings],
            "error": self.error.to_dict() if self.error else None,
            "proofs": [p.to_dict() for p in self.proofs],
        }

    def to_dict(self) -> dict[str, Any]:
        place = {"accountId": self.account_id, "accountName": self.account_name, "region": self.region}
        return {**place, "logGroup": self.log_group, **self.verdict_dict()}


def aws_error(error: Exception) -> AwsError:
    """The row's error: AWS's code and message, and the operation that failed."""
    if isinstance(error, ClientError | BotoCoreError):
        return read_error(error)
    if isinstance(error, AccountMismatchError):
        return AwsError(error.code, str(error))
    return unexpected(error)
