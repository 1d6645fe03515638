"""``--format ocsf``: one OCSF 1.6 Compliance Finding (``class_uid`` 2003) per finding, as a JSON array.

OCSF 1.6 is the version Security Hub reads ("Security Hub currently supports findings in OCSF
schema version 1.6": AWS Security Hub User Guide, "Security Hub and the Open Cybersecurity Schema
Framework", docs.aws.amazon.com/securityhub/latest/userguide/securityhub-ocsf.html). Where each
part of a finding goes (https://schema.ocsf.io/1.6.0/classes/compliance_finding):

- ``compliance``: the benchmark version (``standards``), the requirement id (``requirements``), the
  control (``control``: id and title), ``status``/``status_id`` (Pass 1, Warning 2, Fail 3: ERROR
  and NOT_APPLICABLE are Warning, "did not yield a result", with ``status_detail`` saying which and
  why), and one ``checks[]`` entry per link of the chain (trail, selectors, delivery, filter, alarm,
  topic policy, subscription, the proofs) with its own status;
- ``evidences[]``: per link, what AWS answered and the calls and fields the verdict rests on
  (``data``: ``basis``, ``judgedBy``, ``evidence``);
- ``remediation.desc``: the catalog's remediation; ``finding_info``: the finding's stable ``uid``,
  title, the reasons (``desc``) and the run's time; ``resources[]``: the audited account and, when
  the events reach one, the log group whose chain was judged; ``cloud`` (the cloud profile):
  provider AWS, the account and Region;
- ``severity_id``: the catalog's severity (informational 1 … critical 5); ``metadata.product``:
  this tool and its version; ``unmapped``: what OCSF has no attribute for (coverage, catalog and
  benchmark version, the caller).

Times are milliseconds since the epoch (OCSF's ``timestamp_t``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cis_monitoring.core.catalog.benchmarks import name_of
from cis_monitoring.core.findings import FINDINGS_SCHEMA_VERSION, Finding, Findings, LinkEvidence
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions

EXTENSION = ".ocsf.json"
OCSF_VERSION = "1.6.0"
CLASS_UID = 2003
CLASS_NAME = "Compliance Finding"
CATEGORY_UID = 2
CATEGORY_NAME = "Findings"
ACTIVITY_CREATE = 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE
"""OCSF: ``class_uid * 100 + activity_id``."""
FINDING_NEW = (1, "New")
"""The finding's own ``status_id``/``status``: set by the producer as new; consumers move it on."""
SEVERITY_IDS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
PASS, WARNING, FAIL = (1, "Pass"), (2, "Warning"), (3, "Fail")
COMPLIANCE_STATUS = {Status.PASS: PASS, Status.FAIL: FAIL}
"""Any other status (ERROR, NOT_APPLICABLE, NOT_AVAILABLE, SKIPPED) yielded no result: Warning."""
AWS_ACCOUNT_TYPE = (10, "AWS Account")
"""OCSF ``account.type_id`` 10: AWS Account."""
FINDING_TYPE = (
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
)


def epoch_ms(moment: str) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() * 1000)


def _compliance_status(status: Status) -> tuple[int, str]:
    return COMPLIANCE_STATUS.get(status, WARNING)


def _check(link: LinkEvidence) -> dict[str, Any]:
    status_id, status = _compliance_status(link.status)
    return {
        "uid": link.link,
        "name": link.link,
        "desc": link.detail,
        "status": status,
        "status_id": status_id,
    }


def _evidence(link: LinkEvidence) -> dict[str, Any]:
    return {
        "name": link.link,
        "data": {
            "status": str(link.status),
            "detail": link.detail,
            "codes": list(link.codes),
            "judgedBy": link.judged_by,
            "basis": [read.to_dict() for read in link.basis],
            "evidence": dict(link.evidence),
        },
    }


def _resources(finding: Finding) -> list[dict[str, Any]]:
    account = {
        "type": "AWS::::Account",
        "uid": f"AWS::::Account:{finding.account_id}",
        "name": finding.account_name or finding.account_id,
        "region": finding.region,
    }
    if not finding.chain:
        return [account]
    owner, region, name = finding.chain.split("/", 2)
    group = {
        "type": "AWS::Logs::LogGroup",
        "uid": finding.chain,
        "name": name,
        "region": region,
        "data": {"accountId": owner, "role": "the log group whose alarm chain was judged"},
    }
    return [account, group]


def compliance_finding(finding: Finding, findings: Findings) -> dict[str, Any]:
    """One finding as an OCSF 1.6 Compliance Finding (a dict ready for JSON)."""
    run = findings.run
    standard = name_of(run.benchmark)
    status_id, status = _compliance_status(finding.status)
    detail = f"{finding.status}: " + ("; ".join(finding.reasons) or "no reason given")
    time = epoch_ms(run.finished)
    return {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "type_uid": TYPE_UID,
        "type_name": f"{CLASS_NAME}: Create",
        "time": time,
        "severity_id": SEVERITY_IDS.get(finding.severity, 0),
        "severity": finding.severity.capitalize() if finding.severity in SEVERITY_IDS else "Unknown",
        "status_id": FINDING_NEW[0],
        "status": FINDING_NEW[1],
        "message": f"{finding.requirement_id} {finding.title}: {detail}",
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "uid": finding.uid,
            "event_code": finding.control_id,
            "product": {
                "name": run.tool,
                "vendor_name": run.tool,
                "version": run.tool_version,
                "uid": run.tool,
            },
        },
        "finding_info": {
            "uid": f"{run.tool}/{finding.uid}",
            "title": f"{standard} {finding.requirement_id}: {finding.title}",
            "desc": detail,
            "types": [FINDING_TYPE],
            "created_time": time,
            "first_seen_time": epoch_ms(run.started),
            "last_seen_time": time,
        },
        "compliance": {
            "standards": [standard],
            "requirements": [finding.requirement_id],
            "control": f"{finding.requirement_id} {finding.title}",
            "status": status,
            "status_id": status_id,
            "status_detail": detail,
            "checks": [_check(link) for link in finding.links],
        },
        "evidences": [_evidence(link) for link in finding.links],
        "remediation": {"desc": finding.remediation or "see the reasons"},
        "resources": _resources(finding),
        "cloud": {
            "provider": "AWS",
            "region": finding.region,
            "account": {
                "uid": finding.account_id,
                "name": finding.account_name or finding.account_id,
                "type_id": AWS_ACCOUNT_TYPE[0],
                "type": AWS_ACCOUNT_TYPE[1],
            },
        },
        "unmapped": {
            "cisMonitoring": {
                "schemaVersion": FINDINGS_SCHEMA_VERSION,
                "status": str(finding.status),
                "controlId": finding.control_id,
                "benchmark": run.benchmark,
                "assessment": finding.assessment,
                "profile": finding.profile,
                "coverage": finding.coverage.to_dict() if finding.coverage else None,
                "securityHubId": finding.security_hub_id,
                "risk": finding.risk,
                "notes": list(finding.notes),
                "catalogVersion": run.catalog_version,
                "caller": run.caller.to_dict() if run.caller else None,
                "endpoint": run.endpoint,
            }
        },
    }


def render(findings: Findings, options: RenderOptions) -> str:
    return (
        json.dumps([compliance_finding(f, findings) for f in findings.findings], indent=2, ensure_ascii=False)
        + "\n"
    )
