"""The findings model: a document round-trips, and another major version is refused by name."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cis_monitoring.core.errors import InputError
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.findings import (
    FINDINGS_SCHEMA_VERSION,
    JUDGED_BY_AWS,
    Caller,
    CoverageEvidence,
    Finding,
    Findings,
    LinkEvidence,
    Run,
    by_status,
    from_dict,
)
from cis_monitoring.core.status import Status

RUN = Run(
    "2026-12-07T18:00:00Z",
    "2026-12-07T18:00:09Z",
    "0.1.0",
    "2026.11.1",
    "cis-aws-5.0",
    Caller("111111111111", "arn:aws:sts::111111111111:assumed-role/auditor/s"),
)


def _finding(status: Status, region: str = "us-east-1") -> Finding:
    return Finding(
        control_id="4.5",
        requirement_id="4.5",
        title="Ensure CloudTrail configuration changes are monitored",
        severity="medium",
        account_id="111111111111",
        region=region,
        status=status,
        coverage=CoverageEvidence("direct", "coverage.direct", "covered directly", "t", "111111111111"),
        links=(
            LinkEvidence(
                "filter",
                Status.PASS,
                "covers",
                basis=(AwsRead("logs", "TestMetricFilter", ("matches",)),),
                judged_by=JUDGED_BY_AWS,
                evidence={"pattern": "{ ... }"},
            ),
        ),
    )


def test_a_document_round_trips_through_json() -> None:
    findings = Findings(RUN, [_finding(Status.PASS), _finding(Status.FAIL, "eu-west-1")], ["n"], [])
    document = json.loads(json.dumps(findings.to_dict()))
    assert document["schemaVersion"] == FINDINGS_SCHEMA_VERSION and document["status"] == "FAIL"
    again = from_dict(document)
    assert again.to_dict() == findings.to_dict()
    assert [f.uid for f in by_status(again.findings, [Status.FAIL])] == ["4.5/111111111111/eu-west-1"]


def test_no_finding_is_no_pass() -> None:
    assert Findings(RUN, []).status == Status.ERROR


@pytest.mark.parametrize("version", ["2.0", None, 1])
def test_another_major_version_is_refused_by_name(version: object) -> None:
    document = Findings(RUN, [_finding(Status.PASS)]).to_dict()
    document["schemaVersion"] = version
    with pytest.raises(InputError, match=f"schemaVersion {version!r}; this release reads 1.x"):
        from_dict(document, "report.json")


def test_a_malformed_document_of_this_version_is_an_input_error_not_a_traceback() -> None:
    document = Findings(RUN, [_finding(Status.PASS)]).to_dict()
    del document["findings"][0]["controlId"]
    with pytest.raises(
        InputError, match=r"report.json: not a findings document: the key 'controlId' is missing"
    ):
        from_dict(document, "report.json")
    document = Findings(RUN, [_finding(Status.PASS)]).to_dict()
    document["findings"][0]["status"] = "MAYBE"
    with pytest.raises(
        InputError, match=r"report.json: not a findings document: 'MAYBE' is not a valid Status"
    ):
        from_dict(document, "report.json")


def test_not_applicable_findings_count_for_nothing() -> None:
    na = dataclasses.replace(_finding(Status.PASS), status=Status.NOT_APPLICABLE)
    assert Findings(RUN, [na, _finding(Status.PASS)]).status == Status.PASS
    assert Findings(RUN, [na, _finding(Status.FAIL)]).status == Status.FAIL
    assert Findings(RUN, [na]).status == Status.ERROR  # nothing that applies was checked: no PASS
