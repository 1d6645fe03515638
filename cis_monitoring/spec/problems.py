"""Config problems: one line each with its key path, and pydantic's errors turned into them.

A ``ConfigProblem`` is a key path and what is wrong there (the core's ``Problem`` is
another thing: a broken link of an alarm chain, with a code). ``ConfigError`` carries every
problem of one config together; it is an ``InputError``, so the CLI reports it as bad input.

pydantic says "Input should be a valid tuple"; a user who wrote ``controls: all``
needs to read "must be a list" and see the form that works. The translation is
generic: it walks the model to the failing field and uses the field's ``examples``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from cis_monitoring.core.errors import InputError


class ConfigProblem(NamedTuple):
    """What is wrong (``message``) at one key path of the config (``path``, e.g. ``accounts[0].name``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(InputError, ValueError):
    """Every problem found in a stack's config, reported together (sorted by key path, each once).

    ``lines`` are the headline and one ``  - <path>: <message>`` line per problem. A
    ``ValueError`` too, for callers that validate config as any other value.
    """

    def __init__(self, problems: Iterable[ConfigProblem], source: str = "stack config") -> None:
        self.problems = sorted(set(problems), key=_problem_sort_key)
        self.source = source
        super().__init__(
            [f"{len(self.problems)} problem(s) in {source}:", *(f"  - {p}" for p in self.problems)]
        )


def _problem_sort_key(problem: ConfigProblem) -> tuple[Any, ...]:
    # Numeric order for list indexes, so accounts[10] comes after accounts[2].
    parts = re.split(r"(\d+)", problem.path)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts), problem.message


def format_loc(loc: Iterable[str | int], prefix: str = "") -> str:
    """``accounts[0].regions[1].logGroup`` from pydantic's location tuple."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problems_from(error: ValidationError, model: type[BaseModel], prefix: str = "") -> list[ConfigProblem]:
    """One ConfigProblem per pydantic error of validating ``model``; paths start with ``prefix``."""
    problems = []
    items = error.errors()
    failed_locs = {tuple(item["loc"]) for item in items}
    for item in items:
        loc = tuple(item["loc"])
        if item["type"] == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in failed_locs
        ):
            continue  # pydantic's "too short" after its entries failed only repeats those failures
        problems.append(ConfigProblem(format_loc(loc, prefix), _message(item, loc, model)))
    return problems


def _message(item: Any, loc: tuple[str | int, ...], model: type[BaseModel]) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        message = "unknown key (typos are not ignored)"
        close = difflib.get_close_matches(str(loc[-1]), _siblings_of(model, loc), n=1)
        return message + (f"; did you mean {close[0]!r}?" if close else "")
    if kind == "missing":
        return "is required"
    if kind == "too_short" and item.get("ctx", {}).get("min_length") == 1:
        return "must list at least one entry"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list, not {_describe(item['input'])}{_forms(model, loc)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a map of keys and values, not {_describe(item['input'])}{_forms(model, loc)}"
    if kind == "string_type":
        return f"must be a string, not {_describe(item['input'])} (quote it in YAML)"
    return str(item["msg"]).removeprefix("Value error, ")


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list | tuple):
        return "a list"
    return "null" if value is None else type(value).__name__


def _forms(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    """The accepted forms of the field at ``loc``, from its ``examples``."""
    field = _field_at(model, loc)
    if field is None or not field.examples:
        return ""
    if isinstance(loc[-1], int):  # one entry of a list: show one entry of the example
        entry = field.examples[0][0] if isinstance(field.examples[0], list) else None
        return f"; write each entry as e.g. {json.dumps(entry)}" if isinstance(entry, dict) else ""
    key = str(loc[-1])
    shown = " or ".join(f"{key}: {json.dumps(example)}" for example in field.examples)
    if isinstance(field.examples[0], list):
        return f"; write e.g. {shown}, or one '- entry' per line below '{key}:'"
    return f"; write e.g. {shown}"


def _field_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> FieldInfo | None:
    """The pydantic field that ``loc`` (list indexes skipped) ends at, walking nested models."""
    current: type[BaseModel] | None = model
    field: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if current is None:
            return None
        field = next(
            (f for name, f in current.model_fields.items() if to_camel(name) == part or name == part), None
        )
        if field is None:
            return None
        current = model_in(field.annotation)
    return field


def _siblings_of(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The valid key names at the level of ``loc`` (for 'did you mean')."""
    parent = model if len([p for p in loc if not isinstance(p, int)]) <= 1 else None
    if parent is None:
        field = _field_at(model, loc[:-1])
        parent = model_in(field.annotation) if field is not None else None
    return [to_camel(n) for n in parent.model_fields] if parent is not None else []


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``tuple[RegionConfig, ...] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = model_in(arg)
        if found is not None:
            return found
    return None
