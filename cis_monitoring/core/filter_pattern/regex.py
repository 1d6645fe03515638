"""Validation of ``%regex%`` bodies against the subset AWS accepts, then compilation."""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from .errors import FilterPatternError
from .nodes import Regex, normalise_regex

# Documented set: letters, digits, ": _ # = @ / ; , -" and the operators "^ $ ? [ ] { } | \ * + .".
# Space is added because a documented example uses it (reference §4, AMBIGUOUS).
_ALLOWED = frozenset(string.ascii_letters + string.digits + ":_#=@/;,-" + "^$?[]{}|\\*+." + " ")
_LETTER_ESCAPES = frozenset("dDsSwW" + "tnrfv")
_HEX = frozenset(string.hexdigits)


def compile_regex(source: str, offset: int, pattern: str) -> Regex:
    """Check ``source`` (found at ``offset`` in ``pattern``) and return a compiled Regex node."""

    def fail(message: str, index: int) -> FilterPatternError:
        return FilterPatternError(message, offset + index, pattern)

    if not source:
        raise fail("empty regular expression", -1)
    for index, ch in enumerate(source):
        if not ch.isascii():
            raise fail("regular expressions may only contain ASCII characters", index)
        if ch in "()":
            raise fail(f"'{ch}' is not allowed in a regular expression (groups are unsupported)", index)
        if ch not in _ALLOWED:
            raise fail(f"character {ch!r} is not allowed in a regular expression", index)
    _check_escapes(source, fail)
    regex = Regex(source)
    try:
        regex.__dict__["compiled"] = re.compile(normalise_regex(source), re.ASCII)
    except re.error as exc:
        raise fail(f"invalid regular expression: {exc.msg}", exc.pos or 0) from None
    return regex


def _check_escapes(source: str, fail: Callable[[str, int], FilterPatternError]) -> None:
    # Python understands more escapes than AWS (\b, \A, back-references...): allow only the
    # documented classes, \xhh, control characters and escaped punctuation.
    index = 0
    while index < len(source):
        if source[index] != "\\":
            index += 1
            continue
        nxt = source[index + 1 : index + 2]
        if not nxt:
            raise fail("a regular expression cannot end with '\\'", index)
        if nxt == "x":
            if not (len(source) >= index + 4 and set(source[index + 2 : index + 4]) <= _HEX):
                raise fail("'\\x' must be followed by two hex digits", index)
            index += 4
            continue
        if nxt.isalnum() and nxt not in _LETTER_ESCAPES:
            raise fail(f"unsupported escape '\\{nxt}' in a regular expression", index)
        index += 2
