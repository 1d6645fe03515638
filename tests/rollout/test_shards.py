"""The shard check: two shard configs never claim the same account; --complete finds gaps.

``main`` returns the command's Status (FAIL: an account claimed twice, or by none with
--complete) and raises core.errors for bad input; ``shards`` runs it as the CLI does, exit code and all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cis_monitoring.cli import run
from cis_monitoring.core.errors import InputError, UsageError
from cis_monitoring.core.status import Status
from cis_monitoring.rollout.shards import main


def shards(*argv: str) -> int:
    """``cis-monitoring shards ARGV``: its exit code."""
    return run("shards", list(argv))


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
    assert main(["--inventory", inventory, "--complete", *stacks]) == Status.PASS
    assert "shards are disjoint and complete" in capsys.readouterr().out


def test_overlapping_selectors_are_reported(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    workloads = stack_file(tmp_path, "prod-workloads", {"select": {"ous": ["Root/Workloads"]}})
    everything = stack_file(tmp_path, "prod-all", {"select": {"excludeAccounts": ["100000000000"]}})
    assert main(["--inventory", inventory, workloads, everything]) == Status.FAIL
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
    assert shards("--inventory", inventory, first, second) == 1
    assert "account 100000000000 is claimed by" in capsys.readouterr().out


def test_gaps_are_reported_with_complete(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    security = stack_file(tmp_path, "prod-security", {"select": {"ous": ["Root/Security"]}})
    assert shards("--inventory", inventory, security) == 0
    assert shards("--inventory", inventory, "--complete", security) == 1
    assert "account 100000000001 is in the inventory but claimed by no stack" in capsys.readouterr().out


def test_bad_selector_is_a_usage_error(tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture) -> None:
    empty = stack_file(tmp_path, "prod-x", {"select": {"ous": ["Root/Nowhere"]}})
    with pytest.raises(InputError, match="selects no account"):
        main(["--inventory", inventory, empty])
    assert shards("--inventory", inventory, empty) == 2
    assert "selects no account" in capsys.readouterr().err


def test_shard_index_out_of_range_is_one_line_with_the_key_path(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    bad = stack_file(tmp_path, "prod-2", {"shard": {"index": 2, "count": 2}})
    assert shards("--inventory", inventory, bad) == 2
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
    assert shards("--inventory", inventory, typo, scalar, good, missing) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: 3 problems in the shard stacks:",
        f"  - {typo}: organization.shrad: unknown key (typos are not ignored); did you mean 'shard'?",
        f"  - {scalar}: organization.select.ous: must be a list, not the string 'Root/Workloads';"
        """ write e.g. ous: ["Root/Workloads/Prod"], or one '- entry' per line below 'ous:'""",
        f"  - {missing}: no such stack file (stacks there: prod-0, prod-1, prod-3)",
    ]


# ---- stacks by name, and the command line ----


def test_stacks_by_name_in_the_repo_root_are_the_same_check(
    tmp_path: Path, inventory: str, capsys: pytest.CaptureFixture
) -> None:
    for i in range(2):
        stack_file(tmp_path, f"prod-{i}", {"shard": {"index": i, "count": 2}})
    names = ["--stack", "prod-0", "--stack", "acme/cis-monitoring/prod-1"]  # Pulumi's two spellings
    assert main(["--inventory", inventory, "--complete", "--repo-root", str(tmp_path), *names]) == Status.PASS
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "prod-0: 15 account(s)",
        "acme/cis-monitoring/prod-1: 15 account(s)",
        "shards are disjoint and complete",
    ]
    # The same stacks given once by name and once as a file are one stack, claimed twice by nobody.
    with pytest.raises(UsageError, match="given twice"):
        main(["--repo-root", str(tmp_path), "--stack", "prod-0", str(tmp_path / "Pulumi.prod-0.yaml")])


def test_every_problem_of_the_command_line_is_said_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["--stack", "prod 0", "--stack", "a/b/c/d", "--repo-root", str(tmp_path / "none"), "prod-1"]
    assert shards(*argv, "--complete") == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: 5 problems in the command line:",
        "  - --stack 'prod 0': not a stack name; give a stack as Pulumi names it (prod, or org/project/prod);"
        " its config is Pulumi.<stack>.yaml",
        "  - --stack 'a/b/c/d': not a stack name; give a stack as Pulumi names it (prod, or org/project/prod);"
        " its config is Pulumi.<stack>.yaml",
        f"  - --repo-root {tmp_path / 'none'}: not a directory",
        "  - prod-1: not a stack file (Pulumi.<stack>.yaml); to name a stack, give --stack prod-1",
        "  - --complete needs --inventory FILE (the accounts that must be claimed)",
    ]
    assert shards() == 2
    assert "give the shard stacks: --stack NAME" in capsys.readouterr().err


def test_a_missing_stack_names_the_flag_and_the_stacks_there(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    stack_file(tmp_path, "prod-0", {"shard": {"index": 0, "count": 2}})
    assert shards("--repo-root", str(tmp_path), "--stack", "prod-9") == 2
    assert capsys.readouterr().err == (
        f"error: --stack prod-9: no stack file {tmp_path / 'Pulumi.prod-9.yaml'} (stacks there: prod-0)\n"
    )


def test_a_yaml_error_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  cis-monitoring:accounts: [\n")
    assert shards("--repo-root", str(tmp_path), "--stack", "broken") == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"error: {tmp_path / 'Pulumi.broken.yaml'}: not valid YAML") and "Traceback" not in err
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2", "not valid JSON"),
        (json.dumps(INVENTORY["accounts"]), "not an account inventory"),
        (
            json.dumps({**INVENTORY, "schemaVersion": 2}),
            "schemaVersion 2; this release reads inventory schema version 1",
        ),
        (
            json.dumps({"schemaVersion": 3, "accounts": [], "inventory": INVENTORY}),
            "this is `discover --json` output, not an inventory; write the inventory with `discover --inventory FILE`",
        ),
        (
            json.dumps({"schemaVersion": 1, "accounts": [{"id": 1, "name": "x"}, {"id": "100000000001"}]}),
            "2 problems in --inventory",
        ),
    ],
    ids=["json", "bare-list", "version", "discover-document", "entries"],
)
def test_a_bad_inventory_file_exits_2_naming_the_flag(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "inventory.json"
    path.write_text(content)
    good = stack_file(tmp_path, "prod-0", {"shard": {"index": 0, "count": 1}})
    assert shards("--inventory", str(path), good) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and f"--inventory {path}" in err, err
