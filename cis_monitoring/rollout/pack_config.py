"""``cis-monitoring pack-config``: the policy pack's topology config, derived from a stack's spec.

The chain policy learns from its config which trails exist and which (account, Region) pairs must
be covered: ``organizationTrails``, ``accountTrails`` and ``requiredTargets``
(``policy/cis_guard/pack_config.py``). The stack file states the same topology, so this command
derives those three keys from it, through the coverage plan the program deploys
(``cis_monitoring.spec.coverage_plan``), and takes every other key of the pack config (controls,
strictCanonicalText, allowedExternalTopicArns, enforcement levels) from ``--base``: the security
team owns those, the stack owns the topology. Before anything is written, the result is checked by
the pack's own ``pack_config.load``.

How the stack's keys map:

- ``organizationTrail`` -> one ``organizationTrails`` entry: the owner's accountId, homeRegion,
  logGroup or logGroupPrefix, name, and ``members``: ``"all"``, or the member ids the stack states
  (``members: accounts``: the stack's accounts; or its own list), the owner left out (a trail
  always records its owner). With no member besides the owner, the trail is declared as the
  owner's ``accountTrails`` entry instead (the schema wants at least one member; for the pack both
  record every Region of the owner), unless the owner declares a trail of its own already.
- ``accounts[].trail`` -> an ``accountTrails`` entry. ``coveredRegions`` narrows what is required,
  not the trail: a multi-Region trail records every Region.
- ``accounts[].regions`` (per-Region trails) -> no trail entry. The pack declares multi-Region
  trails only, and a per-Region trail's chain is in the very account and Region it covers, which
  the pack counts as "covered directly" by a chain in the stack. Each Region is required.
- ``requiredTargets``: every (account, Region) the stack states coverage for (the plan's claims),
  in the order of ``accounts``: ``*`` where a multi-Region or organization trail covers every
  Region, the Regions of ``coveredRegions`` or of per-Region trails otherwise. An organization
  trail with ``members: all`` covers accounts the stack does not name; the pack cannot require
  those by id, so only the named ones are required.

The file keeps the shipped format (``dump``): two-space indents, a list or object on one line
when it holds only scalars and fits.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from cis_monitoring.cli import epilog
from cis_monitoring.core.aws.arns import BY_NAME, BY_PREFIX
from cis_monitoring.core.errors import InputError, UsageError
from cis_monitoring.core.plan import (
    ACCOUNT_TRAIL,
    ALL_ACCOUNTS,
    MEMBERS_ALL,
    ORGANIZATION_TRAIL,
    ChainSite,
    OrganizationTrailSpec,
    members_of,
)
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.flags import one_error
from cis_monitoring.rollout.command import (
    REPO_ROOT_FLAG,
    STACK_FLAG,
    Stack,
    add_stack_arguments,
    read_inventory,
    stacks_from,
    write_atomically,
)
from cis_monitoring.spec import StackConfig, coverage_plan

CONFIG_DIR = Path("policy") / "config"
"""Where the shipped pack configs are, in the repository: ``policy/config/<stack>.json``."""
PACK_MODULES = ("policy.cis_guard.pack_config", "policy.cis_guard.rules")
"""The pack's own config check, and its policies (their names, the chain policy's among them)."""
BASE_FLAG, OUT_FLAG, CHECK_FLAG, INVENTORY_FLAG = "--base", "--out", "--check", "--inventory"
LINE_LENGTH = 110
"""``dump`` puts a list or an object on one line when it fits in this many characters."""


# ---------------------------------------------------------------- the topology


@dataclass(frozen=True)
class Topology:
    """The three keys of the chain policy's config this command owns, in the pack's words."""

    organization_trails: tuple[dict[str, Any], ...]
    account_trails: tuple[dict[str, Any], ...]
    required_targets: tuple[dict[str, str], ...]

    def keys(self, names: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """As config keys; ``names`` are the pack's (``pack_config.LISTS``), in this order."""
        values = (self.organization_trails, self.account_trails, self.required_targets)
        return {name: [dict(v) for v in value] for name, value in zip(names, values, strict=True)}

    def summary(self) -> str:
        members = [t["members"] for t in self.organization_trails]
        stated = ", ".join("all members" if m == MEMBERS_ALL else f"{len(m)} member(s)" for m in members)
        return (
            f"{len(self.organization_trails)} organization trail(s){f' ({stated})' if stated else ''},"
            f" {len(self.account_trails)} account trail(s), {len(self.required_targets)} required target(s)"
        )


def _trail_entry(site: ChainSite) -> dict[str, Any]:
    group = site.log_group
    key = {BY_NAME: "logGroup", BY_PREFIX: "logGroupPrefix"}[group.match]
    entry: dict[str, Any] = {"accountId": site.account_id, "homeRegion": site.region, key: group.name}
    if site.trail_name:
        entry["name"] = site.trail_name
    return entry


