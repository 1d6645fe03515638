"""``--format ocsf``: each finding is an OCSF Compliance Finding that ``py-ocsf-models`` accepts.

``py-ocsf-models`` (Prowler's pydantic models of OCSF, ``py_ocsf_models.OCSF_VERSION``: 1.5.0)
models OCSF 1.5.0; Security Hub reads 1.6 (the renderer says ``metadata.version`` 1.6.0). The
Compliance Finding class and the objects used here are the same in both, except what 1.6 adds
(``resource``, ``vendor_attributes``, ``count``, ``duration``, ``raw_data_hash``/``raw_data_size``;
``compliance.control_parameters``, ``compliance_references``, ``compliance_standards``,
``status_code``, ``status_details``), none of which is emitted. The package's ``Compliance`` also lacks ``status`` and
``status_detail``, which the OCSF compliance object has (1.6.0: ``status`` "[Recommended]",
``status_detail``, beside ``status_id``): ``PACKAGE_GAPS``. The models ignore keys they do not
know, so the tests also hold every emitted key to the model's fields, except those gaps and
``cloud`` (OCSF's cloud profile, which the package models as its own ``Cloud`` object and is
validated as such).
"""

from __future__ import annotations

import json
from typing import Any

import py_ocsf_models
import pytest
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatus
from pydantic import BaseModel, ValidationError

from cis_monitoring.core.findings import Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions, ocsf
from tests.report.conftest import synthetic

PROFILE_KEYS = {"cloud"}
"""Top-level keys of OCSF profiles the package models as separate objects."""
PACKAGE_GAPS = ["compliance.status", "compliance.status_detail"]
"""Attributes of OCSF's compliance object that py-ocsf-models does not model (checked by hand above)."""


def rendered(findings: Findings) -> list[dict[str, Any]]:
    return json.loads(ocsf.render(findings, RenderOptions()))


def _unknown_keys(value: Any, model: type[BaseModel], where: str = "") -> list[str]:
    """Keys of ``value`` that ``model`` has no field for (recursing into nested models and lists of them)."""
    if not isinstance(value, dict):
        return []
    unknown = []
    for key, item in value.items():
        field = model.model_fields.get(key)
        if field is None:
            unknown.append(f"{where}{key}")
            continue
        nested = [
            a for a in getattr(field.annotation, "__args__", (field.annotation,)) if a is not type(None)
        ]
        for kind in nested:
            inner = (
                getattr(kind, "__args__", (kind,))[0] if getattr(kind, "__origin__", None) is list else kind
            )
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                for element in item if isinstance(item, list) else [item]:
                    unknown += _unknown_keys(element, inner, f"{where}{key}.")
    return unknown


def test_the_package_models_ocsf_1_5_and_the_renderer_says_1_6() -> None:
    assert py_ocsf_models.OCSF_VERSION == "1.5.0"  # if this moves, revisit the gap in the docstring
    assert ocsf.OCSF_VERSION == "1.6.0"


def test_every_finding_is_a_valid_compliance_finding(samples: list[Findings]) -> None:
    for findings in samples:
        documents = rendered(findings)
        assert len(documents) == len(findings.findings)
        for document in documents:
            model = ComplianceFinding.model_validate(document)
            Cloud.model_validate(document["cloud"])
            assert model.class_uid == 2003 and model.type_uid == 200301 and model.category_uid == 2
            assert set(document) - set(ComplianceFinding.model_fields) == PROFILE_KEYS
            core = {k: v for k, v in document.items() if k not in PROFILE_KEYS}
            assert _unknown_keys(core, ComplianceFinding) == PACKAGE_GAPS
            assert isinstance(document["compliance"]["status"], str)
            assert isinstance(document["compliance"]["status_detail"], str)


def test_a_document_the_models_reject_fails_validation() -> None:
    document = rendered(synthetic())[0]
    del document["finding_info"]["uid"]
    with pytest.raises(ValidationError):
        ComplianceFinding.model_validate(document)
    assert _unknown_keys({"compliance": {"statuz": 1}}, ComplianceFinding) == ["compliance.statuz"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.PASS, ComplianceStatus.Pass),
        (Status.FAIL, ComplianceStatus.Fail),
        (Status.ERROR, ComplianceStatus.Warning),
        (Status.NOT_APPLICABLE, ComplianceStatus.Warning),
    ],
)
def test_the_compliance_status_and_the_control_are_where_ocsf_expects_them(
    status: Status, expected: ComplianceStatus
) -> None:
    findings = synthetic()
    (finding,) = [f for f in findings.findings if f.status == status]
    document = next(d for d in rendered(findings) if d["metadata"]["uid"] == finding.uid)
    compliance = document["compliance"]
    assert compliance["status_id"] == expected and compliance["status"] == expected.name
    assert compliance["status_detail"].startswith(f"{status}: ")
    assert compliance["requirements"] == [finding.requirement_id]
    assert compliance["standards"] == ["CIS Amazon Web Services Foundations Benchmark v7.0.0"]
    assert compliance["control"] == f"{finding.requirement_id} {finding.title}"
    assert [c["name"] for c in compliance["checks"]] == [link.link for link in finding.links]
    assert [e["data"]["basis"] for e in document["evidences"]] == [
        [read.to_dict() for read in link.basis] for link in finding.links
    ]
    assert document["remediation"]["desc"] == finding.remediation
    assert document["cloud"]["account"]["uid"] == finding.account_id
    assert document["resources"][0]["uid"] == f"AWS::::Account:{finding.account_id}"
    assert document["severity_id"] == 3  # medium


def test_the_audited_pass_carries_the_deployed_pattern_and_awss_matcher_verdict(
    audited: list[Findings],
) -> None:
    passed = rendered(audited[0])[0]
    evidence = {e["name"]: e["data"] for e in passed["evidences"]}
    assert evidence["filter"]["evidence"]["filterPattern"].startswith("{ ($.eventName = CreateTrail)")
    assert evidence["aws matcher"]["judgedBy"] == "aws"
    assert evidence["aws matcher"]["status"] == "NOT_AVAILABLE"  # moto has no TestMetricFilter: never a PASS
    assert passed["compliance"]["status_id"] == ComplianceStatus.Pass
