"""``--format asff``: every finding is an ``AwsSecurityFinding`` that BatchImportFindings accepts.

Validated with botocore itself: a Stubber'ed ``securityhub`` client runs its ``ParamValidator`` on
each batch (required members, types, minimum lengths), and the checks botocore leaves to the
service are made here from the same model: its enums (``Compliance.Status``, ``Severity.Label``,
``RecordState``) and the maximum lengths and counts its documentation states (``asff.LIMITS``,
itself held to those statements).
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

from cis_monitoring.audit.security_hub import BATCH
from cis_monitoring.core.findings import Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions, asff
from tests.report.conftest import synthetic

MODEL = botocore.session.get_session().get_service_model("securityhub")
FINDING = MODEL.operation_model("BatchImportFindings").input_shape.members["Findings"].member


def rendered(findings: Findings) -> list[dict[str, Any]]:
    return json.loads(asff.render(findings, RenderOptions()))


def stubbed_import(findings: list[dict[str, Any]]) -> None:
    """BatchImportFindings of ``findings`` through botocore's parameter validation (ParamValidationError if not)."""
    client = boto3.client(
        "securityhub", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "batch_import_findings", {"FailedCount": 0, "SuccessCount": len(findings), "FailedFindings": []}
        )
        client.batch_import_findings(Findings=findings)


def _documented_max(shape: Any) -> int:
    found = re.search(r"Maximum (?:length )?of (\d+)", shape.documentation or "")
    assert found, shape.documentation
    return int(found.group(1))


def test_the_limits_are_the_models() -> None:
    members = FINDING.members
    recommendation = members["Remediation"].members["Recommendation"].members["Text"]
    assert {
        name: _documented_max(members[name]) for name in ("Id", "GeneratorId", "Title", "Description")
    } == {name: asff.LIMITS[name] for name in ("Id", "GeneratorId", "Title", "Description")}
    assert _documented_max(recommendation) == asff.LIMITS["Remediation.Recommendation.Text"]
    assert "up to 50 key-value pairs" in members["ProductFields"].documentation
    assert "up to 128 characters" in members["ProductFields"].documentation
    assert "up to 2048 characters" in members["ProductFields"].documentation
    assert (
        MODEL.operation_model("BatchImportFindings").input_shape.members["Findings"].metadata["max"] == BATCH
    )


def _problems(finding: dict[str, Any]) -> list[str]:
    """What the service would refuse that botocore's validator does not check."""
    problems = []
    members = FINDING.members
    if finding["Compliance"]["Status"] not in members["Compliance"].members["Status"].enum:
        problems.append("Compliance.Status")
    if finding["Severity"]["Label"] not in members["Severity"].members["Label"].enum:
        problems.append("Severity.Label")
    if finding.get("RecordState") not in members["RecordState"].enum:
        problems.append("RecordState")
    for name in ("Id", "GeneratorId", "Title", "Description"):
        if len(finding[name]) > asff.LIMITS[name] or not finding[name].strip():
            problems.append(name)
    text = finding.get("Remediation", {}).get("Recommendation", {}).get("Text", "x")
    if len(text) > asff.LIMITS["Remediation.Recommendation.Text"]:
        problems.append("Remediation.Recommendation.Text")
    fields = finding["ProductFields"]
    if len(fields) > asff.LIMITS["ProductFields"] or any(
        len(k) > 128 or len(v) > 2048 or not v.strip() for k, v in fields.items()
    ):
        problems.append("ProductFields")
    if not 1 <= len(finding["Resources"]) <= asff.LIMITS["Resources"]:
        problems.append("Resources")
    if finding["SchemaVersion"] != "2018-10-08" or not re.fullmatch(r"\d{12}", finding["AwsAccountId"]):
        problems.append("SchemaVersion/AwsAccountId")
    return problems


def test_every_finding_passes_botocores_validation_and_the_models_limits(samples: list[Findings]) -> None:
    for findings in samples:
        documents = rendered(findings)
        assert len(documents) == len(findings.findings)
        stubbed_import(documents)
        assert [p for d in documents for p in _problems(d)] == []


def test_botocore_and_the_limits_check_catch_a_broken_finding() -> None:
    document = rendered(synthetic())[0]
    broken = {k: v for k, v in document.items() if k != "Resources"}
    with pytest.raises(ParamValidationError, match="Resources"):
        stubbed_import([broken])
    assert _problems({**document, "Title": "x" * 257, "Compliance": {"Status": "MAYBE"}}) == [
        "Compliance.Status",
        "Title",
    ]


def test_the_product_is_the_callers_default_and_the_resource_is_the_audited_account() -> None:
    findings = synthetic()
    for finding, document in zip(findings.findings, rendered(findings), strict=True):
        assert document["AwsAccountId"] == "999999999999"  # who imports: the run's caller
        assert (
            document["ProductArn"]
            == "arn:aws:securityhub:us-east-1:999999999999:product/999999999999/default"
        )
        account = document["Resources"][0]
        assert account == {
            "Type": "AwsAccount",
            "Id": f"AWS::::Account:{finding.account_id}",
            "Partition": "aws",
            "Region": finding.region,
        }
        assert document["Id"] == f"cis-monitoring/{finding.uid}"
        assert document["GeneratorId"] == f"cis-monitoring/cis-aws-7.0/{finding.requirement_id}"
        assert document["Compliance"]["RelatedRequirements"] == [
            f"CIS AWS Foundations Benchmark v7.0.0/{finding.requirement_id}"
        ]
        assert document["Types"] == [asff.FINDING_TYPE]


@pytest.mark.parametrize(
    ("status", "compliance", "label"),
    [
        (Status.PASS, "PASSED", "INFORMATIONAL"),
        (Status.FAIL, "FAILED", "MEDIUM"),
        (Status.ERROR, "NOT_AVAILABLE", "MEDIUM"),
        (Status.NOT_APPLICABLE, "NOT_AVAILABLE", "MEDIUM"),
    ],
)
def test_the_compliance_status_and_severity(status: Status, compliance: str, label: str) -> None:
    findings = synthetic()
    index = next(i for i, f in enumerate(findings.findings) if f.status == status)
    document = rendered(findings)[index]
    assert document["Compliance"]["Status"] == compliance
    assert document["Severity"] == {"Label": label, "Original": "medium"}
    assert document["ProductFields"]["cis-monitoring/status"] == str(status)


def test_long_text_is_cut_within_the_limits_and_says_so() -> None:
    findings = synthetic()
    document = rendered(findings)[3]  # the NOT_APPLICABLE finding with 3000-character texts
    assert len(document["Title"]) == 256 and document["Title"].endswith("…")
    assert len(document["Description"]) == 1024
    assert len(document["Remediation"]["Recommendation"]["Text"]) == 512
