"""The real topology under mocks: one chain per monitored log group, none elsewhere, and the coverage
outputs of each emulator world's config (classic, organization, mixed) exactly as expected.

The configs are test data (tests/components/topology_data.py); the expected tables below are
written by hand from the worlds' descriptions (local/worlds/*.py), not computed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local.program_harness import AwsMocks, ProgramRun, decode_provider_inputs, run_program
from tests.components.topology_data import (
    CONSOLE_GROUP,
    CT_PREFIX,
    CT_SUFFIXED,
    MANAGEMENT,
    PREFIX_MATCHES,
    WORLDS,
    expected_sites,
)

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
PROVIDER = "pulumi:providers:aws"
ORG_STACK = "acme/landing-zone/org"


def run_ok(config: dict[str, Any], mocks: AwsMocks | None = None) -> ProgramRun:
    run = run_program(config, mocks=mocks or AwsMocks(log_groups_by_prefix=PREFIX_MATCHES))
    assert run.error is None, run.error
    return run


def site_of(run: ProgramRun, resource: Any) -> tuple[str, str]:
    inputs = decode_provider_inputs(run.provider_for(resource).inputs)
    return inputs["allowedAccountIds"][0], inputs["region"]


def filters_by_site(run: ProgramRun) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for item in run.of_type(FILTER):
        found.setdefault(site_of(run, item), []).append(item.inputs["logGroupName"])
    return found


# (world, key) -> (coverage, chain): every pair the outputs must state, and no other.
CT_CHAIN = f"{MANAGEMENT}/us-east-1/{CT_SUFFIXED}"
MIXED_CHAIN = "555555555555/eu-west-1/org-trail/cloudtrail"
EXPECTED_COVERAGE: dict[str, dict[str, tuple[str, str]]] = {
    "classic": {
        "111111111111/*": ("direct", "111111111111/us-east-1/aws-controltower/CloudTrailLogs"),
        f"{MANAGEMENT}/*": ("direct", f"{MANAGEMENT}/us-east-1/{CONSOLE_GROUP}"),
        "222222222222/*": ("direct", "222222222222/us-east-1/aws-controltower/CloudTrailLogs"),
    },
    "organization": {
        f"{MANAGEMENT}/*": ("direct", CT_CHAIN),  # the owner of the trail and of its group
        "111111111111/*": ("organization", CT_CHAIN),
        "222222222222/*": ("organization", CT_CHAIN),
        "333333333333/*": ("organization", CT_CHAIN),
        "444444444444/*": ("direct", "444444444444/eu-west-1/sandbox-team/cloudtrail"),  # direct wins
    },
    "mixed": {
        "555555555555/*": ("direct", MIXED_CHAIN),  # the delegated administrator owns the trail
        f"{MANAGEMENT}/*": ("organization", MIXED_CHAIN),
        "666666666666/*": ("direct", "666666666666/us-east-1/aws-cloudtrail-logs-666666666666"),
        "777777777777/*": ("organization", MIXED_CHAIN),  # its own trail writes to S3 only
        "888888888888/*": ("direct", "888888888888/ap-southeast-2/web-shop/cloudtrail"),
        "999999999999/*": ("organization", MIXED_CHAIN),  # its single-Region trail does not count
    },
}
EXPECTED_CHAINS = {
    world: sorted({chain for _, chain in table.values()}) for world, table in EXPECTED_COVERAGE.items()
}


@pytest.mark.parametrize("world", sorted(WORLDS))
def test_exactly_one_chain_per_monitored_log_group_and_none_elsewhere(world: str) -> None:
    config = copy.deepcopy(WORLDS[world])
    run = run_ok(config)
    sites = expected_sites(config)
    assert filters_by_site(run) == {site: [group] for site, group in sites.items()}
    for type_ in (ALARM, TOPIC):
        assert sorted(site_of(run, r) for r in run.of_type(type_)) == sorted(sites), type_
    providers = sorted(
        (decode_provider_inputs(p.inputs)["allowedAccountIds"][0], decode_provider_inputs(p.inputs)["region"])
        for p in run.of_type(PROVIDER)
    )
    assert providers == sorted(sites)  # no provider, so nothing at all, where there is no log group
    assert sorted(run.outputs["chains"]) == EXPECTED_CHAINS[world]


@pytest.mark.parametrize("world", sorted(WORLDS))
def test_coverage_outputs_are_exactly_as_expected(world: str) -> None:
    run = run_ok(copy.deepcopy(WORLDS[world]))
    coverage = run.outputs["coverage"]
    assert {k: (v["coverage"], v["chain"]) for k, v in coverage.items()} == EXPECTED_COVERAGE[world]
    chains = run.outputs["chains"]
    names = {a["id"]: a["name"] for a in WORLDS[world]["accounts"]}
    for key, entry in coverage.items():
        chain = chains[entry["chain"]]
        assert (entry["trailAccountId"], entry["trailHomeRegion"]) == (chain["accountId"], chain["region"])
        assert entry["trail"] == chain["trail"] and entry["via"] == chain["via"]
        assert entry["accountName"] == names[entry["accountId"]] and key == f"{entry['accountId']}/*"
        assert entry["code"] == f"coverage.{entry['coverage']}"
    totals = run.outputs["summary"]["coverage"]
    assert totals == {
        kind: sum(1 for k, _ in EXPECTED_COVERAGE[world].values() if k == kind)
        for kind in ("direct", "organization", "none")
    }


# ---- the organization trail's log group found by prefix ----


def _organization(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(WORLDS["organization"])
    config["organizationTrail"].update(changes)
    return config


def test_a_prefix_with_one_match_puts_the_chain_on_that_group() -> None:
    run = run_ok(_organization(), AwsMocks(log_groups_by_prefix={CT_PREFIX: [CT_SUFFIXED]}))
    assert filters_by_site(run)[(MANAGEMENT, "us-east-1")] == [CT_SUFFIXED]


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ([], "no CloudWatch Logs group's name starts with 'aws-controltower/CloudTrailLogs'"),
        (
            [f"{CT_PREFIX}-abc-def", CT_SUFFIXED],
            "2 CloudWatch Logs groups' names start with 'aws-controltower/CloudTrailLogs'"
            " (organizationTrail.logGroupPrefix): 'aws-controltower/CloudTrailLogs-abc-def',"
            " 'aws-controltower/CloudTrailLogs-tfw-qeb'",
        ),
        # What the API returns is checked again: a name that does not start with the prefix is no match.
        (["other/CloudTrailLogs-x"], "no CloudWatch Logs group's name starts with"),
    ],
    ids=["zero", "several", "not really a match"],
)
def test_a_prefix_with_zero_or_several_matches_fails_naming_account_region_and_what_was_found(
    found: list[str], expected: str
) -> None:
    run = run_program(_organization(), mocks=AwsMocks(log_groups_by_prefix={CT_PREFIX: found}))
    message = str(run.error)
    assert f"account {MANAGEMENT} (management) region us-east-1: " in message, message
    assert expected in message, message
    assert {r.type for r in run.resources} == {PROVIDER}  # no chain anywhere, not even the sandbox's


def test_an_account_trail_may_be_given_by_prefix_too() -> None:
    config = copy.deepcopy(WORLDS["classic"])
    config["accounts"][0]["trail"] = {
        "homeRegion": "us-east-1",
        "logGroupPrefix": "aws-controltower/CloudTrail",
    }
    mocks = AwsMocks(
        log_groups_by_prefix={"aws-controltower/CloudTrail": ["aws-controltower/CloudTrailLogs"]}
    )
    run = run_ok(config, mocks)
    assert filters_by_site(run)[("111111111111", "us-east-1")] == ["aws-controltower/CloudTrailLogs"]
    failed = run_program(config, mocks=AwsMocks(log_groups_by_prefix={"aws-controltower/CloudTrail": []}))
    assert "(trail.logGroupPrefix)" in str(failed.error)


# ---- who the organization trail is stated to cover ----


def _members_coverage(run: ProgramRun) -> dict[str, str]:
    return {k: v["coverage"] for k, v in run.outputs["coverage"].items()}


def test_members_all_adds_every_account_of_the_organization() -> None:
    run = run_ok(_organization(members="all"))
    coverage = run.outputs["coverage"]
    assert _members_coverage(run) == {
        **{k: kind for k, (kind, _) in EXPECTED_COVERAGE["organization"].items()},
        "*/*": "organization",
    }
    assert "accountName" not in coverage["*/*"] and coverage["*/*"]["chain"] == CT_CHAIN
    assert len(run.of_type(FILTER)) == 2  # still one chain per log group


def test_members_as_a_list_states_exactly_those_accounts() -> None:
    config = _organization(members=["111111111111", "222222222222", "333333333333", "555555555555"])
    run = run_ok(config)
    assert _members_coverage(run) == {
        f"{MANAGEMENT}/*": "direct",
        "111111111111/*": "organization",
        "222222222222/*": "organization",
        "333333333333/*": "organization",
        "444444444444/*": "direct",  # not listed: only its own trail is stated
        "555555555555/*": "organization",  # listed, though not in this stack's accounts
    }
    assert "accountName" not in run.outputs["coverage"]["555555555555/*"]  # not in this stack


def test_members_from_the_organization_inventory() -> None:
    """Inventory accounts without trail information are covered by the organization trail only."""
    config = _organization()
    config["accounts"] = [a for a in config["accounts"] if a["id"] in (MANAGEMENT, "444444444444")]
    config["organization"] = {"stack": ORG_STACK}
    inventory = {
        "schemaVersion": 1,
        "accounts": [
            {"id": "111111111111", "name": "log-archive", "ou": "Root/Security"},
            {"id": "222222222222", "name": "audit", "ou": "Root/Security"},
            {"id": "333333333333", "name": "payments", "ou": "Root/Workloads/Prod"},
            {  # an inventory entry may carry its own trail, like an inline account
                "id": "666666666666",
                "name": "data",
                "ou": "Root/Workloads",
                "roleArn": "arn:aws:iam::666666666666:role/cis-monitoring-deployer",
                "trail": {"homeRegion": "eu-central-1", "logGroup": "data/cloudtrail"},
            },
        ],
    }
    mocks = AwsMocks(log_groups_by_prefix=PREFIX_MATCHES, stack_outputs={ORG_STACK: {"accounts": inventory}})
    run = run_ok(config, mocks)
    assert _members_coverage(run) == {
        f"{MANAGEMENT}/*": "direct",
        "444444444444/*": "direct",
        "666666666666/*": "direct",
        "111111111111/*": "organization",
        "222222222222/*": "organization",
        "333333333333/*": "organization",
    }
    assert sorted(filters_by_site(run)) == [
        ("123456789012", "us-east-1"),
        ("444444444444", "eu-west-1"),
        ("666666666666", "eu-central-1"),
    ]


def test_the_owners_notifications_and_the_organization_trails_override() -> None:
    config = _organization(
        notifications={"subscriptions": [{"protocol": "email", "endpoint": "org@example.com"}]}
    )
    run = run_ok(config)
    endpoints = {
        site_of(run, s): s.inputs["endpoint"]
        for s in run.of_type("aws:sns/topicSubscription:TopicSubscription")
    }
    assert endpoints == {
        (MANAGEMENT, "us-east-1"): "org@example.com",
        ("444444444444", "eu-west-1"): "cloud-security@example.com",
    }
    owner = [
        p
        for p in run.of_type(PROVIDER)
        if decode_provider_inputs(p.inputs)["allowedAccountIds"] == [MANAGEMENT]
    ]
    assert decode_provider_inputs(owner[0].inputs)["assumeRoles"][0]["roleArn"] == (
        "arn:aws:iam::123456789012:role/cis-monitoring-deployer"
    )


# ---- per-Region trails (organizations that really have them) ----


def test_per_region_trails_get_one_chain_per_region_and_claim_only_those_regions() -> None:
    config = copy.deepcopy(WORLDS["classic"])
    config["accounts"][0] = {
        "id": "111111111111",
        "name": "production",
        "regions": [
            {"region": "us-east-1", "logGroup": "cloudtrail", "perRegionTrail": True},
            {"region": "eu-west-1", "logGroup": "cloudtrail", "perRegionTrail": True},
            {"region": "ap-southeast-2", "logGroup": "trail-apse2"},
        ],
    }
    run = run_ok(config)
    found = filters_by_site(run)
    assert {k: v for k, v in found.items() if k[0] == "111111111111"} == {
        ("111111111111", "us-east-1"): ["cloudtrail"],
        ("111111111111", "eu-west-1"): ["cloudtrail"],
        ("111111111111", "ap-southeast-2"): ["trail-apse2"],
    }
    coverage = run.outputs["coverage"]
    assert sorted(k for k in coverage if k.startswith("111111111111/")) == [
        "111111111111/ap-southeast-2",
        "111111111111/eu-west-1",
        "111111111111/us-east-1",
    ]
    assert coverage["111111111111/eu-west-1"]["via"] == "region-trail"
    assert coverage["111111111111/eu-west-1"]["chain"] == "111111111111/eu-west-1/cloudtrail"


def test_covered_regions_states_only_the_listed_regions() -> None:
    config = copy.deepcopy(WORLDS["classic"])
    config["accounts"][0]["coveredRegions"] = ["us-east-1", "eu-west-1"]
    run = run_ok(config)
    coverage = run.outputs["coverage"]
    assert sorted(k for k in coverage if k.startswith("111111111111/")) == [
        "111111111111/eu-west-1",
        "111111111111/us-east-1",
    ]
    assert len(filters_by_site(run)) == 3  # still one chain, in the home Region
