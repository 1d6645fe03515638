"""Whether an EventBridge event pattern matches an event, judged as EventBridge documents it.

The subset this evaluator judges, each rule from the Amazon EventBridge User Guide:

- "Amazon EventBridge event patterns" (eb-event-patterns.html): a pattern has the event's nesting;
  "the event must contain all the field names listed in the event pattern"; fields the pattern does
  not name are ignored; values follow JSON (strings, numbers, ``true``, ``false``, ``null``);
  "for strings, EventBridge uses exact character-by-character matching without case-folding";
  "for numbers, EventBridge uses string representation" (300, 300.0 and 3.0e2 differ);
- "Arrays in event patterns" (eb-event-patterns-arrays.html): a field's values are an array that
  matches when any of them matches; an event value that is an array matches when the two intersect;
- "Matching null values and empty strings" (eb-event-patterns-null-values.html): ``[null]`` matches a
  null value, ``[""]`` an empty string, and the two are not interchangeable;
- "Content filtering in Amazon EventBridge event patterns" (eb-event-patterns-content-based-filtering.html,
  "Comparison operators for use in event patterns", eb-create-pattern-operators.html): ``prefix`` (string
  values), ``anything-but`` with a string, a number, a list of only strings or only numbers, or
  ``{"prefix": ...}``; ``exists`` ("only works on leaf nodes": an object-valued field does not exist
  for it); ``$or`` with an array of sub-patterns (the operators table's "Or" row).

Everything else (``suffix``, ``wildcard``, ``equals-ignore-case``, ``numeric``, ``cidr``, an
``anything-but`` of another form, an operator on an array-valued field where the guide does not say
what it does) is CANNOT: not judged, never a match. Three values combine as Kleene logic: a field
list (AND) is NO_MATCH if any field is, MATCH if all are; a value list or ``$or`` (OR) is MATCH if any
entry is, NO_MATCH if all are; CANNOT otherwise. So a pattern whose unjudged part cannot change the
answer is still judged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

OR = "$or"
OPERATORS = ("prefix", "anything-but", "exists")
"""The content-filter operators this evaluator judges."""
_MISSING: Any = object()


class EventPatternError(ValueError):
    """The pattern is not an event pattern (EventBridge would refuse it): what and where."""


class Outcome(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    CANNOT = "cannot_judge"
    """The pattern uses what this evaluator does not judge, and the answer depends on it."""


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    why: str = ""
    """For NO_MATCH, the field that does not match; for CANNOT, what was not judged."""

    @property
    def matched(self) -> bool:
        return self.outcome == Outcome.MATCH


MATCH = Verdict(Outcome.MATCH)


def parse_pattern(pattern: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """The pattern as a JSON object, checked for the shape EventBridge accepts (else ``EventPatternError``)."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError as error:
            raise EventPatternError(f"the pattern is not JSON: {error}") from None
    if not isinstance(pattern, Mapping) or not pattern:
        raise EventPatternError("an event pattern is a non-empty JSON object")
    _check_object(pattern, "")
    return pattern


def _check_object(pattern: Mapping[str, Any], where: str) -> None:
    for key, value in pattern.items():
        path = f"{where}.{key}" if where else key
        if key == OR and isinstance(value, list):
            if len(value) < 2 or not all(isinstance(v, Mapping) and v for v in value):
                raise EventPatternError(f"{path} must be an array of at least two non-empty objects")
            for entry in value:
                _check_object(entry, where)
        elif isinstance(value, Mapping):
            if not value:
                raise EventPatternError(f"{path} is an empty object")
            _check_object(value, path)
        elif isinstance(value, list):
            if not value:
                raise EventPatternError(f"{path} is an empty array: it would match nothing")
        else:
            raise EventPatternError(
                f"{path} must be an array of values or an object, not {json.dumps(value)}"
            )


def matches(pattern: str | Mapping[str, Any], event: Mapping[str, Any]) -> Verdict:
    """Whether ``pattern`` matches ``event`` (``EventPatternError`` for a pattern EventBridge would refuse)."""
    return _object(parse_pattern(pattern), event, "")


def _all(verdicts: Iterable[Verdict]) -> Verdict:
    cannot = None
    for verdict in verdicts:
        if verdict.outcome == Outcome.NO_MATCH:
            return verdict
        if verdict.outcome == Outcome.CANNOT and cannot is None:
            cannot = verdict
    return cannot or MATCH


def _any(verdicts: Iterable[Verdict], why_none: str) -> Verdict:
    cannot = None
    for verdict in verdicts:
        if verdict.outcome == Outcome.MATCH:
            return verdict
        if verdict.outcome == Outcome.CANNOT and cannot is None:
            cannot = verdict
    return cannot or Verdict(Outcome.NO_MATCH, why_none)


def _object(pattern: Mapping[str, Any], event: Any, where: str) -> Verdict:
    return _all(_field(key, value, event, where) for key, value in pattern.items())


