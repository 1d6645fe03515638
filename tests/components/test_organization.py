"""Organization rollout under mocks: inventory from a stack reference, selectors, overrides, errors, waves."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cis_monitoring.core.catalog import CATALOG_VERSION, CIS_4_5
from cis_monitoring.spec import OrganizationConfig, SelectorConfig, ShardConfig
from cis_monitoring.spec.inventory import is_selected
from local.program_harness import AwsMocks, ProgramRun, decode_provider_inputs, run_program

ORG_STACK = "acme/landing-zone/prod"
DEV_STACK = "acme/cis-monitoring/dev"
TRAIL = {"region": "us-east-1", "logGroup": "org-trail/cloudtrail"}


def account(id_: str, name: str, ou: str, **tags: str) -> dict[str, Any]:
    return {"id": id_, "name": name, "ou": ou, "tags": tags}


INVENTORY = {
    "schemaVersion": 1,
    "accounts": [
        account("100000000001", "payments-prod", "Root/Workloads/Prod", Environment="prod"),
        account("100000000002", "data-prod", "Root/Workloads/Prod/Data", Environment="prod"),
        account("100000000003", "payments-dev", "Root/Workloads/Dev", Environment="dev"),
        account("100000000004", "sandbox", "Root/Sandbox", Environment="dev"),
        {
            **account("100000000005", "logging", "Root/Security", Environment="prod"),
            "roleArn": "arn:aws:iam::100000000005:role/custom",
            # Real per-Region trails whose groups share a name (an inventory entry may say so too).
            "regions": [
                {**TRAIL, "perRegionTrail": True},
                {"region": "eu-west-1", "logGroup": "org-trail/cloudtrail", "perRegionTrail": True},
            ],
        },
    ],
}


def base_config(**organization: Any) -> dict[str, Any]:
    return {
        "organization": {
            "stack": ORG_STACK,
            "roleName": "cis-monitoring-deployer",
            "defaultRegions": [TRAIL],
            **organization,
        },
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }


def run_with(config: dict[str, Any], outputs: dict[str, dict[str, Any]] | None = None) -> ProgramRun:
    return run_program(
        config,
        mocks=AwsMocks(stack_outputs={ORG_STACK: {"accounts": INVENTORY}} if outputs is None else outputs),
    )


def deployed(run: ProgramRun) -> dict[tuple[str, str], dict[str, Any]]:
    """(account, region) -> that target's provider config, for every metric filter registered."""
    found = {}
    for metric_filter in run.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter"):
        provider = decode_provider_inputs(run.provider_for(metric_filter).inputs)
        found[(provider["allowedAccountIds"][0], provider["region"])] = {
            **provider,
            "logGroup": metric_filter.inputs["logGroupName"],
        }
    return found


def test_inventory_accounts_are_deployed_with_role_and_default_regions() -> None:
    run = run_with(base_config(select={"ous": ["Root/Workloads/Prod"]}))
    assert run.error is None, run.error
    targets = deployed(run)
    assert set(targets) == {("100000000001", "us-east-1"), ("100000000002", "us-east-1")}
    assert (
        targets[("100000000002", "us-east-1")]["assumeRoles"][0]["roleArn"]
        == "arn:aws:iam::100000000002:role/cis-monitoring-deployer"
    )
    assert [r.inputs["name"] for r in run.of_type("pulumi:pulumi:StackReference")] == [ORG_STACK]


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        ({"tags": {"Environment": "dev"}}, {"100000000003", "100000000004"}),
        ({"ous": ["Root/Workloads"], "tags": {"Environment": "prod"}}, {"100000000001", "100000000002"}),
        ({"accounts": ["100000000004", "100000000005"]}, {"100000000004", "100000000005"}),
        (
            {"excludeAccounts": ["100000000001", "100000000005"]},
            {"100000000002", "100000000003", "100000000004"},
        ),
        ({"ous": ["Root/Workloads/Pro"]}, set()),  # OU paths match whole segments only
    ],
)
def test_selectors(select: dict[str, Any], expected: set[str]) -> None:
    run = run_with(base_config(select=select))
    if not expected:
        assert "selects no account of the 5 in acme/landing-zone/prod output 'accounts'" in str(run.error)
        return
    assert run.error is None, run.error
    assert {a for a, _ in deployed(run)} == expected


