"""The emulator worlds look like AWS, and their expected coverage is what a person would write down.

What AWS shows is read back through the API, in each account, as the audit and discover will
read it: a member sees an organization trail only as a shadow (the owner's ARN, home Region and
log group), reads it by ARN and cannot change it; a multi-Region trail shows in every Region
with its home Region; Control Tower's group carries a suffix.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cis_monitoring.core.topology import DIRECT, NOT_COVERED, ORGANIZATION
from local.emulator import DEFAULT_ACCOUNT, Emulator, EmulatorSessions
from local.worlds import REGIONS, WORLDS, World, build_world, classic, mixed, organization
from tests.rollout.new_config_shape import validate

pytestmark = pytest.mark.emulator

MGMT = DEFAULT_ACCOUNT
CT_TRAIL = organization.CT_TRAIL
FILTER = "cis-4-5-cloudtrail-changes"


def trails(world: World, account_id: str, region: str, shadows: bool = True) -> list[dict[str, Any]]:
    cloudtrail = world.client("cloudtrail", account_id, region)
    return cloudtrail.describe_trails(includeShadowTrails=shadows)["trailList"]


def deploy_filters(world: World) -> None:
    """What the stack would put on each monitored group (the part the break helpers remove)."""
    for group in world.monitored_log_groups:
        world.client("logs", group.account_id, group.region).put_metric_filter(
            logGroupName=group.name,
            filterName=FILTER,
            filterPattern="{ ($.eventName = StopLogging) }",
            metricTransformations=[
                {"metricName": "m", "metricNamespace": "CISBenchmark", "metricValue": "1"}
            ],
        )


def coverage_table(world: World) -> dict[str, tuple[str, str, str | None]]:
    """account id -> (kind, code, trail name), checked to be the same in every Region."""
    table: dict[str, tuple[str, str, str | None]] = {}
    for (account_id, _region), found in world.expected_coverage().items():
        row = (found.kind, found.code, found.trail.name if found.trail else None)
        assert table.setdefault(account_id, row) == row, (account_id, _region, found)
    return table


@pytest.fixture
def build(emulator: Emulator):  # type: ignore[no-untyped-def]
    return lambda name: build_world(name, emulator.url)


# ---- organization (Control Tower >= 4.0) ----


def test_organization_members_see_only_the_shadow_of_the_owners_trail(build: Any) -> None:
    world = build("organization")
    trail = world.trail(CT_TRAIL)
    for member in (organization.LOG_ARCHIVE, organization.AUDIT, organization.PAYMENTS):
        for region in REGIONS:
            (seen,) = trails(world, member, region)
            assert seen["TrailARN"] == f"arn:aws:cloudtrail:us-east-1:{MGMT}:trail/{CT_TRAIL}"
            assert (seen["HomeRegion"], seen["IsOrganizationTrail"], seen["IsMultiRegionTrail"]) == (
                "us-east-1",
                True,
                True,
            )
            assert seen["CloudWatchLogsLogGroupArn"].startswith(f"arn:aws:logs:us-east-1:{MGMT}:log-group:")
            cloudtrail = world.client("cloudtrail", member, region)
            assert cloudtrail.get_trail_status(Name=seen["TrailARN"])["IsLogging"] is True
            selectors = cloudtrail.get_event_selectors(TrailName=seen["TrailARN"])["EventSelectors"]
            assert selectors == [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
            assert cloudtrail.get_trail(Name=seen["TrailARN"])["Trail"]["IsOrganizationTrail"] is True
        # Not its own trail: not listed without shadows, not found by name, not changeable.
        assert trails(world, member, "us-east-1", shadows=False) == []
        cloudtrail = world.client("cloudtrail", member, "us-east-1")
        with pytest.raises(ClientError, match="TrailNotFound"):
            cloudtrail.get_trail_status(Name=CT_TRAIL)
        with pytest.raises(ClientError, match="TrailNotFound"):
            cloudtrail.stop_logging(Name=trail.arn)
    assert world.client("cloudtrail", MGMT, "us-east-1").get_trail_status(Name=trail.arn)["IsLogging"] is True


def test_organization_owner_sees_the_real_trail_and_the_suffixed_control_tower_group(build: Any) -> None:
    world = build("organization")
    (own,) = trails(world, MGMT, "us-east-1", shadows=False)
    assert (own["Name"], own["IsOrganizationTrail"], own["HomeRegion"]) == (CT_TRAIL, True, "us-east-1")
    group = world.trail(CT_TRAIL).log_group
    assert group is not None and re.fullmatch(
        r"aws-controltower/CloudTrailLogs-[a-z]{3}-[a-z]{3}", group.name
    )
    assert own["CloudWatchLogsLogGroupArn"] == f"arn:aws:logs:us-east-1:{MGMT}:log-group:{group.name}:*"
    logs = world.client("logs", MGMT, "us-east-1")
    found = logs.describe_log_groups(logGroupNamePrefix="aws-controltower/CloudTrailLogs")["logGroups"]
    assert [g["logGroupName"] for g in found] == [group.name]
    for member in (organization.LOG_ARCHIVE, organization.AUDIT, organization.PAYMENTS):
        assert world.client("logs", member, "us-east-1").describe_log_groups()["logGroups"] == []
    assert re.fullmatch(r"[a-z]{3}-[a-z]{3}", organization.random_suffix())


def test_a_multi_region_trail_shows_as_a_shadow_in_other_regions(build: Any) -> None:
    world = build("organization")
    sandbox = world.trail(organization.SANDBOX_TRAIL)
    for region in REGIONS:
        names = {(t["Name"], t["HomeRegion"]) for t in trails(world, organization.SANDBOX, region)}
        assert names == {(organization.SANDBOX_TRAIL, "eu-west-1"), (CT_TRAIL, "us-east-1")}
    assert trails(world, organization.SANDBOX, "us-east-1", shadows=False) == []
    away = world.client("cloudtrail", organization.SANDBOX, "us-east-1")
    assert away.get_event_selectors(TrailName=sandbox.arn)["TrailARN"] == sandbox.arn
    with pytest.raises(ClientError, match="TrailNotFound"):  # changed only from its home Region
        away.stop_logging(Name=sandbox.arn)


def test_the_owners_changes_show_in_every_member_at_once(build: Any) -> None:
    world = build("organization")
    world.stop_trail(MGMT)
    arn = world.trail(CT_TRAIL).arn
    for member in (organization.LOG_ARCHIVE, organization.SANDBOX):
        status = world.client("cloudtrail", member, "eu-west-1").get_trail_status(Name=arn)
        assert status["IsLogging"] is False


def test_organization_accounts_and_ous_are_listable(build: Any) -> None:
    world = build("organization")
    org = EmulatorSessions(world.endpoint).client("organizations", "us-east-1")
    listed = {(a["Id"], a["Name"], a["Status"]) for a in org.list_accounts()["Accounts"]}
    assert listed == {(a.id, a.name, "ACTIVE") for a in world.accounts}
    assert {a.id: a.ou for a in world.accounts} == {
        MGMT: "Root",
        organization.LOG_ARCHIVE: "Root/Security",
        organization.AUDIT: "Root/Security",
        organization.PAYMENTS: "Root/Workloads/Prod",
        organization.SANDBOX: "Root/Sandbox",
    }
    parent = org.list_parents(ChildId=organization.PAYMENTS)["Parents"][0]["Id"]
    assert parent == world.ous["Root/Workloads/Prod"]
    assert (
        org.describe_organizational_unit(OrganizationalUnitId=parent)["OrganizationalUnit"]["Name"] == "Prod"
    )


# ---- classic and mixed ----


def test_classic_accounts_each_see_only_their_own_multi_region_trail(build: Any) -> None:
    world = build("classic")
    for account in world.accounts:
        for region in REGIONS:
            (seen,) = trails(world, account.id, region)
            assert seen["TrailARN"].split(":")[4] == account.id
            assert (seen["HomeRegion"], seen["IsMultiRegionTrail"], seen["IsOrganizationTrail"]) == (
                "us-east-1",
                True,
                False,
            )
            assert f":{account.id}:log-group:" in seen["CloudWatchLogsLogGroupArn"]


def test_mixed_world_has_a_delegated_administrator_and_one_single_region_only_account(build: Any) -> None:
    world = build("mixed")
    org = EmulatorSessions(world.endpoint).client("organizations", "us-east-1")
    admins = org.list_delegated_administrators(ServicePrincipal="cloudtrail.amazonaws.com")
    assert [a["Id"] for a in admins["DelegatedAdministrators"]] == [mixed.SECURITY]
    # As in AWS, the management account owns the organization trail the delegated administrator
    # manages: its ARN names the management account, which every other account sees as a shadow.
    for viewer in (MGMT, mixed.SECURITY):
        (shadow,) = [t for t in trails(world, viewer, "us-east-1") if t["Name"] == mixed.ORG_TRAIL]
        assert (shadow["TrailARN"].split(":")[4], shadow["HomeRegion"]) == (MGMT, "eu-west-1")
    legacy = {t["Name"]: t for t in trails(world, mixed.LEGACY, "us-east-1")}
    assert set(legacy) == {mixed.LEGACY_TRAIL, mixed.ORG_TRAIL}
    assert legacy[mixed.LEGACY_TRAIL]["IsMultiRegionTrail"] is False
    assert [t["Name"] for t in trails(world, mixed.LEGACY, "eu-west-1")] == [mixed.ORG_TRAIL]
    own = world.own_trails(mixed.LEGACY)
    assert [(t.name, t.facts.multi_region) for t in own] == [(mixed.LEGACY_TRAIL, False)]
    data = {t["Name"]: t for t in trails(world, mixed.DATA, "us-east-1")}
    assert not data[mixed.DATA_TRAIL].get("CloudWatchLogsLogGroupArn")


def test_a_closed_account_no_longer_sees_the_organization_trail(build: Any) -> None:
    world = build("organization")
    org = EmulatorSessions(world.endpoint).client("organizations", "us-east-1")
    org.close_account(AccountId=organization.PAYMENTS)
    assert trails(world, organization.PAYMENTS, "us-east-1") == []
    assert len(trails(world, organization.AUDIT, "us-east-1")) == 1


# ---- expected config and coverage ----


@pytest.mark.parametrize("name", list(WORLDS))
def test_expected_config_has_the_new_shape_and_names_the_worlds_accounts(build: Any, name: str) -> None:
    world = build(name)
    checked = validate(world.expected_config)
    assert checked in ("shape", "shape+loader")
    assert [e["id"] for e in world.expected_config["accounts"]] == [a.id for a in world.accounts]
    assert set(world.monitored_log_groups) <= set(world.log_groups)


INTACT = {
    "classic": {
        MGMT: (DIRECT, "coverage.direct", "management-events"),
        classic.PROD: (DIRECT, "coverage.direct", classic.CT_TRAIL),
        classic.DEV: (DIRECT, "coverage.direct", classic.CT_TRAIL),
    },
    "organization": {
        MGMT: (DIRECT, "coverage.direct", CT_TRAIL),
        organization.LOG_ARCHIVE: (ORGANIZATION, "coverage.organization", CT_TRAIL),
        organization.AUDIT: (ORGANIZATION, "coverage.organization", CT_TRAIL),
        organization.PAYMENTS: (ORGANIZATION, "coverage.organization", CT_TRAIL),
        organization.SANDBOX: (DIRECT, "coverage.direct", organization.SANDBOX_TRAIL),
    },
    "mixed": {
        MGMT: (DIRECT, "coverage.direct", mixed.ORG_TRAIL),
        mixed.SECURITY: (ORGANIZATION, "coverage.organization", mixed.ORG_TRAIL),
        mixed.SHARED: (DIRECT, "coverage.direct", mixed.SHARED_TRAIL),
        mixed.DATA: (ORGANIZATION, "coverage.organization", mixed.ORG_TRAIL),
        mixed.WEB: (DIRECT, "coverage.direct", mixed.WEB_TRAIL),
        mixed.LEGACY: (ORGANIZATION, "coverage.organization", mixed.ORG_TRAIL),
    },
}
BROKEN = (NOT_COVERED, "coverage.none.chain_broken")
STOPPED = (NOT_COVERED, "coverage.none.not_logging")


@pytest.mark.parametrize("name", list(WORLDS))
def test_expected_coverage_with_every_chain_intact(build: Any, name: str) -> None:
    world = build(name)
    assert coverage_table(world) == INTACT[name]
    assert set(world.expected_coverage()) == {(a.id, r) for a in world.accounts for r in REGIONS}


@pytest.mark.parametrize("name", ["organization", "mixed"])
def test_breaking_the_owners_chain_uncovers_every_member_without_a_trail_of_its_own(
    build: Any, name: str
) -> None:
    world = build(name)
    deploy_filters(world)
    assert world.break_owner_chain() == [FILTER]
    owner_group = world.organization_trail.log_group  # type: ignore[union-attr]
    assert (
        world.client("logs", owner_group.account_id, owner_group.region).describe_metric_filters(
            logGroupName=owner_group.name
        )["metricFilters"]
        == []
    )
    org_trail = world.organization_trail.name  # type: ignore[union-attr]
    expected = {
        account: (*BROKEN, org_trail) if trail == org_trail else (kind, code, trail)
        for account, (kind, code, trail) in INTACT[name].items()
    }
    assert coverage_table(world) == expected
    # Which accounts that is, written out: the ones without a usable trail of their own.
    direct = {a for a, row in expected.items() if row[0] == DIRECT}
    assert direct == ({organization.SANDBOX} if name == "organization" else {mixed.SHARED, mixed.WEB})


def test_stopping_one_accounts_own_trail_changes_only_that_account(build: Any) -> None:
    world = build("organization")
    world.stop_trail(organization.SANDBOX)
    expected = {
        **INTACT["organization"],
        organization.SANDBOX: (ORGANIZATION, "coverage.organization", CT_TRAIL),
    }
    assert coverage_table(world) == expected
    world.stop_trail(MGMT)  # the organization trail itself
    table = coverage_table(world)
    assert {a for a, row in table.items() if row[:2] == STOPPED} == {
        MGMT,
        organization.LOG_ARCHIVE,
        organization.AUDIT,
        organization.PAYMENTS,
        organization.SANDBOX,
    }


def test_breaking_one_accounts_chain_in_the_classic_world_changes_only_that_account(build: Any) -> None:
    world = build("classic")
    deploy_filters(world)
    world.break_chain(classic.PROD)
    assert coverage_table(world) == {**INTACT["classic"], classic.PROD: (*BROKEN, classic.CT_TRAIL)}
    world.stop_trail(classic.DEV)
    assert coverage_table(world)[classic.DEV] == (*STOPPED, classic.CT_TRAIL)


def test_break_helpers_refuse_what_would_break_nothing(build: Any) -> None:
    world = build("classic")
    with pytest.raises(ValueError, match="no organization trail"):
        world.break_owner_chain()
    with pytest.raises(ValueError, match="deploy the stack before breaking it"):
        world.break_chain(classic.PROD)
    assert world.broken_chains == set()
