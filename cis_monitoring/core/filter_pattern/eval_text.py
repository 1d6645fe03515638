"""Evaluation of patterns that read the raw message text: terms and space-delimited fields."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, TypeAlias

from .cursor import WHITESPACE
from .nodes import Delimited, Field, Rest, Terms
from .values import compare_field

TermMode: TypeAlias = Literal["substring", "token"]

_WORD = re.compile(r"\w", re.ASCII)


def match_terms(terms: Terms, text: str, mode: TermMode) -> bool:
    if not terms.terms:
        return True
    required = [t.text for t in terms.terms if t.kind == "required"]
    excluded = [t.text for t in terms.terms if t.kind == "excluded"]
    if required or excluded:
        # "?" terms are ignored once plain or "-" terms are present (current AWS docs).
        return all(_contains(text, t, mode) for t in required) and not any(
            _contains(text, t, mode) for t in excluded
        )
    return any(_contains(text, t.text, mode) for t in terms.terms)


def _contains(text: str, term: str, mode: TermMode) -> bool:
    # Substring search is the default: the only explicit doc example matches inside a word.
    if mode == "substring" or not term:
        return term in text
    return _token_regex(term).search(text) is not None


@lru_cache(maxsize=1024)
def _token_regex(term: str) -> re.Pattern[str]:
    # Token mode: the term may not continue a run of [A-Za-z0-9_] on either side.
    head = r"(?<!\w)" if _WORD.match(term[0]) else ""
    tail = r"(?!\w)" if _WORD.match(term[-1]) else ""
    return re.compile(head + re.escape(term) + tail, re.ASCII)


def split_fields(text: str) -> list[tuple[int, str]]:
    """(start offset, value) per field; ``[...]`` and ``"..."`` are one field without their delimiters."""
    fields: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos] in WHITESPACE:
            pos += 1
            continue
        start = pos
        closer = {"[": "]", '"': '"'}.get(text[pos])
        close = text.find(closer, pos + 1) if closer else -1
        if close >= 0:
            fields.append((start, text[pos + 1 : close]))
            pos = close + 1
            continue
        while pos < end and text[pos] not in WHITESPACE:
            pos += 1
        fields.append((start, text[start:pos]))
    return fields


def match_delimited(pattern: Delimited, text: str) -> bool:
    values = _assign(pattern.fields, text)
    if values is None:
        return False
    return all(_field_holds(spec, value) for spec, value in values)


def _assign(specs: tuple[Field | Rest, ...], text: str) -> list[tuple[Field, str]] | None:
    """Pair each named field with its value, or None when the event has too few fields.

    Without ``...`` the last field takes the rest of the line (why AWS asks for a trailing
    blank field after a tested one); with ``...`` the fields before it align to the start of
    the line and the fields after it to the end.
    """
    fields = split_fields(text)
    rest_at = next((i for i, spec in enumerate(specs) if isinstance(spec, Rest)), None)
    if rest_at is None:
        named = [spec for spec in specs if isinstance(spec, Field)]
        if len(fields) < len(named):
            return None
        values = [value for _, value in fields[: len(named)]]
        if named and len(fields) > len(named):
            values[-1] = text[fields[len(named) - 1][0] :].rstrip(WHITESPACE)
        return list(zip(named, values, strict=True))
    head = [spec for spec in specs[:rest_at] if isinstance(spec, Field)]
    tail = [spec for spec in specs[rest_at + 1 :] if isinstance(spec, Field)]
    if len(fields) < len(head) + len(tail):
        return None
    tail_fields = fields[len(fields) - len(tail) :] if tail else []
    return list(zip(head, [v for _, v in fields[: len(head)]], strict=True)) + list(
        zip(tail, [v for _, v in tail_fields], strict=True)
    )


def _field_holds(spec: Field, value: str) -> bool:
    if not spec.any_of:
        return True
    return any(all(compare_field(t.op, t.value, value) for t in group) for group in spec.any_of)
