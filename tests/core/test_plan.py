"""cis_monitoring.core.plan: chain sites (one per monitored log group) and coverage claims from trail specs."""

from __future__ import annotations

import pytest

from cis_monitoring.core.plan import (
    ACCOUNT_TRAIL,
    ALL_ACCOUNTS,
    ORGANIZATION_TRAIL,
    REGION_TRAIL,
    AccountSpec,
    ChainSite,
    CoverageClaim,
    OrganizationTrailSpec,
    TrailSpec,
    plan_coverage,
)
from cis_monitoring.core.topology import ALL_REGIONS, DIRECT, ORGANIZATION, LogGroupRef

OWNER, OWN, PER_REGION, MEMBER = "100000000000", "200000000000", "300000000000", "400000000000"
ORG = OrganizationTrailSpec(OWNER, TrailSpec("us-east-1", log_group_prefix="aws-controltower/CloudTrailLogs"))
ACCOUNTS = [
    AccountSpec(OWN, TrailSpec("eu-west-1", "own/trail", name="own")),
    AccountSpec(PER_REGION, region_trails=(("us-east-1", "trail-use1"), ("eu-west-1", "trail-euw1"))),
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
        (PER_REGION, "us-east-1", DIRECT, f"{PER_REGION}/us-east-1"),
        (PER_REGION, "eu-west-1", DIRECT, f"{PER_REGION}/eu-west-1"),
        (OWNER, ALL_REGIONS, DIRECT, org_site),
        (PER_REGION, ALL_REGIONS, ORGANIZATION, org_site),  # every other Region, through the org trail
        (MEMBER, ALL_REGIONS, ORGANIZATION, org_site),
    }
    assert plan.totals() == {DIRECT: 4, ORGANIZATION: 2}


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ("all", {PER_REGION, MEMBER, ALL_ACCOUNTS}),
        ((MEMBER, "500000000000", OWNER), {MEMBER, "500000000000"}),
    ],
)
def test_members_all_or_listed(members: object, expected: set[str]) -> None:
    org = OrganizationTrailSpec(OWNER, ORG.trail, members)  # type: ignore[arg-type]
    plan = plan_coverage(ACCOUNTS, org)
    assert {c.account_id for c in plan.claims if c.kind == ORGANIZATION} == expected
    assert CoverageClaim(ALL_ACCOUNTS, ALL_REGIONS, ORGANIZATION, f"{OWNER}/us-east-1").key == "*/*"


def test_covered_regions_are_claimed_one_by_one() -> None:
    plan = plan_coverage([AccountSpec(OWN, TrailSpec("eu-west-1", "g"), ("eu-west-1", "us-east-1"))])
    assert claims(plan) == {
        (OWN, "eu-west-1", DIRECT, f"{OWN}/eu-west-1"),
        (OWN, "us-east-1", DIRECT, f"{OWN}/eu-west-1"),
    }


def test_two_sites_in_one_account_and_region_are_refused() -> None:
    with pytest.raises(ValueError, match=f"{OWNER}/us-east-1"):
        plan_coverage([AccountSpec(OWNER, TrailSpec("us-east-1", "own"))], ORG)


def test_a_site_states_its_trail_as_topology_facts() -> None:
    site = ChainSite(
        OWNER, "us-east-1", ORGANIZATION_TRAIL, log_group_prefix="aws-controltower/CloudTrailLogs"
    )
    assert "starts with 'aws-controltower/CloudTrailLogs'" in site.describe()
    facts = site.trail_facts("aws-controltower/CloudTrailLogs-tfw-qeb")
    assert facts.organization and facts.multi_region and facts.owner_account == OWNER
    assert facts.log_group == LogGroupRef(OWNER, "us-east-1", "aws-controltower/CloudTrailLogs-tfw-qeb")
    assert site.trail_facts().log_group is None  # not looked up yet
    assert not ChainSite(PER_REGION, "eu-west-1", REGION_TRAIL, "g").trail_facts().multi_region
