"""``cis-monitoring pack-config``: the pack's topology config, derived from the stack spec.

The shipped configs (policy/config/<stack>.json) must be exactly what the command gives for their
stack, and what it gives must pass the pack's own config check and, for a stack of every trail
kind, the pack itself over gRPC: the stack's own chains cover every pair the config requires.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cis_monitoring.cli import run
from cis_monitoring.core.errors import InputError
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.rollout import pack_config
from cis_monitoring.rollout.pack_config import dump, main, topology, with_topology
from cis_monitoring.spec import load_config
from local.analyzer_client import PolicyPackServer, stack_resources
from local.mock_runner import decode_provider_inputs
from local.program_harness import REPO_ROOT, ProgramRun, run_program
from policy.cis_guard import pack_config as pack_schema
from policy.cis_guard.facts import ALARM
from policy.cis_guard.rules import CHAIN_POLICY

SHIPPED = sorted(p.stem for p in (REPO_ROOT / "policy" / "config").glob("*.json"))
NOTIFICATIONS = {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]}


def stack_keys(name: str) -> dict[str, Any]:
    document = yaml.safe_load((REPO_ROOT / f"Pulumi.{name}.yaml").read_text())
    return {k.split(":", 1)[1]: v for k, v in document["config"].items() if k.startswith(f"{PROJECT}:")}


def write_stack(root: Path, name: str, keys: dict[str, Any]) -> Path:
    path = root / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in keys.items()}}))
    return path


def generated(keys: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The pack config the command gives for these stack keys (over ``base``)."""
    found = topology(load_config(keys))
    return with_topology(base or {}, found.keys(pack_schema.LISTS), CHAIN_POLICY)


# ---- the shipped configs ----


