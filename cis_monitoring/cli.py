"""``cis-monitoring <command>``: dispatch to the audit and the roll-out tools.

Each subcommand owns its arguments, ``--help`` and exit codes; this module only picks
one, so ``cis-monitoring audit ...`` behaves exactly like ``python -m cis_tools.audit ...``.
Subcommands are imported on use, so a broken optional dependency of one never stops another.

Exit codes (every subcommand): 0 success or all PASS, 1 findings (FAIL/ERROR, claimed
twice, ...), 2 bad usage or bad input (message on stderr, never a traceback).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from cis_core.project import PROJECT

COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("verify.cli", "read-only CIS check of deployed accounts: PASS / FAIL / ERROR per target"),
    "discover": (
        "rollout.discover",
        "find the organization's accounts, trails and log groups; write stack config",
    ),
    "shards": (
        "rollout.shards",
        "check that shard stacks claim disjoint (and, with --complete, all) accounts",
    ),
}
EXIT_USAGE = 2


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROJECT} <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_module, summary) in COMMANDS.items()]
    lines += ["", f"'{PROJECT} <command> --help' describes a command, its options and its exit codes."]
    return "\n".join(lines)


def command(name: str) -> Callable[[Sequence[str] | None], int]:
    """The ``main(argv) -> exit code`` of subcommand ``name``."""
    module, _summary = COMMANDS[name]
    return importlib.import_module(module).main


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else EXIT_USAGE
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"{PROJECT}: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return EXIT_USAGE
    return command(name)(rest)
