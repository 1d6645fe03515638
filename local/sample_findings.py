"""A synthetic organization's findings: fixed input for the report's tests, benchmarks and README image.

Nothing here talks to AWS or an emulator: it builds ``cis_monitoring.core.findings`` the way the
audit would word them, for an organization of any size, the same every time (no clock, no
randomness), so the committed screenshot (``docs/report.png``) only changes when the report does.

The story: a legacy *single-Region* organization trail (``org-trail``, home us-east-1) covers every
member in us-east-1 only; teams that deployed a multi-Region trail of their own are covered
directly everywhere. Among them, one chain was edited by hand (its metric filter no longer matches
``StopLogging``), one trail was stopped, and two accounts refuse the auditor's role (ERROR).
``organization(accounts, regions)`` scales it (300 accounts x 17 Regions is the benchmark's size);
``stated(...)`` is the rollup's view of the same organization (claims, not checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from cis_monitoring import __version__
from cis_monitoring.core.catalog import CATALOG_VERSION, CONTROLS, Control
from cis_monitoring.core.detectors.metric_filter import AWS_READS
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
from cis_monitoring.core.judge.notification import READS as NOTIFICATION_READS
from cis_monitoring.core.problems import Code, Link
from cis_monitoring.core.status import Status
from cis_monitoring.core.topology import TRAIL_READS

REGIONS_17 = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)
"""The 17 Regions enabled by default in an AWS account (the commercial partition)."""
BENCHMARK = "cis-aws-5.0"
MANAGEMENT = "100000000000"
AUDITOR = f"arn:aws:sts::{MANAGEMENT}:assumed-role/cis-auditor/compliance-2026-q4"
ORG_TRAIL, ORG_HOME, ORG_GROUP = "org-trail", "us-east-1", "org/cloudtrail"
TEAM_TRAIL, TEAM_GROUP = "team-trail", "team/cloudtrail"
STARTED, FINISHED = "2026-12-07T09:00:00Z", "2026-12-07T09:04:12Z"
LAST_DELIVERY = "2026-12-07 08:57 UTC"

OUS = (
    ("Root/Security", ("log-archive", "audit", "security-tooling", "guardduty-admin")),
    ("Root/Workloads/Prod", ("payments", "checkout", "identity", "search", "ledger", "catalog", "billing")),
    ("Root/Workloads/Dev", ("payments-dev", "checkout-dev", "identity-dev", "search-dev", "ml-dev")),
    ("Root/Sandbox", ("sandbox-ana", "sandbox-ben", "sandbox-chen", "sandbox-dara")),
    ("Root/Suspended", ("closing-legacy",)),
)

# How each account is set up (the story in the module docstring).
OWN = "own"  # a multi-Region trail of its own, chain intact
MEMBER = "member"  # only the single-Region organization trail
BROKEN = "broken"  # its own trail's chain: the filter was edited
STOPPED = "stopped"  # its own trail is not logging
DENIED = "denied"  # the auditor's role cannot be assumed


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    ou: str
    setup: str


_OU_CYCLE = (1, 2, 1, 3, 2, 1, 0, 2, 1, 3)
"""Which OU the next account joins (indexes into ``OUS``): workloads most, security fewest."""
SUSPENDED_EVERY = 53


def accounts(count: int) -> list[Account]:
    """``count`` accounts spread over the OUs, the management account first."""
    found = [Account(MANAGEMENT, "management", "Root", OWN)]
    seen: dict[str, int] = {}
    for index in range(1, count):
        which = len(OUS) - 1 if index % SUSPENDED_EVERY == SUSPENDED_EVERY // 2 else _OU_CYCLE[index % 10]
        ou, names = OUS[which]
        used = seen.get(ou, 0)
        seen[ou] = used + 1
        base = names[used % len(names)]
        name = base if used < len(names) else f"{base}-{used // len(names) + 1}"
        found.append(Account(f"{100000000000 + index * 1111:012d}", name, ou, _setup(index, ou)))
    return found


def _setup(index: int, ou: str) -> str:
    if ou == "Root/Suspended":
        return DENIED
    if index % 31 == 7:
        return BROKEN
    if index % 37 == 12:
        return STOPPED
    if index % 29 == 19:
        return DENIED
    if ou in ("Root/Security", "Root/Workloads/Prod"):
        return OWN
    return MEMBER if index % 3 else OWN


def run(command: Sequence[str] = ()) -> Run:
    return Run(
        started=STARTED,
        finished=FINISHED,
        tool_version=__version__,
        catalog_version=CATALOG_VERSION,
        benchmark=BENCHMARK,
        caller=Caller(MANAGEMENT, AUDITOR),
        command=tuple(command) or ("cis-monitoring", "audit", "--stack", "org", "--region", "all"),
    )


def organization(
    account_count: int = 40, regions: Sequence[str] = REGIONS_17, controls: Sequence[str] = ("4.5",)
) -> Findings:
    """The audited findings of the organization: one per (control, account, Region)."""
    chosen = [CONTROLS[c] for c in controls]
    findings = [
        _finding(control, account, region)
        for account in accounts(account_count)
        for region in regions
        for control in chosen
    ]
    notes = [
        f"{ORG_TRAIL!r} is a single-Region organization trail: it covers members in {ORG_HOME} only",
    ]
    return Findings(run(), findings, notes)


def stated(account_count: int = 40, regions: Sequence[str] = REGIONS_17) -> Findings:
    """The same organization as the rollup states it: claims from the stacks, no AWS call made."""
    audited = organization(account_count, regions)
    claims = []
    for finding in audited.findings:
        covered = finding.coverage is not None and finding.coverage.kind != "none"
        claims.append(
            replace(
                finding,
                source=STATED,
                status=Status.NOT_AVAILABLE if covered else Status.FAIL,
                links=(),
                reasons=(f"stated by stack acme/cis-monitoring/org: {finding.coverage.description}",)
                if finding.coverage
                else (),
            )
        )
    return Findings(replace(audited.run, command=("cis-monitoring", "rollup-report")), claims)


# ---------------------------------------------------------------- one finding


def _finding(control: Control, account: Account, region: str) -> Finding:
    requirement = control.requirement(BENCHMARK)
    common = {
        "control_id": control.control_id,
        "requirement_id": requirement.id if requirement else control.control_id,
        "title": requirement.title if requirement else control.title,
        "severity": control.severity,
        "account_id": account.account_id,
        "account_name": account.name,
        "ou": account.ou,
        "region": region,
        "risk": control.risk,
        "remediation": control.remediation,
        "security_hub_id": control.security_hub_id,
    }
    if account.setup == DENIED:
        reason = (
            f"trails: AccessDenied: User: {AUDITOR} is not authorized to perform: sts:AssumeRole on resource:"
            f" arn:aws:iam::{account.account_id}:role/cis-auditor (AssumeRole)"
        )
        denied = LinkEvidence("trail", Status.ERROR, reason)
        return Finding(**common, status=Status.ERROR, reasons=(reason,), links=(denied,))
    own = account.setup != MEMBER
    if region == ORG_HOME and account.setup in (MEMBER, BROKEN, STOPPED):
        return _covered(common, control, account, region, organization=True)
    if not own:
        return _single_region(common, account, region)
    if account.setup == STOPPED:
        return _stopped(common, account, region)
    return _covered(common, control, account, region, organization=False)


def _trail_link(status: Status, detail: str, account: Account, region: str, trail: str) -> LinkEvidence:
    return LinkEvidence(
        "trail",
        status,
        detail,
        basis=TRAIL_READS,
        evidence={"trail": trail, "account": account.account_id, "region": region},
    )


def _covered(
    common: dict[str, object], control: Control, account: Account, region: str, organization: bool
) -> Finding:
    owner = MANAGEMENT if organization else account.account_id
    home = ORG_HOME if organization else "eu-west-1"
    group = ORG_GROUP if organization else TEAM_GROUP
    trail = ORG_TRAIL if organization else TEAM_TRAIL
    chain = f"{owner}/{home}/{group}"
    kind = "organization" if organization else "direct"
    how = (
        f"covered by organization trail {trail!r} of account {owner}: home {home}, delivering to log group"
        f" {group!r} in account {owner} {home}"
        if organization
        else f"covered directly: multi-Region trail {trail!r} of account {owner} (home {home}) delivers to"
        f" log group {group!r} in account {owner} {home}"
    )
    links = _chain_links(control, owner, home, group, broken=account.setup == BROKEN and not organization)
    broken = [link for link in links if link.status == Status.FAIL]
    coverage = CoverageEvidence(
        kind if not broken else "none",
        f"coverage.{kind}" if not broken else Code.COVERAGE_CHAIN_BROKEN,
        how,
        trail,
        owner,
        home,
        f"{owner}/{home}/{group}",
    )
    trail_link = _trail_link(Status.PASS, how, account, region, trail)
    if broken:
        reasons = (
            f"not covered: {how.removeprefix('covered directly: ')}, but the chain there is broken (see that"
            " log group's findings)",
            *(f"chain in account {owner} ({group}): {link.detail}" for link in broken),
        )
        return Finding(
            **common,
            status=Status.FAIL,
            reasons=reasons,
            coverage=coverage,
            links=(trail_link, *links),
            chain=chain,
        )
    reason = (
        f"{how}; logging, delivering to CloudWatch Logs (last at {LAST_DELIVERY}), all management events,"
        f" chain intact in {owner}"
    )
    return Finding(
        **common,
        status=Status.PASS,
        reasons=(reason,),
        coverage=coverage,
        links=(trail_link, *links),
        chain=chain,
    )


def _single_region(common: dict[str, object], account: Account, region: str) -> Finding:
    how = (
        f"only single-Region organization trail {ORG_TRAIL!r} of account {MANAGEMENT} (home {ORG_HOME}) delivers"
        f" {ORG_HOME}'s events; CIS 4.x needs a multi-Region trail that records account"
        f" {account.account_id}'s events in {region}"
    )
    coverage = CoverageEvidence(
        "none", Code.COVERAGE_SINGLE_REGION, f"not covered: {how}", ORG_TRAIL, MANAGEMENT
    )
    link = _trail_link(Status.FAIL, how, account, region, ORG_TRAIL)
    link = replace(link, codes=(Code.COVERAGE_SINGLE_REGION,))
    return Finding(
        **common, status=Status.FAIL, reasons=(f"not covered: {how}",), coverage=coverage, links=(link,)
    )


def _stopped(common: dict[str, object], account: Account, region: str) -> Finding:
    how = (
        f"multi-Region trail {TEAM_TRAIL!r} of account {account.account_id} (home eu-west-1) is not logging"
        " (StopLogging was called); start logging again"
    )
    coverage = CoverageEvidence(
        "none", Code.COVERAGE_NOT_LOGGING, f"not covered: {how}", TEAM_TRAIL, account.account_id
    )
    link = replace(
        _trail_link(Status.FAIL, how, account, region, TEAM_TRAIL), codes=(Code.COVERAGE_NOT_LOGGING,)
    )
    return Finding(
        **common, status=Status.FAIL, reasons=(f"not covered: {how}",), coverage=coverage, links=(link,)
    )


def _chain_links(
    control: Control, owner: str, home: str, group: str, broken: bool
) -> tuple[LinkEvidence, ...]:
    prefix = control.slug
    topic = f"arn:aws:sns:{home}:{owner}:cis-alarms"
    pattern = control.filter_pattern
    filter_status, filter_detail, filter_codes = (
        Status.PASS,
        f"metric filter {prefix!r} matches every event",
        (),
    )
    if broken:
        pattern = pattern.replace("($.eventName = StopLogging) || ", "")
        filter_status = Status.FAIL
        filter_detail = (
            f"metric filter {prefix!r}: its pattern does not match StopLogging (a sample CloudTrail record"
            " of it matches nothing), so stopping the trail raises no alarm"
        )
        filter_codes = (Code.FILTER_PATTERN_NOT_COVERING,)
    alarm = control.alarm
    return (
        LinkEvidence(
            "log group",
            Status.PASS,
            f"log group {group!r} exists in account {owner} {home}",
            basis=(AwsRead("logs", "DescribeLogGroups", ("logGroupName",)),),
        ),
        LinkEvidence(
            "filter",
            filter_status,
            filter_detail,
            filter_codes,
            AWS_READS[Link.FILTER],
            evidence={
                "filterName": prefix,
                "filterPattern": pattern,
                "metricTransformations": [
                    {
                        "metricNamespace": control.namespace,
                        "metricName": control.metric_name,
                        "metricValue": "1",
                    }
                ],
            },
        ),
        LinkEvidence(
            "alarm",
            Status.PASS if not broken else Status.SKIPPED,
            f"alarm {prefix}-{home}: {alarm.describe()}"
            if not broken
            else "not checked (an earlier link failed)",
            basis=AWS_READS[Link.ALARM] if not broken else (),
            evidence={"AlarmName": f"{prefix}-{home}", "ActionsEnabled": True, "AlarmActions": [topic]}
            if not broken
            else {},
        ),
        LinkEvidence(
            "topic policy",
            Status.PASS if not broken else Status.SKIPPED,
            f"{topic}: CloudWatch may publish (the policy as IAM evaluates it)"
            if not broken
            else "not checked (an earlier link failed)",
            basis=NOTIFICATION_READS[Link.TOPIC] if not broken else (),
        ),
        LinkEvidence(
            "subscription",
            Status.PASS if not broken else Status.SKIPPED,
            "1 confirmed subscriber: email cloud-security@example.com"
            if not broken
            else "not checked (an earlier link failed)",
            basis=NOTIFICATION_READS[Link.SUBSCRIPTION] if not broken else (),
            evidence={"confirmed": ["email:c***@example.com"]} if not broken else {},
        ),
        LinkEvidence(
            "aws matcher",
            Status.PASS if not broken else Status.FAIL,
            "TestMetricFilter matched all 12 target records and none of the 9 unrelated ones"
            if not broken
            else "TestMetricFilter matched 10 of the 12 target records: StopLogging (succeeded, denied) not matched",
            basis=(AwsRead("logs", "TestMetricFilter", ("matches",)),),
            judged_by=JUDGED_BY_AWS,
            evidence={"targets": 12, "matched": 12 if not broken else 10, "unrelated": 9, "falseMatches": 0},
        ),
    )