def topology(config: StackConfig) -> Topology:
    """The pack's view of a validated stack config (see the module's docstring for the mapping)."""
    plan = coverage_plan(config)
    account_trails = [_trail_entry(s) for s in plan.sites if s.via == ACCOUNT_TRAIL]
    organization_trails = []
    organization = config.organization_trail
    for site in (s for s in plan.sites if s.via == ORGANIZATION_TRAIL):
        assert organization is not None  # only organizationTrail gives an organization site
        stated = OrganizationTrailSpec(site.trail, organization.members)
        members = [m for m in members_of(stated, (a.id for a in config.accounts)) if m != ALL_ACCOUNTS]
        if organization.members == MEMBERS_ALL:
            organization_trails.append({**_trail_entry(site), "members": MEMBERS_ALL})
        elif members:
            organization_trails.append({**_trail_entry(site), "members": members})
        elif not any(t["accountId"] == site.account_id for t in account_trails):
            account_trails.append(_trail_entry(site))
    order = {account.id: i for i, account in enumerate(config.accounts)}
    claims = [c for c in plan.claims if c.account_id != ALL_ACCOUNTS]
    # In the order of `accounts` (then of the plan, for members the stack does not list itself).
    claims.sort(key=lambda c: order.get(c.account_id, len(order)))
    required = tuple({"accountId": c.account_id, "region": c.region} for c in claims)
    return Topology(tuple(organization_trails), tuple(account_trails), required)


# ---------------------------------------------------------------- the pack's own check


@dataclass(frozen=True)
class Pack:
    """What this command needs of the policy pack in the repository: its config check and its names."""

    config: ModuleType
    rules: ModuleType

    @property
    def chain_policy(self) -> str:
        return str(self.rules.CHAIN_POLICY)

    @property
    def topology_keys(self) -> tuple[str, ...]:
        return tuple(self.config.LISTS)

    def policy_names(self) -> list[str]:
        return [policy.name for policy in self.rules.policies()]

    def levels(self) -> list[str]:
        from pulumi_policy import EnforcementLevel

        return [level.value for level in EnforcementLevel]

    def problems(self, document: Mapping[str, Any]) -> list[str]:
        """Every problem the Pulumi CLI or the pack would find with this pack config."""
        problems = []
        names = self.policy_names()
        for key, value in document.items():
            if key != "all" and key not in names:
                problems.append(f"{key}: not a policy of this pack (its policies: {', '.join(names)})")
            level = value.get("enforcementLevel") if isinstance(value, Mapping) else value
            if level is not None and level not in self.levels():
                problems.append(
                    f"{key}: enforcement level {level!r} is not one of {', '.join(self.levels())}"
                )
        chain = document.get(self.chain_policy)
        if isinstance(chain, Mapping):
            try:
                self.config.load(chain)
            except self.config.ConfigProblems as error:
                problems += [f"{self.chain_policy}.{problem}" for problem in error.problems]
        return problems


def load_pack(repo_root: Path) -> Pack:
    """The pack in ``repo_root``'s ``policy/`` (already importable when run from there with python -m).

    The pack is not installed with ``cis-monitoring`` (nor are its jsonschema and pulumi-policy):
    it is read from the repository, and a missing dependency is said with what to install.
    """
    try:
        return _import_pack()
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("policy"):
            raise _missing(error) from None
    source = repo_root / "policy" / "cis_guard" / "pack_config.py"
    if not source.is_file():
        raise UsageError(f"{REPO_ROOT_FLAG} {repo_root}: no policy pack there ({source} is missing)")
    # The console script does not run from the repository, so its pack is not on the path yet.
    sys.path.insert(0, str(repo_root.resolve()))
    try:
        return _import_pack()
    except ModuleNotFoundError as error:
        raise _missing(error) from None


def _import_pack() -> Pack:
    return Pack(*(importlib.import_module(name) for name in PACK_MODULES))


def _missing(error: ModuleNotFoundError) -> UsageError:
    return UsageError(
        f"the policy pack's config check needs the Python package {error.name!r}, which is not installed:"
        " pip install -r policy/requirements.txt (make venv installs it)"
    )


# ---------------------------------------------------------------- the file


def with_topology(base: Mapping[str, Any], keys: Mapping[str, Any], chain_policy: str) -> dict[str, Any]:
    """``base`` with the chain policy's topology keys replaced (in place) or added (at its end)."""
    chain = base.get(chain_policy)
    settings: dict[str, Any] = (
        {"enforcementLevel": chain}
        if isinstance(chain, str)
        else dict(chain)
        if isinstance(chain, Mapping)
        else {}
    )
    settings = {k: keys.get(k, v) for k, v in settings.items()} | {
        k: v for k, v in keys.items() if k not in settings
    }
    return {**base, chain_policy: settings}


