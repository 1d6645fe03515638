"""``cis-monitoring <command>``: one entry point, and the one place that maps outcomes to exit codes.

Every subcommand module has ``main(argv) -> Status``: the worst status of what it judged
(``Status.PASS`` for a command that judges nothing and succeeded). It raises the errors of
``cis_monitoring.core.errors`` for everything else, and lets Ctrl-C through. Here, once:

    0    every pair PASS (or the command succeeded)
    1    at least one FAIL (not compliant; for shards: an account claimed twice or missed)
    2    nothing could be audited: usage, config or input error, no caller credentials, an
         unreachable endpoint, an opt-in call AWS denied
    3    no FAIL, but some pairs ERROR (a role that cannot be assumed, throttling that outlasted
         retries): compliance could not be decided everywhere
    130  interrupted (Ctrl-C); one line says what was left half-done

Subcommands are imported on use, so a broken optional dependency of one never stops another.
Nothing reaches the user as a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import TextIO

from cis_monitoring import __version__
from cis_monitoring.core.errors import CannotLookError, CisMonitoringError, InputError, Interrupted
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status


class ExitCode(IntEnum):
    PASS = 0
    FAIL = 1
    CANNOT_AUDIT = 2
    PARTIAL = 3
    INTERRUPTED = 130


EXIT_CODES_HELP = (
    "Exit codes: 0 all PASS; 1 a FAIL (not compliant); 2 nothing could be audited (usage or config"
    " error, no credentials, unreachable endpoint, a denied opt-in call); 3 no FAIL but some ERROR"
    " (could not decide everywhere); 130 interrupted."
)
"""For every subcommand's ``--help`` epilog (``epilog`` adds what FAIL and ERROR mean for it)."""


def epilog(fail: str, error: str | None = None) -> str:
    """A subcommand's ``--help`` epilog: the exit codes, and what 1 (FAIL) and 3 (ERROR) mean for it."""
    text = f"{EXIT_CODES_HELP} Here, 1 (FAIL) means: {fail}."
    return text + (f" 3 (ERROR) means: {error}." if error else "")


COMMANDS: dict[str, tuple[str, str]] = {
    "audit": (
        "cis_monitoring.audit.cli",
        "read-only CIS check of deployed accounts: PASS / FAIL / ERROR per account and Region",
    ),
    "discover": (
        "cis_monitoring.rollout.discover.cli",
        "find the organization's accounts, trails and log groups; write stack config",
    ),
    "shards": (
        "cis_monitoring.rollout.shards",
        "check that shard stacks claim disjoint (and, with --complete, all) accounts",
    ),
    "pack-config": (
        "cis_monitoring.rollout.pack_config",
        "derive the policy pack's topology config (trails, required targets) from a stack",
    ),
    "report": (
        "cis_monitoring.report.cli",
        "render a findings file (audit --format json) again as OCSF, ASFF, CSV, JUnit, JSON or HTML",
    ),
    "rollup-report": (
        "cis_monitoring.report.rollup",
        "one HTML report of the organization from the rollup stack's outputs; audited findings win",
    ),
    "sigma": (
        "cis_monitoring.sigma.command",
        "write each catalog control as a Sigma rule (aws/cloudtrail) for SIEMs",
    ),
}


def exit_code(outcome: Status | str) -> ExitCode:
    """The exit code of a command's worst status."""
    status = Status(outcome)
    if status == Status.FAIL:
        return ExitCode.FAIL
    if status == Status.ERROR:
        return ExitCode.PARTIAL
    return ExitCode.PASS


def error_exit_code(error: CisMonitoringError) -> ExitCode:
    if isinstance(error, Interrupted):
        return ExitCode.INTERRUPTED
    if isinstance(error, InputError | CannotLookError):
        return ExitCode.CANNOT_AUDIT
    return ExitCode.CANNOT_AUDIT


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROJECT} [--version] <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_module, summary) in COMMANDS.items()]
    lines += ["", f"'{PROJECT} <command> --help' describes a command and its options.", EXIT_CODES_HELP]
    return "\n".join(lines)


def command(name: str) -> Callable[[Sequence[str] | None], Status]:
    """The ``main(argv) -> Status`` of subcommand ``name``."""
    module, _summary = COMMANDS[name]
    return importlib.import_module(module).main


def _report(lines: Sequence[str], err: TextIO) -> None:
    print("\n".join(f"error: {line}" if i == 0 else line for i, line in enumerate(lines)), file=err)


def run(name: str, argv: Sequence[str] | None = None) -> int:
    """Run subcommand ``name`` and map what it returned or raised to an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    return outcome(name, lambda: command(name)(args))


def outcome(name: str, call: Callable[[], Status], err: TextIO | None = None) -> int:
    """The exit code of ``call`` (a subcommand's main), its errors written to ``err`` (stderr)."""
    err = err or sys.stderr
    try:
        return int(exit_code(call()))
    except Interrupted as interrupted:
        print("\n".join(interrupted.lines), file=err)
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        print(f"{PROJECT} {name}: interrupted", file=err)
        return int(ExitCode.INTERRUPTED)
    except CisMonitoringError as error:
        _report(error.lines, err)
        return int(error_exit_code(error))
    except SystemExit as exit_:  # argparse: --help (0) and bad usage (2, it printed why)
        return exit_.code if isinstance(exit_.code, int) else int(ExitCode.CANNOT_AUDIT)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if args and args[0] in ("-V", "--version"):
        print(f"{PROJECT} {__version__}")
        return 0
    if not args:
        print(f"{PROJECT}: give a command\n\n{_usage()}", file=sys.stderr)
        return int(ExitCode.CANNOT_AUDIT)
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"{PROJECT}: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return int(ExitCode.CANNOT_AUDIT)
    return run(name, rest)
