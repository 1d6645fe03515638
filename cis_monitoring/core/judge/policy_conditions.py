"""IAM ``Condition`` blocks, evaluated three-valued: True, False, or None (cannot tell).

A resource policy statement may depend on the request's context keys. The audit knows
some of them for the request it asks about (an SNS topic delivering to a queue sends
``aws:SourceArn`` = the topic's ARN); any other key is *unknown*, and a condition on an
unknown key is None, never guessed. A context value of ``None`` means "known to be
absent from the request", which IAM's rules decide (``...IfExists``, ``Null``, the
negated operators). Keys are case-insensitive, values are compared as IAM does.

Supported: the String, Arn and Bool operators, ``Null``, the ``IfExists`` suffix and the
``ForAnyValue:``/``ForAllValues:`` prefixes (context keys here are single-valued).
Numeric, Date, IpAddress and Binary operators on a present key are None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

Context = Mapping[str, str | None]
"""Known condition keys, lowercased: a value, or None for "absent from the request"."""

_NEGATED = {
    "stringnotequals",
    "stringnotequalsignorecase",
    "stringnotlike",
    "arnnotequals",
    "arnnotlike",
}
_POSITIVE = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "bool"}
_NOT_EVALUATED = (
    "numeric",
    "date",
    "ipaddress",
    "notipaddress",
    "binaryequals",
)


@dataclass(frozen=True)
class ConditionResult:
    value: bool | None
    """True: every condition holds; False: one does not; None: the audit cannot tell."""
    unknown: tuple[str, ...] = ()
    """Why it is None: ``Operator key`` of each condition that could not be evaluated."""


def all_of(values: Iterable[bool | None]) -> bool | None:
    """Three-valued AND: False wins, then None."""
    result: bool | None = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def any_of(values: Iterable[bool | None]) -> bool | None:
    """Three-valued OR: True wins, then None."""
    result: bool | None = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def not_(value: bool | None) -> bool | None:
    return None if value is None else not value


@cache
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards are only * and ?; fnmatch would also read [ ] as a character class.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_glob(pattern, ignore_case).match(value))


def arn_like(pattern: str, value: str) -> bool:
    """IAM's ArnLike: the six colon-separated parts match one by one (the last part may hold colons)."""
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return False
    return all(glob_match(w, a) for w, a in zip(wanted, actual, strict=True))


def _compare(base: str, wanted: str, actual: str) -> bool | None:
    if "${" in wanted:
        return None  # a policy variable (${aws:username}): its value is not known here
    if base in ("stringequals", "stringnotequals"):
        return wanted == actual
    if base in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return wanted.lower() == actual.lower()
    if base in ("stringlike", "stringnotlike"):
        return glob_match(wanted, actual)
    if base in ("arnequals", "arnlike", "arnnotequals", "arnnotlike"):
        return arn_like(wanted, actual)
    if base == "bool":
        return wanted.lower() == actual.lower()
    return None


def _as_strings(values: object) -> list[str]:
    items = values if isinstance(values, list) else [values]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in items]


def _one(operator: str, key: str, values: object, context: Context) -> bool | None:
    """One ``Operator: {key: values}`` entry."""
    name = operator.lower()
    prefix = ""
    for quantifier in ("foranyvalue:", "forallvalues:"):
        if name.startswith(quantifier):
            prefix, name = quantifier, name.removeprefix(quantifier)
    if_exists = name.endswith("ifexists")
    base = name.removesuffix("ifexists")
    lowered = key.lower()
    if lowered not in context:
        return None
    actual = context[lowered]
    wanted = _as_strings(values)
    if base == "null":
        absent_wanted = any(w.lower() == "true" for w in wanted)
        return (actual is None) == absent_wanted
    if actual is None:
        # IAM: a missing key fails a positive operator and passes a negated one; IfExists passes;
        # ForAllValues over an empty set is true, ForAnyValue false.
        if if_exists or prefix == "forallvalues:":
            return True
        if prefix == "foranyvalue:":
            return False
        if base in _NEGATED:
            return True
        if base in _POSITIVE or base.startswith(_NOT_EVALUATED):
            return False
        return None
    if base in _NEGATED:
        return not_(any_of(_compare(base, w, actual) for w in wanted))
    if base in _POSITIVE:
        return any_of(_compare(base, w, actual) for w in wanted)
    return None


def evaluate_conditions(condition: object, context: Context) -> ConditionResult:
    """Whether a statement's whole ``Condition`` block holds for a request with ``context``."""
    if condition is None:
        return ConditionResult(True)
    if not isinstance(condition, Mapping):
        return ConditionResult(None, ("Condition is not an object",))
    results: list[bool | None] = []
    unknown: list[str] = []
    for operator, entries in condition.items():
        if not isinstance(entries, Mapping):
            results.append(None)
            unknown.append(f"{operator} (not an object)")
            continue
        for key, values in entries.items():
            value = _one(str(operator), str(key), values, context)
            results.append(value)
            if value is None:
                unknown.append(f"{operator} {key}")
    value = all_of(results)
    return ConditionResult(value, tuple(unknown) if value is None else ())
