"""Findings for the renderers' tests: made by the real audit against moto, and a synthetic set with
every status, long and awkward text, so each format is checked on what the audit gives and on the edges.

``audited`` runs ``cis-monitoring audit ... --format json`` (the CLI, the adapter, the writer) in three
worlds and reads each file back: a compliant account (PASS), the same with its metric filter deleted
(FAIL at the filter), and one whose DescribeAlarms AWS refuses (ERROR).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.findings import (
    JUDGED_BY_AWS,
    Caller,
    CoverageEvidence,
    Finding,
    Findings,
    LinkEvidence,
    Run,
)
from cis_monitoring.core.status import Status

RUN = Run(
    started="2026-12-07T18:00:00Z",
    finished="2026-12-07T18:00:09Z",
    tool_version="0.1.0",
    catalog_version="2026.12.1",
    benchmark="cis-aws-7.0",
    caller=Caller("999999999999", "arn:aws:sts::999999999999:assumed-role/auditor/run"),
    command=("cis-monitoring", "audit", "--stack", "prod"),
    home_region="us-east-1",
)
LONG = "x" * 3000
AWKWARD = '=HYPERLINK("http://evil") <b>&amp; \'quoted\' "double" ünïcode ✓'


def _finding(status: Status, account: str, region: str, **extra: object) -> Finding:
    links = (
        LinkEvidence(
            "trail",
            Status.PASS,
            "multi-Region trail 't'",
            basis=(AwsRead("cloudtrail", "DescribeTrails", ("Name",)),),
        ),
        LinkEvidence(
            "filter",
            Status.FAIL if status == Status.FAIL else Status.PASS,
            AWKWARD,
            ("filter.pattern_not_covering",) if status == Status.FAIL else (),
            (AwsRead("logs", "DescribeMetricFilters", ("filterPattern",)),),
            evidence={"filterPattern": "{ ($.eventName = CreateTrail) }"},
        ),
        LinkEvidence(
            "aws matcher", Status.NOT_AVAILABLE, "not available in this emulator", judged_by=JUDGED_BY_AWS
        ),
        LinkEvidence("drill", Status.SKIPPED, "not asked for"),
    )
    fields: dict[str, object] = {
        "control_id": "4.5",
        "requirement_id": "5.5",
        "title": "Ensure CloudTrail configuration changes are monitored",
        "severity": "medium",
        "account_id": account,
        "region": region,
        "status": status,
        "reasons": (f"{status}: {AWKWARD}",),
        "account_name": "sandbox",
        "coverage": CoverageEvidence(
            "direct",
            "coverage.direct",
            "covered directly",
            "t",
            account,
            "us-east-1",
            f"{account}/us-east-1/g",
        ),
        "links": links,
        "chain": f"{account}/us-east-1/group/with/slashes",
        "risk": "r",
        "remediation": "fix it",
        "security_hub_id": "CloudWatch.5",
        "assessment": "Manual",
        "profile": "Level 1",
        "requirement_source": "a source",
    }
    fields.update(extra)
    return Finding(**fields)  # type: ignore[arg-type]


def synthetic() -> Findings:
    """Every finding status, a finding with no coverage or chain, and text past every ASFF limit."""
    return Findings(
        RUN,
        [
            _finding(Status.PASS, "111111111111", "us-east-1"),
            _finding(Status.FAIL, "111111111111", "eu-west-1"),
            _finding(Status.ERROR, "222222222222", "us-east-1", coverage=None, chain=None, links=()),
            _finding(
                Status.NOT_APPLICABLE,
                "333333333333",
                "ap-southeast-2",
                reasons=(LONG,),
                title=LONG,
                remediation=LONG,
                requirement_id="4.5",
                assessment=None,
                profile=None,
                requirement_source=None,
            ),
        ],
        notes=["a note"],
        errors=[],
    )


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Findings]]:
    from moto.core.models import MockAWS  # noqa: F401  (moto is what moto_for_module starts)

    from cis_monitoring import cli as top
    from cis_monitoring.audit import cli
    from cis_monitoring.audit.aws import SessionFactory
    from cis_monitoring.report.cli import read_findings
    from tests.audit.test_audit_unit import (
        ACCOUNT,
        FILTER_NAME,
        REGION,
        allow_queue,
        build_compliant,
        inject_error,
        moto_for_module,
        new_session,
    )

    mocked = moto_for_module()
    moto = next(mocked)
    found: list[Findings] = []

    def run(name: str) -> Findings:
        out = tmp_path_factory.mktemp(name)
        code = top.run(
            "audit", ["--account", ACCOUNT, "--region", REGION, "--format", "json", "--output-dir", str(out)]
        )
        assert code in (0, 1, 3)
        (written,) = Path(out).glob("*.json")
        return read_findings(written)

    try:
        setup = build_compliant()
        allow_queue(setup)
        found.append(run("pass"))
        setup.client("logs").delete_metric_filter(logGroupName=setup.log_group, filterName=FILTER_NAME)
        found.append(run("fail"))
        moto.reset()
        setup = build_compliant()
        allow_queue(setup)
        session = new_session()
        inject_error(session, "before-call.cloudwatch.DescribeAlarms", "AccessDenied", "not authorized")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli, "_sessions", lambda *_a, **_k: SessionFactory(session))
            found.append(run("error"))
        yield found
    finally:
        mocked.close()


def every_sample(audited: list[Findings]) -> list[Findings]:
    return [*audited, synthetic()]


@pytest.fixture
def samples(audited: list[Findings]) -> list[Findings]:
    """The audited findings (PASS, FAIL, ERROR) and the synthetic set."""
    return every_sample(audited)
