"""Parser for space-delimited patterns: ``[ip, user, ..., status_code = 4* || status_code = 5*, bytes]``."""

from __future__ import annotations

import string

from .cursor import Cursor
from .nodes import CompareOp, Delimited, Field, FieldTest, Rest

_NAME_CHARS = string.ascii_letters + string.digits + "_"
_BARE_STOP = ',[]"&|=!<>%()'
_OPERATORS: tuple[CompareOp, ...] = ("!=", "<=", ">=", "=", "<", ">")


def parse_delimited(cur: Cursor) -> Delimited:
    """Parse from the opening ``[`` to the end of the text."""
    cur.pos += 1
    fields: list[Field | Rest] = []
    rest_seen = False
    while True:
        cur.skip_ws()
        if cur.startswith("..."):
            if rest_seen:
                raise cur.error("only one '...' is supported")
            rest_seen = True
            cur.pos += 3
            fields.append(Rest())
        else:
            fields.append(_field(cur))
        cur.skip_ws()
        if cur.peek() == ",":
            cur.pos += 1
        elif cur.peek() == "]":
            cur.pos += 1
            break
        else:
            raise cur.error("expected ',' or ']'")
    cur.skip_ws()
    if not cur.at_end():
        raise cur.error("unexpected text after the closing ']'")
    return Delimited(tuple(fields))


def _field(cur: Cursor) -> Field:
    name = _name(cur)
    cur.skip_ws()
    if not cur.peek() or cur.peek() not in "=!<>":
        return Field(name)
    groups: list[list[FieldTest]] = [[_test(cur)]]
    while True:
        cur.skip_ws()
        if cur.startswith("&&"):
            cur.pos += 2
            groups[-1].append(_same_field_test(cur, name))
        elif cur.startswith("||"):
            cur.pos += 2
            groups.append([_same_field_test(cur, name)])
        else:
            return Field(name, tuple(tuple(group) for group in groups))


def _name(cur: Cursor) -> str:
    name = cur.read_while(_NAME_CHARS)
    if not name:
        raise cur.error("expected a field name or '...'")
    return name


def _same_field_test(cur: Cursor, name: str) -> FieldTest:
    # Cross-field conditions in one slot are rejected by the service (reference §6 AMBIGUOUS b).
    cur.skip_ws()
    start = cur.pos
    other = _name(cur)
    if other != name:
        raise cur.error(f"conditions in field '{name}' may only test '{name}'", start)
    cur.skip_ws()
    return _test(cur)


def _test(cur: Cursor) -> FieldTest:
    if cur.startswith("=="):
        raise cur.error("'==' is not supported; use '='")
    for op in _OPERATORS:
        if cur.startswith(op):
            cur.pos += len(op)
            cur.skip_ws()
            return FieldTest(op, cur.read_value(op, _BARE_STOP))
    raise cur.error("expected an operator (=, !=, <, >, <=, >=)")
