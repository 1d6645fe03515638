"""The organization-wide view of CIS monitoring, from the outputs of every cis-monitoring stack.

Pure functions: ``__main__.py`` reads the stacks' outputs through stack references
and hands plain values to ``build_view``. Errors are ``RollupError`` (a ValueError);
the program turns them into ``pulumi.RunError``.

The view (``schemaVersion`` 1)::

    covered:           {"<account>/<region>": {stack, accountName, controls: {id: {pattern, alarmName}}}}
    byStack:           {stack: {targets, accounts, regions, controls, catalogVersion}}
    uncoveredAccounts: [{id, name, ou}]   inventory accounts no stack covers (null without inventory)
    outsideInventory:  [{id, accountName, stacks}]   covered accounts the inventory does not list
    duplicates:        [{target, stacks}]  targets more than one stack covers (a sharding error)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

VIEW_SCHEMA_VERSION = 1
SUPPORTED_RESULTS_SCHEMA_VERSIONS = frozenset({1})
"""The cis-monitoring ``resultsSchemaVersion`` values this view understands (components/outputs.py)."""
DEFAULT_INVENTORY_OUTPUT = "accounts"

_STACK_RE = re.compile(r"^[\w.-]+/[\w.-]+/[\w.-]+$")
_ACCOUNT_ID_RE = re.compile(r"^\d{12}$")


class RollupError(ValueError):
    """The rollup's config or a referenced stack's outputs cannot be used."""


@dataclass(frozen=True)
class InventoryRef:
    stack: str
    output: str = DEFAULT_INVENTORY_OUTPUT


@dataclass(frozen=True)
class Settings:
    stacks: tuple[str, ...]
    inventory: InventoryRef | None
    fail_on_duplicates: bool = False


@dataclass(frozen=True)
class StackResults:
    """One cis-monitoring stack's outputs, as read through its stack reference."""

    stack: str
    results_schema_version: Any
    monitoring: Any
    summary: Any


@dataclass(frozen=True)
class InventoryAccount:
    id: str
    name: str
    ou: str | None


def parse_settings(stacks: Any, inventory: Any = None, fail_on_duplicates: Any = False) -> Settings:
    """The rollup's config (``stacks``, ``inventory``, ``failOnDuplicates``), checked."""
    if not isinstance(stacks, list) or not stacks:
        raise RollupError("config 'stacks' must list at least one stack (org/cis-monitoring/<stack>)")
    problems = [
        f"{s!r} is not a fully qualified stack name (<org>/<project>/<stack>)"
        for s in stacks
        if not isinstance(s, str) or not _STACK_RE.match(s)
    ]
    seen: set[str] = set()
    for s in stacks:
        if s in seen:
            problems.append(f"stack {s!r} is listed twice")
        seen.add(s)
    ref = None
    if inventory is not None:
        if not isinstance(inventory, Mapping) or set(inventory) - {"stack", "output"}:
            problems.append("config 'inventory' must be {stack: <org>/<project>/<stack>, output?: <name>}")
        elif not isinstance(inventory.get("stack"), str) or not _STACK_RE.match(inventory["stack"]):
            problems.append(f"inventory.stack {inventory.get('stack')!r} is not a fully qualified stack name")
        else:
            output = inventory.get("output", DEFAULT_INVENTORY_OUTPUT)
            if not isinstance(output, str) or not output:
                problems.append("inventory.output must be an output name")
            else:
                ref = InventoryRef(inventory["stack"], output)
    if not isinstance(fail_on_duplicates, bool):
        problems.append("config 'failOnDuplicates' must be true or false")
    if problems:
        raise RollupError("invalid rollup config:\n" + "\n".join(f"  - {p}" for p in problems))
    return Settings(tuple(stacks), ref, fail_on_duplicates)


def stack_problem(results: StackResults) -> str | None:
    """Why this view cannot read a stack's outputs (naming the stack), or None."""
    version = results.results_schema_version
    if version is None:
        return (
            f"stack {results.stack} has no 'resultsSchemaVersion' output: is it a cis-monitoring stack,"
            " and has it been deployed (pulumi up) with a current version of the program?"
        )
    if isinstance(version, bool) or version not in SUPPORTED_RESULTS_SCHEMA_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_RESULTS_SCHEMA_VERSIONS))
        return (
            f"stack {results.stack} exports resultsSchemaVersion {version!r}; this rollup understands"
            f" {supported}. Update the rollup (rollup/rollup_view.py) before reading that stack."
        )
    if not isinstance(results.monitoring, Mapping):
        return f"stack {results.stack} has no 'monitoring' output (or it is not a mapping)"
    for key, entry in results.monitoring.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("controls"), Mapping):
            return f"stack {results.stack}: monitoring[{key!r}] is not a monitoring entry"
    return None


