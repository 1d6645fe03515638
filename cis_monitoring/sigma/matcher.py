"""A small Sigma evaluator: does a rule's detection select one JSON log record?

pySigma parses, validates and converts rules into SIEM queries, but has no engine that runs a
rule over an event. This one runs the subset ``cis_monitoring.sigma.translate`` emits, as the
Sigma rules specification defines it, and refuses anything else (``UnsupportedSigma``) rather
than guess:

- a field is a dotted path into nested objects (``userIdentity.type``); a record value is
  compared as text when it is a string, as its JSON text when it is a number, and never when it
  is an object, an array, a boolean or null;
- a value is a Sigma string: ``*`` any run of characters, ``?`` one character, ``\\`` escapes
  (specification, "String Wildcard" and "Escaping"); matching is case-insensitive ("General");
- modifiers ``contains``, ``startswith``, ``endswith`` (wildcards around the value) and
  ``exists`` (presence only: "this check only verifies the presence of a field, not its value",
  modifiers appendix); a list of values is OR, a map's entries AND;
- the condition: identifiers, ``and``, ``or``, ``not``, brackets, ``1 of``/``all of`` a pattern
  or ``them``, with precedence or < and < not < x of < brackets.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MODIFIERS = ("contains", "startswith", "endswith", "exists")
_ABSENT = object()


class UnsupportedSigma(ValueError):
    """The rule uses Sigma this evaluator does not implement; it refuses instead of guessing."""


def selects(detection: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether the ``detection`` block (identifiers and ``condition``) selects ``record``."""
    condition = detection.get("condition")
    if not isinstance(condition, str):
        raise UnsupportedSigma("the condition must be one string (a list of conditions is not implemented)")
    identifiers = {name: body for name, body in detection.items() if name != "condition"}
    verdicts = {name: lambda body=body: _identifier(body, record) for name, body in identifiers.items()}
    return _Condition(condition, verdicts).parse()


# ---------------------------------------------------------------- search identifiers


def _identifier(body: Any, record: Mapping[str, Any]) -> bool:
    if isinstance(body, Mapping):
        return all(_entry(str(key), value, record) for key, value in body.items())
    if isinstance(body, list) and all(isinstance(item, Mapping) for item in body):
        return any(_identifier(item, record) for item in body)
    raise UnsupportedSigma(f"search identifier {body!r}: only maps and lists of maps are implemented")


def _entry(key: str, value: Any, record: Mapping[str, Any]) -> bool:
    field, *modifiers = key.split("|")
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown or len(modifiers) > 1:
        raise UnsupportedSigma(f"{key}: only one of the modifiers {', '.join(MODIFIERS)} is implemented")
    found = _lookup(record, field)
    if modifiers == ["exists"]:
        if not isinstance(value, bool):
            raise UnsupportedSigma(f"{key}: exists takes true or false")
        return (found is not _ABSENT) == value
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise UnsupportedSigma(f"{key}: only string values are implemented (got {value!r})")
    text = _text(found)
    if text is None:
        return False
    wrap = {"contains": "*{}*", "startswith": "{}*", "endswith": "*{}"}.get(
        modifiers[0] if modifiers else "", "{}"
    )
    return any(_sigma_pattern(wrap.format(v)).fullmatch(text) for v in values)


def _lookup(record: Mapping[str, Any], field: str) -> Any:
    node: Any = record
    for name in field.split("."):
        if not isinstance(node, Mapping) or name not in node:
            return _ABSENT
        node = node[name]
    return node


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return None


def _sigma_pattern(value: str) -> re.Pattern[str]:
    """A Sigma string as a regular expression: ``*``, ``?`` wildcards, ``\\`` escaping, any case."""
    parts, index = [], 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value) and value[index + 1] in "*?\\":
            parts.append(re.escape(value[index + 1]))
            index += 2
            continue
        parts.append({"*": ".*", "?": "."}.get(char, re.escape(char)))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


# ---------------------------------------------------------------- the condition

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_*]+)")


@dataclass
class _Condition:
    """Recursive descent over the condition; identifiers are evaluated lazily, once each."""

    text: str
    verdicts: Mapping[str, Callable[[], bool]]

    def __post_init__(self) -> None:
        self.tokens: list[str] = []
        position = 0
        while position < len(self.text.rstrip()):
            found = _TOKEN.match(self.text, position)
            if not found:
                raise UnsupportedSigma(f"condition {self.text!r}: cannot read from {self.text[position:]!r}")
            self.tokens.append(found.group(1))
            position = found.end()
        self.position = 0

    def parse(self) -> bool:
        result = self._or()
        if self.position != len(self.tokens):
            raise UnsupportedSigma(f"condition {self.text!r}: unexpected {self.tokens[self.position]!r}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.position].lower() if self.position < len(self.tokens) else None

    def _take(self) -> str:
        if self.position >= len(self.tokens):
            raise UnsupportedSigma(f"condition {self.text!r} ends too early")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _or(self) -> bool:
        results = [self._and()]
        while self._peek() == "or":
            self._take()
            results.append(self._and())
        return any(results)

    def _and(self) -> bool:
        results = [self._not()]
        while self._peek() == "and":
            self._take()
            results.append(self._not())
        return all(results)

    def _not(self) -> bool:
        if self._peek() == "not":
            self._take()
            return not self._not()
        return self._atom()

    def _atom(self) -> bool:
        token = self._take()
        if token == "(":
            result = self._or()
            if self._take() != ")":
                raise UnsupportedSigma(f"condition {self.text!r}: a bracket is not closed")
            return result
        if token in ("1", "all") and self._peek() == "of":
            self._take()
            names = self._names(self._take())
            results = [self.verdicts[name]() for name in names]
            return any(results) if token == "1" else all(results)
        if token not in self.verdicts:
            raise UnsupportedSigma(f"condition {self.text!r}: no search identifier {token!r}")
        return self.verdicts[token]()

    def _names(self, pattern: str) -> list[str]:
        if pattern == "them":  # every identifier not starting with "_" (specification, "Condition")
            names = [name for name in self.verdicts if not name.startswith("_")]
        else:
            names = [name for name in self.verdicts if fnmatch.fnmatchcase(name, pattern)]
        if not names:
            raise UnsupportedSigma(f"condition {self.text!r}: {pattern!r} names no search identifier")
        return names
