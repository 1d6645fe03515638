"""What the rollout commands (discover, shards, pack-config) share on their command line.

- **Stacks.** A stack is named as Pulumi names it: ``prod``, or ``org/project/prod`` (the form
  stack references use). Its config is ``Pulumi.<stack>.yaml``, ``<stack>`` being the name's last
  part, in the repository root. Every command that takes a stack takes ``--stack NAME`` and
  ``--repo-root DIR`` (default: the current directory) the same way (``add_stack_arguments``).
- **Regions.** ``--region`` is repeatable; each is checked against the Regions of AWS's
  partitions, and all must be in one partition (``region_problems``). ``all`` stands for the
  Regions enabled for an account, where the command calls AWS.
- **Errors.** Every problem of the command line (or of an input file) is said at once, in one
  ``UsageError``/``InputError``: one line for one problem, else a count and one line each.

This module is also the rollout's one door to the spec's stack-file reader and inventory schema,
so a move of either changes one import here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cis_monitoring.core.aws.arns import is_account_id
from cis_monitoring.core.errors import InputError
from cis_monitoring.flags import one_error
from cis_monitoring.spec import ConfigError, StackConfig, load_config, validate_organization
from cis_monitoring.spec.inventory import (
    INVENTORY_SCHEMA_VERSION,
    InventoryError,
    inventory_accounts,
    merge_accounts,
)

# The rollout's one import of the stack-file reader (it may move into the spec package's exports).
from cis_monitoring.spec.load import StackFileError, read_project_keys

__all__ = [
    "INVENTORY_SCHEMA_VERSION",
    "Stack",
    "add_stack_arguments",
    "inventory_problems",
    "read_inventory",
    "stack_file_problem",
    "stacks_from",
    "write_atomically",
]

ORGANIZATION_KEY = "organization"
"""The stack config key that selects accounts from an organization inventory."""
STACK_FLAG = "--stack"
REPO_ROOT_FLAG = "--repo-root"

_NAME_PART = r"[A-Za-z0-9_.-]+"
STACK_NAME_RE = re.compile(rf"^(?:{_NAME_PART}/){{0,2}}{_NAME_PART}$")
"""Pulumi's stack names: letters, digits, ``-``, ``_`` and ``.``; ``org/project/stack`` qualified."""
STACK_FILE_RE = re.compile(r"^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$")
STACK_NAME_HELP = "a stack as Pulumi names it (prod, or org/project/prod); its config is Pulumi.<stack>.yaml"


@dataclass(frozen=True)
class Stack:
    """A stack named on the command line, and its config file."""

    name: str
    """As given: ``prod`` or ``org/project/prod`` (or the file's path, for a file given as such)."""
    path: Path
    named: bool = True
    """Given by name (``--stack``); False: given as a file path."""

    @property
    def short_name(self) -> str:
        """The stack's own name, without organization and project (``prod``)."""
        match = STACK_FILE_RE.match(self.path.name)
        return match.group(1) if match else self.name.rsplit("/", 1)[-1]

    def read_keys(self) -> dict[str, Any]:
        """Its ``cis-monitoring:`` keys, not validated (InputError naming the file)."""
        self._must_exist()
        try:
            return read_project_keys(str(self.path))[1]
        except StackFileError as error:
            raise InputError(error.lines) from None

    def read_config(self, inventory: Any = None, inventory_flag: str = "--inventory") -> StackConfig:
        """Its config, validated as the program validates it (InputError listing every problem).

        A stack that selects accounts from an organization inventory (``organization``) gets them
        from ``inventory`` (the program reads the same document through a stack reference).
        """
        keys = self.read_keys()
        problems: list[str] = []
        if ORGANIZATION_KEY in keys:
            if inventory is None:
                raise InputError(
                    f"{self.path}: {ORGANIZATION_KEY}: this stack selects its accounts from an organization"
                    f" inventory; give {inventory_flag} FILE (that inventory, as JSON) to read them"
                )
            inline = keys.get("accounts") if isinstance(keys.get("accounts"), list) else []
            try:
                selection = inventory_accounts(inventory, validate_organization(keys[ORGANIZATION_KEY]))
                keys = {**keys, "accounts": merge_accounts(inline, selection)}
            except (ConfigError, InventoryError) as error:
                # As the program does: the rest of the config is still checked, so one run says everything.
                problems += [str(p) for p in error.problems]
        config: StackConfig | None = None
        try:
            config = load_config(keys, source=str(self.path))
        except ConfigError as error:
            problems += [str(p) for p in error.problems]
        if problems or config is None:
            lines = [f"  - {p}" for p in dict.fromkeys(problems)]
            raise InputError([f"{len(lines)} problem(s) in {self.path}:", *lines])
        return config

    def _must_exist(self) -> None:
        problem = stack_file_problem(self) if self.named else None
        if problem:
            raise InputError(problem)


