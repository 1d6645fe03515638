"""How one pattern value compares with one event value (string, number or delimited field)."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from .nodes import NUMBER_RE, CompareOp, NumberValue, Regex, StringValue, Value

_ORDER: dict[CompareOp, Callable[[Decimal, Decimal], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def wildcard_equals(literal: str, text: str) -> bool:
    """Whole-value, case-sensitive equality; ``*`` is a wildcard only at either end (inner ``*`` is literal)."""
    if literal == "*":
        return True  # "any value present"
    leading, trailing = literal.startswith("*"), literal.endswith("*")
    if leading and trailing:
        return literal[1:-1] in text
    if leading:
        return text.endswith(literal[1:])
    if trailing:
        return text.startswith(literal[:-1])
    return text == literal


def compare_string(op: CompareOp, value: Value, text: str) -> bool:
    """Compare against a JSON string. A bare number compares its literal text (``= 123456789012``
    against the string account id works); ordering against a string is always false."""
    if isinstance(value, Regex):
        found = value.compiled.search(text) is not None
    elif isinstance(value, StringValue):
        found = wildcard_equals(value.text, text)
    elif op in ("=", "!="):
        found = value.text == text
    else:
        return False
    return found if op == "=" else not found


def compare_number(op: CompareOp, value: Value, number: int | float) -> bool:
    """Compare against a JSON number: numerically for number literals, by JSON text for strings;
    regexes only apply to strings."""
    if isinstance(value, Regex):
        return False
    if isinstance(value, StringValue):
        return compare_string(op, value, json.dumps(number))
    return _numeric(op, value, _to_decimal(number))


def compare_field(op: CompareOp, value: Value, text: str) -> bool:
    """Compare against a space-delimited field: everything is text, so numeric-looking fields compare
    numerically with number literals."""
    if isinstance(value, NumberValue) and NUMBER_RE.fullmatch(text):
        return _numeric(op, value, Decimal(text))
    return compare_string(op, value, text)


def _to_decimal(number: int | float) -> Decimal:
    # repr keeps 0.1 as 0.1 (Decimal(0.1) would expose the binary expansion).
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


def _numeric(op: CompareOp, value: NumberValue, actual: Decimal) -> bool:
    try:
        return _ORDER[op](actual, value.value)
    except InvalidOperation:  # NaN in the event: unordered, so only != holds
        return op == "!="
