"""``--format asff``: the findings in the AWS Security Finding Format, ready for ``securityhub:BatchImportFindings``.

Shaped on the botocore model of Security Hub (``securityhub`` 2018-10-26, ``AwsSecurityFinding``):
its ten required fields (``SchemaVersion``, ``Id``, ``ProductArn``, ``GeneratorId``,
``AwsAccountId``, ``CreatedAt``, ``UpdatedAt``, ``Title``, ``Description``, ``Resources``), and the
limits its documentation states, which the service enforces and botocore's validator does not
(``LIMITS``: Title 256 characters, Description 1024, Id and GeneratorId 512, Remediation text 512,
up to 50 ``ProductFields`` of key ≤ 128 and value ≤ 2048, up to 32 ``Resources`` and
``RelatedRequirements``). Longer text is cut, ending in ``…``; the JSON report has it whole.

Whose findings: the default custom-findings product of the account that imports them,
``arn:<partition>:securityhub:<region>:<account>:product/<account>/default``. BatchImportFindings
with that product must be called by "the Amazon Web Services account that is associated with a
finding ... the identifier of the account that you are calling BatchImportFindings from needs to
be the same as the AwsAccountId attribute for the finding" (the operation's documentation in the
model). So ``AwsAccountId`` is the run's caller (who imports), in the Region the run asked STS
(``run.homeRegion``), and the audited account and Region are the finding's ``Resources``
(``AwsAccount``, ``AWS::::Account:<id>``, as Security Hub's own account-level control findings name
an account) beside the log group whose chain was judged.

``Compliance.Status``: PASS -> PASSED, FAIL -> FAILED; ERROR and NOT_APPLICABLE -> NOT_AVAILABLE
("Check could not be performed due to a service outage, API error, or because the result of the
Config evaluation was NOT_APPLICABLE", the model's documentation of ``Compliance.Status``).
``Severity.Label`` is the control's severity for a finding that is not PASS, and INFORMATIONAL for
a PASS (as Security Hub labels its own PASSED control findings); ``Severity.Original`` keeps the
control's. ``Compliance.RelatedRequirements`` names the requirement as Security Hub's own CIS
standard does (``CIS AWS Foundations Benchmark v1.2.0/3.5``), so the finding sits beside the
CloudWatch.1-14 controls that Security Hub itself reports only as a manual check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cis_monitoring.core.aws.arns import Arn
from cis_monitoring.core.aws.regions import partition_of
from cis_monitoring.core.catalog.benchmarks import BY_KEY
from cis_monitoring.core.findings import Finding, Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions

EXTENSION = ".asff.json"
SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
)
COMPLIANCE = {Status.PASS: "PASSED", Status.FAIL: "FAILED"}
NOT_AVAILABLE = "NOT_AVAILABLE"
"""ERROR (could not check) and NOT_APPLICABLE (not in the run's benchmark version)."""
SEVERITY_LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
LIMITS = {
    "Id": 512,
    "GeneratorId": 512,
    "Title": 256,
    "Description": 1024,
    "Remediation.Recommendation.Text": 512,
    "ProductFields": 50,
    "ProductFields.key": 128,
    "ProductFields.value": 2048,
    "Resources": 32,
    "Compliance.RelatedRequirements": 32,
}
"""The documented limits of ``AwsSecurityFinding`` (botocore's securityhub model) this renderer keeps."""
PRODUCT_FIELD = "cis-monitoring/"
ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters (never empty: ASFF's strings need a non-space character)."""
    text = text.strip() or "-"
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _timestamp(moment: str) -> str:
    """RFC 3339 in UTC with a ``Z`` (Security Hub's timestamp format)."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def product_arn(account_id: str, region: str) -> str:
    """The account's default custom-findings product in ``region``."""
    return str(
        Arn(partition_of(region) or "aws", "securityhub", region, account_id, f"product/{account_id}/default")
    )


def importer_of(findings: Findings, finding: Finding) -> tuple[str, str]:
    """(account, Region) whose Security Hub the finding is for: the run's caller, where it asked STS."""
    run = findings.run
    account = run.caller.account_id if run.caller else finding.account_id
    return account, run.home_region or finding.region


def _product_fields(finding: Finding, findings: Findings) -> dict[str, str]:
    run = findings.run
    wanted: Mapping[str, object] = {
        "status": finding.status,
        "controlId": finding.control_id,
        "requirementId": finding.requirement_id,
        "benchmark": run.benchmark,
        "coverage": finding.coverage.description if finding.coverage else None,
        "coverageCode": finding.coverage.code if finding.coverage else None,
        "chain": finding.chain,
        "links": "; ".join(f"{link.link}={link.status}" for link in finding.links),
        "codes": ", ".join(dict.fromkeys(c for link in finding.links for c in link.codes)),
        "securityHubControl": finding.security_hub_id,
        "assessment": finding.assessment,
        "profile": finding.profile,
        "catalogVersion": run.catalog_version,
        "toolVersion": run.tool_version,
        "notes": "; ".join(finding.notes),
    }
    fields = {"ProviderName": run.tool, "ProviderVersion": run.tool_version}
    fields |= {f"{PRODUCT_FIELD}{k}": str(v) for k, v in wanted.items() if v not in (None, "")}
    return {
        cut(k, LIMITS["ProductFields.key"]): cut(v, LIMITS["ProductFields.value"])
        for k, v in list(fields.items())[: LIMITS["ProductFields"]]
    }


def _resources(finding: Finding) -> list[dict[str, Any]]:
    partition = partition_of(finding.region) or "aws"
    resources: list[dict[str, Any]] = [
        {
            "Type": "AwsAccount",
            "Id": f"AWS::::Account:{finding.account_id}",
            "Partition": partition,
            "Region": finding.region,
        }
    ]
    if finding.chain:
        owner, region, name = finding.chain.split("/", 2)
        resources.append(
            {
                "Type": "Other",
                "Id": str(Arn(partition_of(region) or partition, "logs", region, owner, f"log-group:{name}")),
                "Partition": partition_of(region) or partition,
                "Region": region,
                "Details": {"Other": {"role": "the log group whose alarm chain was judged"}},
            }
        )
    return resources[: LIMITS["Resources"]]


def security_finding(finding: Finding, findings: Findings) -> dict[str, Any]:
    """One finding as an ``AwsSecurityFinding``."""
    run = findings.run
    account, region = importer_of(findings, finding)
    status = COMPLIANCE.get(finding.status, NOT_AVAILABLE)
    severity = finding.severity.upper() if finding.severity.upper() in SEVERITY_LABELS else "MEDIUM"
    benchmark = BY_KEY.get(run.benchmark)
    requirement = (
        f"CIS AWS Foundations Benchmark {benchmark.version}/{finding.requirement_id}"
        if benchmark
        else f"{run.benchmark}/{finding.requirement_id}"
    )
    reasons = "; ".join(finding.reasons) or "no reason given"
    document: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": cut(f"{run.tool}/{finding.uid}", LIMITS["Id"]),
        "ProductArn": product_arn(account, region),
        "GeneratorId": cut(f"{run.tool}/{run.benchmark}/{finding.requirement_id}", LIMITS["GeneratorId"]),
        "AwsAccountId": account,
        "Types": [FINDING_TYPE],
        "CreatedAt": _timestamp(run.finished),
        "UpdatedAt": _timestamp(run.finished),
        "Severity": {
            "Label": "INFORMATIONAL" if status == "PASSED" else severity,
            "Original": finding.severity,
        },
        "Title": cut(f"{finding.requirement_id} {finding.title}", LIMITS["Title"]),
        "Description": cut(
            f"{finding.status} for account {finding.account_id} in {finding.region}: {reasons}",
            LIMITS["Description"],
        ),
        "ProductName": run.tool,
        "CompanyName": run.tool,
        "ProductFields": _product_fields(finding, findings),
        "Resources": _resources(finding),
        "Compliance": {"Status": status, "RelatedRequirements": [requirement]},
        "RecordState": "ACTIVE",
    }
    if finding.remediation:
        document["Remediation"] = {
            "Recommendation": {"Text": cut(finding.remediation, LIMITS["Remediation.Recommendation.Text"])}
        }
    return document


def security_findings(findings: Findings) -> list[dict[str, Any]]:
    return [security_finding(f, findings) for f in findings.findings]


def render(findings: Findings, options: RenderOptions) -> str:
    return json.dumps(security_findings(findings), indent=2, ensure_ascii=False) + "\n"