def check_stack(results: StackResults) -> None:
    """Refuse a stack whose outputs this view does not understand (naming the stack)."""
    problem = stack_problem(results)
    if problem:
        raise RollupError(problem)


def check_stacks(stacks: Sequence[StackResults]) -> None:
    """Refuse every unreadable stack in one error, so one update names all of them."""
    problems = [p for p in (stack_problem(r) for r in stacks) if p]
    if len(problems) == 1:
        raise RollupError(problems[0])
    if problems:
        raise RollupError(
            f"{len(problems)} referenced stacks cannot be read:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def parse_inventory(raw: Any, source: str) -> list[InventoryAccount]:
    """An inventory output: a list of {id, name, ou?, tags?}, or {schemaVersion, accounts: [...]}."""
    if isinstance(raw, Mapping) and "accounts" in raw:
        version = raw.get("schemaVersion", 1)
        if version != 1:
            raise RollupError(f"{source}: inventory schemaVersion {version!r} is not supported (1 is)")
        raw = raw["accounts"]
    if not isinstance(raw, list):
        raise RollupError(f"{source}: the inventory output is missing or not a list of accounts")
    accounts = []
    for i, entry in enumerate(raw):
        account_id = entry.get("id") if isinstance(entry, Mapping) else None
        if not isinstance(account_id, str) or not _ACCOUNT_ID_RE.match(account_id):
            raise RollupError(f"{source}: inventory entry [{i}] has no 12-digit string 'id'")
        ou = entry.get("ou")
        accounts.append(InventoryAccount(account_id, str(entry.get("name") or account_id), ou))
    return accounts


def build_view(
    stacks: Sequence[StackResults], inventory: Sequence[InventoryAccount] | None = None
) -> dict[str, Any]:
    """The organization-wide view. The first stack (config order) covering a target is listed in
    ``covered``; every stack covering it is in ``duplicates``."""
    check_stacks(stacks)
    covered: dict[str, dict[str, Any]] = {}
    holders: dict[str, list[str]] = {}
    by_stack: dict[str, dict[str, Any]] = {}
    stacks_of_account: dict[str, list[str]] = {}
    account_names: dict[str, str] = {}
    for results in stacks:
        monitoring: Mapping[str, Any] = results.monitoring
        for key in sorted(monitoring):
            entry = monitoring[key]
            holders.setdefault(key, []).append(results.stack)
            account_id = str(entry.get("accountId") or key.split("/", 1)[0])
            account_names.setdefault(account_id, str(entry.get("accountName", "")))
            if results.stack not in stacks_of_account.setdefault(account_id, []):
                stacks_of_account[account_id].append(results.stack)
            covered.setdefault(key, _covered_entry(results.stack, entry))
        by_stack[results.stack] = _stack_counts(results)
    duplicates = [{"target": k, "stacks": v} for k, v in sorted(holders.items()) if len(v) > 1]
    uncovered = None
    outside = None
    if inventory is not None:
        uncovered = [
            {"id": a.id, "name": a.name, "ou": a.ou}
            for a in sorted(inventory, key=lambda a: a.id)
            if a.id not in stacks_of_account
        ]
        listed = {a.id for a in inventory}
        outside = [
            {"id": i, "accountName": account_names[i], "stacks": stacks_of_account[i]}
            for i in sorted(stacks_of_account)
            if i not in listed
        ]
    return {
        "schemaVersion": VIEW_SCHEMA_VERSION,
        "covered": dict(sorted(covered.items())),
        "byStack": by_stack,
        "uncoveredAccounts": uncovered,
        "outsideInventory": outside,
        "duplicates": duplicates,
    }


def _covered_entry(stack: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "stack": stack,
        "accountName": entry.get("accountName"),
        "controls": {
            control_id: {"pattern": c.get("filterPattern"), "alarmName": c.get("alarmName")}
            for control_id, c in sorted(entry["controls"].items())
        },
    }


def _stack_counts(results: StackResults) -> dict[str, Any]:
    entries = list(results.monitoring.values())
    summary = results.summary if isinstance(results.summary, Mapping) else {}
    return {
        "targets": len(entries),
        "accounts": len({e.get("accountId") for e in entries}),
        "regions": len({e.get("region") for e in entries}),
        "controls": sorted({c for e in entries for c in e["controls"]}),
        "catalogVersion": summary.get("catalogVersion"),
    }


def duplicates_message(view: Mapping[str, Any]) -> str | None:
    """A one-line-per-target description of the sharding error, or None."""
    rows = view["duplicates"]
    if not rows:
        return None
    lines = [f"  - {d['target']}: {', '.join(d['stacks'])}" for d in rows]
    return (
        f"{len(rows)} target(s) are covered by more than one stack (each must belong to exactly one):\n"
        + "\n".join(lines)
    )