def test_every_shipped_pack_config_has_its_stack() -> None:
    assert SHIPPED == ["dev", "prod"]
    assert all((REPO_ROOT / f"Pulumi.{name}.yaml").is_file() for name in SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_pack_config_is_what_its_stack_gives(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = (REPO_ROOT / "policy" / "config" / f"{name}.json").read_text()
    base = json.loads(shipped)
    assert dump(generated(stack_keys(name), base)) == shipped, f"run: make pack-config (stack {name})"
    assert main(["--stack", name, "--repo-root", str(REPO_ROOT), "--check"]) == Status.PASS
    assert capsys.readouterr().out.endswith(f"{name}.json: up to date with its stack\n")


def test_check_fails_with_the_difference_when_the_stack_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = stack_keys("prod")
    keys["accounts"] = [a for a in keys["accounts"] if a["id"] != "444444444444"]
    write_stack(tmp_path, "prod", keys)
    base = REPO_ROOT / "policy" / "config" / "prod.json"
    argv = ["--stack", "prod", "--repo-root", str(tmp_path), "--base", str(base), "--check"]
    assert main(argv) == Status.FAIL
    out = capsys.readouterr().out
    assert '-        "members": ["333333333333", "444444444444", "555555555555"]' in out
    assert '+        "members": ["333333333333", "555555555555"]' in out
    assert '-      {"accountId": "444444444444", "region": "*"},' in out
    assert out.splitlines()[-1] == (
        f"FAIL {base} is not what the stack gives; run {PROJECT} pack-config with --out {base}"
    )
    assert run("pack-config", argv) == 1


@pytest.mark.parametrize("name", ["prod", "dev", "local"])
def test_what_the_command_gives_passes_the_packs_own_config_check(name: str) -> None:
    keys = stack_keys(name)
    config = generated(keys)[CHAIN_POLICY]
    loaded = pack_schema.load(config)
    # load raised ConfigProblems (every problem) if the pack would refuse it; what it read:
    assert {account for account, _ in loaded.required} == {a["id"] for a in keys["accounts"]}
    own = {a["id"] for a in keys["accounts"] if "trail" in a}
    assert {t.owner for t in loaded.trails if not t.organization} == own
    owner = keys.get("organizationTrail", {}).get("accountId")
    assert [t.owner for t in loaded.trails if t.organization] == ([owner] if owner else [])


# ---- how each kind of trail maps ----

OWNER, PER_REGION, NARROWED, MEMBER = "999999999999", "111111111111", "222222222222", "333333333333"
EVERY_KIND: dict[str, Any] = {
    "notifications": NOTIFICATIONS,
    "accounts": [
        {"id": OWNER, "name": "management"},
        {
            "id": PER_REGION,
            "name": "per-region",
            "regions": [
                {"region": "us-east-1", "logGroup": "east/cloudtrail"},
                {"region": "eu-west-1", "logGroup": "west/cloudtrail"},
            ],
        },
        {
            "id": NARROWED,
            "name": "narrowed",
            "trail": {"homeRegion": "eu-west-1", "logGroup": "narrowed/cloudtrail"},
            "coveredRegions": ["eu-west-1", "us-east-1"],
        },
    ],
    "organizationTrail": {
        "accountId": OWNER,
        "homeRegion": "us-east-1",
        "logGroup": "org/cloudtrail",
        "name": "org-trail",
        "members": [MEMBER],  # an account this stack does not list: the trail still records it
    },
}


def required(account: str, region: str = "*") -> dict[str, str]:
    return {"accountId": account, "region": region}


def test_each_kind_of_trail_maps_to_the_packs_keys() -> None:
    assert generated(EVERY_KIND)[CHAIN_POLICY] == {
        "organizationTrails": [
            {
                "accountId": OWNER,
                "homeRegion": "us-east-1",
                "logGroup": "org/cloudtrail",
                "name": "org-trail",
                "members": [MEMBER],
            }
        ],
        # Per-Region trails are not declared: their chains are in the pairs they cover.
        "accountTrails": [
            {"accountId": NARROWED, "homeRegion": "eu-west-1", "logGroup": "narrowed/cloudtrail"}
        ],
        "requiredTargets": [
            required(OWNER),
            required(PER_REGION, "us-east-1"),
            required(PER_REGION, "eu-west-1"),
            required(NARROWED, "eu-west-1"),
            required(NARROWED, "us-east-1"),
            required(MEMBER),
        ],
    }


def test_members_all_and_members_accounts() -> None:
    every = copy.deepcopy(EVERY_KIND)
    every["organizationTrail"]["members"] = "all"
    config = generated(every)[CHAIN_POLICY]
    assert config["organizationTrails"][0]["members"] == "all"
    assert required(MEMBER) not in config["requiredTargets"], "an account the stack does not name"
    listed = copy.deepcopy(EVERY_KIND)
    listed["organizationTrail"]["members"] = "accounts"
    config = generated(listed)[CHAIN_POLICY]
    assert config["organizationTrails"][0]["members"] == [PER_REGION, NARROWED]
    # The organization trail records them in every Region: required there, besides the stack's own claims.
    assert [r for r in config["requiredTargets"] if r["accountId"] == PER_REGION] == [
        required(PER_REGION, "us-east-1"),
        required(PER_REGION, "eu-west-1"),
        required(PER_REGION),
    ]
    pack_schema.load(config)


def test_an_organization_trail_recording_only_its_owner_is_declared_as_the_owners_trail() -> None:
    alone = {
        "notifications": NOTIFICATIONS,
        "accounts": [{"id": OWNER, "name": "management"}],
        "organizationTrail": {
            "accountId": OWNER,
            "homeRegion": "us-east-1",
            "logGroupPrefix": "aws-controltower/CloudTrailLogs",
        },
    }
    config = generated(alone)[CHAIN_POLICY]
    assert config["organizationTrails"] == []
    assert config["accountTrails"] == [
        {"accountId": OWNER, "homeRegion": "us-east-1", "logGroupPrefix": "aws-controltower/CloudTrailLogs"}
    ]
    assert config["requiredTargets"] == [required(OWNER)]
    pack_schema.load(config)
    # Its own trail elsewhere already declares it (an account declares one trail).
    alone["accounts"][0]["trail"] = {"homeRegion": "eu-west-1", "logGroup": "own/cloudtrail"}
    config = generated(alone)[CHAIN_POLICY]
    assert config["accountTrails"] == [
        {"accountId": OWNER, "homeRegion": "eu-west-1", "logGroup": "own/cloudtrail"}
    ]
    pack_schema.load(config)


def test_the_base_keeps_its_keys_and_their_order() -> None:
    base = {
        "all": "mandatory",
        "cis-monitoring-chain": {"accountTrails": [{"stale": True}], "strictCanonicalText": True},
        "cis-filter-not-too-broad": "advisory",
    }
    document = generated(EVERY_KIND, base)
    assert list(document) == list(base)
    assert list(document[CHAIN_POLICY]) == [
        "accountTrails",
        "strictCanonicalText",
        "organizationTrails",
        "requiredTargets",
    ]
    assert document[CHAIN_POLICY]["strictCanonicalText"] is True
    assert generated(EVERY_KIND, {CHAIN_POLICY: "advisory"})[CHAIN_POLICY]["enforcementLevel"] == "advisory"


# ---- the pack judges the stack by what the command gave ----


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        yield server
    finally:
        server.close()


def drop_alarm(run: ProgramRun, account: str, region: str) -> ProgramRun:
    copied = copy.deepcopy(run)

    def at(resource: Any) -> tuple[str, str] | None:
        provider = copied.provider_for(resource)
        inputs = decode_provider_inputs(provider.inputs) if provider else {}
        return (inputs["allowedAccountIds"][0], inputs["region"]) if inputs else None

    copied.resources = [r for r in copied.resources if not (r.type == ALARM and at(r) == (account, region))]
    assert len(copied.resources) == len(run.resources) - 1
    return copied


def test_the_pack_finds_the_stack_covers_what_the_generated_config_requires(pack: PolicyPackServer) -> None:
    stack = run_program(EVERY_KIND, stack="every-kind")
    assert stack.error is None, stack.error
    pack.configure(generated(EVERY_KIND))
    assert pack.analyze_stack(stack_resources(stack)) == []
    # A per-Region trail's chain broken: exactly the pair it covered is left uncovered.
    [violation] = pack.analyze_stack(stack_resources(drop_alarm(stack, PER_REGION, "eu-west-1")))
    assert violation.policy == CHAIN_POLICY
    assert f"account {PER_REGION} region eu-west-1: " in violation.message
    assert f"account {PER_REGION} region us-east-1" not in violation.message


# ---- the command ----


def test_out_writes_the_file_and_says_what_it_states(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_stack(tmp_path, "every-kind", EVERY_KIND)
    out = tmp_path / "every-kind.json"
    base = REPO_ROOT / "policy" / "config" / "prod.json"
    argv = ["--repo-root", str(tmp_path), "--stack", "acme/cis-monitoring/every-kind", "--base", str(base)]
    assert run("pack-config", [*argv, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"wrote {out} from {tmp_path / 'Pulumi.every-kind.yaml'}: 1 organization trail(s) (1 member(s)),"
        " 1 account trail(s), 6 required target(s)\n"
    )
    written = json.loads(out.read_text())
    assert written == generated(EVERY_KIND, json.loads(base.read_text()))
    assert main(argv) == Status.PASS  # without --out: printed
    assert capsys.readouterr().out == out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def bad(tmp_path: Path, base: Any) -> list[str]:
    write_stack(tmp_path, "every-kind", EVERY_KIND)
    path = tmp_path / "base.json"
    path.write_text(base if isinstance(base, str) else json.dumps(base))
    out = tmp_path / "out.json"
    out.write_text("unchanged")
    argv = ["--repo-root", str(tmp_path), "--stack", "every-kind", "--base", str(path), "--out", str(out)]
    with pytest.raises(InputError) as raised:
        main(argv)
    assert out.read_text() == "unchanged", "nothing is written"
    return raised.value.lines


def test_a_base_the_pack_would_refuse_is_refused_with_every_problem(tmp_path: Path) -> None:
    lines = bad(
        tmp_path,
        {"all": "mandatory!", "cis-no-such-policy": "advisory", CHAIN_POLICY: {"strictCanonical": True}},
    )
    base = tmp_path / "base.json"
    stack = tmp_path / "Pulumi.every-kind.yaml"
    assert lines[0] == "3 problems in the pack config it would give; nothing was written:"
    assert lines[1] == (
        f"  - --base {base} with the topology of {stack}: all: enforcement level 'mandatory!' is not one of"
        " advisory, mandatory, remediate, disabled"
    )
    assert lines[2].startswith(
        f"  - --base {base} with the topology of {stack}: cis-no-such-policy: not a policy"
    )
    assert lines[3] == (
        f"  - --base {base} with the topology of {stack}: {CHAIN_POLICY}.strictCanonical: unknown key (the keys"
        " here are accountTrails, allowedExternalTopicArns, controls, organizationTrails, reportPath,"
        " requiredTargets, strictCanonicalText)"
    )


@pytest.mark.parametrize(
    ("base", "message"),
    [("{", "not valid JSON"), ("[]", "not a pack config (a JSON object of policy names)")],
)
def test_an_unreadable_base_names_the_flag(tmp_path: Path, base: str, message: str) -> None:
    [line] = bad(tmp_path, base)
    assert line.startswith(f"--base {tmp_path / 'base.json'}: {message}")


def test_the_default_base_is_the_stacks_shipped_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_stack(tmp_path, "every-kind", EVERY_KIND)
    assert run("pack-config", ["--repo-root", str(tmp_path), "--stack", "every-kind"]) == 2
    default = tmp_path / "policy" / "config" / "every-kind.json"
    assert capsys.readouterr().err.startswith(f"error: --base {default}: no such file; give --base FILE")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "error: give --stack NAME, the stack whose topology to state\n"),
        (["--stack", "no-such"], "error: --stack no-such: no stack file"),
        (["--stack", "x", "--out", "a.json", "--check"], "not allowed with argument"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("pack-config", ["--repo-root", str(REPO_ROOT), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_stack_config_problem_or_yaml_error_exits_2_with_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = copy.deepcopy(EVERY_KIND)
    keys["accounts"][1]["regions"][0]["region"] = "mars-1"
    keys["organizationTrail"]["homeRegion"] = "moon-2"
    write_stack(tmp_path, "wrong", keys)
    base = str(REPO_ROOT / "policy" / "config" / "prod.json")
    assert run("pack-config", ["--repo-root", str(tmp_path), "--stack", "wrong", "--base", base]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"error: 2 problem(s) in {tmp_path / 'Pulumi.wrong.yaml'}:"
    assert err[1].startswith("  - accounts[1].regions[0].region: 'mars-1' is not an AWS Region")
    assert err[2].startswith("  - organizationTrail.homeRegion: 'moon-2' is not an AWS Region")
    (tmp_path / "Pulumi.wrong.yaml").write_text("config: {cis-monitoring:accounts: [}\n")
    assert run("pack-config", ["--repo-root", str(tmp_path), "--stack", "wrong", "--base", base]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_a_stack_reading_an_inventory_needs_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = {
        "notifications": NOTIFICATIONS,
        "organization": {"stack": "acme/landing-zone/org", "select": {"ous": ["Root/Workloads"]}},
    }
    stack = write_stack(tmp_path, "sharded", keys)
    base = str(REPO_ROOT / "policy" / "config" / "prod.json")
    argv = ["--repo-root", str(tmp_path), "--stack", "sharded", "--base", base]
    assert run("pack-config", argv) == 2
    assert capsys.readouterr().err == (
        f"error: {stack}: organization: this stack selects its accounts from an organization inventory;"
        " give --inventory FILE (that inventory, as JSON) to read them\n"
    )
    inventory = tmp_path / "inventory.json"
    trail = {"homeRegion": "us-east-1", "logGroup": "own/cloudtrail"}
    inventory.write_text(
        json.dumps(
            {
                "schemaVersion": 1,
                "accounts": [
                    {"id": PER_REGION, "name": "a", "ou": "Root/Workloads", "tags": {}, "trail": trail},
                    {"id": NARROWED, "name": "b", "ou": "Root/Sandbox", "tags": {}, "trail": trail},
                ],
            }
        )
    )
    assert main([*argv, "--inventory", str(inventory)]) == Status.PASS
    config = json.loads(capsys.readouterr().out)[CHAIN_POLICY]
    assert [t["accountId"] for t in config["accountTrails"]] == [PER_REGION]
    assert config["requiredTargets"] == [required(PER_REGION)]


def test_the_pack_is_found_in_the_repo_root_when_it_is_not_importable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_importable(name: str) -> Any:
        error = ModuleNotFoundError(f"No module named {name!r}", name="policy")
        raise error

    monkeypatch.setattr(pack_config.importlib, "import_module", not_importable)
    with pytest.raises(InputError, match=f"--repo-root {tmp_path}: no policy pack there"):
        pack_config.load_pack(tmp_path)


def test_a_missing_dependency_of_the_pack_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def without_jsonschema(name: str) -> Any:
        raise ModuleNotFoundError("No module named 'jsonschema'", name="jsonschema")

    monkeypatch.setattr(pack_config.importlib, "import_module", without_jsonschema)
    with pytest.raises(InputError) as raised:
        pack_config.load_pack(REPO_ROOT)
    assert raised.value.lines == [
        "the policy pack's config check needs the Python package 'jsonschema', which is not installed:"
        " pip install -r policy/requirements.txt (make venv installs it)"
    ]
