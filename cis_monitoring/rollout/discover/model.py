"""What discovery reads (per account) and what it decides, as plain data (no AWS calls here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cis_monitoring.core.topology import LogGroupRef, TrailFacts

# Why something was skipped. The first group are facts about AWS; ERROR_KINDS mean "could not look".
NO_TRAIL = "no-trail"
SINGLE_REGION_ONLY = "single-region-only"
NO_CLOUDWATCH_LOGS = "no-cloudwatch-logs"
LOG_GROUP_ELSEWHERE = "log-group-in-other-account"
LOG_GROUP_MISSING = "log-group-missing"
ANOTHER_TRAIL_CHOSEN = "another-trail-chosen"
ACCESS_DENIED = "access-denied"
ERROR = "error"
ERROR_KINDS = frozenset({ACCESS_DENIED, ERROR})
KIND_ORDER = (
    LOG_GROUP_MISSING,
    NO_CLOUDWATCH_LOGS,
    LOG_GROUP_ELSEWHERE,
    SINGLE_REGION_ONLY,
    ANOTHER_TRAIL_CHOSEN,
    NO_TRAIL,
)
"""For an account left out for several reasons: the reason closest to a working setup comes first."""

CONTROL_TOWER_PREFIX = "aws-controltower/CloudTrailLogs"
"""Control Tower's group; since landing zone 4.0 its name carries a random suffix, so match by prefix."""


@dataclass(frozen=True)
class OrgAccount:
    id: str
    name: str
    """The account's name in AWS Organizations, as is."""
    ou: str
    """OU path from the root, e.g. ``Root/Workloads/Prod``."""
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)
    """The account's own tags in AWS Organizations."""


@dataclass(frozen=True)
class Skip:
    kind: str
    reason: str
    trail: str | None = None
    """The trail this is about (the account itself is listed), or None (the account is left out)."""
    region: str | None = None
    """That trail's home Region."""


@dataclass(frozen=True)
class GroupCheck:
    """What DescribeLogGroups said about a trail's group, in the group's account and Region."""

    exists: bool | None
    """None: the role may not look (the program looks again at preview)."""
    prefix_matches: tuple[str, ...] | None = None
    """For a Control Tower group: every group name under ``CONTROL_TOWER_PREFIX`` (None: not looked)."""


@dataclass
class AccountResult:
    """What one account showed: the trails it sees (shadows included) and its own trails' groups."""

    account: OrgAccount
    trails: list[TrailFacts] = field(default_factory=list)
    groups: dict[LogGroupRef, GroupCheck] = field(default_factory=dict)
    error: Skip | None = None
    """Set when the account could not be read (its trails are then unknown)."""

    @property
    def inspected(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class GroupChoice:
    """How config names a monitored group: by exact name, or by prefix (Control Tower's suffix)."""

    group: LogGroupRef
    prefix: str | None = None
    note: str = ""

    def config(self) -> dict[str, str]:
        return {"logGroupPrefix": self.prefix} if self.prefix else {"logGroup": self.group.name}


@dataclass(frozen=True)
class AccountPlan:
    """What discovery decided for one account."""

    account: OrgAccount
    listed: bool
    """Written to ``accounts`` (with ``trail`` when ``own`` is set, else as a plain member)."""
    own: TrailFacts | None = None
    group: GroupChoice | None = None
    skips: tuple[Skip, ...] = ()
    """``listed``: trails left out; not listed: why the account is left out (one entry)."""
    summary: str = ""
    """One line for people: how the account is covered, or why it is left out."""
    inspected: bool = True


@dataclass(frozen=True)
class OrganizationTrailPlan:
    trail: TrailFacts
    group: GroupChoice
    seen_by: int
    """How many accounts showed it (as owner or as a shadow)."""


@dataclass(frozen=True)
class Discovery:
    accounts: tuple[AccountPlan, ...]
    organization_trail: OrganizationTrailPlan | None
    organization_skips: tuple[tuple[OrgAccount, Skip], ...] = ()
    """Organization trails not used, each under its owner account."""
    organization_trail_known: bool = True
    """False when no account could be read, so "no organization trail" is not known."""
