"""``--security-hub``: BatchImportFindings in batches of 100, refused findings named one by one, and a denied
import that loses no local report (exit 2 naming ``securityhub:BatchImportFindings`` and the policy).

The import is checked with botocore's Stubber (AWS's response shape: ``FailedCount``, ``SuccessCount``,
``FailedFindings[]`` of ``Id``, ``ErrorCode``, ``ErrorMessage``), and end to end with moto, which
implements BatchImportFindings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cis_monitoring.audit import security_hub
from cis_monitoring.core.errors import CannotLookError
from cis_monitoring.report import RenderOptions, asff
from tests.audit.test_audit_unit import (
    ACCOUNT,
    REGION,
    allow_queue,
    build_compliant,
    inject_error,
    new_session,
)
from tests.audit.test_cli import audit, with_session
from tests.report.conftest import synthetic

WHERE = "account 999999999999 in us-east-1"


def client() -> Any:
    return boto3.client(
        "securityhub", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )


def findings(count: int) -> list[dict[str, Any]]:
    one = json.loads(asff.render(synthetic(), RenderOptions()))[0]
    return [{**one, "Id": f"cis-monitoring/4.5/{i:012d}/us-east-1"} for i in range(count)]


def test_findings_go_in_batches_of_100() -> None:
    sent = findings(250)
    hub = client()
    with Stubber(hub) as stub:
        for batch in (sent[:100], sent[100:200], sent[200:]):
            stub.add_response(
                "batch_import_findings",
                {"FailedCount": 0, "SuccessCount": len(batch), "FailedFindings": []},
                {"Findings": batch},
            )
        result = security_hub.import_findings(hub, sent, WHERE)
        stub.assert_no_pending_responses()
    assert (result.calls, result.imported, result.failed) == (3, 250, [])


def test_each_refused_finding_is_named() -> None:
    sent = findings(3)
    hub = client()
    failed = [
        {"Id": sent[0]["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "Finding does not adhere to ASFF"},
        {"Id": sent[2]["Id"], "ErrorCode": "FindingSizeExceeded", "ErrorMessage": "too large"},
    ]
    with Stubber(hub) as stub:
        stub.add_response(
            "batch_import_findings", {"FailedCount": 2, "SuccessCount": 1, "FailedFindings": failed}
        )
        with pytest.raises(CannotLookError) as refused:
            security_hub.import_findings(hub, sent, WHERE)
    assert refused.value.lines == [
        f"--security-hub: Security Hub refused 2 finding(s) in {WHERE} (1 imported); the local reports were written:",
        f"  - {sent[0]['Id']}: InvalidInput: Finding does not adhere to ASFF",
        f"  - {sent[2]['Id']}: FindingSizeExceeded: too large",
    ]


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("AccessDeniedException", "securityhub:BatchImportFindings was denied in"),
        ("InvalidAccessException", "enable Security Hub in that account and Region"),
        ("InternalException", "securityhub:BatchImportFindings failed in"),
    ],
)
def test_a_refused_call_says_what_to_do_and_counts_what_went_in_before(code: str, says: str) -> None:
    sent = findings(150)
    hub = client()
    with Stubber(hub) as stub:
        stub.add_response(
            "batch_import_findings", {"FailedCount": 0, "SuccessCount": 100, "FailedFindings": []}
        )
        stub.add_client_error("batch_import_findings", code, "no", 403)
        with pytest.raises(CannotLookError) as refused:
            security_hub.import_findings(hub, sent, WHERE)
    (line,) = refused.value.lines
    assert (
        says in line
        and "(100 finding(s) were imported before)" in line
        and "The local reports were written" in line
    )
    if code == "AccessDeniedException":
        assert security_hub.POLICY in line


# ---------------------------------------------------------------- end to end, against moto


def test_the_audit_imports_its_findings_after_writing_them(aws: None, tmp_path: Path, capsys: Any) -> None:
    setup = build_compliant()
    allow_queue(setup)
    argv = [
        "--account",
        ACCOUNT,
        "--region",
        REGION,
        "--format",
        "json",
        "--output-dir",
        str(tmp_path),
        "--security-hub",
    ]
    code, _out, err = audit(argv, capsys)
    assert code == 0, err
    (path,) = tmp_path.glob("*.json")
    assert err.splitlines()[-2:] == [
        f"wrote {path}",
        f"imported 1 finding(s) into Security Hub in account {ACCOUNT} in {REGION}",
    ]
    (imported,) = boto3.client("securityhub", region_name=REGION).get_findings()["Findings"]
    assert imported["Id"] == f"cis-monitoring/4.5/{ACCOUNT}/{REGION}"
    assert imported["Compliance"]["Status"] == "PASSED"


def test_a_denied_import_is_2_and_the_local_reports_stay(
    aws: None, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = build_compliant()
    allow_queue(setup)
    session = new_session()
    inject_error(
        session, "before-call.securityhub.BatchImportFindings", "AccessDeniedException", "not authorized"
    )
    with_session(monkeypatch, session)
    argv = ["--account", ACCOUNT, "--region", REGION, "--format", "json", "--format", "asff"]
    code, out, err = audit([*argv, "--output-dir", str(tmp_path), "--security-hub"], capsys)
    assert code == 2
    assert "1 account-Region pair(s): 1 PASS" in out  # the report is printed too
    written = sorted(tmp_path.iterdir())
    assert [p.suffixes[-1] for p in written] == [".json", ".json"] and all(p.stat().st_size for p in written)
    lines = err.splitlines()
    wrote = max(i for i, line in enumerate(lines) if line.startswith("wrote "))
    denied = next(i for i, line in enumerate(lines) if "securityhub:BatchImportFindings was denied" in line)
    assert wrote < denied and lines[denied].startswith("error: --security-hub: ")
    assert security_hub.POLICY in lines[denied]
