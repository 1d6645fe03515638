"""Where the chains go, and which (account, Region) pairs each one covers: the coverage plan of a stack.

A chain (metric filter + alarm per control, and the alarm topic) belongs on a log group a
trail delivers to, and nowhere else (``cis_monitoring.core.topology``). A stack's config says which
trails exist; the plan turns that into:

- ``ChainSite``s: one per monitored log group, in the account and Region that hold it
  (the trail owner's account, the trail's home Region), found by name or by prefix;
- ``CoverageClaim``s: what the config states each site covers, per (account, Region), where
  either may be ``ALL_REGIONS``/``ALL_ACCOUNTS`` (``"*"``): a multi-Region trail covers every
  Region of its account, an organization trail every member account. A per-Region trail's chain
  watches its own Region, but CIS 4.x accepts only multi-Region trails, so its claim is the core's
  verdict for that site: not covered, ``coverage.none.single_region`` (``topology.coverage_of``
  says the same of the pair), whatever the program deploys there.

The claims are what the config says is true, not a verdict: the audit checks them against
AWS (``topology.coverage_of``). Pure and stdlib only, so the program, discover and the tests
share it; ``cis_monitoring.spec`` turns a validated stack config into ``AccountSpec``s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from cis_monitoring.core.aws.arns import LogGroupRef
from cis_monitoring.core.problems import Code
from cis_monitoring.core.topology import ALL_REGIONS, DIRECT, KINDS, NOT_COVERED, ORGANIZATION, TrailFacts

ALL_ACCOUNTS = "*"
"""A claim for every account of the organization (an organization trail with ``members: all``)."""

ACCOUNT_TRAIL = "account-trail"
"""The site of an account's own multi-Region trail (``accounts[].trail``)."""
ORGANIZATION_TRAIL = "organization-trail"
"""The site of the organization trail, in its owner's account (``organizationTrail``)."""
REGION_TRAIL = "region-trail"
"""The site of one per-Region trail (``accounts[].regions[]``)."""
VIAS = (ACCOUNT_TRAIL, ORGANIZATION_TRAIL, REGION_TRAIL)

MEMBERS_ALL = "all"
MEMBERS_ACCOUNTS = "accounts"

_CLAIM_CODES = {
    DIRECT: Code.COVERAGE_DIRECT,
    ORGANIZATION: Code.COVERAGE_ORGANIZATION,
    NOT_COVERED: Code.COVERAGE_SINGLE_REGION,  # only a per-Region trail's claim is stated as not covered
}


def stated_trail(
    owner: str,
    home_region: str,
    log_group: LogGroupRef,
    name: str | None = None,
    *,
    organization: bool = False,
    multi_region: bool = True,
) -> TrailFacts:
    """A trail as a stack's config states it (whether it logs, and what it records, nobody checked)."""
    return TrailFacts(
        name=name or "",
        owner_account=owner,
        home_region=home_region,
        multi_region=multi_region,
        organization=organization,
        log_group=log_group,
    )


@dataclass(frozen=True)
class AccountSpec:
    """One account of the stack, as its config describes its trails."""

    account_id: str
    trail: TrailFacts | None = None
    """Its own multi-Region trail, if it has one (its log group by name or by prefix)."""
    covered_regions: tuple[str, ...] | None = None
    """The Regions ``trail`` is stated to cover; None: every Region."""
    region_trails: tuple[TrailFacts, ...] = ()
    """Per-Region (single-Region) trails, each delivering to a group in its own Region."""


@dataclass(frozen=True)
class OrganizationTrailSpec:
    trail: TrailFacts
    """The organization trail; its owner is the management account (a delegated administrator
    manages it, but AWS keeps the management account as the owner the trail's ARN names)."""
    members: str | tuple[str, ...] = MEMBERS_ACCOUNTS
    """MEMBERS_ALL, MEMBERS_ACCOUNTS (the stack's accounts), or account ids."""

    @property
    def account_id(self) -> str:
        return self.trail.owner_account


