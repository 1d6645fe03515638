"""cis_monitoring.core.plan: chain sites (one per monitored log group) and coverage claims from trail specs."""

from __future__ import annotations

import pytest

from cis_monitoring.core.aws.arns import BY_NAME, BY_PREFIX, LogGroupRef
from cis_monitoring.core.plan import (
    ACCOUNT_TRAIL,
    ALL_ACCOUNTS,
    ORGANIZATION_TRAIL,
    REGION_TRAIL,
    AccountSpec,
    ChainSite,
    CoverageClaim,
    OrganizationTrailSpec,
    plan_coverage,
    stated_trail,
)
from cis_monitoring.core.topology import ALL_REGIONS, DIRECT, NOT_COVERED, ORGANIZATION

OWNER, OWN, PER_REGION, MEMBER = "100000000000", "200000000000", "300000000000", "400000000000"
CT_PREFIX = "aws-controltower/CloudTrailLogs"


def trail(owner: str, region: str, group: str, name: str | None = None, **kinds: bool):
    return stated_trail(owner, region, LogGroupRef(owner, region, group), name, **kinds)


ORG = OrganizationTrailSpec(
    stated_trail(OWNER, "us-east-1", LogGroupRef(OWNER, "us-east-1", CT_PREFIX, BY_PREFIX), organization=True)
)
ACCOUNTS = [
    AccountSpec(OWN, trail(OWN, "eu-west-1", "own/trail", name="own")),
    AccountSpec(
        PER_REGION,
        region_trails=(
            trail(PER_REGION, "us-east-1", "trail-use1", multi_region=False),
            trail(PER_REGION, "eu-west-1", "trail-euw1", multi_region=False),
        ),
    ),
    AccountSpec(MEMBER),
    AccountSpec(OWNER),
]


def claims(plan: object) -> set[tuple[str, str, str, str]]:
    return {(c.account_id, c.region, c.kind, c.site) for c in plan.claims}  # type: ignore[attr-defined]


def test_one_site_per_monitored_log_group_and_none_elsewhere() -> None:
    plan = plan_coverage(ACCOUNTS, ORG)
    assert [(s.key, s.via) for s in plan.sites] == [
        (f"{OWN}/eu-west-1", ACCOUNT_TRAIL),
        (f"{PER_REGION}/us-east-1", REGION_TRAIL),
        (f"{PER_REGION}/eu-west-1", REGION_TRAIL),
        (f"{OWNER}/us-east-1", ORGANIZATION_TRAIL),
    ]


def test_claims_direct_first_then_the_organization_trails_members() -> None:
    plan = plan_coverage(ACCOUNTS, ORG)
    org_site = f"{OWNER}/us-east-1"
    assert claims(plan) == {
        (OWN, ALL_REGIONS, DIRECT, f"{OWN}/eu-west-1"),
        # A per-Region trail's chain watches its Region, but CIS 4.x needs a multi-Region trail: the
        # core's word for the pair (coverage_of says coverage.none.single_region).
        (PER_REGION, "us-east-1", NOT_COVERED, f"{PER_REGION}/us-east-1"),
        (PER_REGION, "eu-west-1", NOT_COVERED, f"{PER_REGION}/eu-west-1"),
        (OWNER, ALL_REGIONS, DIRECT, org_site),
        (PER_REGION, ALL_REGIONS, ORGANIZATION, org_site),  # every other Region, through the org trail
        (MEMBER, ALL_REGIONS, ORGANIZATION, org_site),
    }
    assert plan.totals() == {DIRECT: 2, ORGANIZATION: 2, NOT_COVERED: 2}
    codes = {(c.account_id, c.region): c.code for c in plan.claims}
    assert codes[(PER_REGION, "us-east-1")] == "coverage.none.single_region"
    assert (
        codes[(OWN, ALL_REGIONS)] == "coverage.direct"
        and codes[(MEMBER, ALL_REGIONS)] == "coverage.organization"
    )


def test_a_per_region_trails_claim_is_what_the_core_says_of_its_pair() -> None:
    from cis_monitoring.core.topology import coverage_of

    per_region = next(a for a in ACCOUNTS if a.account_id == PER_REGION)
    trail_facts = per_region.region_trails[0]
    found = coverage_of(PER_REGION, trail_facts.home_region, [trail_facts], lambda _g: True)
    [claim] = [
        c
        for c in plan_coverage(ACCOUNTS, ORG).claims
        if (c.account_id, c.region) == (PER_REGION, trail_facts.home_region)
    ]
    assert (claim.kind, claim.code) == (found.kind, found.code)


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ("all", {PER_REGION, MEMBER, ALL_ACCOUNTS}),
        ((MEMBER, "500000000000", OWNER), {MEMBER, "500000000000"}),
    ],
)
def test_members_all_or_listed(members: object, expected: set[str]) -> None:
    org = OrganizationTrailSpec(ORG.trail, members)  # type: ignore[arg-type]
    plan = plan_coverage(ACCOUNTS, org)
    assert {c.account_id for c in plan.claims if c.kind == ORGANIZATION} == expected
    assert CoverageClaim(ALL_ACCOUNTS, ALL_REGIONS, ORGANIZATION, f"{OWNER}/us-east-1").key == "*/*"


def test_covered_regions_are_claimed_one_by_one() -> None:
    plan = plan_coverage([AccountSpec(OWN, trail(OWN, "eu-west-1", "g"), ("eu-west-1", "us-east-1"))])
    assert claims(plan) == {
        (OWN, "eu-west-1", DIRECT, f"{OWN}/eu-west-1"),
        (OWN, "us-east-1", DIRECT, f"{OWN}/eu-west-1"),
    }


def test_two_sites_in_one_account_and_region_are_refused() -> None:
    with pytest.raises(ValueError, match=f"{OWNER}/us-east-1"):
        plan_coverage([AccountSpec(OWNER, trail(OWNER, "us-east-1", "own"))], ORG)


def test_a_site_is_its_trails_log_group_and_resolves_a_prefix() -> None:
    site = plan_coverage([], ORG).sites[0]
    assert site.via == ORGANIZATION_TRAIL and site.key == f"{OWNER}/us-east-1"
    assert "starts with 'aws-controltower/CloudTrailLogs'" in site.describe()
    found = site.resolved("aws-controltower/CloudTrailLogs-tfw-qeb")
    assert found.trail.organization and found.trail.multi_region and found.trail.owner_account == OWNER
    assert found.log_group == LogGroupRef(OWNER, "us-east-1", "aws-controltower/CloudTrailLogs-tfw-qeb")
    assert site.log_group.match == BY_PREFIX  # the site itself is unchanged
    per_region = ChainSite(trail(PER_REGION, "eu-west-1", "g", multi_region=False), REGION_TRAIL)
    assert not per_region.trail.multi_region and per_region.log_group.match == BY_NAME
