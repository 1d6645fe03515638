"""Find the catalog's entries, check them together, and serve them by id and by metric.

Entries come from the packaged directory ``cis_monitoring/core/catalog/controls`` (read through
importlib.resources) and, as an extension point for an organization's own controls,
from every directory named in ``CIS_MONITORING_EXTRA_CONTROLS`` (``os.pathsep``-separated).
In each directory, every ``*.json`` file except ``*.samples.json`` is one entry.
Together, entries must have distinct ids, metrics and slugs, and at least one must be
``default: true``.

Everything is read once per process. ``reload()`` reads again (after the variable
changed, e.g. in a test); ``CONTROLS`` is a live view, so modules that imported it see
the new entries.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import model, samples
from .entry import parse_entry
from .errors import CatalogError, ProblemLines
from .model import Control
from .samples import PACKAGED, SAMPLES_SUFFIX, display_name, read_json, source_dir

EXTRA_CONTROLS_ENV = "CIS_MONITORING_EXTRA_CONTROLS"
ALL_CONTROLS = "all"
"""Stands for every control of the catalog: a stack's and a pack's ``controls``, the audit's ``--control``."""


@dataclass(frozen=True)
class Catalog:
    controls: dict[str, Control]
    by_metric: dict[tuple[str, str], Control]

    @property
    def default_ids(self) -> tuple[str, ...]:
        return tuple(c.control_id for c in self.controls.values() if c.default)


def natural_key(control_id: str) -> tuple[tuple[int, int | str], ...]:
    """Sort 4.2 before 4.10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", control_id) if p)


def extension_dirs(environ: Mapping[str, str]) -> list[str]:
    return [part for part in environ.get(EXTRA_CONTROLS_ENV, "").split(os.pathsep) if part.strip()]


def load(environ: Mapping[str, str] | None = None) -> Catalog:
    """Read and check every entry; raises CatalogError listing every problem."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    found: list[tuple[str, Control]] = []
    origins = [PACKAGED]
    for directory in extension_dirs(environ):
        path = Path(directory).expanduser()
        if not path.is_dir():
            problems.append(f"{EXTRA_CONTROLS_ENV}: {directory!r} is not a directory")
            continue
        origins.append(str(path.resolve()))
    for origin in origins:
        names = sorted(
            entry.name
            for entry in source_dir(origin).iterdir()
            if entry.name.endswith(".json") and not entry.name.endswith(SAMPLES_SUFFIX) and entry.is_file()
        )
        if not names:
            problems.append(
                f"{display_name(origin, '')}: has no control entry (*.json besides *{SAMPLES_SUFFIX})"
            )
        for name in names:
            where = ProblemLines(display_name(origin, name))
            data = read_json(origin, name, where)
            control = None if where else parse_entry(data, origin, where)
            problems.extend(where.lines)
            if control is not None:
                found.append((display_name(origin, name), control))
    problems.extend(_clashes(found))
    controls = {c.control_id: c for _where, c in sorted(found, key=lambda f: natural_key(f[1].control_id))}
    if found and not any(c.default for c in controls.values()):
        problems.append(
            "no control entry has default: true (stacks and packs that name no controls get those)"
        )
    if problems:
        raise CatalogError(problems)
    return Catalog(controls, {(c.namespace, c.metric_name): c for c in controls.values()})


def _clashes(found: list[tuple[str, Control]]) -> list[str]:
    problems = []
    for what, key in (
        ("controlId", lambda c: c.control_id),
        ("metric", lambda c: f"{c.namespace}/{c.metric_name}"),
        ("slug", lambda c: c.slug),
    ):
        seen: dict[str, str] = {}
        for where, control in found:
            value = key(control)
            if value in seen:
                problems.append(f"{where}: {what}: {value!r} is also used by {seen[value]}")
            else:
                seen[value] = where
    return problems


_current: Catalog | None = None
_last_read: Catalog | None = None


def current() -> Catalog:
    """The catalog, read on first use.

    An entry that did not change since the last read keeps its ``Control`` object, so names
    bound earlier (``from cis_monitoring.core.catalog import CIS_4_5``) stay the control ``CONTROLS`` serves.
    """
    global _current, _last_read
    if _current is None:
        fresh = load()
        before = _last_read.controls if _last_read else {}
        kept = {cid: before[cid] if before.get(cid) == c else c for cid, c in fresh.controls.items()}
        _current = _last_read = Catalog(kept, {(c.namespace, c.metric_name): c for c in kept.values()})
    return _current


def reload() -> Catalog:
    """Forget what was read (entries, samples, probes) and read the catalog again."""
    global _current
    samples.clear_cache()
    model.clear_cache()
    _current = None
    return current()


class ControlsView(Mapping[str, Control]):
    """``CONTROLS``: every control by id, always the current catalog (see ``reload``)."""

    def __getitem__(self, control_id: str) -> Control:
        return current().controls[control_id]

    def __iter__(self) -> Iterator[str]:
        return iter(current().controls)

    def __len__(self) -> int:
        return len(current().controls)

    def __repr__(self) -> str:
        return f"CONTROLS({', '.join(self)})"


def select(value: str | Sequence[str]) -> tuple[str, ...]:
    """The control ids ``value`` selects: ``all`` (every control, in benchmark order) or distinct catalog ids.

    A list keeps its order. ValueError says what is wrong and what is accepted, every problem of
    the list at once; it names neither key nor flag (the caller does: ``controls``, ``--control``).
    """
    known = current().controls
    if value == ALL_CONTROLS:
        return tuple(known)
    if isinstance(value, str):
        raise ValueError(
            f"must be {ALL_CONTROLS} or a list of control ids, not the string {value!r}; the catalog has"
            f" {', '.join(known)}"
        )
    if not value:
        raise ValueError(
            f"list at least one control id, or write {ALL_CONTROLS} (every control of the catalog)"
        )
    problems = []
    if ALL_CONTROLS in value:
        problems.append(f"{ALL_CONTROLS!r} stands for every control: write it alone, not in a list")
    unknown = [c for c in dict.fromkeys(value) if c not in known and c != ALL_CONTROLS]
    if unknown:
        problems.append(
            f"unknown control(s) {', '.join(unknown)}; the catalog has {', '.join(known)}"
            f" (or write {ALL_CONTROLS} for every one)"
        )
    twice = [c for c in dict.fromkeys(value) if list(value).count(c) > 1]
    if twice:
        verb = "is" if len(twice) == 1 else "are"
        problems.append(f"{', '.join(twice)} {verb} listed twice; list each control once")
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(value)
