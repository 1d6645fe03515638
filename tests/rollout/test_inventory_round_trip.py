"""One inventory, every reader: discover writes it, shards splits by it, the program and pack-config select from
it, the rollup reports by it.

In an emulator organization whose accounts each have a multi-Region trail of their own, and names
as people give them (``Log Archive``, ``Payments (Prod)``: not usable in resource names), discover
writes the inventory;
two shard stacks select from it by account id; the shard check finds them disjoint and complete;
the real program deploys each shard under mocks with the inventory as its organization stack's
output; pack-config states each shard's topology from it; and the rollup, reading both shards and
the same inventory, finds every account covered, once.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cis_monitoring.cli import run
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.rollout import discover, pack_config
from local.emulator import DEFAULT_ACCOUNT, Emulator
from local.program_harness import REPO_ROOT, AwsMocks, run_program
from local.worlds.builder import WorldBuilder
from local.worlds.model import World
from policy.cis_guard import pack_config as pack_schema
from policy.cis_guard.rules import CHAIN_POLICY
from tests.rollup.rollup_harness import StackReferenceMocks, run_rollup

pytestmark = pytest.mark.emulator

ORGANIZATION_STACK = "acme/landing-zone/org"
SHARDS = ("acme/cis-monitoring/org-0", "acme/cis-monitoring/org-1")
DEPLOYER = "cis-monitoring-deployer"
ACCOUNTS = {  # id -> (AWS's name, OU, the name discover derives)
    DEFAULT_ACCOUNT: ("Management", "Root", "management"),
    "111111111111": ("Log Archive", "Root/Security", "log-archive"),
    "222222222222": ("Payments (Prod)", "Root/Workloads/Prod", "payments-prod"),
    "333333333333": ("payments.prod", "Root/Workloads/Prod", "payments-prod-3333"),  # the same name, derived
}


def build(endpoint: str) -> World:
    world = WorldBuilder(endpoint, "round-trip")
    for account_id, (name, ou, _) in ACCOUNTS.items():
        if account_id != DEFAULT_ACCOUNT:
            world.account(account_id, name, ou)
        world.trail(account_id, "own-trail", "us-east-1", log_group=f"own-{account_id}/cloudtrail")
    return world.build({})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as env:
        missing = tmp_path_factory.mktemp("aws") / "none"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(missing),
            "AWS_SHARED_CREDENTIALS_FILE": str(missing),
        }.items():
            env.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            env.delenv(name, raising=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        with Emulator() as emulator:
            emulator.reset()  # moto keeps its accounts per process: another module's world may be there
            yield build(emulator.url)


def shard_keys(index: int) -> dict[str, Any]:
    return {
        "organization": {
            "stack": ORGANIZATION_STACK,
            "roleName": DEPLOYER,
            "shard": {"index": index, "count": len(SHARDS)},
        },
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }


def test_discover_shards_program_pack_config_and_rollup_read_one_inventory(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # discover: the organization as an inventory, names normalized once, AWS's kept beside them.
    path = tmp_path / "inventory.json"
    err = io.StringIO()
    assert discover.run(["--endpoint-url", world.endpoint, "--inventory", str(path)], io.StringIO(), err) == 0
    inventory = json.loads(path.read_text())
    names = {a["id"]: (a["name"], a["awsName"]) for a in inventory["accounts"]}
    assert names == {account_id: (derived, name) for account_id, (name, _, derived) in ACCOUNTS.items()}

    # shards: two stacks, split by account id, disjoint and complete.
    for index, stack in enumerate(SHARDS):
        short = stack.rsplit("/", 1)[1]
        config = {f"{PROJECT}:{k}": v for k, v in shard_keys(index).items()}
        (tmp_path / f"Pulumi.{short}.yaml").write_text(yaml.safe_dump({"config": config}))
    flags = [arg for stack in SHARDS for arg in ("--stack", stack)]
    argv = ["--repo-root", str(tmp_path), "--inventory", str(path), "--complete", *flags]
    assert run("shards", argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "shards are disjoint and complete"
    claimed = {account.id: SHARDS[int(account.id) % len(SHARDS)] for account in world.accounts}

    # the program: each shard deploys the chains of the accounts it selects, from the same document.
    outputs = {}
    for index, stack in enumerate(SHARDS):
        mocks = AwsMocks(stack_outputs={ORGANIZATION_STACK: {"accounts": inventory}})
        deployed = run_program(shard_keys(index), stack=stack.rsplit("/", 1)[1], mocks=mocks)
        assert deployed.error is None, deployed.error
        chains = deployed.outputs["chains"].values()
        assert sorted(c["accountId"] for c in chains) == sorted(a for a, s in claimed.items() if s == stack)
        outputs[stack] = deployed.outputs

    # pack-config: each shard's topology, from the same inventory, valid for the pack.
    base = REPO_ROOT / "policy" / "config" / "prod.json"
    for stack in SHARDS:
        argv = ["--repo-root", str(tmp_path), "--stack", stack, "--base", str(base), "--inventory", str(path)]
        assert pack_config.main(argv) == Status.PASS
        chain = json.loads(capsys.readouterr().out)[CHAIN_POLICY]
        pack_schema.load(chain)
        assert sorted(t["accountId"] for t in chain["accountTrails"]) == sorted(
            a for a, s in claimed.items() if s == stack
        )

    # the rollup: both shards and the inventory; every account covered directly, by its shard, once.
    stacks = {**outputs, ORGANIZATION_STACK: {"accounts": inventory}}
    config = {"stacks": list(SHARDS), "inventory": {"stack": ORGANIZATION_STACK}}
    rolled = run_rollup(config, StackReferenceMocks(stacks))
    assert rolled.error is None, rolled.error
    view = rolled.outputs
    assert view["uncoveredAccounts"] == [] and view["outsideInventory"] == [] and view["duplicates"] == []
    coverage = view["coverage"]
    assert {k: (e["coverage"], e["stack"]) for k, e in coverage.items()} == {
        f"{account}/*": ("direct", stack) for account, stack in claimed.items()
    }
    assert {e["accountId"]: e["accountName"] for e in coverage.values()} == {
        k: v[0] for k, v in names.items()
    }
    assert view["totalsByOu"] == {
        ou: {"direct": sum(1 for a in world.accounts if a.ou == ou), "organization": 0, "none": 0}
        for ou in sorted({a.ou for a in world.accounts})
    }
