"""A position in the pattern text plus the lexical pieces every pattern kind shares."""

from __future__ import annotations

from .errors import FilterPatternError
from .nodes import NUMBER_RE, CompareOp, NumberValue, Regex, StringValue, Value
from .regex import compile_regex

WHITESPACE = " \t\r\n\f\v"
"""Only ASCII whitespace separates tokens; other Unicode spaces are ordinary characters."""

MAX_REGEXES = 2
"""AWS quota: at most two ``%regex%`` per JSON or space-delimited pattern."""

_ORDERING = ("<", ">", "<=", ">=")


class Cursor:
    """Reads the pattern left to right; every error carries the offset it happened at."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.regexes = 0

    def error(self, message: str, position: int | None = None) -> FilterPatternError:
        return FilterPatternError(message, self.pos if position is None else position, self.text)

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, length: int = 1) -> str:
        return self.text[self.pos : self.pos + length]

    def startswith(self, prefix: str) -> bool:
        return self.text.startswith(prefix, self.pos)

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in WHITESPACE:
            self.pos += 1

    def read_while(self, allowed: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in allowed:
            self.pos += 1
        return self.text[start : self.pos]

    def read_until(self, stop: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stop:
            self.pos += 1
        return self.text[start : self.pos]

    def read_quoted(self) -> str:
        """A ``"..."`` string; ``\\"`` and ``\\\\`` are escapes (as CDK emits), other backslashes are literal."""
        open_pos = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(chars)
            if ch == "\\" and self.peek(2)[1:] in ('"', "\\"):
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            chars.append(ch)
            self.pos += 1
        raise self.error("unterminated string", open_pos)

    def read_regex(self) -> Regex:
        """A ``%...%`` regex; the first ``%`` after the opening one closes it (``%`` is not allowed inside)."""
        open_pos = self.pos
        close = self.text.find("%", open_pos + 1)
        if close < 0:
            raise self.error("unterminated regular expression (missing closing '%')", open_pos)
        self.pos = close + 1
        self.regexes += 1
        return compile_regex(self.text[open_pos + 1 : close], open_pos + 1, self.text)

    def read_value(self, op: CompareOp, bare_stop: str) -> Value:
        """The value after a comparison operator: quoted string, ``%regex%``, number or bare string."""
        start = self.pos
        ch = self.peek()
        value: Value
        if ch == '"':
            value = StringValue(self.read_quoted())
        elif ch == "%":
            if op not in ("=", "!="):
                raise self.error(f"'{op}' cannot be used with a regular expression", start)
            value = self.read_regex()
            if self.regexes > MAX_REGEXES:
                raise self.error(f"a pattern may contain at most {MAX_REGEXES} regular expressions", start)
            return value
        else:
            bare = self.read_until(WHITESPACE + bare_stop)
            if not bare:
                raise self.error(f"expected a value after '{op}'", start)
            if not bare.isascii():
                raise self.error("values with non-ASCII characters must be double-quoted", start)
            value = NumberValue(bare) if NUMBER_RE.fullmatch(bare) else StringValue(bare)
        if op in _ORDERING and not isinstance(value, NumberValue):
            raise self.error(f"'{op}' needs a number", start)
        return value
