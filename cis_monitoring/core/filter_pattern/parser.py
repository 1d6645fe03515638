"""Entry point: pick the pattern kind from its first character and hand over to that parser."""

from __future__ import annotations

from functools import lru_cache

from .cursor import Cursor
from .errors import FilterPatternError
from .nodes import Pattern
from .parse_delimited import parse_delimited
from .parse_json import parse_json
from .parse_terms import parse_terms

MAX_LENGTH = 1024
"""AWS limit on ``filterPattern`` (PutMetricFilter)."""


def parse(text: str) -> Pattern:
    """Parse a filter pattern; raises only FilterPatternError, whatever the input."""
    if not isinstance(text, str):
        raise FilterPatternError(f"a pattern must be a str, not {type(text).__name__}", 0, "")
    if len(text) > MAX_LENGTH:
        raise FilterPatternError(f"pattern is longer than {MAX_LENGTH} characters", MAX_LENGTH, text)
    cur = Cursor(text)
    cur.skip_ws()
    if cur.at_end():
        return Pattern("empty")
    first = cur.peek()
    if first == "{":
        return Pattern("json", parse_json(cur))
    if first == "[":
        return Pattern("delimited", parse_delimited(cur))
    if first == "%":
        regex = cur.read_regex()
        cur.skip_ws()
        if not cur.at_end():
            raise cur.error("a regular expression cannot be combined with other terms")
        return Pattern("regex", regex)
    terms = parse_terms(cur)
    return Pattern("empty") if terms is None else Pattern("terms", terms)


_cached_parse = lru_cache(maxsize=4096)(parse)


def compile_pattern(text: str) -> Pattern:
    """``parse`` with a cache: the policy pack evaluates the same few patterns many times."""
    if not isinstance(text, str):
        return parse(text)  # raises FilterPatternError instead of lru_cache's TypeError
    return _cached_parse(text)
