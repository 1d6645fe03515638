"""A CloudWatch Logs filter-pattern tree as a Sigma detection, or the reason it cannot be one.

The pattern is parsed by the core (``cis_monitoring.core.filter_pattern``) and its tree is
translated node by node, so the rule states the filter's own logic rather than a paraphrase:

- ``$.a.b = v``: the field ``a.b`` equals ``v``. A ``*`` at either end of ``v`` (the filter's
  only wildcards; an inner ``*`` is literal) becomes ``|startswith``, ``|endswith`` or
  ``|contains``; ``= *`` (any value) becomes ``|exists: true``. Sigma's own wildcards
  (``*``, ``?``) and ``\\`` in the text are escaped (Sigma rules specification, "Escaping").
- ``$.a != v``: the field is present and does not equal ``v``. The filter's ``!=`` is false on a
  missing field (``filter_pattern.eval_json``), while Sigma's ``not`` alone is true there, so the
  rule says ``a|exists: true`` too.
- ``$.a NOT EXISTS``: ``a|exists: false`` (the ``exists`` modifier checks presence only, like the
  filter; ``a: null`` is left to each SIEM by the specification, so it is not used).
- ``&&``, ``||`` and parentheses: the condition's ``and``, ``or`` and brackets; equalities on one
  field under ``||`` become one value list (Sigma ORs a list), and conditions on distinct fields
  under ``&&`` one map (Sigma ANDs a map).

Refused, with the reason (a wrong rule would be worse than none): numbers and numeric comparisons
(the filter compares numbers numerically and strings by text; Sigma leaves types to each SIEM),
``IS TRUE/FALSE/NULL``, ``%regex%`` (another dialect), array and wildcard selectors (``[0]``,
``[*]``, ``.*``), keys that are not plain names, the empty value, and term, space-delimited, regex
and empty patterns (they search the raw message, not fields).

One difference is by design: Sigma compares values case-insensitively (rules specification,
"General"), the filter case-sensitively. pySigma's Splunk and Elasticsearch backends reject the
``|cased`` modifier, so the rule keeps Sigma's default and says so; ``cis_monitoring.sigma.check``
shows on the samples that it is the only difference.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cis_monitoring.core.filter_pattern import (
    And,
    Compare,
    Is,
    Key,
    NotExists,
    NumberValue,
    Or,
    Pattern,
    Regex,
    StringValue,
)

FIELD_NAME = re.compile(r"[A-Za-z0-9_@-]+")
"""A key Sigma can name in a dotted field path (a ``.`` or ``|`` in a key would be read as syntax)."""
EXISTS = "exists"
CONTAINS, STARTSWITH, ENDSWITH = "contains", "startswith", "endswith"


class Untranslatable(Exception):
    """The pattern cannot be stated as a Sigma detection; the message says which part and why."""


@dataclass(frozen=True)
class Selection:
    """One search identifier: ``field|modifier`` -> a value or a list of values (ORed); entries ANDed."""

    entries: tuple[tuple[str, str | bool | tuple[str, ...]], ...]

    def keys(self) -> set[str]:
        return {key for key, _ in self.entries}


@dataclass(frozen=True)
class Not:
    item: Expression


@dataclass(frozen=True)
class AllOf:
    items: tuple[Expression, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Expression, ...]


Expression = Selection | Not | AllOf | AnyOf


@dataclass(frozen=True)
class Detection:
    """A Sigma ``detection`` block: named search identifiers and the condition over them."""

    selections: dict[str, dict[str, str | bool | list[str]]]
    condition: str

    def as_yaml_data(self) -> dict[str, object]:
        return {**self.selections, "condition": self.condition}


def translate(pattern: Pattern) -> Detection:
    """The Sigma detection that selects what ``pattern`` selects (up to letter case); ``Untranslatable``."""
    if pattern.kind != "json":
        raise Untranslatable(
            f"it is a {pattern.kind} pattern, which searches the raw message text; Sigma rules over "
            "CloudTrail fields are translated from JSON patterns ({ $.field = value }) only"
        )
    return _name(_simplify(_expression(pattern.body)))


# ---------------------------------------------------------------- the tree, node by node


def _expression(node: object) -> Expression:
    if isinstance(node, And):
        return AllOf(tuple(_expression(item) for item in node.items))
    if isinstance(node, Or):
        return AnyOf(tuple(_expression(item) for item in node.items))
    if isinstance(node, NotExists):
        return Selection(((f"{_field(node.selector.steps)}|{EXISTS}", False),))
    if isinstance(node, Is):
        raise Untranslatable(
            f"IS {node.literal} tests a JSON literal's type; Sigma leaves booleans and null to each SIEM "
            "(rules specification, 'Special Field Values')"
        )
    if isinstance(node, Compare):
        return _compare(node)
    raise Untranslatable(f"the pattern has a part this translation does not know: {node!r}")


def _compare(node: Compare) -> Expression:
    field = _field(node.selector.steps)
    value = node.value
    if isinstance(value, NumberValue):
        raise Untranslatable(
            f"{field} is compared with the number {value.text}; the filter compares numbers numerically "
            "and strings by text, and Sigma leaves value types to each SIEM"
        )
    if isinstance(value, Regex):
        raise Untranslatable(
            f"{field} is matched by the regular expression %{value.source}%; CloudWatch's regex dialect "
            "is not Sigma's (PCRE subset), so it is not translated"
        )
    if node.op not in ("=", "!="):
        raise Untranslatable(f"{field} {node.op} {value.text!r} is an ordering; Sigma's are for numbers only")
    equals = Selection((_equals(field, value),))
    if node.op == "=":
        return equals
    # The filter's != holds only where the field is present (a missing field makes it false).
    return AllOf((Selection(((f"{field}|{EXISTS}", True),)), Not(equals)))


def _field(steps: Sequence[object]) -> str:
    names = []
    for step in steps:
        if not isinstance(step, Key):
            raise Untranslatable(
                "the selector reaches into arrays or any key ([n], [*], .*); Sigma field names are plain "
                "dotted paths with no array semantics"
            )
        if not FIELD_NAME.fullmatch(step.name):
            raise Untranslatable(f"the key {step.name!r} is not a plain name a Sigma field path can hold")
        names.append(step.name)
    return ".".join(names)


def _equals(field: str, value: StringValue) -> tuple[str, str | bool]:
    text = value.text
    if text == "":
        raise Untranslatable(
            f"{field} is compared with the empty string; Sigma leaves '' to each SIEM (rules specification, "
            "'Special Field Values')"
        )
    # The filter's wildcards: * at either end only (filter_pattern.values.wildcard_equals).
    leading = text.startswith("*")
    trailing = text.endswith("*") and len(text) > 1
    core = text[1 if leading else 0 : len(text) - 1 if trailing else len(text)]
    if text == "*" or core == "":
        return f"{field}|{EXISTS}", True
    modifier = {(True, True): CONTAINS, (True, False): ENDSWITH, (False, True): STARTSWITH}.get(
        (leading, trailing)
    )
    return (f"{field}|{modifier}" if modifier else field), escape(core)


def escape(text: str) -> str:
    """``text`` as a plain Sigma string: its wildcards and backslashes escaped."""
    return re.sub(r"([\\*?])", r"\\\1", text)


# ---------------------------------------------------------------- the idiomatic shape


def _simplify(expression: Expression) -> Expression:
    if isinstance(expression, Not):
        return Not(_simplify(expression.item))
    if isinstance(expression, Selection):
        return expression
    kind = type(expression)
    items: list[Expression] = []
    for item in (_simplify(i) for i in expression.items):
        items.extend(item.items if isinstance(item, kind) else (item,))  # (a && b) && c is a && b && c
    merged = _merge_all(items) if kind is AllOf else _merge_any(items)
    return merged[0] if len(merged) == 1 else kind(tuple(merged))


def _merge_all(items: list[Expression]) -> list[Expression]:
    """Selections on distinct keys become one map (Sigma ANDs a map's entries)."""
    merged: list[Expression] = []
    for item in items:
        target = next(
            (
                i
                for i, m in enumerate(merged)
                if isinstance(m, Selection) and isinstance(item, Selection) and not m.keys() & item.keys()
            ),
            None,
        )
        if target is None:
            merged.append(item)
        else:
            merged[target] = Selection(merged[target].entries + item.entries)  # type: ignore[union-attr]
    return merged


def _merge_any(items: list[Expression]) -> list[Expression]:
    """One-entry selections on the same key become one value list (Sigma ORs a list)."""
    merged: list[Expression] = []
    for item in items:
        key = _single_value_key(item)
        target = next((i for i, m in enumerate(merged) if key and _single_value_key(m) == key), None)
        if target is None:
            merged.append(item)
            continue
        (_, old), (_, new) = merged[target].entries[0], item.entries[0]  # type: ignore[union-attr]
        values = tuple(dict.fromkeys(_as_tuple(old) + _as_tuple(new)))
        merged[target] = Selection(((key, values),))
    return merged


def _single_value_key(item: Expression) -> str | None:
    if isinstance(item, Selection) and len(item.entries) == 1:
        key, _ = item.entries[0]
        return None if key.endswith(f"|{EXISTS}") else key
    return None


def _as_tuple(value: object) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (str(value),)


# ---------------------------------------------------------------- names and the condition


def _name(expression: Expression) -> Detection:
    selections: dict[str, dict[str, str | bool | list[str]]] = {}
    if isinstance(expression, AnyOf) and all(isinstance(i, Selection) for i in expression.items):
        # Only alternatives: SigmaHQ's idiom, one identifier each and "1 of selection_*".
        for index, item in enumerate(expression.items, 1):
            selections[f"selection_{index}"] = _map(item)  # type: ignore[arg-type]
        return Detection(selections, "1 of selection_*")
    everything = list(_selections(expression, negated=False))
    totals = Counter("filter" if negated else "selection" for _, negated in everything)
    seen: Counter[str] = Counter()
    names: dict[int, str] = {}
    for selection, negated in everything:
        role = "filter" if negated else "selection"
        seen[role] += 1
        name = role if totals[role] == 1 else f"{role}_{seen[role]}"
        names[id(selection)] = name
        selections[name] = _map(selection)
    return Detection(selections, _condition(expression, names))


def _selections(expression: Expression, negated: bool) -> Iterator[tuple[Selection, bool]]:
    if isinstance(expression, Selection):
        yield expression, negated
    elif isinstance(expression, Not):
        yield from _selections(expression.item, True)
    else:
        for item in expression.items:
            yield from _selections(item, negated)


def _map(selection: Selection) -> dict[str, str | bool | list[str]]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in selection.entries}


def _condition(expression: Expression, names: dict[int, str]) -> str:
    """Sigma's precedence is or < and < not; brackets where a looser operator sits in a tighter one."""
    if isinstance(expression, Selection):
        return names[id(expression)]
    if isinstance(expression, Not):
        inner = _condition(expression.item, names)
        return f"not {inner}" if isinstance(expression.item, Selection) else f"not ({inner})"
    if isinstance(expression, AllOf):
        return " and ".join(
            f"({_condition(i, names)})" if isinstance(i, AnyOf) else _condition(i, names)
            for i in expression.items
        )
    # and binds tighter than or already; the brackets are for the reader of "a or (b and not c)".
    return " or ".join(
        f"({_condition(i, names)})" if isinstance(i, AllOf) else _condition(i, names)
        for i in expression.items
    )
