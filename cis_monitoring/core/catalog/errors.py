"""The one error the catalog raises: every problem of every entry, each with its file and key path."""

from __future__ import annotations

from collections.abc import Sequence

from cis_monitoring.core.errors import InputError


class CatalogError(InputError, ValueError):
    """A control entry (or its samples, or the set of entries) is invalid.

    ``problems`` holds one line per problem, ``"<file>: <key path>: <what is wrong>"``;
    all of them are collected before raising, so one run shows everything to fix.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the control catalog:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__(lines)


class ProblemLines:
    """Collects ``where: path: message`` lines while an entry is checked."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.lines.append(f"{self.where}: {path}: {message}" if path else f"{self.where}: {message}")

    def __bool__(self) -> bool:
        return bool(self.lines)
