"""The shard check: two shard configs never claim the same account; --complete finds gaps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cis_monitoring.rollout.shards import main

INVENTORY = {
    "schemaVersion": 1,
    "accounts": [
        {
            "id": f"{100000000000 + n}",
            "name": f"acct-{n}",
            "ou": "Root/Workloads/Prod" if n % 3 else "Root/Security",
        }
        for n in range(30)
    ],
}


def stack_file(tmp_path: Path, name: str, organization: dict[str, Any], accounts: list | None = None) -> str:
    config: dict[str, Any] = {
        "cis-monitoring:organization": {
            "stack": "acme/landing-zone/prod",
            "defaultRegions": [{"region": "us-east-1", "logGroup": "org-trail"}],
            **organization,
        }
    }
    if accounts:
        config["cis-monitoring:accounts"] = accounts
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return str(path)


@pytest.fixture
def inventory(tmp_path: Path) -> str:
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(INVENTORY))
    return str(path)


def test_index_shards_are_disjoint_and_complete(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    stacks = [stack_file(tmp_path, f"prod-{i}", {"shard": {"index": i, "count": 3}}) for i in range(3)]
    assert main(["--inventory", inventory, "--complete", *stacks]) == 0
    assert "shards are disjoint and complete" in capsys.readouterr().out


def test_overlapping_selectors_are_reported(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    workloads = stack_file(tmp_path, "prod-workloads", {"select": {"ous": ["Root/Workloads"]}})
    everything = stack_file(tmp_path, "prod-all", {"select": {"excludeAccounts": ["100000000000"]}})
    assert main(["--inventory", inventory, workloads, everything]) == 1
    out = capsys.readouterr().out
    assert f"FAIL account 100000000001 is claimed by {everything}, {workloads}" in out
    assert "FAIL account 100000000000" not in out


def test_inline_account_duplicating_another_shard_is_reported(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    first = stack_file(tmp_path, "prod-0", {"shard": {"index": 0, "count": 2}})
    second = stack_file(
        tmp_path,
        "prod-1",
        {"shard": {"index": 1, "count": 2}},
        [{"id": "100000000000", "name": "x", "regions": []}],
    )
    assert main(["--inventory", inventory, first, second]) == 1
    assert "account 100000000000 is claimed by" in capsys.readouterr().out


def test_gaps_are_reported_with_complete(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    security = stack_file(tmp_path, "prod-security", {"select": {"ous": ["Root/Security"]}})
    assert main(["--inventory", inventory, security]) == 0
    assert main(["--inventory", inventory, "--complete", security]) == 1
    assert "account 100000000001 is in the inventory but claimed by no stack" in capsys.readouterr().out


def test_bad_selector_is_a_usage_error(tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture) -> None:
    empty = stack_file(tmp_path, "prod-x", {"select": {"ous": ["Root/Nowhere"]}})
    assert main(["--inventory", inventory, empty]) == 2
    assert "selects no account" in capsys.readouterr().err


def test_shard_index_out_of_range_is_one_line_with_the_key_path(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    bad = stack_file(tmp_path, "prod-2", {"shard": {"index": 2, "count": 2}})
    assert main(["--inventory", inventory, bad]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"error: {bad}: organization.shard.index: shard index 2 must be below the shard count 2 (0 to 1)"
    ]
    assert "validation error" not in captured.err and "pydantic" not in captured.err
    assert captured.out == ""


def test_every_bad_stack_is_named_at_once(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    typo = stack_file(tmp_path, "prod-0", {"shrad": {"index": 0, "count": 2}})
    scalar = stack_file(tmp_path, "prod-1", {"select": {"ous": "Root/Workloads"}})
    good = stack_file(tmp_path, "prod-3", {"shard": {"index": 1, "count": 2}})
    missing = str(tmp_path / "Pulumi.prod-9.yaml")
    assert main(["--inventory", inventory, typo, scalar, good, missing]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {typo}: organization.shrad: unknown key (typos are not ignored); did you mean 'shard'?",
        f"error: {scalar}: organization.select.ous: must be a list, not the string 'Root/Workloads';"
        """ write e.g. ous: ["Root/Workloads/Prod"], or one '- entry' per line below 'ous:'""",
        f"error: {missing}: no such stack file (stacks there: prod-0, prod-1, prod-3)",
    ]
