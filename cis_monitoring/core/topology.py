"""How CloudTrail events reach a log group, and so which (account, Region) pairs a chain covers.

The question an auditor asks is not "is there a filter in account A, Region R" but "do the
events of account A in Region R reach a log group whose chain is intact?". The facts:

- a trail has at most one CloudWatch Logs destination, in the trail owner's account and the
  trail's home Region;
- a multi-Region trail delivers the events of every Region to that one group;
- an organization trail (in the management or a delegated administrator account) also
  delivers the events of every member account there; a member sees it as a shadow trail
  whose log group ARN names the owner's account, so it has no group of its own to watch;
- a single-Region trail delivers only its home Region's events, and CIS 4.x does not accept it.

Every (account, Region) pair is then exactly one of: covered directly, covered by organization
trail T of account M, or not covered, with a sentence that says what to do. The program,
the pack, the audit, discover and the rollup all use these words (``Coverage.describe``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

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
    AwsRead("cloudtrail", "GetTrailStatus", ("IsLogging",)),
    AwsRead("cloudtrail", "GetEventSelectors", ("EventSelectors", "AdvancedEventSelectors")),
)
"""The calls a pair's coverage verdict rests on (the chain's are its links')."""

ALL_REGIONS = "*"
"""A claim or an output entry for every Region of an account (what a multi-Region trail covers)."""


@dataclass(frozen=True)
class TrailFacts:
    """One trail as AWS describes it, seen from some account (a shadow for org-trail members).

    ``logging`` and ``all_management_events`` are None when nobody checked (the program's
    plan states config; the audit fills them in from GetTrailStatus and GetEventSelectors).
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


def _trail_problem(trail: TrailFacts) -> tuple[str, str] | None:
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
    if trail.all_management_events is False:
        return (
            Code.COVERAGE_SELECTORS,
            f"{trail.describe()} does not record all management events (read and write); "
            "fix its event selectors",
        )
    return None


def coverage_of(
    account_id: str,
    region: str,
    trails: Iterable[TrailFacts],
    chain_intact: ChainState,
    members: Callable[[TrailFacts], Iterable[str] | None] = lambda _trail: None,
) -> Coverage:
    """The coverage of one pair, given every trail that account can see and each group's chain state.

    ``members(trail)`` names the accounts an organization trail is known to record; None
    means "every account of the organization" (what AWS does). Direct coverage wins over
    organization coverage; among the failures the one closest to working is reported.
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
        problem = _trail_problem(trail)
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
) -> dict[tuple[str, str], Coverage]:
    """``coverage_of`` for every (account, Region) pair; ``trails_seen_by`` maps account -> its trails."""
    return {
        (account, region): coverage_of(
            account, region, list(trails_seen_by.get(account, ())), chain_intact, members
        )
        for account, region in pairs
    }


def totals(coverages: Iterable[Coverage]) -> dict[str, int]:
    """How many pairs of each kind (for summaries and the rollup)."""
    counts = dict.fromkeys(KINDS, 0)
    for item in coverages:
        counts[item.kind] += 1
    return counts