def test_inventory_entry_settings_win_over_organization_defaults() -> None:
    run = run_with(base_config(select={"accounts": ["100000000005"]}))
    targets = deployed(run)
    assert set(targets) == {("100000000005", "us-east-1"), ("100000000005", "eu-west-1")}
    assert (
        targets[("100000000005", "eu-west-1")]["assumeRoles"][0]["roleArn"]
        == "arn:aws:iam::100000000005:role/custom"
    )


def test_inline_accounts_override_inventory_entries_by_id() -> None:
    config = base_config(select={"ous": ["Root/Workloads/Prod"]})
    config["accounts"] = [
        {
            "id": "100000000002",
            "name": "data-prod",
            "roleArn": "arn:aws:iam::100000000002:role/other",
            "regions": [{"region": "us-east-1", "logGroup": "data/trail"}],
        },
        {"id": "200000000000", "name": "extra", "regions": [TRAIL]},
    ]
    run = run_with(config)
    assert run.error is None, run.error
    targets = deployed(run)
    assert set(targets) == {
        ("100000000001", "us-east-1"),
        ("100000000002", "us-east-1"),
        ("200000000000", "us-east-1"),
    }
    assert targets[("100000000002", "us-east-1")]["logGroup"] == "data/trail"
    assert targets[("100000000002", "us-east-1")]["assumeRoles"][0]["roleArn"].endswith("role/other")


def _inventory_with(*accounts: dict[str, Any], version: Any = 1) -> dict[str, dict[str, Any]]:
    return {ORG_STACK: {"accounts": {"schemaVersion": version, "accounts": list(accounts)}}}


ERRORS = [
    (
        "missing output",
        {ORG_STACK: {}},
        "organization.output: stack 'acme/landing-zone/prod' has no output 'accounts'",
    ),
    ("wrong shape", {ORG_STACK: {"accounts": ["100000000001"]}}, "is not an account inventory"),
    (
        "unsupported schema",
        _inventory_with(account("100000000001", "a", "Root"), version=2),
        "has schemaVersion 2; this program reads version 1",
    ),
    (
        "duplicate with different settings",
        _inventory_with(account("100000000001", "a", "Root"), account("100000000001", "b", "Root")),
        "accounts[1].id: account 100000000001 appears again with different settings (first at accounts[0])",
    ),
    (
        "bad account id",
        _inventory_with(account("1234", "a", "Root")),
        "acme/landing-zone/prod output 'accounts'.accounts[0].id: '1234' is not an AWS account id",
    ),
    ("empty inventory", _inventory_with(), "organization.select: selects no account of the 0"),
]


@pytest.mark.parametrize(("case", "outputs", "expected"), ERRORS, ids=[e[0] for e in ERRORS])
def test_inventory_errors_name_the_referenced_stack_and_key(case: str, outputs: dict, expected: str) -> None:
    run = run_with(base_config(), outputs)
    assert run.error is not None and expected in str(run.error), run.error
    assert not run.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert not run.of_type("pulumi:providers:aws")


def test_identical_duplicates_in_the_inventory_are_not_an_error() -> None:
    entry = account("100000000001", "a", "Root")
    run = run_with(base_config(), _inventory_with(entry, copy.deepcopy(entry)))
    assert run.error is None, run.error
    assert set(deployed(run)) == {("100000000001", "us-east-1")}


def test_problems_of_inventory_accounts_point_at_the_inventory() -> None:
    config = base_config(select={"accounts": ["100000000003", "100000000004"]})
    config["accounts"] = [
        {"id": "300000000000", "name": "sandbox", "regions": [TRAIL]}
    ]  # name clash with inventory
    run = run_with(config)
    assert (
        "acme/landing-zone/prod output 'accounts', account 100000000004.name: name 'sandbox' is already used by accounts[0]"
        in str(run.error)
    )


def test_bad_organization_config_is_reported_with_its_key_path() -> None:
    config = base_config(shard={"index": 4, "count": 4})
    config["organization"]["stak"] = "x"
    run = run_with(config)
    message = str(run.error)
    assert "organization.shard: Value error" not in message
    assert "organization.shard.index: shard index 4 must be below the shard count 4" in message
    assert "organization.stak: unknown key (typos are not ignored); did you mean 'stack'?" in message