def stack_file_name(name: str) -> str:
    return f"Pulumi.{name.rsplit('/', 1)[-1]}.yaml"


def stack_name_problem(name: str) -> str | None:
    if not STACK_NAME_RE.match(name):
        return f"{STACK_FLAG} {name!r}: not a stack name; give {STACK_NAME_HELP}"
    return None


def stack_file_problem(stack: Stack) -> str | None:
    """Why ``stack``'s file cannot be read (it is missing), naming the stacks that are there."""
    if stack.path.is_file():
        return None
    there = sorted(
        m.group(1) for p in stack.path.parent.glob("Pulumi.*.yaml") if (m := STACK_FILE_RE.match(p.name))
    )
    known = f" (stacks there: {', '.join(there)})" if there else ""
    return f"{STACK_FLAG} {stack.name}: no stack file {stack.path}{known}"


def add_stack_arguments(parser: argparse.ArgumentParser, *, repeatable: bool = False, help: str = "") -> None:
    """``--stack NAME`` (repeatable or once) and ``--repo-root DIR``, worded alike in every command."""
    parser.add_argument(
        STACK_FLAG,
        metavar="NAME",
        action="append" if repeatable else "store",
        default=[] if repeatable else None,
        help=f"{help}: {STACK_NAME_HELP}" + (" (repeatable)" if repeatable else ""),
    )
    parser.add_argument(
        REPO_ROOT_FLAG,
        metavar="DIR",
        type=Path,
        default=None,
        help="where the Pulumi.<stack>.yaml files are (default: the current directory)",
    )


def stacks_from(names: Iterable[str], repo_root: Path | None) -> tuple[list[Stack], list[str]]:
    """The stacks ``--stack`` names (in ``--repo-root``), and every problem with the names."""
    root = repo_root or Path()
    stacks, problems = [], []
    for name in names:
        problem = stack_name_problem(name)
        if problem:
            problems.append(problem)
        else:
            stacks.append(Stack(name, root / stack_file_name(name)))
    if repo_root is not None and not repo_root.is_dir():
        problems.append(f"{REPO_ROOT_FLAG} {repo_root}: not a directory")
    return stacks, problems


# ---------------------------------------------------------------- the inventory (spec/inventory.py's schema)


def inventory_problems(value: Any, where: str) -> list[str]:
    """What keeps ``value`` from being an account inventory, as far as a file alone can tell.

    The shape every reader shares: ``{"schemaVersion": 1, "accounts": [{"id", "name", ...}]}``
    with distinct 12-digit string ids. Each stack validates the entries it selects as accounts.
    """
    if isinstance(value, Mapping) and isinstance(value.get("inventory"), Mapping):
        return [
            f"{where}: this is `discover --json` output, not an inventory; write the inventory with"
            " `discover --inventory FILE`"
        ]
    if not isinstance(value, Mapping) or not isinstance(value.get("accounts"), list):
        return [f"{where}: not an account inventory (an object with 'schemaVersion' and an 'accounts' list)"]
    if value.get("schemaVersion") != INVENTORY_SCHEMA_VERSION:
        return [
            f"{where}: schemaVersion {value.get('schemaVersion')!r}; this release reads inventory schema"
            f" version {INVENTORY_SCHEMA_VERSION}"
        ]
    problems = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(value["accounts"]):
        path = f"{where}: accounts[{i}]"
        account_id = entry.get("id") if isinstance(entry, Mapping) else None
        if not isinstance(entry, Mapping):
            problems.append(f"{path}: not an object")
        elif not is_account_id(account_id):
            problems.append(f"{path}.id: {account_id!r} is not an account id (12 digits, as a string)")
        elif not isinstance(entry.get("name"), str):
            problems.append(f"{path}.name: missing; write the account's name")
        if is_account_id(account_id):
            if account_id in seen:
                problems.append(
                    f"{path}.id: account {account_id} is listed twice (also accounts[{seen[account_id]}])"
                )
            seen.setdefault(account_id, i)
    return problems


def read_inventory(path: Path, flag: str) -> dict[str, Any]:
    """An inventory file (``--inventory FILE``), checked; InputError naming the flag and the file."""
    where = f"{flag} {path}"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{where}: cannot be read: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{where}: not valid JSON: {error}") from None
    problems = inventory_problems(value, where)
    if problems:
        raise one_error(problems, f"in {where}", InputError)
    return value


def write_atomically(path: Path, text: str, flag: str) -> None:
    """Replace ``path`` whole or not at all (Ctrl-C or a full disk leaves the old file)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise InputError(f"{flag} {path}: cannot be written: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except BaseException as error:  # Ctrl-C too: no temporary file is left behind
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise InputError(f"{flag} {path}: cannot be written: {error.strerror or error}") from None
        raise