@dataclass(frozen=True)
class ChainSite:
    """One monitored log group: where a chain goes (one provider, one topic, one monitor per control).

    It is the log group of one trail, in the trail owner's account and its home Region. The one
    type for "where a chain lives": the program's deploy targets and the audit's reads carry one.
    """

    trail: TrailFacts
    """The trail whose log group this is (``trail.log_group``: by name, or by prefix)."""
    via: str
    """ACCOUNT_TRAIL, ORGANIZATION_TRAIL or REGION_TRAIL."""

    @property
    def log_group(self) -> LogGroupRef:
        group = self.trail.log_group
        assert group is not None, "a chain site's trail delivers to a log group"
        return group

    @property
    def account_id(self) -> str:
        return self.log_group.account_id

    @property
    def region(self) -> str:
        return self.log_group.region

    @property
    def trail_name(self) -> str | None:
        return self.trail.name or None

    @property
    def key(self) -> str:
        """``<account>/<region>``: one site per account and Region (its logical names derive from it)."""
        return f"{self.account_id}/{self.region}"

    def describe(self) -> str:
        return f"{self.log_group.describe()} ({self.via})"

    def resolved(self, log_group_name: str) -> ChainSite:
        """This site with its group's real name (a prefix site, once the group was looked up)."""
        group = LogGroupRef(self.account_id, self.region, log_group_name)
        return replace(self, trail=replace(self.trail, log_group=group))


@dataclass(frozen=True)
class CoverageClaim:
    """The config states that the events of (account, Region) reach the chain at ``site``."""

    account_id: str
    """An account id, or ALL_ACCOUNTS."""
    region: str
    """A Region, or ALL_REGIONS."""
    kind: str
    """topology.DIRECT, topology.ORGANIZATION, or topology.NOT_COVERED (a per-Region trail's site)."""
    site: str
    """The ``ChainSite.key`` of the chain that watches it."""

    @property
    def code(self) -> Code:
        """The core's code for this claim (what ``coverage_of`` says of such a pair when its chain works)."""
        return _CLAIM_CODES[self.kind]

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"


@dataclass(frozen=True)
class CoveragePlan:
    sites: tuple[ChainSite, ...]
    claims: tuple[CoverageClaim, ...]

    def site(self, key: str) -> ChainSite:
        return next(s for s in self.sites if s.key == key)

    def totals(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for claim in self.claims:
            counts[claim.kind] += 1
        return counts


def account_sites(account: AccountSpec) -> list[ChainSite]:
    """The sites of one account's own trails (not of an organization trail it owns)."""
    if account.trail is not None:
        return [ChainSite(account.trail, ACCOUNT_TRAIL)]
    return [ChainSite(trail, REGION_TRAIL) for trail in account.region_trails]


def organization_site(organization: OrganizationTrailSpec) -> ChainSite:
    return ChainSite(organization.trail, ORGANIZATION_TRAIL)


def plan_coverage(
    accounts: Sequence[AccountSpec], organization: OrganizationTrailSpec | None = None
) -> CoveragePlan:
    """The sites and claims of a stack (its config validated: no two sites share an account and Region).

    Direct claims come first; an organization claim for a key that is claimed directly
    already is left out (direct wins, as in ``topology.coverage_of``).
    """
    sites: list[ChainSite] = []
    claims: dict[str, CoverageClaim] = {}

    def claim(account_id: str, region: str, kind: str, site: ChainSite) -> None:
        item = CoverageClaim(account_id, region, kind, site.key)
        claims.setdefault(item.key, item)

    for account in accounts:
        for site in account_sites(account):
            sites.append(site)
            if site.via == REGION_TRAIL:
                # CIS 4.x needs a multi-Region trail: the core's word for this pair (coverage_of).
                claim(account.account_id, site.region, NOT_COVERED, site)
            else:
                for region in account.covered_regions or (ALL_REGIONS,):
                    claim(account.account_id, region, DIRECT, site)
    if organization is not None:
        site = organization_site(organization)
        sites.append(site)
        claim(organization.account_id, ALL_REGIONS, DIRECT, site)
        for member in members_of(organization, (a.account_id for a in accounts)):
            claim(member, ALL_REGIONS, ORGANIZATION, site)
    keys = [s.key for s in sites]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"two chain sites in one account and Region: {', '.join(duplicated)}")
    return CoveragePlan(tuple(sites), tuple(claims.values()))


def members_of(organization: OrganizationTrailSpec, stack_accounts: Iterable[str]) -> list[str]:
    """The accounts an organization trail is stated to cover, besides its owner (ALL_ACCOUNTS for ``all``)."""
    listed = list(dict.fromkeys(stack_accounts))
    if organization.members == MEMBERS_ALL:
        chosen = [*listed, ALL_ACCOUNTS]
    elif organization.members == MEMBERS_ACCOUNTS:
        chosen = listed
    else:
        chosen = list(dict.fromkeys(organization.members))
    return [a for a in chosen if a != organization.account_id]
