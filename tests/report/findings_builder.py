"""Small findings documents for the report tests, built by hand (hostile names included)."""

from __future__ import annotations

from dataclasses import replace

from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.findings import (
    JUDGED_BY_AWS,
    STATED,
    Caller,
    CoverageEvidence,
    Finding,
    Findings,
    LinkEvidence,
    Run,
)
from cis_monitoring.core.status import Status

HOSTILE = '<script>alert("owned")</script>'
HOSTILE_OU = '"><img src=x onerror=alert(1)>'
HOSTILE_DETAIL = "</pre></td><script>document.title='x'</script>"
RUN = Run(
    started="2026-12-07T09:00:00Z",
    finished="2026-12-07T09:01:00Z",
    tool_version="9.9.9",
    catalog_version="2026.12.1",
    benchmark="cis-aws-6.0",
    caller=Caller("999999999999", "arn:aws:sts::999999999999:assumed-role/auditor/x"),
    command=("cis-monitoring", "audit", "--stack", "org"),
)
TRAIL_READ = AwsRead("cloudtrail", "DescribeTrails", ("TrailARN", "Name"))
FILTER_READ = AwsRead("logs", "DescribeMetricFilters", ("filterPattern",))


def finding(
    account: str,
    region: str,
    status: Status = Status.PASS,
    *,
    name: str = "",
    ou: str | None = "Root/Prod",
    chain: str | None = None,
    reasons: tuple[str, ...] = (),
    kind: str = "organization",
    source: str = "audited",
    control: str = "4.5",
    detail: str = "the metric filter matches",
) -> Finding:
    links = (
        LinkEvidence("trail", Status.PASS, f"trail of {account} in {region}", basis=(TRAIL_READ,)),
        LinkEvidence(
            "filter",
            status if status != Status.ERROR else Status.SKIPPED,
            detail,
            ("filter.pattern.not_covering",) if status == Status.FAIL else (),
            (FILTER_READ,),
            evidence={"filterPattern": "{ ($.eventName = CreateTrail) }"},
        ),
        LinkEvidence("aws matcher", Status.PASS, "TestMetricFilter agrees", judged_by=JUDGED_BY_AWS),
    )
    return Finding(
        control_id=control,
        requirement_id="5.5" if control == "4.5" else control,
        title="Ensure CloudTrail configuration changes are monitored",
        severity="medium",
        account_id=account,
        region=region,
        status=status,
        reasons=reasons or (f"{status} for {account} {region}",),
        account_name=name or f"acct-{account[-4:]}",
        ou=ou,
        coverage=CoverageEvidence(kind, f"coverage.{kind}", f"covered ({kind}) {account}/{region}"),
        links=links if source != STATED else (),
        chain=chain,
        risk="Whoever stops the trail acts unseen.",
        remediation="Create the metric filter and the alarm.",
        security_hub_id="CloudWatch.5",
        source=source,
    )


def small_organization() -> Findings:
    """Three accounts in two OUs (one without OU) and two Regions, every status, one hostile name."""
    chain = "999999999999/us-east-1/aws-controltower/CloudTrailLogs"
    found = [
        finding("111111111111", "us-east-1", chain=chain),
        finding("111111111111", "eu-west-1", chain=chain),
        finding("222222222222", "us-east-1", Status.FAIL, name=HOSTILE, ou=HOSTILE_OU, detail=HOSTILE_DETAIL),
        finding("222222222222", "eu-west-1", Status.FAIL, name=HOSTILE, ou=HOSTILE_OU, kind="none"),
        finding("333333333333", "us-east-1", Status.ERROR, ou=None),
        finding("333333333333", "eu-west-1", Status.PASS, ou=None, kind="direct"),
    ]
    return Findings(RUN, found, notes=["a note <b>with markup</b>"], errors=["listing failed & <stopped>"])


def with_stated(document: Findings) -> Findings:
    extra = finding("444444444444", "us-east-1", Status.NOT_AVAILABLE, source=STATED, ou="Root/Prod")
    return replace(document, findings=[*document.findings, extra])


def broken_organization_trail(accounts: int = 5, regions: int = 8) -> Findings:
    """The issue's case: an organization trail whose one chain is broken, in the audit's words.

    Every member (and the owner) is not covered for the same reason: the chain of the log group the
    organization trail delivers to (its alarm's actions are disabled).
    """
    owner, group = "999999999999", "aws-controltower/CloudTrailLogs-itl-aad"
    chain = f"{owner}/us-east-1/{group}"
    trail = f"multi-Region organization trail 'aws-controltower-BaselineCloudTrail' of account {owner} (home us-east-1)"
    reasons = (
        f"not covered: {trail} delivers to log group '{group}' in account {owner} us-east-1, but the chain there"
        " is broken (see that log group's findings)",
        f"chain in account {owner} ({group}): alarm 'cis-4-5-cloudtrail-changes-management-us-east-1': its"
        " actions are disabled (ActionsEnabled is false), so it changes state but notifies nobody; enable them",
    )
    names = [owner, *(f"{111111111111 * (i + 1):012d}" for i in range(accounts - 1))]
    region_names = (
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "eu-west-2",
        "eu-central-1",
    )
    region_names += ("ap-southeast-2", "ap-northeast-1", "sa-east-1")
    found = [
        replace(
            finding(account, region, Status.FAIL, chain=chain, reasons=reasons, kind="none"),
            account_name="management" if account == owner else f"member-{i}",
        )
        for i, account in enumerate(names)
        for region in region_names[:regions]
    ]
    return Findings(RUN, found)
