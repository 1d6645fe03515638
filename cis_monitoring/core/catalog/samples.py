"""Sample records of a control: what its pattern must match, must not match, and near misses.

A samples file sits beside its entry (``<name>.samples.json``)::

    {"control": "4.5", "comment": "...",
     "target":    [{"label": "...", "record": {...CloudTrail event...}}, ...],
     "unrelated": [...],
     "probes":    [...]}          (optional: hypothetical near-miss events)

``target`` records are the events the control is about (each one, succeeded and denied,
from several principals and regions); ``unrelated`` and ``probes`` records must not match.
A control that names its events (``eventNames``) also gets derived probes: each target
name with a prefix or suffix, or in another case (what a ``CreateTrail*`` wildcard would
also catch). A control without event names (root usage) is judged by its own records only.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from .errors import CatalogError, ProblemLines

PACKAGED = ""
"""The ``origin`` of the entries shipped in ``cis_monitoring/core/catalog/controls``."""
SAMPLES_SUFFIX = ".samples.json"
_KEYS = {"control", "comment", "target", "unrelated", "probes"}


@dataclass(frozen=True)
class SampleRecord:
    """A CloudTrail management event as CloudWatch Logs receives it (one JSON object)."""

    label: str
    record: dict[str, Any]

    @property
    def event_name(self) -> str:
        return str(self.record.get("eventName", ""))

    @property
    def message(self) -> str:
        return json.dumps(self.record, separators=(",", ":"))


@dataclass(frozen=True)
class Samples:
    target: tuple[SampleRecord, ...]
    unrelated: tuple[SampleRecord, ...]
    probes: tuple[SampleRecord, ...] = ()
    """Explicit near-miss records from the file (derived event-name probes are not here)."""


def source_dir(origin: str) -> Traversable:
    """Where an entry's files are: the packaged directory (importlib.resources) or an extension directory."""
    if origin == PACKAGED:
        # importlib.resources, not __file__: works from a wheel, a zip and the pack's vendored copy.
        return resources.files(__package__).joinpath("controls")
    return Path(origin)


def display_name(origin: str, name: str) -> str:
    return f"cis_monitoring/core/catalog/controls/{name}" if origin == PACKAGED else str(Path(origin) / name)


def read_json(origin: str, name: str, problems: ProblemLines) -> Any:
    """The parsed file, or None with the reason added to ``problems``."""
    try:
        text = source_dir(origin).joinpath(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.add("", f"cannot be read: {error}")
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        problems.add("", f"is not valid JSON: {error}")
        return None


@cache
def read_samples(origin: str, name: str, control_id: str) -> tuple[Samples | None, tuple[str, ...]]:
    """The samples file ``name`` of control ``control_id``, parsed and checked (cached per file)."""
    problems = ProblemLines(display_name(origin, name))
    data = read_json(origin, name, problems)
    samples = None if data is None else _parse(data, control_id, problems)
    return (None if problems else samples), tuple(problems.lines)


def samples_of(origin: str, name: str, control_id: str) -> Samples:
    samples, problems = read_samples(origin, name, control_id)
    if samples is None:
        raise CatalogError(problems or [f"{display_name(origin, name)}: control {control_id} has no samples"])
    return samples


def _parse(data: Any, control_id: str, problems: ProblemLines) -> Samples | None:
    if not isinstance(data, dict):
        problems.add("", f"must be a JSON object with keys target and unrelated, not {type(data).__name__}")
        return None
    for key in sorted(set(data) - _KEYS):
        problems.add(key, f"unknown key (known keys: {', '.join(sorted(_KEYS))})")
    if data.get("control") != control_id:
        problems.add(
            "control", f"must be {control_id!r}, the entry's controlId (got {data.get('control')!r})"
        )
    if "comment" in data and not isinstance(data["comment"], str):
        problems.add("comment", "must be a string")
    labels: set[str] = set()
    target = _records(data, "target", problems, labels, required=True)
    unrelated = _records(data, "unrelated", problems, labels, required=True)
    probes = _records(data, "probes", problems, labels, required=False)
    if "target" in data and isinstance(data["target"], list) and not data["target"]:
        problems.add("target", "must list at least one record the control's pattern has to match")
    return Samples(target, unrelated, probes)


def _records(
    data: dict[str, Any], key: str, problems: ProblemLines, labels: set[str], *, required: bool
) -> tuple[SampleRecord, ...]:
    if key not in data:
        if required:
            problems.add(key, "is missing (a list of {label, record} objects)")
        return ()
    items = data[key]
    if not isinstance(items, list):
        problems.add(key, f"must be a list of {{label, record}} objects, not {type(items).__name__}")
        return ()
    records = []
    for index, item in enumerate(items):
        path = f"{key}[{index}]"
        if not isinstance(item, dict) or set(item) != {"label", "record"}:
            problems.add(path, "must be an object with exactly the keys label and record")
            continue
        label, record = item["label"], item["record"]
        if not isinstance(label, str) or not label.strip():
            problems.add(f"{path}.label", "must be a non-empty string")
            continue
        if label in labels:
            problems.add(f"{path}.label", f"{label!r} is used twice (labels name records in verdicts)")
        labels.add(label)
        if not isinstance(record, dict):
            problems.add(f"{path}.record", "must be a JSON object (one CloudTrail event)")
            continue
        records.append(SampleRecord(label, record))
    return tuple(records)


def derived_probes(event_names: Sequence[str], target: Sequence[SampleRecord]) -> tuple[SampleRecord, ...]:
    """Hypothetical events whose names merely extend or re-case a target name."""
    probes = []
    for name in event_names:
        template = next(
            (s.record for s in target if s.event_name == name), target[0].record if target else {}
        )
        for variant in (f"{name}X", f"X{name}", name.lower(), name.upper()):
            record = copy.deepcopy(template)
            record["eventName"] = variant
            probes.append(SampleRecord(f"probe: hypothetical event {variant!r}", record))
    return tuple(probes)


def clear_cache() -> None:
    read_samples.cache_clear()
