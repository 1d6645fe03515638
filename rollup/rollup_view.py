"""The organization-wide view of CIS monitoring, from the outputs of every cis-monitoring stack.

Pure functions: ``__main__.py`` reads the stacks' outputs through stack references and hands
plain values to ``build_view``. Errors are ``RollupError`` (a ValueError); the program turns
them into ``pulumi.RunError``. This module imports nothing from the rest of the repository (the
rollup may run from its own virtualenv), so the coverage words are written out here, as
``cis_monitoring.core.topology`` says them: covered directly / by organization trail T of account M / not covered.

It reads cis-monitoring ``resultsSchemaVersion`` 2 and 3 (``chains``, ``coverage``, ``summary``); 3
states a per-Region trail's pairs as the core does (``none``, code ``coverage.none.single_region``:
CIS 4.x needs a multi-Region trail), where 2 said ``direct``.
Version 1 stacks (one entry per account and Region, from before coverage) are refused with
what to do: deploy them once with the current release. The view (``schemaVersion`` 2)::

    coverage:          {"<account>/<region>": {accountId, accountName, ou, region, regions,
                        coverage: direct|organization|none, stack, chain, trail, trailAccountId,
                        trailHomeRegion, description, alsoBy: [{stack, coverage}]}}
                        region "*" means every Region ("regions": "all Regions")
    organizationWide:  [{stack, chain, trail, trailAccountId, trailHomeRegion}]  members: all
    byStack:           {stack: {chains, coverage: {direct, organization, none}, controls, catalogVersion}}
    totals:            {direct, organization, none}  entries of ``coverage``
    totalsByOu:        {ou: {direct, organization, none}}  (null without inventory)
    uncoveredAccounts: [{id, name, awsName, ou}]   inventory accounts nothing covers (null without inventory)
    outsideInventory:  [{id, accountName, stacks}]   covered accounts the inventory does not list
    duplicates:        [{target, stacks}]  chain sites (account/Region) in more than one stack
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

VIEW_SCHEMA_VERSION = 2
SUPPORTED_RESULTS_SCHEMA_VERSIONS = frozenset({2, 3})
"""The cis-monitoring ``resultsSchemaVersion`` values this view understands (cis_monitoring/program/outputs.py)."""
DEFAULT_INVENTORY_OUTPUT = "accounts"
INVENTORY_SCHEMA_VERSION = 1
"""The account inventory's schema (cis_monitoring/spec/inventory.py; a test keeps the two equal)."""
DIRECT, ORGANIZATION, NOT_COVERED = "direct", "organization", "none"
KINDS = (DIRECT, ORGANIZATION, NOT_COVERED)
ALL = "*"
NO_OU = "(no OU)"

_STACK_RE = re.compile(r"^[\w.-]+/[\w.-]+/[\w.-]+$")
_ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
_RANK = {DIRECT: 0, ORGANIZATION: 1, NOT_COVERED: 2}
SINGLE_REGION = "coverage.none.single_region"
"""cis_monitoring.core.problems.Code.COVERAGE_SINGLE_REGION: a per-Region trail's pair (stated as none)."""


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
    chains: Any
    coverage: Any
    summary: Any