def _field(key: str, expected: Any, event: Any, where: str) -> Verdict:
    if key == OR and isinstance(expected, list):
        return _any(
            (_object(branch, event, where) for branch in expected), f"no branch of {where or '$'}.$or"
        )
    path = f"{where}.{key}" if where else key
    value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
    if isinstance(expected, Mapping):
        # A nested pattern: a missing or non-object value has none of its fields.
        return _object(expected, value if isinstance(value, Mapping) else {}, path)
    return _any((_value(matcher, value, path) for matcher in expected), f"{path} is {_shown(value)}")


def _value(matcher: Any, value: Any, path: str) -> Verdict:
    if isinstance(matcher, Mapping):
        return _operator(matcher, value, path)
    if value is _MISSING:
        return Verdict(Outcome.NO_MATCH, f"{path} is missing")
    if isinstance(value, list):
        return _any((_exact(matcher, item, path) for item in value), f"no element of {path} matches")
    return _exact(matcher, value, path)


def _exact(expected: Any, value: Any, path: str) -> Verdict:
    if isinstance(expected, bool) or expected is None or isinstance(value, bool) or value is None:
        same = value is expected  # true, false and null are themselves, and never 1 or 0
    elif isinstance(expected, str) or isinstance(value, str):
        same = type(expected) is type(value) and expected == value
    elif isinstance(expected, int) and isinstance(value, int):
        same = expected == value  # integers have one text
    else:
        # A float's text is lost once JSON is parsed, and EventBridge compares numbers by their text.
        return Verdict(
            Outcome.CANNOT, f"{path}: a non-integer number is compared by its text, which is not kept"
        )
    return MATCH if same else Verdict(Outcome.NO_MATCH, f"{path} is {_shown(value)}, not {_shown(expected)}")


def _operator(matcher: Mapping[str, Any], value: Any, path: str) -> Verdict:
    if len(matcher) != 1:
        return Verdict(Outcome.CANNOT, f"{path}: a matcher object with {len(matcher)} keys")
    [(name, argument)] = matcher.items()
    if name not in OPERATORS:
        return Verdict(Outcome.CANNOT, f"{path}: the {name!r} operator is not judged")
    if name == "exists":
        if not isinstance(argument, bool):
            return Verdict(Outcome.CANNOT, f"{path}: exists takes true or false")
        # A leaf exists; an object-valued field does not (the guide's second example).
        present = value is not _MISSING and not isinstance(value, Mapping)
        if isinstance(value, list) and not value:
            return Verdict(Outcome.CANNOT, f"{path}: whether an empty array exists is not documented")
        return MATCH if present == argument else Verdict(Outcome.NO_MATCH, f"{path} {_presence(present)}")
    if value is _MISSING:
        return Verdict(Outcome.NO_MATCH, f"{path} is missing")
    if name == "prefix":
        if not isinstance(argument, str):
            return Verdict(Outcome.CANNOT, f"{path}: prefix with {_shown(argument)} is not judged")
        return _each(
            value, path, lambda v: isinstance(v, str) and v.startswith(argument), f"starts with {argument!r}"
        )
    return _anything_but(argument, value, path)


def _anything_but(argument: Any, value: Any, path: str) -> Verdict:
    if isinstance(value, list):
        return Verdict(Outcome.CANNOT, f"{path}: anything-but on an array value is not documented")
    if isinstance(argument, Mapping):
        prefix = argument.get("prefix") if len(argument) == 1 else None
        if not isinstance(prefix, str):
            return Verdict(Outcome.CANNOT, f"{path}: anything-but with {_shown(argument)} is not judged")
        if not isinstance(value, str):
            return Verdict(Outcome.CANNOT, f"{path}: anything-but prefix on a non-string value")
        ok = not value.startswith(prefix)
        return MATCH if ok else Verdict(Outcome.NO_MATCH, f"{path} starts with {prefix!r}")
    excluded = argument if isinstance(argument, list) else [argument]
    strings = all(isinstance(x, str) for x in excluded)
    numbers = all(isinstance(x, int) and not isinstance(x, bool) for x in excluded)
    if not excluded or not (strings or numbers):
        # The guide allows a list of only strings or only integers here (floats: compared by text).
        return Verdict(Outcome.CANNOT, f"{path}: anything-but with {_shown(argument)} is not judged")
    is_integer = isinstance(value, int) and not isinstance(value, bool)
    if (strings and not isinstance(value, str)) or (numbers and not is_integer):
        return Verdict(Outcome.CANNOT, f"{path}: anything-but of another type than {_shown(value)}")
    return MATCH if value not in excluded else Verdict(Outcome.NO_MATCH, f"{path} is {_shown(value)}")


def _each(value: Any, path: str, test: Any, what: str) -> Verdict:
    values = value if isinstance(value, list) else [value]
    if any(test(v) for v in values):
        return MATCH
    return Verdict(Outcome.NO_MATCH, f"{path} ({_shown(value)}) never {what}")


def _presence(present: bool) -> str:
    return "exists" if present else "does not exist (or is not a leaf)"


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "missing"
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."
