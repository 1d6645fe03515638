"""The rollup project: its pure view functions, and rollup/__main__.py under Pulumi mocks.

The dev and prod stack outputs the rollup reads are produced by running the real
cis-monitoring program under mocks, so the rollup is tested against what stacks export.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi
import pytest
import yaml

from cis_monitoring.program.outputs import RESULTS_SCHEMA_VERSION
from cis_monitoring.spec.inventory import INVENTORY_SCHEMA_VERSION
from local.program_harness import ProgramRun, run_program, stack_config
from tests.conftest import PAGER_URL
from tests.rollup.rollup_harness import (
    PROJECT,
    ROLLUP_DIR,
    STACK_REF,
    StackReferenceMocks,
    run_rollup,
    view,
)

DEV, PROD, INVENTORY = "acme/cis-monitoring/dev", "acme/cis-monitoring/prod", "acme/landing-zone/org"


# ---- fixtures: real stack outputs ----


def program_outputs(config: dict[str, Any], stack: str, **kwargs: Any) -> dict[str, Any]:
    run = run_program(config, stack=stack, **kwargs)
    assert run.error is None, run.error
    return run.outputs


@pytest.fixture(scope="module")
def stack_outputs() -> dict[str, dict[str, Any]]:
    dev = stack_config("dev")[0]
    prod = stack_config("prod")[0]
    prod["pagerEndpoint"] = PAGER_URL
    return {
        DEV: program_outputs(dev, "dev"),
        PROD: program_outputs(prod, "prod", secret_keys=["pagerEndpoint"]),
    }


INVENTORY_ACCOUNTS = [
    {"id": "111111111111", "name": "sandbox", "ou": "Root/Dev"},
    {"id": "222222222222", "name": "shared-dev", "ou": "Root/Dev"},
    {"id": "333333333333", "name": "prod-payments", "ou": "Root/Prod", "tags": {"Environment": "prod"}},
    {"id": "444444444444", "name": "prod-data", "ou": "Root/Prod/Data"},
    {"id": "555555555555", "name": "security-tooling", "ou": "Root/Security"},
    {"id": "666666666666", "name": "new-workload", "awsName": "New Workload", "ou": "Root/Prod"},
    {"id": "777777777777", "name": "marketing", "ou": "Root/Sandbox"},
    {"id": "999999999999", "name": "management", "ou": "Root"},
]
ORG_CHAIN = "999999999999/us-east-1/aws-controltower/CloudTrailLogs"


@pytest.fixture
def stacks(stack_outputs: dict[str, dict[str, Any]]) -> Iterator[dict[str, dict[str, Any]]]:
    inventory = {"schemaVersion": INVENTORY_SCHEMA_VERSION, "accounts": copy.deepcopy(INVENTORY_ACCOUNTS)}
    yield {**copy.deepcopy(stack_outputs), INVENTORY: {"accounts": inventory}}


ORG_CONFIG = {"stacks": [DEV, PROD], "inventory": {"stack": INVENTORY, "output": "accounts"}}


def run_ok(config: Mapping[str, Any], stacks: Mapping[str, Any]) -> tuple[ProgramRun, StackReferenceMocks]:
    mocks = StackReferenceMocks(stacks)
    run = run_rollup(config, mocks)
    assert run.error is None, run.error
    return run, mocks


# ---- the program ----


def test_coverage_per_account_and_region_by_which_stack(stacks: dict) -> None:
    run, mocks = run_ok(ORG_CONFIG, stacks)
    coverage = run.outputs["coverage"]
    assert {k: (v["coverage"], v.get("stack")) for k, v in coverage.items()} == {
        "111111111111/*": ("direct", DEV),
        "222222222222/*": ("direct", DEV),
        "999999999999/*": ("direct", PROD),  # the organization trail's owner
        "333333333333/*": ("organization", PROD),
        "444444444444/*": ("organization", PROD),
        "555555555555/*": ("direct", PROD),  # its own trail; a member of the organization trail too
        "666666666666/*": ("none", None),
        "777777777777/*": ("none", None),
    }
    member = coverage["444444444444/*"]
    assert member["chain"] == ORG_CHAIN and member["chain"] in stacks[PROD]["chains"]
    assert (member["trail"], member["trailAccountId"], member["trailHomeRegion"]) == (
        "aws-controltower-BaselineCloudTrail",
        "999999999999",
        "us-east-1",
    )
    assert (member["accountName"], member["ou"], member["regions"]) == (
        "prod-data",
        "Root/Prod/Data",
        "all Regions",
    )
    assert member["description"] == (
        "covered by organization trail 'aws-controltower-BaselineCloudTrail' of account 999999999999"
        f" (all Regions): home us-east-1, chain {ORG_CHAIN} in stack {PROD}"
    )
    assert coverage["111111111111/*"]["description"].startswith(
        "covered directly (all Regions): trail 'management-events' of account 111111111111 (home us-east-1)"
    )
    assert coverage["666666666666/*"]["description"].startswith("not covered: no stack states a trail")
    assert run.outputs["schemaVersion"] == 2
    assert sorted(mocks.referenced) == sorted([DEV, PROD, INVENTORY])
    assert [r.type for r in run.resources] == [STACK_REF] * 3  # the rollup creates nothing else


def test_totals_per_ou_and_by_stack(stacks: dict) -> None:
    run, _ = run_ok(ORG_CONFIG, stacks)
    assert run.outputs["totals"] == {"direct": 4, "organization": 2, "none": 2}
    assert run.outputs["totalsByOu"] == {
        "Root": {"direct": 1, "organization": 0, "none": 0},
        "Root/Dev": {"direct": 2, "organization": 0, "none": 0},
        "Root/Prod": {"direct": 0, "organization": 1, "none": 1},
        "Root/Prod/Data": {"direct": 0, "organization": 1, "none": 0},
        "Root/Sandbox": {"direct": 0, "organization": 0, "none": 1},
        "Root/Security": {"direct": 1, "organization": 0, "none": 0},
    }
    assert run.outputs["byStack"][DEV] == {
        "chains": 2,
        "coverage": {"direct": 2, "organization": 0, "none": 0},
        "controls": ["4.5"],
        "catalogVersion": stacks[DEV]["summary"]["catalogVersion"],
    }
    assert run.outputs["byStack"][PROD]["chains"] == 2
    assert run.outputs["byStack"][PROD]["coverage"] == {"direct": 2, "organization": 2, "none": 0}
    # Pulumi.prod.yaml selects every control (controls: all): listed in the benchmark's order.
    assert run.outputs["byStack"][PROD]["controls"] == [f"4.{n}" for n in range(1, 16)]


def test_uncovered_accounts_are_the_inventory_gaps_with_their_ou(stacks: dict) -> None:
    run, _ = run_ok(ORG_CONFIG, stacks)
    assert run.outputs["uncoveredAccounts"] == [
        {"id": "666666666666", "name": "new-workload", "awsName": "New Workload", "ou": "Root/Prod"},
        {"id": "777777777777", "name": "marketing", "awsName": None, "ou": "Root/Sandbox"},
    ]
    assert run.outputs["outsideInventory"] == []
    assert run.outputs["duplicates"] == []
    assert run.outputs["organizationWide"] == []


def test_an_organization_trail_for_all_members_covers_the_inventorys_other_accounts(stacks: dict) -> None:
    wide = {**stacks[PROD]["coverage"]["333333333333/*"], "accountId": "*", "region": "*"}
    del wide["accountName"]
    stacks[PROD]["coverage"]["*/*"] = wide
    run, _ = run_ok(ORG_CONFIG, stacks)
    coverage = run.outputs["coverage"]
    for account in ("666666666666", "777777777777"):
        assert (coverage[f"{account}/*"]["coverage"], coverage[f"{account}/*"]["stack"]) == (
            "organization",
            PROD,
        )
        assert coverage[f"{account}/*"]["chain"] == ORG_CHAIN
    assert run.outputs["uncoveredAccounts"] == []
    assert run.outputs["organizationWide"] == [
        {
            "stack": PROD,
            "chain": ORG_CHAIN,
            "trail": "aws-controltower-BaselineCloudTrail",
            "trailAccountId": "999999999999",
            "trailHomeRegion": "us-east-1",
        }
    ]
    assert run.outputs["totals"] == {"direct": 4, "organization": 4, "none": 0}


def test_inventory_under_another_output_name(stacks: dict) -> None:
    stacks[INVENTORY] = {"members": {"schemaVersion": 1, "accounts": INVENTORY_ACCOUNTS[:5]}}
    config = {**ORG_CONFIG, "inventory": {"stack": INVENTORY, "output": "members"}}
    run, _ = run_ok(config, stacks)
    assert run.outputs["uncoveredAccounts"] == []
    assert run.outputs["outsideInventory"] == [
        {"id": "999999999999", "accountName": "management", "stacks": [PROD]}
    ]


def test_without_inventory_gaps_are_unknown_not_empty(stacks: dict) -> None:
    run, mocks = run_ok({"stacks": [DEV, PROD]}, stacks)
    assert run.outputs["uncoveredAccounts"] is None and run.outputs.get("totalsByOu") is None
    assert INVENTORY not in mocks.referenced
    assert run.outputs["totals"] == {"direct": 4, "organization": 2, "none": 0}


def test_a_chain_site_in_two_stacks_is_reported_as_a_duplicate(stacks: dict) -> None:
    key = next(k for k in stacks[DEV]["chains"] if k.startswith("111111111111/"))
    stacks[PROD]["chains"][key] = copy.deepcopy(stacks[DEV]["chains"][key])
    stacks[PROD]["coverage"]["111111111111/*"] = copy.deepcopy(stacks[DEV]["coverage"]["111111111111/*"])
    run, _ = run_ok(ORG_CONFIG, stacks)
    assert run.outputs["duplicates"] == [{"target": "111111111111/us-east-1", "stacks": [DEV, PROD]}]
    entry = run.outputs["coverage"]["111111111111/*"]
    assert entry["stack"] == DEV and entry["alsoBy"] == [{"stack": PROD, "coverage": "direct"}]


def test_direct_coverage_wins_over_another_stacks_organization_coverage(stacks: dict) -> None:
    stacks[PROD]["coverage"]["111111111111/*"] = {
        **stacks[PROD]["coverage"]["333333333333/*"],
        "accountId": "111111111111",
        "accountName": "sandbox",
    }
    run, _ = run_ok({"stacks": [PROD, DEV], "inventory": ORG_CONFIG["inventory"]}, stacks)
    entry = run.outputs["coverage"]["111111111111/*"]
    assert (entry["coverage"], entry["stack"]) == ("direct", DEV)
    assert entry["alsoBy"] == [{"stack": PROD, "coverage": "organization"}]
    assert run.outputs["duplicates"] == []  # two different chains: no sharding error


def test_duplicates_fail_the_update_when_asked(stacks: dict) -> None:
    key = next(k for k in stacks[DEV]["chains"] if k.startswith("111111111111/"))
    stacks[PROD]["chains"][key] = stacks[DEV]["chains"][key]
    run = run_rollup({**ORG_CONFIG, "failOnDuplicates": True}, StackReferenceMocks(stacks))
    assert isinstance(run.error, pulumi.RunError)
    assert "111111111111/us-east-1" in str(run.error) and PROD in str(run.error)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (1, "exports resultsSchemaVersion 1 (one entry per account and Region"),
        (4, "exports resultsSchemaVersion 4; this rollup understands 2, 3. Update the rollup"),
        ("2", "exports resultsSchemaVersion '2'"),
        (None, "has no 'resultsSchemaVersion' output"),
    ],
)
def test_unsupported_or_missing_results_schema_version_is_refused(
    stacks: dict, version: Any, message: str
) -> None:
    if version is None:
        del stacks[PROD]["resultsSchemaVersion"]
    else:
        stacks[PROD]["resultsSchemaVersion"] = version
    run = run_rollup(ORG_CONFIG, StackReferenceMocks(stacks))
    assert isinstance(run.error, pulumi.RunError), run.error
    assert f"stack {PROD} {message}" in str(run.error)
    assert DEV not in str(run.error)


def test_every_stack_without_results_is_named_in_one_error(stacks: dict) -> None:
    third = "acme/cis-monitoring/staging"
    del stacks[DEV]["resultsSchemaVersion"]
    stacks[PROD]["resultsSchemaVersion"] = 1
    stacks[third] = {}  # referenced, but never deployed: no outputs at all
    run = run_rollup({"stacks": [DEV, PROD, third]}, StackReferenceMocks(stacks))
    assert isinstance(run.error, pulumi.RunError), run.error
    message = str(run.error)
    assert "3 referenced stacks cannot be read" in message
    assert f"  - stack {DEV} has no 'resultsSchemaVersion' output" in message
    assert (
        f"  - stack {PROD} exports resultsSchemaVersion 1" in message
        and "Run `pulumi up` on that stack" in message
    )
    assert f"  - stack {third} has no 'resultsSchemaVersion' output" in message


def test_bad_config_is_refused_before_any_reference(stacks: dict) -> None:
    mocks = StackReferenceMocks(stacks)
    run = run_rollup({"stacks": ["dev", PROD, PROD]}, mocks)
    assert isinstance(run.error, pulumi.RunError)
    assert "'dev' is not a fully qualified stack name" in str(run.error)
    assert "listed twice" in str(run.error)
    assert mocks.referenced == []


def test_example_stack_file_uses_the_rollup_namespace_and_is_valid(stacks: dict) -> None:
    project = yaml.safe_load((ROLLUP_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["runtime"]["name"] == "python"
    document = yaml.safe_load((ROLLUP_DIR / "Pulumi.org.yaml").read_text())
    prefix = f"{PROJECT}:"
    assert all(key.startswith(prefix) for key in document["config"])
    config = {k.removeprefix(prefix): v for k, v in document["config"].items()}
    settings = view.parse_settings(config["stacks"], config.get("inventory"), config.get("failOnDuplicates"))
    assert settings.inventory is not None and settings.inventory.output == "accounts"


# ---- the pure functions ----


def chain(account: str, region: str, group: str = "trail/logs") -> tuple[str, dict[str, Any]]:
    key = f"{account}/{region}/{group}"
    return key, {
        "accountId": account,
        "region": region,
        "logGroup": group,
        "controls": {"4.5": {"filterPattern": "{ p }", "alarmName": f"cis-{account}-{region}"}},
    }


def claim(account: str, chain_key: str, kind: str = "direct", region: str = "*") -> dict[str, Any]:
    owner, home = chain_key.split("/")[:2]
    return {
        "accountId": account,
        "accountName": f"name-{account[:1]}",
        "region": region,
        "coverage": kind,
        "chain": chain_key,
        "trail": "t",
        "trailAccountId": owner,
        "trailHomeRegion": home,
    }


def results(stack: str, chains: list[tuple[str, dict]], claims: list[dict], version: Any = 2) -> Any:
    coverage = {f"{c['accountId']}/{c['region']}": c for c in claims}
    return view.StackResults(stack, version, dict(chains), coverage, {"catalogVersion": "x"})


def test_rollup_understands_the_programs_current_results_schema() -> None:
    assert RESULTS_SCHEMA_VERSION in view.SUPPORTED_RESULTS_SCHEMA_VERSIONS


def test_build_view_coverage_gaps_and_duplicates() -> None:
    one_key, one = chain("111111111111", "us-east-1")
    per_region_key, per_region = chain("111111111111", "eu-west-1")
    gone_key, gone = chain("999999999999", "us-east-1")
    a = results(
        "o/p/a",
        [(one_key, one), (per_region_key, per_region)],
        [claim("111111111111", one_key), claim("111111111111", per_region_key, region="eu-west-1")],
    )
    b = results("o/p/b", [(per_region_key, per_region), (gone_key, gone)], [claim("999999999999", gone_key)])
    inventory = [
        view.InventoryAccount("111111111111", "one", "Root"),
        view.InventoryAccount("222222222222", "two", None),
    ]
    v = view.build_view([a, b], inventory)
    assert sorted(v["coverage"]) == [
        "111111111111/*",
        "111111111111/eu-west-1",
        "222222222222/*",
        "999999999999/*",
    ]
    assert v["coverage"]["111111111111/eu-west-1"]["regions"] == "eu-west-1"
    assert v["coverage"]["222222222222/*"]["coverage"] == "none"
    assert v["duplicates"] == [{"target": "111111111111/eu-west-1", "stacks": ["o/p/a", "o/p/b"]}]
    assert v["uncoveredAccounts"] == [{"id": "222222222222", "name": "two", "awsName": None, "ou": None}]
    assert v["outsideInventory"] == [{"id": "999999999999", "accountName": "name-9", "stacks": ["o/p/b"]}]
    assert v["totalsByOu"] == {
        "(no OU)": {"direct": 0, "organization": 0, "none": 1},
        "Root": {"direct": 2, "organization": 0, "none": 0},
    }
    assert v["byStack"]["o/p/a"] == {
        "chains": 2,
        "coverage": {"direct": 2, "organization": 0, "none": 0},
        "controls": ["4.5"],
        "catalogVersion": "x",
    }
    assert "111111111111/eu-west-1: o/p/a, o/p/b" in (view.duplicates_message(v) or "")


def test_an_empty_stack_is_counted_not_refused() -> None:
    v = view.build_view([results("o/p/empty", [], [])])
    assert v["byStack"]["o/p/empty"]["chains"] == 0 and v["coverage"] == {}


@pytest.mark.parametrize(
    ("version", "chains", "coverage", "message"),
    [
        (None, {}, {}, "has no 'resultsSchemaVersion'"),
        (1, {}, {}, "exports resultsSchemaVersion 1"),
        (True, {}, {}, "resultsSchemaVersion True"),
        (2, None, {}, "has no 'chains'"),
        (2, {}, None, "has no 'coverage'"),
        (2, {"k": {"controls": None}}, {}, "chains['k']"),
        (2, {}, {"a/*": {"coverage": "maybe", "chain": "k"}}, "coverage['a/*'] is not a coverage entry"),
        (
            2,
            {},
            {"a/*": {"coverage": "direct", "chain": "k"}},
            "names chain 'k', which the stack does not export",
        ),
    ],
)
def test_check_stack_refuses_what_it_cannot_read(
    version: Any, chains: Any, coverage: Any, message: str
) -> None:
    with pytest.raises(view.RollupError, match=r"stack o/p/x") as caught:
        view.check_stack(view.StackResults("o/p/x", version, chains, coverage, None))
    assert message in str(caught.value)


def test_build_view_names_every_unreadable_stack() -> None:
    good = results("o/p/good", [], [])
    with pytest.raises(view.RollupError) as caught:
        view.build_view(
            [
                view.StackResults("o/p/a", None, None, None, None),
                good,
                view.StackResults("o/p/b", 2, None, None, None),
            ]
        )
    lines = str(caught.value).splitlines()
    assert lines[0] == "2 referenced stacks cannot be read:"
    assert [line.split()[2] for line in lines[1:]] == ["o/p/a", "o/p/b"]


def versioned(*accounts: Any) -> dict[str, Any]:
    return {"schemaVersion": INVENTORY_SCHEMA_VERSION, "accounts": list(accounts)}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "the inventory output is missing, not an account inventory: write it as"),
        ([{"id": "111111111111", "name": "a"}], "the inventory output is a list, not an account inventory"),
        ({"accounts": []}, "inventory schemaVersion None; this rollup reads version 1"),
        ({"schemaVersion": 2, "accounts": []}, "inventory schemaVersion 2"),
        ({"schemaVersion": True, "accounts": []}, "inventory schemaVersion True"),
        (
            versioned(
                {"id": 111111111111}, {"id": "222222222222"}, {"id": "333333333333", "name": "c", "ou": 3}
            ),
            "the inventory is not valid:\n  - accounts[0] has no 12-digit string 'id'\n"
            "  - accounts[1] (account 222222222222) has no 'name'\n"
            "  - accounts[2] (account 333333333333): 'ou' and 'awsName' are strings when given",
        ),
    ],
)
def test_parse_inventory_refuses_anything_but_the_one_schema(raw: Any, message: str) -> None:
    with pytest.raises(view.RollupError, match="stack o/l/org") as caught:
        view.parse_inventory(raw, "stack o/l/org")
    assert message in str(caught.value)


def test_parse_inventory_reads_the_schema_the_program_and_discover_share() -> None:
    # The rollup imports nothing from the repository, so its copy of the version is checked here.
    assert view.INVENTORY_SCHEMA_VERSION == INVENTORY_SCHEMA_VERSION
    listed = [
        {
            "id": "111111111111",
            "name": "log-archive",
            "awsName": "Log Archive",
            "ou": "Root/X",
            "tags": {"k": "v"},
        },
        {"id": "222222222222", "name": "b", "trail": {"homeRegion": "us-east-1", "logGroup": "g"}},
    ]
    assert view.parse_inventory({"schemaVersion": 1.0, "accounts": listed}, "s") == [
        view.InventoryAccount("111111111111", "log-archive", "Root/X", "Log Archive"),
        view.InventoryAccount("222222222222", "b", None),
    ]


@pytest.mark.parametrize(
    ("stacks", "inventory", "message"),
    [
        ([], None, "at least one stack"),
        ("o/p/s", None, "at least one stack"),
        (["o/p"], None, "not a fully qualified"),
        (["o/p/s"], {"stack": "o/p"}, "inventory.stack"),
        (["o/p/s"], {"stack": "o/p/i", "outputs": "x"}, "must be {stack"),
        (["o/p/s"], {"stack": "o/p/i", "output": ""}, "inventory.output"),
    ],
)
def test_parse_settings_refuses_bad_config(stacks: Any, inventory: Any, message: str) -> None:
    with pytest.raises(view.RollupError) as caught:
        view.parse_settings(stacks, inventory)
    assert message in str(caught.value)


def test_parse_settings_defaults_the_inventory_output() -> None:
    settings = view.parse_settings(["o/p/s"], {"stack": "o/l/org"})
    assert settings.inventory == view.InventoryRef("o/l/org", "accounts")
    assert settings.fail_on_duplicates is False