def test_shards_are_disjoint_and_complete() -> None:
    ids = [f"{n:012d}" for n in range(100000000000, 100000000097)]
    count = 4
    claimed = [
        {i for i in ids if is_selected({"id": i}, SelectorConfig(), ShardConfig(index=k, count=count))}
        for k in range(count)
    ]
    assert set().union(*claimed) == set(ids)
    assert sum(len(c) for c in claimed) == len(ids)


def test_sharded_stack_deploys_only_its_share() -> None:
    run = run_with(base_config(shard={"index": 1, "count": 2}))
    assert {a for a, _ in deployed(run)} == {"100000000001", "100000000003", "100000000005"}


# --- waves --------------------------------------------------------------------------------------


def dev_summary(**changes: Any) -> dict[str, Any]:
    return {
        "summary": {
            "catalogVersion": CATALOG_VERSION,
            "controlPatterns": {"4.5": CIS_4_5.filter_pattern},
            **changes,
        }
    }


def test_wave_gate_lets_prod_follow_a_dev_stack_that_deployed_the_same_catalog(dev_config: dict) -> None:
    dev_config["promoteAfter"] = DEV_STACK
    run = run_program(dev_config, mocks=AwsMocks(stack_outputs={DEV_STACK: dev_summary()}))
    assert run.error is None, run.error
    assert run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        (
            {},
            "stack 'acme/cis-monitoring/dev' exports no 'summary' output yet; run `pulumi up` on acme/cis-monitoring/dev first",
        ),
        (
            {DEV_STACK: dev_summary(catalogVersion="2020.1.1")},
            "stack 'acme/cis-monitoring/dev' runs catalog '2020.1.1'",
        ),
        (
            {DEV_STACK: dev_summary(controlPatterns={"4.5": "{ $.eventName = CreateTrail }"})},
            "control 4.5: stack 'acme/cis-monitoring/dev' has not deployed the pattern this stack would deploy",
        ),
    ],
    ids=["never deployed", "older catalog", "other pattern"],
)
def test_wave_gate_refuses_what_the_earlier_stack_has_not_deployed(
    outputs: dict, expected: str, dev_config: dict
) -> None:
    dev_config["promoteAfter"] = DEV_STACK
    run = run_program(dev_config, mocks=AwsMocks(stack_outputs=outputs))
    assert expected in str(run.error), run.error
    assert not run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")


def test_a_stack_exports_what_the_next_wave_checks(dev_config: dict) -> None:
    run = run_program(dev_config)
    summary = run.outputs["summary"]
    assert summary["catalogVersion"] == CATALOG_VERSION
    assert summary["controlPatterns"] == {"4.5": CIS_4_5.filter_pattern}


def test_organization_model_rejects_a_partial_stack_name() -> None:
    with pytest.raises(ValueError, match="not a fully qualified stack name"):
        OrganizationConfig.model_validate({"stack": "landing-zone/prod"})


# --- trails of inventory accounts (issue 10) ----------------------------------------------------


def test_default_trail_gives_inventory_accounts_their_own_trail() -> None:
    config = base_config(select={"ous": ["Root/Workloads/Prod"]})
    del config["organization"]["defaultRegions"]
    config["organization"]["defaultTrail"] = {
        "homeRegion": "eu-west-1",
        "logGroup": "aws-controltower/CloudTrailLogs",
    }
    run = run_with(config)
    assert run.error is None, run.error
    assert set(deployed(run)) == {("100000000001", "eu-west-1"), ("100000000002", "eu-west-1")}
    assert set(run.outputs["coverage"]) == {"100000000001/*", "100000000002/*"}


def test_inventory_accounts_without_trail_information_need_the_organization_trail() -> None:
    config = base_config(select={"accounts": ["100000000001"]})
    del config["organization"]["defaultRegions"]
    run = run_with(config)
    assert (
        "acme/landing-zone/prod output 'accounts', account 100000000001: account 100000000001 has no trail"
        " and no regions, so only an organization trail can cover it" in str(run.error)
    ), run.error
    assert run.resources == [r for r in run.resources if r.type == "pulumi:pulumi:StackReference"]
