"""``cis-monitoring <command>``: dispatch to the audit and the roll-out tools.

Each subcommand owns its arguments, ``--help`` and exit codes; this module only picks
one, so ``cis-monitoring audit ...`` behaves exactly like ``python -m cis_tools.audit ...``.
Subcommands are imported on use, so a broken optional dependency of one never stops another.

Exit codes (every subcommand): 0 success or all PASS, 1 findings (FAIL/ERROR, claimed
twice, ...), 2 bad usage or bad input (message on stderr, never a traceback), also when
the control catalog (e.g. an entry in ``CIS_MONITORING_EXTRA_CONTROLS``) is invalid.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from cis_monitoring.core.catalog.errors import CatalogError
from cis_monitoring.core.project import PROJECT

COMMANDS: dict[str, tuple[str, str]] = {
    "audit": (
        "cis_monitoring.audit.cli",
        "read-only CIS check of deployed accounts: PASS / FAIL / ERROR per target",
    ),
    "discover": (
        "cis_monitoring.rollout.discover",
        "find the organization's accounts, trails and log groups; write stack config",
    ),
    "shards": (
        "cis_monitoring.rollout.shards",
        "check that shard stacks claim disjoint (and, with --complete, all) accounts",
    ),
}
EXIT_USAGE = 2


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROJECT} <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_module, summary) in COMMANDS.items()]
    lines += [
        "",
        f"'{PROJECT} <command> --help' describes a command, its options and its exit codes.",
        "Exit codes: 0 success (all PASS); 1 findings; 2 bad usage or bad input.",
    ]
    return "\n".join(lines)


def command(name: str) -> Callable[[Sequence[str] | None], int]:
    """The ``main(argv) -> exit code`` of subcommand ``name``."""
    module, _summary = COMMANDS[name]
    return importlib.import_module(module).main


def run(name: str, argv: Sequence[str] | None = None) -> int:
    """Run subcommand ``name``; a bad catalog or an argparse exit becomes an exit code, not a traceback."""
    try:
        return command(name)(list(sys.argv[1:] if argv is None else argv))
    except CatalogError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exit_:  # a subcommand's argparse exits on --help (0) and bad usage (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if not args:
        print(f"{PROJECT}: give a command\n\n{_usage()}", file=sys.stderr)
        return EXIT_USAGE
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"{PROJECT}: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return EXIT_USAGE
    return run(name, rest)
