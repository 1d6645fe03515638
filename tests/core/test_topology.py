"""The coverage model: which (account, Region) pairs a trail's log group covers, in AWS's real shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cis_monitoring.core.topology import (
    DEFAULT_DELIVERY_WINDOW,
    DIRECT,
    NOT_COVERED,
    ORGANIZATION,
    CloudWatchDelivery,
    LogGroupRef,
    TrailFacts,
    coverage_map,
    coverage_of,
    totals,
)

MGMT, MEMBER, OTHER = "999999999999", "111111111111", "222222222222"
CT_GROUP = LogGroupRef(MGMT, "us-east-1", "aws-controltower/CloudTrailLogs-tfw-qeb")
OWN_GROUP = LogGroupRef(MEMBER, "us-east-1", "team-trail")


def org_trail(**changes: object) -> TrailFacts:
    facts = {
        "name": "aws-controltower-BaselineCloudTrail",
        "owner_account": MGMT,
        "home_region": "us-east-1",
        "multi_region": True,
        "organization": True,
        "log_group": CT_GROUP,
        "logging": True,
        "all_management_events": True,
    }
    facts.update(changes)
    return TrailFacts(**facts)  # type: ignore[arg-type]


def own_trail(**changes: object) -> TrailFacts:
    facts = {
        "name": "team-trail",
        "owner_account": MEMBER,
        "home_region": "us-east-1",
        "multi_region": True,
        "log_group": OWN_GROUP,
        "logging": True,
        "all_management_events": True,
    }
    facts.update(changes)
    return TrailFacts(**facts)  # type: ignore[arg-type]


def intact(*broken: LogGroupRef):
    return lambda group: group not in broken


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_a_multi_region_trail_covers_every_region_from_its_home_region_group(region: str) -> None:
    result = coverage_of(MEMBER, region, [own_trail()], intact())
    assert (result.kind, result.code, result.log_group) == (DIRECT, "coverage.direct", OWN_GROUP)
    assert result.describe().startswith("covered directly: multi-Region trail 'team-trail'")


def test_a_member_is_covered_by_the_owners_organization_trail() -> None:
    result = coverage_of(MEMBER, "eu-west-1", [org_trail()], intact())
    assert result.kind == ORGANIZATION
    assert result.log_group == CT_GROUP
    assert result.describe() == (
        "covered by organization trail 'aws-controltower-BaselineCloudTrail' of account 999999999999: "
        "home us-east-1, delivering to log group 'aws-controltower/CloudTrailLogs-tfw-qeb' in account "
        "999999999999 us-east-1"
    )


def test_the_owner_of_an_organization_trail_is_covered_directly() -> None:
    assert coverage_of(MGMT, "us-west-2", [org_trail()], intact()).kind == DIRECT


def test_breaking_the_owners_chain_uncovers_every_member_and_names_the_owner() -> None:
    results = coverage_map(
        [(MEMBER, "us-east-1"), (OTHER, "eu-west-1")],
        {MEMBER: [org_trail()], OTHER: [org_trail()]},
        intact(CT_GROUP),
    )
    assert {r.code for r in results.values()} == {"coverage.none.chain_broken"}
    assert all(MGMT in r.reason and r.kind == NOT_COVERED for r in results.values())


def test_an_accounts_own_trail_wins_and_keeps_it_covered_when_the_org_chain_breaks() -> None:
    result = coverage_of(MEMBER, "us-east-1", [org_trail(), own_trail()], intact(CT_GROUP))
    assert result.kind == DIRECT and result.trail is not None and result.trail.name == "team-trail"


def test_breaking_one_accounts_own_trail_falls_back_to_the_organization_trail() -> None:
    result = coverage_of(MEMBER, "us-east-1", [org_trail(), own_trail(logging=False)], intact())
    assert result.kind == ORGANIZATION


def test_a_single_region_trail_counts_only_for_its_region_and_is_not_cis_compliant() -> None:
    trail = own_trail(multi_region=False, home_region="eu-west-1")
    home = coverage_of(MEMBER, "eu-west-1", [trail], intact())
    elsewhere = coverage_of(MEMBER, "us-east-1", [trail], intact())
    assert (home.kind, home.code) == (NOT_COVERED, "coverage.none.single_region")
    assert "CIS 4.x needs a multi-Region trail" in home.reason
    assert elsewhere.code == "coverage.none.no_trail"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"log_group": None}, "coverage.none.no_cloudwatch"),
        ({"logging": False}, "coverage.none.not_logging"),
        ({"all_management_events": False}, "coverage.none.selectors"),
    ],
)
def test_a_trail_that_keeps_events_from_its_group_is_named_with_what_to_do(
    changes: dict[str, object], code: str
) -> None:
    result = coverage_of(MEMBER, "us-east-1", [own_trail(**changes)], intact())
    assert (result.kind, result.code) == (NOT_COVERED, code)
    assert "team-trail" in result.reason


def test_an_account_outside_the_known_members_is_not_covered_by_the_organization_trail() -> None:
    result = coverage_of(OTHER, "us-east-1", [org_trail()], intact(), members=lambda _t: [MEMBER])
    assert result.code == "coverage.none.no_trail"


def test_another_accounts_plain_trail_covers_nothing() -> None:
    foreign = own_trail(owner_account=OTHER, log_group=LogGroupRef(OTHER, "us-east-1", "x"))
    assert coverage_of(MEMBER, "us-east-1", [foreign], intact()).kind == NOT_COVERED


def test_an_unchecked_chain_is_covered_but_says_so() -> None:
    result = coverage_of(MEMBER, "us-east-1", [own_trail()], lambda _group: None)
    assert result.kind == DIRECT and result.reason.endswith("(chain not checked)")


def test_totals_count_every_kind() -> None:
    results = coverage_map(
        [(MEMBER, "us-east-1"), (OTHER, "us-east-1"), (MGMT, "us-east-1")],
        {MEMBER: [own_trail()], OTHER: [org_trail()], MGMT: []},
        intact(),
    )
    assert totals(results.values()) == {DIRECT: 1, ORGANIZATION: 1, NOT_COVERED: 1}
    assert results[(OTHER, "us-east-1")].to_dict()["trailAccountId"] == MGMT


def test_only_an_organization_trail_gives_organization_coverage() -> None:
    # AWS never delivers a plain trail to another account's group; if facts say so, it is still the
    # account's own trail, not an organization trail.
    odd = own_trail(log_group=LogGroupRef(OTHER, "us-east-1", "elsewhere"))
    assert coverage_of(MEMBER, "us-east-1", [odd], intact()).kind == DIRECT


# ---------------------------------------------------------------- delivery to CloudWatch Logs (GetTrailStatus)

READ_AT = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


def delivered(
    ago: timedelta | None, error: str | None = None, read_at: datetime = READ_AT
) -> CloudWatchDelivery:
    return CloudWatchDelivery(read_at, None if ago is None else read_at - ago, error)


def test_a_recent_delivery_keeps_the_pair_covered() -> None:
    result = coverage_of(MEMBER, "us-east-1", [own_trail(delivery=delivered(timedelta(minutes=4)))], intact())
    assert (result.kind, result.code) == (DIRECT, "coverage.direct")


@pytest.mark.parametrize(
    ("delivery", "code", "says"),
    [
        (
            delivered(timedelta(hours=30)),
            "coverage.none.delivery_stale",
            "has not delivered to log group 'team-trail' in account 111111111111 us-east-1 within the delivery"
            " window of 24 h: the last delivery was at 2025-03-03 06:00 UTC, 1 d 6 h before the audit",
        ),
        (
            delivered(None),
            "coverage.none.never_delivered",
            "has never delivered to log group 'team-trail' in account 111111111111 us-east-1: AWS reports no"
            " delivery to it at all (no LatestCloudWatchLogsDeliveryTime)",
        ),
        (
            # A deleted CloudWatchLogsRoleArn: IsLogging stays true, the error is set, delivery stops.
            delivered(timedelta(hours=2), "AccessDeniedException"),
            "coverage.none.delivery_error",
            "is logging, but GetTrailStatus reports a CloudWatch Logs delivery error ('AccessDeniedException'),"
            " so events do not reach log group 'team-trail'",
        ),
        (
            # AWS gives the error no time: even with a delivery minutes ago it is not PASS.
            delivered(timedelta(minutes=3), "KMS key is disabled"),
            "coverage.none.delivery_error",
            "the last delivery was at 2025-03-04 11:57 UTC, 3 min before the audit; AWS gives the error no time",
        ),
        (
            delivered(None, "AccessDeniedException"),
            "coverage.none.delivery_error",
            "AWS reports no delivery to it at all",
        ),
    ],
    ids=["stale", "never delivered", "error", "error with a recent delivery", "error, never delivered"],
)
def test_a_trail_that_logs_but_does_not_deliver_uncovers_the_pair_and_says_which(
    delivery: CloudWatchDelivery, code: str, says: str
) -> None:
    result = coverage_of(MEMBER, "us-east-1", [own_trail(delivery=delivery)], intact())
    assert (result.kind, result.code) == (NOT_COVERED, code)
    assert says in result.reason, result.reason
    assert "CloudWatchLogsRoleArn" in result.reason  # what to fix


def test_the_delivery_window_is_the_callers() -> None:
    trail = own_trail(delivery=delivered(timedelta(hours=30)))
    assert coverage_of(MEMBER, "us-east-1", [trail], intact()).code == "coverage.none.delivery_stale"
    wide = coverage_of(MEMBER, "us-east-1", [trail], intact(), delivery_window=timedelta(hours=48))
    assert wide.code == "coverage.direct"
    assert timedelta(hours=24) == DEFAULT_DELIVERY_WINDOW


def test_a_member_whose_organization_trail_stopped_delivering_falls_back_to_its_own_trail() -> None:
    stale = org_trail(delivery=delivered(timedelta(days=3)))
    fresh = own_trail(delivery=delivered(timedelta(minutes=1)))
    assert coverage_of(MEMBER, "us-east-1", [stale, fresh], intact()).kind == DIRECT
    alone = coverage_of(MEMBER, "us-east-1", [stale], intact())
    assert alone.code == "coverage.none.delivery_stale" and MGMT in alone.reason


def test_delivery_not_read_is_not_judged_here() -> None:
    # The plan and the pack state config; whether a PASS may rest on it is the audit's rule.
    assert coverage_of(MEMBER, "us-east-1", [own_trail()], intact()).kind == DIRECT
