"""The one error hierarchy: every error the tool reports to a person, never as a traceback.

Two kinds, because CI must tell them apart from findings (``cis_monitoring.cli`` maps them
to exit codes, once):

- ``InputError``: the command line, a stack file, the config, the catalog or an input file
  is wrong. Nothing was changed or audited; every problem is listed together.
- ``CannotLookError``: the input is fine, but the tool could not look: no caller credentials,
  an unreachable endpoint, an opt-in call that AWS denied.

A finding about an account (FAIL) or a pair that could not be read (ERROR) is a result, not
an error: a command returns the worst ``Status`` of its results, and the CLI maps that too.
``Interrupted`` is Ctrl-C, with what the command left half-done.
"""

from __future__ import annotations

from collections.abc import Sequence


class CisMonitoringError(Exception):
    """Base of every error shown to a user: ``lines`` go to stderr, the first prefixed ``error:``."""

    def __init__(self, lines: Sequence[str] | str) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class InputError(CisMonitoringError):
    """Bad usage or bad input (flags, stack file, config, catalog, inventory, findings file)."""


class UsageError(InputError):
    """Bad command-line arguments; each line names its flag."""


class CannotLookError(CisMonitoringError):
    """Nothing could be audited: no credentials, an unreachable endpoint, a denied opt-in call."""


class Interrupted(CisMonitoringError):
    """Ctrl-C: ``lines`` say what was left half-done (e.g. alarms a drill left in ALARM)."""