@dataclass(frozen=True)
class InventoryAccount:
    id: str
    name: str
    """Its name in stack config (what the stacks' outputs call it too)."""
    ou: str | None
    aws_name: str | None = None
    """Its name as AWS Organizations spells it (``Log Archive``), when the inventory says."""


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
    version, stack = results.results_schema_version, results.stack
    if version is None:
        return (
            f"stack {stack} has no 'resultsSchemaVersion' output: is it a cis-monitoring stack,"
            " and has it been deployed (pulumi up) with a current version of the program?"
        )
    if version == 1 and not isinstance(version, bool):
        return (
            f"stack {stack} exports resultsSchemaVersion 1 (one entry per account and Region, from before"
            " the program stated coverage); this rollup reads version 2. Run `pulumi up` on that stack with"
            ' the current cis-monitoring (its config in the shape of README "Trails and coverage") first.'
        )
    if isinstance(version, bool) or version not in SUPPORTED_RESULTS_SCHEMA_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_RESULTS_SCHEMA_VERSIONS))
        # Stack outputs travel as JSON numbers, so 3 may arrive as 3.0.
        shown = int(version) if isinstance(version, float) and version.is_integer() else version
        return (
            f"stack {stack} exports resultsSchemaVersion {shown!r}; this rollup understands"
            f" {supported}. Update the rollup (rollup/rollup_view.py) before reading that stack."
        )
    if not isinstance(results.chains, Mapping):
        return f"stack {stack} has no 'chains' output (or it is not a mapping)"
    if not isinstance(results.coverage, Mapping):
        return f"stack {stack} has no 'coverage' output (or it is not a mapping)"
    for key, chain in results.chains.items():
        if not isinstance(chain, Mapping) or not isinstance(chain.get("controls"), Mapping):
            return f"stack {stack}: chains[{key!r}] is not a chain entry"
    for key, entry in results.coverage.items():
        if not isinstance(entry, Mapping) or entry.get("coverage") not in _RANK:
            return (
                f"stack {stack}: coverage[{key!r}] is not a coverage entry (coverage: direct, organization or"
                " none)"
            )
        if entry.get("chain") not in results.chains:
            return f"stack {stack}: coverage[{key!r}] names chain {entry.get('chain')!r}, which the stack does not export"
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
    """An account inventory, schema version ``INVENTORY_SCHEMA_VERSION``: the one document the
    program's ``organization`` key, ``cis-monitoring shards --inventory`` and this view read, and
    ``cis-monitoring discover --inventory`` writes::

        {"schemaVersion": 1, "accounts": [{"id", "name", "awsName"?, "ou"?, "tags"?, ...}]}

    Every problem in one RollupError naming ``source``.
    """
    if not isinstance(raw, Mapping) or not isinstance(raw.get("accounts"), list):
        shape = "a list" if isinstance(raw, list) else "missing" if raw is None else f"a {type(raw).__name__}"
        raise RollupError(
            f"{source}: the inventory output is {shape}, not an account inventory: write it as"
            f' {{"schemaVersion": {INVENTORY_SCHEMA_VERSION}, "accounts": [{{"id", "name", "ou", "tags"}}, ...]}}'
            " (what `cis-monitoring discover --inventory FILE` writes)"
        )
    version = raw.get("schemaVersion")
    # Stack outputs travel as JSON numbers, so 1 may arrive as 1.0.
    shown = int(version) if isinstance(version, float) and version.is_integer() else version
    if isinstance(shown, bool) or shown != INVENTORY_SCHEMA_VERSION:
        raise RollupError(
            f"{source}: inventory schemaVersion {version!r}; this rollup reads version {INVENTORY_SCHEMA_VERSION}"
        )
    accounts, problems = [], []
    for i, entry in enumerate(raw["accounts"]):
        account_id = entry.get("id") if isinstance(entry, Mapping) else None
        name = entry.get("name") if isinstance(entry, Mapping) else None
        ou, aws_name = (entry.get("ou"), entry.get("awsName")) if isinstance(entry, Mapping) else (None, None)
        if not isinstance(account_id, str) or not _ACCOUNT_ID_RE.match(account_id):
            problems.append(f"accounts[{i}] has no 12-digit string 'id'")
        elif not isinstance(name, str) or not name:
            problems.append(f"accounts[{i}] (account {account_id}) has no 'name'")
        elif not isinstance(ou, str | None) or not isinstance(aws_name, str | None):
            problems.append(
                f"accounts[{i}] (account {account_id}): 'ou' and 'awsName' are strings when given"
            )
        else:
            accounts.append(InventoryAccount(account_id, name, ou, aws_name))
    if problems:
        raise RollupError(
            f"{source}: the inventory is not valid:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return accounts


def regions_label(region: str) -> str:
    return "all Regions" if region == ALL else region


def describe(entry: Mapping[str, Any]) -> str:
    """The entry in the core's words (cis_monitoring.core.topology.Coverage.describe)."""
    where = f"chain {entry['chain']} in stack {entry['stack']}"
    if entry["coverage"] == DIRECT:
        trail = f"trail {entry['trail']!r}" if entry.get("trail") else "a multi-Region trail"
        return (
            f"covered directly ({regions_label(entry['region'])}): {trail} of account"
            f" {entry['trailAccountId']} (home {entry['trailHomeRegion']}), {where}"
        )
    if entry["coverage"] == ORGANIZATION:
        return (
            f"covered by organization trail {entry.get('trail') or '(unnamed)'!r} of account"
            f" {entry['trailAccountId']} ({regions_label(entry['region'])}): home"
            f" {entry['trailHomeRegion']}, {where}"
        )
    if entry.get("code") == SINGLE_REGION:
        trail = f"single-Region trail {entry['trail']!r}" if entry.get("trail") else "a single-Region trail"
        return (
            f"not covered ({regions_label(entry['region'])}): only {trail} of account"
            f" {entry['trailAccountId']} delivers its events, and CIS 4.x needs a multi-Region trail"
            f" ({where} watches it)"
        )
    return (
        f"not covered: no stack states a trail that records account {entry['accountId']}'s events;"
        " add the account to a stack (its own trail, or a member of an organization trail)"
    )


def _claim(stack: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    fields = (
        "accountId",
        "accountName",
        "region",
        "coverage",
        "code",
        "chain",
        "trail",
        "trailAccountId",
        "trailHomeRegion",
    )
    return {**{k: entry.get(k) for k in fields}, "stack": stack}


def build_view(
    stacks: Sequence[StackResults], inventory: Sequence[InventoryAccount] | None = None
) -> dict[str, Any]:
    """The organization-wide view. A pair claimed by several stacks is shown with the best claim
    (direct over organization, then config order); the others are in its ``alsoBy``."""
    check_stacks(stacks)
    claims: dict[str, list[dict[str, Any]]] = {}
    organization_wide: list[dict[str, Any]] = []
    sites: dict[str, list[str]] = {}
    by_stack: dict[str, dict[str, Any]] = {}
    for results in stacks:
        for chain in results.chains.values():
            site = f"{chain.get('accountId')}/{chain.get('region')}"
            if results.stack not in sites.setdefault(site, []):
                sites[site].append(results.stack)
        for key in sorted(results.coverage):
            entry = results.coverage[key]
            if entry.get("accountId") == ALL:
                wide = _claim(results.stack, entry)
                organization_wide.append(
                    {k: wide[k] for k in ("stack", "chain", "trail", "trailAccountId", "trailHomeRegion")}
                )
                continue
            claims.setdefault(key, []).append(_claim(results.stack, entry))
        by_stack[results.stack] = _stack_counts(results)

    ous = {a.id: a.ou for a in inventory or ()}
    names = {a.id: a.name for a in inventory or ()}
    coverage: dict[str, dict[str, Any]] = {}
    for key, found in claims.items():
        best, *others = sorted(
            found, key=lambda c: _RANK[c["coverage"]]
        )  # stable: config order within a kind
        entry = {**best, "accountName": best.get("accountName") or names.get(best["accountId"])}
        entry["alsoBy"] = [{"stack": o["stack"], "coverage": o["coverage"]} for o in others]
        coverage[key] = entry
    covered_accounts = {e["accountId"] for e in coverage.values()}
    for account in inventory or ():
        if account.id in covered_accounts:
            continue
        if organization_wide:
            wide = organization_wide[0]
            entry = {
                "accountId": account.id,
                "accountName": account.name,
                "region": ALL,
                "coverage": ORGANIZATION,
                **wide,
            }
            entry["alsoBy"] = [{"stack": w["stack"], "coverage": ORGANIZATION} for w in organization_wide[1:]]
        else:
            entry = {
                "accountId": account.id,
                "accountName": account.name,
                "region": ALL,
                "coverage": NOT_COVERED,
            }
            entry.update(dict.fromkeys(("stack", "chain", "trail", "trailAccountId", "trailHomeRegion")))
            entry["alsoBy"] = []
        coverage[f"{account.id}/{ALL}"] = entry
    for entry in coverage.values():
        entry["ou"] = ous.get(entry["accountId"])
        entry["regions"] = regions_label(entry["region"])
        entry["description"] = describe(entry)

    totals = dict.fromkeys(KINDS, 0)
    for entry in coverage.values():
        totals[entry["coverage"]] += 1
    return {
        "schemaVersion": VIEW_SCHEMA_VERSION,
        "coverage": dict(sorted(coverage.items())),
        "organizationWide": organization_wide,
        "byStack": by_stack,
        "totals": totals,
        "totalsByOu": _totals_by_ou(coverage, inventory),
        "uncoveredAccounts": _uncovered(coverage, inventory),
        "outsideInventory": _outside(coverage, inventory),
        "duplicates": [{"target": k, "stacks": v} for k, v in sorted(sites.items()) if len(v) > 1],
    }


def _totals_by_ou(
    coverage: Mapping[str, Mapping[str, Any]], inventory: Sequence[InventoryAccount] | None
) -> dict[str, dict[str, int]] | None:
    if inventory is None:
        return None
    listed = {a.id for a in inventory}
    result: dict[str, dict[str, int]] = {}
    for entry in coverage.values():
        if entry["accountId"] in listed:
            counts = result.setdefault(entry["ou"] or NO_OU, dict.fromkeys(KINDS, 0))
            counts[entry["coverage"]] += 1
    return dict(sorted(result.items()))


def _uncovered(
    coverage: Mapping[str, Mapping[str, Any]], inventory: Sequence[InventoryAccount] | None
) -> list[dict[str, Any]] | None:
    if inventory is None:
        return None
    gaps = {e["accountId"] for e in coverage.values() if e["coverage"] == NOT_COVERED}
    return [
        {"id": a.id, "name": a.name, "awsName": a.aws_name, "ou": a.ou}
        for a in sorted(inventory, key=lambda a: a.id)
        if a.id in gaps
    ]


def _outside(
    coverage: Mapping[str, Mapping[str, Any]], inventory: Sequence[InventoryAccount] | None
) -> list[dict[str, Any]] | None:
    if inventory is None:
        return None
    listed = {a.id for a in inventory}
    found: dict[str, dict[str, Any]] = {}
    for entry in coverage.values():
        if entry["accountId"] in listed:
            continue
        item = found.setdefault(
            entry["accountId"], {"id": entry["accountId"], "accountName": entry["accountName"], "stacks": []}
        )
        for stack in [entry["stack"], *(o["stack"] for o in entry["alsoBy"])]:
            if stack not in item["stacks"]:
                item["stacks"].append(stack)
    return [found[k] for k in sorted(found)]


def _stack_counts(results: StackResults) -> dict[str, Any]:
    chains = list(results.chains.values())
    summary = results.summary if isinstance(results.summary, Mapping) else {}
    counts = dict.fromkeys(KINDS, 0)
    for entry in results.coverage.values():
        counts[entry["coverage"]] += 1
    return {
        "chains": len(chains),
        "coverage": counts,
        "controls": sorted({c for chain in chains for c in chain["controls"]}, key=_benchmark_order),
        "catalogVersion": summary.get("catalogVersion"),
    }


def _benchmark_order(control_id: str) -> list[int | str]:
    """4.2 before 4.10 (as the catalog orders them): digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", control_id)]


def duplicates_message(view: Mapping[str, Any]) -> str | None:
    """A one-line-per-site description of the sharding error, or None."""
    rows = view["duplicates"]
    if not rows:
        return None
    lines = [f"  - {d['target']}: {', '.join(d['stacks'])}" for d in rows]
    return (
        f"{len(rows)} chain site(s) (account/Region) are deployed by more than one stack (each must belong to"
        " exactly one, or they fight over the same alarm and metric filter):\n" + "\n".join(lines)
    )
