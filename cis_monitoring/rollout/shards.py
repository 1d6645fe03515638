"""Check that shard stacks split an organization cleanly: no account claimed twice, optionally none missed.

    cis-monitoring shards --inventory inventory.json Pulumi.prod-0.yaml Pulumi.prod-1.yaml [--complete]

``inventory.json`` is the organization stack's inventory output
(``pulumi stack output accounts --json --stack <org>/landing-zone/prod``). Each stack
claims its inline ``accounts`` plus the inventory accounts its ``organization``
selector (and shard) picks, exactly as the program computes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cis_monitoring.spec import ConfigError, validate_organization
from cis_monitoring.spec.inventory import InventoryError, inventory_accounts
from cis_monitoring.spec.load import StackFileError, read_project_keys


class ShardError(Exception):
    """A stack's selection cannot be computed; ``lines`` say why, one problem each, naming the file."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


def claimed_accounts(config: Mapping[str, Any], inventory: Any, source: str) -> set[str]:
    """Account ids a stack's config claims: inline accounts plus its inventory selection."""
    claimed = {str(a.get("id")) for a in config.get("accounts") or [] if isinstance(a, Mapping)}
    if "organization" in config:
        try:
            organization = validate_organization(config["organization"], source)
            claimed |= {str(a["id"]) for a in inventory_accounts(inventory, organization)}
        except (ConfigError, InventoryError) as error:
            raise ShardError([f"{source}: {problem}" for problem in error.problems]) from None
    return claimed


def overlaps(claims: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """Account id -> the stacks that claim it, for every account claimed more than once."""
    owners: dict[str, list[str]] = {}
    for stack, ids in claims.items():
        for account_id in ids:
            owners.setdefault(account_id, []).append(stack)
    return {a: sorted(s) for a, s in sorted(owners.items()) if len(s) > 1}


def unclaimed(claims: Mapping[str, set[str]], inventory: Any) -> list[str]:
    listed = {str(a.get("id")) for a in (inventory or {}).get("accounts", []) if isinstance(a, Mapping)}
    return sorted(listed - set().union(*claims.values()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cis-monitoring shards",
        description=__doc__.split("\n\n")[0],
        epilog="Exit codes: 0 shards are disjoint (and complete with --complete); 1 an account is claimed"
        " twice (or by none); 2 bad usage or an unreadable/invalid file.",
    )
    parser.add_argument("stacks", nargs="+", help="Pulumi.<stack>.yaml files of the shard stacks")
    parser.add_argument("--inventory", type=Path, help="the organization stack's inventory output, as JSON")
    parser.add_argument(
        "--complete", action="store_true", help="also fail if an inventory account is claimed by none"
    )
    args = parser.parse_args(argv)
    try:
        inventory = json.loads(args.inventory.read_text()) if args.inventory else None
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: {args.inventory}: {error}", file=sys.stderr)
        return 2
    claims: dict[str, set[str]] = {}
    errors: list[str] = []  # every stack is read, so one run names every bad stack
    for name in args.stacks:
        try:
            _, keys = read_project_keys(name)
            claims[name] = claimed_accounts(keys, inventory, name)
        except (StackFileError, ShardError) as error:
            errors.extend(error.lines)
    if errors:
        print("\n".join(f"error: {line}" for line in errors), file=sys.stderr)
        return 2
    problems = [f"account {a} is claimed by {', '.join(s)}" for a, s in overlaps(claims).items()]
    if args.complete:
        if inventory is None:
            print("error: --complete needs --inventory", file=sys.stderr)
            return 2
        problems += [
            f"account {a} is in the inventory but claimed by no stack" for a in unclaimed(claims, inventory)
        ]
    for stack, ids in claims.items():
        print(f"{stack}: {len(ids)} account(s)")
    for problem in problems:
        print(f"FAIL {problem}")
    print(
        "shards are disjoint" + (" and complete" if args.complete else "")
        if not problems
        else f"{len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