def dump(value: Any) -> str:
    """JSON in the shipped files' layout: a list or object of scalars on one line when it fits."""
    return _dump(value, 0, 0) + "\n"


def _dump(value: Any, indent: int, used: int) -> str:
    """``value`` at ``indent`` spaces, ``used`` characters of its first line taken by its key."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value:
        return flat
    children = value.values() if isinstance(value, dict) else value
    if (
        indent > 0
        and used + len(flat) <= LINE_LENGTH
        and not any(isinstance(c, dict | list) for c in children)
    ):
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + _dump(v, indent + 2, len(pad)) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = []
    for key, item in value.items():
        head = f"{pad}{json.dumps(key)}: "
        items.append(head + _dump(item, indent + 2, len(head)))
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def read_base(path: Path) -> dict[str, Any]:
    """The pack config whose other keys are kept, or InputError naming ``--base``."""
    where = f"{BASE_FLAG} {path}"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{where}: no such file; give {BASE_FLAG} FILE, the pack config whose controls, settings and"
            " enforcement levels to keep"
        ) from None
    except OSError as error:
        raise InputError(f"{where}: cannot be read: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{where}: not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise InputError(f"{where}: not a pack config (a JSON object of policy names)")
    return value


# ---------------------------------------------------------------- the command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROJECT} pack-config",
        description="Write the policy pack's topology config (organizationTrails, accountTrails,"
        " requiredTargets of cis-monitoring-chain) from a stack's Pulumi.<stack>.yaml, keeping every"
        f" other key of {BASE_FLAG}. Checked by the pack's own config check before anything is written.",
        epilog=epilog(f"with {CHECK_FLAG}, the pack config is not what the stack gives (it drifted)"),
    )
    add_stack_arguments(parser, help="the stack whose topology to state")
    parser.add_argument(
        BASE_FLAG,
        metavar="FILE",
        type=Path,
        help="the pack config whose other keys (controls, strictCanonicalText, allowedExternalTopicArns,"
        f" enforcement levels) to keep (default: {CONFIG_DIR}/<stack>.json in {REPO_ROOT_FLAG})",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(OUT_FLAG, metavar="FILE", type=Path, help="write it there (default: print it)")
    output.add_argument(
        CHECK_FLAG,
        action="store_true",
        help=f"write nothing; FAIL, showing the difference, when {BASE_FLAG} is not what this would write",
    )
    parser.add_argument(
        INVENTORY_FLAG,
        metavar="FILE",
        type=Path,
        help="for a stack that selects its accounts from an organization inventory: that inventory (JSON)",
    )
    return parser


def _stack(args: argparse.Namespace) -> Stack:
    stacks, problems = stacks_from([args.stack] if args.stack else [], args.repo_root)
    if args.stack is None:
        problems.insert(0, f"give {STACK_FLAG} NAME, the stack whose topology to state")
    if problems:
        raise one_error(problems, "in the command line")
    return stacks[0]


def main(argv: Sequence[str] | None = None) -> Status:
    args = _parser().parse_args(argv)
    stack = _stack(args)
    root = args.repo_root or Path()
    base_path = args.base or root / CONFIG_DIR / f"{stack.short_name}.json"
    pack = load_pack(root)
    inventory = read_inventory(args.inventory, INVENTORY_FLAG) if args.inventory else None
    found = topology(stack.read_config(inventory, INVENTORY_FLAG))
    base = read_base(base_path)
    document = with_topology(base, found.keys(pack.topology_keys), pack.chain_policy)
    problems = pack.problems(document)
    if problems:
        raise one_error(
            [f"{BASE_FLAG} {base_path} with the topology of {stack.path}: {p}" for p in problems],
            "in the pack config it would give; nothing was written",
            InputError,
        )
    text = dump(document)
    if args.check:
        return _check(base_path, text)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.out, text, OUT_FLAG)
        print(f"wrote {args.out} from {stack.path}: {found.summary()}", file=sys.stderr)
    return Status.PASS


def _check(path: Path, text: str) -> Status:
    current = path.read_text(encoding="utf-8")
    if current == text:
        print(f"{path}: up to date with its stack")
        return Status.PASS
    diff = difflib.unified_diff(
        current.splitlines(keepends=True), text.splitlines(keepends=True), str(path), "from the stack"
    )
    sys.stdout.writelines(diff)
    print(
        f"{Status.FAIL} {path} is not what the stack gives; run {PROJECT} pack-config with {OUT_FLAG} {path}"
    )
    return Status.FAIL
