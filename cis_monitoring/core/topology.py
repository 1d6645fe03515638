"""How CloudTrail events reach a log group, and so which (account, Region) pairs a chain covers.

The question an auditor asks is not "is there a filter in account A, Region R" but "do the
events of account A in Region R reach a log group whose chain is intact?". The facts:

- a trail has at most one CloudWatch Logs destination, in the trail owner's account and the
  trail's home Region;
- a multi-Region trail delivers the events of every Region to that one group;
- an organization trail also delivers the events of every member account there; its owner is the
  organization's management account, even when a CloudTrail delegated administrator created it
  (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator.html:
  "The management account remains the owner of any CloudTrail organization resources the delegated
  administrator creates"). Every other account, the delegated administrator too, sees it as a
  shadow trail whose ARN and log group ARN name the owner's account, so it has no group of its own;
- a single-Region trail delivers only its home Region's events, and CIS 4.x does not accept it;
- a trail that is logging may still fail to deliver to CloudWatch Logs (its CloudWatchLogsRoleArn
  deleted, the group's KMS key disabled): GetTrailStatus then reports a CloudWatch Logs delivery
  error, and its last delivery time stops moving, while ``IsLogging`` stays true. No event then
  reaches the filter, so the audit judges delivery too (``CloudWatchDelivery``).

Every (account, Region) pair is then exactly one of: covered directly, covered by organization
trail T of account M, or not covered, with a sentence that says what to do. The program,
the pack, the audit, discover and the rollup all use these words (``Coverage.describe``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cis_monitoring.core.aws.arns import LogGroupRef, parse_arn, parse_log_group_arn
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.problems import Code

DIRECT = "direct"
ORGANIZATION = "organization"
NOT_COVERED = "none"
KINDS = (DIRECT, ORGANIZATION, NOT_COVERED)

# The stable codes of a Coverage verdict are ``Code.COVERAGE_*`` (cis_monitoring.core.problems).

TRAIL_READS = (
    AwsRead(
        "cloudtrail",
        "DescribeTrails",
        (
            "TrailARN",
            "Name",
            "HomeRegion",
            "IsMultiRegionTrail",
            "IsOrganizationTrail",
            "CloudWatchLogsLogGroupArn",
        ),
    ),
    AwsRead(
        "cloudtrail",
        "GetTrailStatus",
        ("IsLogging", "LatestCloudWatchLogsDeliveryError", "LatestCloudWatchLogsDeliveryTime"),
    ),
    AwsRead("cloudtrail", "GetEventSelectors", ("EventSelectors", "AdvancedEventSelectors")),
)
"""The calls a pair's coverage verdict rests on (the chain's are its links')."""

ALL_REGIONS = "*"
"""A claim or an output entry for every Region of an account (what a multi-Region trail covers)."""

DEFAULT_DELIVERY_WINDOW = timedelta(hours=24)
"""How long ago a trail's last delivery to CloudWatch Logs may be before the pair FAILs.

The CIS AWS Foundations Benchmark's own audit of CloudTrail's CloudWatch Logs integration asks
that ``LatestCloudWatchLogsDeliveryTime`` be "a recent (~one day old) timestamp" (CIS 1.2.0 2.4,
1.4.0 3.4). A trail that records all management events (CIS's ask) delivers whenever anything
calls an AWS API in the accounts and Regions it records, the audit's own read calls included, and
CloudTrail "publishes log files multiple times an hour, about every 5 minutes" and "typically
delivers logs within an average of about 5 minutes of an API call"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html).
So only an account nobody used for a day goes that long without a delivery; the audit's
``--delivery-window`` changes the window for such accounts."""


