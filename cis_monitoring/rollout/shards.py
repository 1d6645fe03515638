"""Check that shard stacks split an organization cleanly: no account claimed twice, optionally none missed.

    cis-monitoring shards --inventory inventory.json --stack prod-0 --stack prod-1 [--complete]
    cis-monitoring shards --inventory inventory.json Pulumi.prod-*.yaml [--complete]

``inventory.json`` is an account inventory (schema version 1): the organization stack's output
(``pulumi stack output accounts --json --stack <org>/landing-zone/prod``), or what
``cis-monitoring discover --inventory FILE`` wrote. Each stack claims its inline ``accounts`` plus
the inventory accounts its ``organization`` selector (and shard) picks, exactly as the program
computes them. Stacks are named with ``--stack`` (their files in ``--repo-root``); stack files
may also be given as paths, which a shell glob over shards in another directory needs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cis_monitoring.cli import epilog
from cis_monitoring.core.errors import InputError
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.flags import one_error
from cis_monitoring.rollout.command import (
    STACK_FILE_RE,
    Stack,
    add_stack_arguments,
    read_inventory,
    stacks_from,
)
from cis_monitoring.spec import ConfigError, validate_organization
from cis_monitoring.spec.inventory import InventoryError, inventory_accounts

INVENTORY_FLAG = "--inventory"


class ShardError(InputError):
    """A stack's selection cannot be computed; ``lines`` say why, one problem each, naming the file."""


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROJECT} shards",
        description=__doc__.split("\n\n")[0],
        epilog=epilog(
            "an account is claimed by two stacks (or, with --complete, an inventory account by none)"
        ),
    )
    add_stack_arguments(parser, repeatable=True, help="a shard stack")
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="shard stack files (Pulumi.<stack>.yaml), as paths"
    )
    parser.add_argument(
        INVENTORY_FLAG,
        metavar="FILE",
        type=Path,
        help="the account inventory (schema version 1) as JSON: an organization stack's output, or"
        " what `discover --inventory FILE` wrote",
    )
    parser.add_argument(
        "--complete", action="store_true", help="also fail if an inventory account is claimed by none"
    )
    return parser


def _stacks(args: argparse.Namespace) -> list[Stack]:
    """The stacks to check, or a UsageError with every problem of the command line."""
    stacks, problems = stacks_from(args.stack, args.repo_root)
    for file in args.files:
        path = Path(file)
        if STACK_FILE_RE.match(path.name):
            stacks.append(Stack(file, path, named=False))
        else:
            problems.append(
                f"{file}: not a stack file (Pulumi.<stack>.yaml); to name a stack, give --stack {path.stem}"
            )
    if not args.stack and not args.files:
        problems.append(
            "give the shard stacks: --stack NAME (repeatable), or their Pulumi.<stack>.yaml files"
        )
    paths = [s.path.resolve() for s in stacks]
    problems += [f"{s.name}: given twice" for i, s in enumerate(stacks) if s.path.resolve() in paths[:i]]
    if args.complete and args.inventory is None:
        problems.append("--complete needs --inventory FILE (the accounts that must be claimed)")
    if problems:
        raise one_error(problems, "in the command line")
    return stacks


def main(argv: Sequence[str] | None = None) -> Status:
    args = _parser().parse_args(argv)
    stacks = _stacks(args)
    inventory = read_inventory(args.inventory, INVENTORY_FLAG) if args.inventory else None
    claims: dict[str, set[str]] = {}
    errors: list[str] = []  # every stack is read, so one run names every bad stack
    for stack in stacks:
        try:
            claims[stack.name] = claimed_accounts(stack.read_keys(), inventory, stack.name)
        except InputError as error:
            errors.extend(error.lines)
    if errors:
        raise one_error(errors, "in the shard stacks", InputError)
    problems = [f"account {a} is claimed by {', '.join(s)}" for a, s in overlaps(claims).items()]
    if args.complete:
        problems += [
            f"account {a} is in the inventory but claimed by no stack" for a in unclaimed(claims, inventory)
        ]
    for stack, ids in claims.items():
        print(f"{stack}: {len(ids)} account(s)")
    for problem in problems:
        print(f"{Status.FAIL} {problem}")
    print(
        "shards are disjoint" + (" and complete" if args.complete else "")
        if not problems
        else f"{len(problems)} problem(s)"
    )
    return Status.FAIL if problems else Status.PASS


if __name__ == "__main__":
    from cis_monitoring.cli import run

    sys.exit(run("shards"))
