"""Where the chains go, and which (account, Region) pairs each one covers: the coverage plan of a stack.

A chain (metric filter + alarm per control, and the alarm topic) belongs on a log group a
trail delivers to, and nowhere else (``cis_monitoring.core.topology``). A stack's config says which
trails exist; the plan turns that into:

- ``ChainSite``s: one per monitored log group, in the account and Region that hold it
  (the trail owner's account, the trail's home Region), found by name or by prefix;
- ``CoverageClaim``s: what the config states each site covers, per (account, Region), where
  either may be ``ALL_REGIONS``/``ALL_ACCOUNTS`` (``"*"``): a multi-Region trail covers every
  Region of its account, an organization trail every member account.

The claims are what the config says is true, not a verdict: the audit checks them against
AWS (``topology.coverage_of``). Pure and stdlib only, so the program, discover and the tests
share it; ``cis_monitoring.spec`` turns a validated stack config into ``AccountSpec``s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cis_monitoring.core.topology import ALL_REGIONS, DIRECT, ORGANIZATION, LogGroupRef, TrailFacts

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


@dataclass(frozen=True)
class TrailSpec:
    """What a stack config says of one trail: its home Region and its log group (name or prefix)."""

    home_region: str
    log_group: str | None = None
    log_group_prefix: str | None = None
    """Control Tower (landing zone >= 4.0) suffixes the group's name; the program looks it up by prefix."""
    name: str | None = None


@dataclass(frozen=True)
class AccountSpec:
    """One account of the stack, as its config describes its trails."""

    account_id: str
    trail: TrailSpec | None = None
    """Its own multi-Region trail, if it has one."""
    covered_regions: tuple[str, ...] | None = None
    """The Regions ``trail`` is stated to cover; None: every Region."""
    region_trails: tuple[tuple[str, str], ...] = ()
    """Per-Region trails: (Region, log group name) each."""


@dataclass(frozen=True)
class OrganizationTrailSpec:
    account_id: str
    """The trail's owner: the management account or CloudTrail's delegated administrator."""
    trail: TrailSpec
    members: str | tuple[str, ...] = MEMBERS_ACCOUNTS
    """MEMBERS_ALL, MEMBERS_ACCOUNTS (the stack's accounts), or account ids."""


@dataclass(frozen=True)
class ChainSite:
    """One monitored log group: where the chain goes (one provider, one topic, one monitor per control)."""

    account_id: str
    region: str
    via: str
    """ACCOUNT_TRAIL, ORGANIZATION_TRAIL or REGION_TRAIL."""
    log_group: str | None = None
    log_group_prefix: str | None = None
    trail_name: str | None = None

    @property
    def key(self) -> str:
        """``<account>/<region>``: one site per account and Region (its logical names derive from it)."""
        return f"{self.account_id}/{self.region}"

    def describe(self) -> str:
        group = (
            f"log group {self.log_group!r}"
            if self.log_group is not None
            else f"the log group whose name starts with {self.log_group_prefix!r}"
        )
        return f"{group} in account {self.account_id} {self.region} ({self.via})"

    def trail_facts(self, log_group: str | None = None) -> TrailFacts:
        """The trail as the config states it (``log_group``: the resolved name of a prefix site)."""
        name = log_group or self.log_group
        return TrailFacts(
            name=self.trail_name or "",
            owner_account=self.account_id,
            home_region=self.region,
            multi_region=self.via != REGION_TRAIL,
            organization=self.via == ORGANIZATION_TRAIL,
            log_group=LogGroupRef(self.account_id, self.region, name) if name else None,
        )


@dataclass(frozen=True)
class CoverageClaim:
    """The config states that the events of (account, Region) reach the chain at ``site``."""

    account_id: str
    """An account id, or ALL_ACCOUNTS."""
    region: str
    """A Region, or ALL_REGIONS."""
    kind: str
    """topology.DIRECT or topology.ORGANIZATION."""
    site: str
    """The ``ChainSite.key`` of the chain that covers it."""

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
        counts = {DIRECT: 0, ORGANIZATION: 0}
        for claim in self.claims:
            counts[claim.kind] += 1
        return counts


def account_sites(account: AccountSpec) -> list[ChainSite]:
    """The sites of one account's own trails (not of an organization trail it owns)."""
    if account.trail is not None:
        trail = account.trail
        return [
            ChainSite(
                account.account_id,
                trail.home_region,
                ACCOUNT_TRAIL,
                trail.log_group,
                trail.log_group_prefix,
                trail.name,
            )
        ]
    return [
        ChainSite(account.account_id, region, REGION_TRAIL, group) for region, group in account.region_trails
    ]


def organization_site(organization: OrganizationTrailSpec) -> ChainSite:
    trail = organization.trail
    return ChainSite(
        organization.account_id,
        trail.home_region,
        ORGANIZATION_TRAIL,
        trail.log_group,
        trail.log_group_prefix,
        trail.name,
    )


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
                claim(account.account_id, site.region, DIRECT, site)
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