@dataclass(frozen=True)
class CloudWatchDelivery:
    """What GetTrailStatus says of a trail's delivery to CloudWatch Logs, and when it was asked.

    The botocore model (cloudtrail 2013-11-01, ``GetTrailStatusResponse``) has
    ``LatestCloudWatchLogsDeliveryError`` ("any CloudWatch Logs error that CloudTrail encountered
    when attempting to deliver logs to CloudWatch Logs", a string) and
    ``LatestCloudWatchLogsDeliveryTime`` ("the most recent date and time when CloudTrail
    delivered logs to CloudWatch Logs", a timestamp); AWS leaves either out when it has none.
    """

    read_at: datetime
    """When GetTrailStatus was asked (the audit's "now"; tests set it)."""
    latest: datetime | None
    """``LatestCloudWatchLogsDeliveryTime``; None: AWS gave none (the trail never delivered)."""
    error: str | None = None
    """``LatestCloudWatchLogsDeliveryError``; None (or empty): AWS reports none."""

    def to_dict(self) -> dict[str, object]:
        return {
            "readAt": _utc(self.read_at).isoformat(),
            "latestDeliveryTime": _utc(self.latest).isoformat() if self.latest else None,
            "latestDeliveryError": self.error or None,
        }


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age(delta: timedelta) -> str:
    """A duration in the largest whole unit that says it (``3 d 4 h``, ``5 h 12 min``, ``40 min``)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@dataclass(frozen=True)
class TrailFacts:
    """One trail as AWS describes it, seen from some account (a shadow for org-trail members).

    ``logging``, ``all_management_events`` and ``delivery`` are None when nobody checked (the
    program's plan states config; the audit fills them in from GetTrailStatus and GetEventSelectors).
    """

    name: str
    owner_account: str
    home_region: str
    multi_region: bool
    organization: bool = False
    log_group: LogGroupRef | None = None
    logging: bool | None = None
    all_management_events: bool | None = None
    arn: str = ""
    delivery: CloudWatchDelivery | None = None
    """What GetTrailStatus says of its CloudWatch Logs delivery; None: not read (the plan, the pack)."""

    def describe(self) -> str:
        kind = "organization trail" if self.organization else "trail"
        scope = "multi-Region" if self.multi_region else "single-Region"
        return f"{scope} {kind} {self.name!r} of account {self.owner_account} (home {self.home_region})"


def trail_from_description(description: Mapping[str, object]) -> TrailFacts:
    """One ``DescribeTrails`` entry, a shadow trail's too, as facts (logging and selectors not known).

    The owner is the account in ``TrailARN`` (a member's shadow of an organization trail names
    the owner there), the home Region is ``HomeRegion`` (else the ARN's).
    """
    arn = str(description.get("TrailARN") or "")
    parsed = parse_arn(arn)
    return TrailFacts(
        name=str(description.get("Name") or ""),
        owner_account=parsed.account if parsed else "",
        home_region=str(description.get("HomeRegion") or (parsed.region if parsed else "")),
        multi_region=bool(description.get("IsMultiRegionTrail")),
        organization=bool(description.get("IsOrganizationTrail")),
        log_group=parse_log_group_arn(description.get("CloudWatchLogsLogGroupArn")),
        arn=arn,
    )


@dataclass(frozen=True)
class Coverage:
    """The verdict for one (account, Region) pair."""

    account_id: str
    region: str
    kind: str
    """DIRECT, ORGANIZATION or NOT_COVERED."""
    code: str
    """A stable code, e.g. ``coverage.direct`` or ``coverage.none.single_region``."""
    reason: str
    """Why, in words a user can act on."""
    trail: TrailFacts | None = None
    log_group: LogGroupRef | None = None

    @property
    def covered(self) -> bool:
        return self.kind != NOT_COVERED

    def describe(self) -> str:
        if self.kind == DIRECT:
            return f"covered directly: {self.reason}"
        if self.kind == ORGANIZATION:
            assert self.trail is not None
            return (
                f"covered by organization trail {self.trail.name!r} of account {self.trail.owner_account}: "
                f"{self.reason}"
            )
        return f"not covered: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        return {
            "accountId": self.account_id,
            "region": self.region,
            "coverage": self.kind,
            "code": self.code,
            "reason": self.reason,
            "trail": self.trail.name if self.trail else None,
            "trailAccountId": self.trail.owner_account if self.trail else None,
            "trailHomeRegion": self.trail.home_region if self.trail else None,
            "logGroup": self.log_group.key if self.log_group else None,
        }


ChainState = Callable[[LogGroupRef], "bool | None"]
"""Whether a log group's chain is intact: True, False, or None (not known / not checked)."""


def _delivers_region(trail: TrailFacts, region: str) -> bool:
    return trail.multi_region or trail.home_region == region


def records(
    trail: TrailFacts,
    account_id: str,
    members: Callable[[TrailFacts], Iterable[str] | None] = lambda _trail: None,
) -> bool:
    """Whether ``trail`` records the events of ``account_id`` (its owner, or a member of its organization).

    ``members`` as for ``coverage_of`` (default: an organization trail records every member).
    """
    if trail.owner_account == account_id:
        return True
    if not trail.organization:
        return False
    covered = members(trail)
    return covered is None or account_id in set(covered)


def _trail_problem(trail: TrailFacts, window: timedelta) -> tuple[str, str] | None:
    """(code, reason) when the trail itself keeps events from the log group, else None."""
    if trail.log_group is None:
        return (
            Code.COVERAGE_NO_CLOUDWATCH,
            f"{trail.describe()} does not deliver to CloudWatch Logs; set its CloudWatchLogsLogGroupArn",
        )
    if trail.logging is False:
        return (
            Code.COVERAGE_NOT_LOGGING,
            f"{trail.describe()} is not logging (StopLogging was called); start logging again",
        )
    if trail.delivery is not None:
        problem = delivery_problem(trail, trail.delivery, window)
        if problem is not None:
            return problem
    if trail.all_management_events is False:
        return (
            Code.COVERAGE_SELECTORS,
            f"{trail.describe()} does not record all management events (read and write); "
            "fix its event selectors",
        )
    return None


_DELIVERY_FIX = (
    "CloudTrail assumes the role in CloudWatchLogsRoleArn to write to the group: the role must exist,"
    " trust cloudtrail.amazonaws.com and allow logs:CreateLogStream and logs:PutLogEvents on the group,"
    " and a KMS key on the group must be enabled and let CloudWatch Logs use it"
)


def delivery_problem(
    trail: TrailFacts, delivery: CloudWatchDelivery, window: timedelta = DEFAULT_DELIVERY_WINDOW
) -> tuple[str, str] | None:
    """(code, reason) when GetTrailStatus shows that events do not reach the trail's log group, else None.

    - an error: ``LatestCloudWatchLogsDeliveryError`` is set. AWS gives the error no time, so it
      cannot be ordered against the last delivery; AWS's troubleshooting guide reads the field as
      the sign of a failing delivery ("If there's a failure, the command output includes the
      LatestCloudWatchLogsDeliveryError field",
      https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-troubleshooting.html),
      so a reported error is taken as newer than the last delivery: FAIL, never PASS;
    - never delivered: AWS gives no ``LatestCloudWatchLogsDeliveryTime`` at all;
    - stale: the last delivery is older than ``window`` before the read.
    """
    group = trail.log_group.describe() if trail.log_group else "its log group"
    read_at = _utc(delivery.read_at)
    if delivery.latest is None:
        last = "AWS reports no delivery to it at all (no LatestCloudWatchLogsDeliveryTime)"
    else:
        latest = _utc(delivery.latest)
        last = (
            f"the last delivery was at {latest:%Y-%m-%d %H:%M} UTC, {_age(read_at - latest)} before the audit"
        )
    if delivery.error:
        return (
            Code.COVERAGE_DELIVERY_ERROR,
            f"{trail.describe()} is logging, but GetTrailStatus reports a CloudWatch Logs delivery error"
            f" ({delivery.error!r}), so events do not reach {group} ({last}; AWS gives the error no time,"
            f" so it counts as newer): {_DELIVERY_FIX}",
        )
    if delivery.latest is None:
        return (
            Code.COVERAGE_NEVER_DELIVERED,
            f"{trail.describe()} has never delivered to {group}: {last}. A trail set up in the last minutes"
            f" may not have delivered yet (CloudTrail delivers within about 5 minutes); otherwise {_DELIVERY_FIX}",
        )
    if read_at - _utc(delivery.latest) > window:
        return (
            Code.COVERAGE_DELIVERY_STALE,
            f"{trail.describe()} has not delivered to {group} within the delivery window of"
            f" {window.total_seconds() / 3600:g} h: {last}. A trail that records all management events delivers whenever an"
            f" AWS API is called in the accounts it records; if they really were idle, widen"
            f" --delivery-window, else {_DELIVERY_FIX}",
        )
    return None


def coverage_of(
    account_id: str,
    region: str,
    trails: Iterable[TrailFacts],
    chain_intact: ChainState,
    members: Callable[[TrailFacts], Iterable[str] | None] = lambda _trail: None,
    delivery_window: timedelta = DEFAULT_DELIVERY_WINDOW,
) -> Coverage:
    """The coverage of one pair, given every trail that account can see and each group's chain state.

    ``members(trail)`` names the accounts an organization trail is known to record; None
    means "every account of the organization" (what AWS does). Direct coverage wins over
    organization coverage; among the failures the one closest to working is reported. A trail's
    ``delivery``, when read, is judged against ``delivery_window`` (``delivery_problem``).
    """
    candidates = [t for t in trails if records(t, account_id, members)]
    failures: list[tuple[int, str, str, TrailFacts | None, LogGroupRef | None]] = []
    single_region: list[TrailFacts] = []
    for trail in sorted(candidates, key=lambda t: (t.owner_account != account_id, t.name)):
        if not _delivers_region(trail, region):
            continue
        if not trail.multi_region:
            single_region.append(trail)
            continue
        problem = _trail_problem(trail, delivery_window)
        if problem is not None:
            failures.append((1, *problem, trail, trail.log_group))
            continue
        assert trail.log_group is not None
        state = chain_intact(trail.log_group)
        if state is False:
            failures.append(
                (
                    2,
                    Code.COVERAGE_CHAIN_BROKEN,
                    f"{trail.describe()} delivers to {trail.log_group.describe()}, "
                    "but the chain there is broken (see that log group's findings)",
                    trail,
                    trail.log_group,
                )
            )
            continue
        # Only an organization trail records another account's events; any other trail that
        # records this account is its own (CloudTrail delivers only to the owner's log groups).
        direct = not trail.organization or trail.owner_account == account_id
        unchecked = "" if state is True else " (chain not checked)"
        if direct:
            return Coverage(
                account_id,
                region,
                DIRECT,
                Code.COVERAGE_DIRECT,
                f"{trail.describe()} delivers to {trail.log_group.describe()}{unchecked}",
                trail,
                trail.log_group,
            )
        return Coverage(
            account_id,
            region,
            ORGANIZATION,
            Code.COVERAGE_ORGANIZATION,
            f"home {trail.home_region}, delivering to {trail.log_group.describe()}{unchecked}",
            trail,
            trail.log_group,
        )
    if failures:
        _depth, code, reason, trail, group = max(failures, key=lambda f: f[0])
        return Coverage(account_id, region, NOT_COVERED, code, reason, trail, group)
    if single_region:
        trail = single_region[0]
        return Coverage(
            account_id,
            region,
            NOT_COVERED,
            Code.COVERAGE_SINGLE_REGION,
            f"only {trail.describe()} delivers {region}'s events; CIS 4.x needs a multi-Region trail "
            "(make it multi-Region, or rely on an organization trail)",
            trail,
            trail.log_group,
        )
    return Coverage(
        account_id,
        region,
        NOT_COVERED,
        Code.COVERAGE_NO_TRAIL,
        f"no multi-Region trail records account {account_id}'s events in {region}; create one that "
        "delivers to CloudWatch Logs, or an organization trail",
    )


def coverage_map(
    pairs: Iterable[tuple[str, str]],
    trails_seen_by: Mapping[str, Iterable[TrailFacts]],
    chain_intact: ChainState,
    members: Callable[[TrailFacts], Iterable[str] | None] = lambda _trail: None,
    delivery_window: timedelta = DEFAULT_DELIVERY_WINDOW,
) -> dict[tuple[str, str], Coverage]:
    """``coverage_of`` for every (account, Region) pair; ``trails_seen_by`` maps account -> its trails."""
    return {
        (account, region): coverage_of(
            account, region, list(trails_seen_by.get(account, ())), chain_intact, members, delivery_window
        )
        for account, region in pairs
    }


def totals(coverages: Iterable[Coverage]) -> dict[str, int]:
    """How many pairs of each kind (for summaries and the rollup)."""
    counts = dict.fromkeys(KINDS, 0)
    for item in coverages:
        counts[item.kind] += 1
    return counts
