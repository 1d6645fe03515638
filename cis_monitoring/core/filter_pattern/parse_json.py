"""Recursive-descent parser for ``{ ... }`` JSON patterns.

Grammar (reference §5.1; ``&&`` binds tighter than ``||``, parentheses optional)::

    pattern   := "{" orExpr "}"
    orExpr    := andExpr ( "||" andExpr )*
    andExpr   := primary ( "&&" primary )*
    primary   := "(" orExpr ")" | condition
    condition := selector op value | selector "IS" (TRUE|FALSE|NULL) | selector "NOT" "EXISTS"
"""

from __future__ import annotations

import string

from .cursor import Cursor
from .nodes import (
    And,
    AnyIndex,
    AnyKey,
    Compare,
    CompareOp,
    Condition,
    Expr,
    Index,
    Is,
    Key,
    NotExists,
    Or,
    Selector,
    Step,
)

MAX_DEPTH = 100
"""Deepest parenthesis nesting accepted; keeps recursion far below Python's limit."""

MAX_WILDCARDS = 3
"""AWS quota: at most three wildcard steps per pattern (and one per selector)."""

_NAME_CHARS = string.ascii_letters + string.digits + "_-"
_WORD_CHARS = string.ascii_letters + string.digits + "_"
_DIGITS = frozenset(string.digits)
_BARE_STOP = '(){}[]"&|=!<>%$\\'
_OPERATORS: tuple[CompareOp, ...] = ("!=", "<=", ">=", "=", "<", ">")
_KEYWORDS = ("IS", "NOT", "EXISTS", "IN", "TRUE", "FALSE", "NULL")


def parse_json(cur: Cursor) -> Expr:
    """Parse from the opening ``{`` to the end of the text."""
    cur.pos += 1
    parser = _JsonParser(cur)
    expr = parser.or_expr(depth=0)
    cur.skip_ws()
    if cur.peek() != "}":
        raise cur.error("expected '&&', '||' or '}'")
    cur.pos += 1
    cur.skip_ws()
    if not cur.at_end():
        raise cur.error("unexpected text after the closing '}'")
    return expr


class _JsonParser:
    def __init__(self, cur: Cursor) -> None:
        self.cur = cur
        self.wildcards = 0

    def or_expr(self, depth: int) -> Expr:
        items = [self.and_expr(depth)]
        while self._take("||"):
            items.append(self.and_expr(depth))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self, depth: int) -> Expr:
        items = [self.primary(depth)]
        while self._take("&&"):
            items.append(self.primary(depth))
        return items[0] if len(items) == 1 else And(tuple(items))

    def primary(self, depth: int) -> Expr:
        cur = self.cur
        cur.skip_ws()
        ch = cur.peek()
        if ch == "(":
            if depth >= MAX_DEPTH:
                raise cur.error(f"parentheses nested deeper than {MAX_DEPTH} levels")
            cur.pos += 1
            expr = self.or_expr(depth + 1)
            cur.skip_ws()
            if cur.peek() != ")":
                raise cur.error("expected '&&', '||' or ')'")
            cur.pos += 1
            return expr
        if ch == "$":
            return self.condition()
        if ch == "!":
            raise cur.error("'!' is not supported; use '!=' or NOT EXISTS")
        if self._peek_word().upper() == "NOT":
            raise cur.error("'NOT (...)' is not supported; negate each condition with '!='")
        raise cur.error("expected a condition starting with '$' or '('")

    def condition(self) -> Condition:
        cur = self.cur
        selector = self.selector()
        cur.skip_ws()
        op_pos = cur.pos
        if cur.startswith("=="):
            raise cur.error("'==' is not supported; use '='")
        for op in _OPERATORS:
            if cur.startswith(op):
                cur.pos += len(op)
                cur.skip_ws()
                return Compare(selector, op, cur.read_value(op, _BARE_STOP))
        if cur.startswith("!"):
            raise cur.error("'!' is not supported; use '!=' or NOT EXISTS")
        word = self._keyword()
        if word == "IS":
            cur.skip_ws()
            literal_pos = cur.pos
            literal = self._keyword()
            if literal in ("TRUE", "FALSE", "NULL"):
                return Is(selector, literal)
            if literal == "NOT":
                raise cur.error("'IS NOT' is not supported; use '!=' or NOT EXISTS", op_pos)
            raise cur.error("expected TRUE, FALSE or NULL after IS", literal_pos)
        if word == "NOT":
            cur.skip_ws()
            next_pos = cur.pos
            following = self._keyword()
            if following == "EXISTS":
                return NotExists(selector)
            if following == "IN":
                raise cur.error("'NOT IN' is not supported; combine conditions with '&&'", op_pos)
            raise cur.error("expected EXISTS after NOT", next_pos)
        if word == "EXISTS":
            raise cur.error("'EXISTS' is not supported; test presence with '= *'", op_pos)
        if word == "IN":
            raise cur.error("'IN' is not supported; combine conditions with '||'", op_pos)
        raise cur.error("expected an operator (=, !=, <, >, <=, >=, IS, NOT EXISTS)", op_pos)

    def _peek_word(self) -> str:
        start = self.cur.pos
        word = self.cur.read_while(_WORD_CHARS)
        self.cur.pos = start
        return word

    def _keyword(self) -> str:
        """Read a word; keywords are upper case only, so a lower-case keyword is an error."""
        cur = self.cur
        start = cur.pos
        word = cur.read_while(_WORD_CHARS)
        if word != word.upper() and word.upper() in _KEYWORDS:
            raise cur.error(f"keywords must be upper case: '{word.upper()}'", start)
        return word

    def selector(self) -> Selector:
        cur = self.cur
        start = cur.pos
        cur.pos += 1  # the "$"
        steps: list[Step] = []
        wildcards = 0
        while True:
            step_pos = cur.pos
            step = self._step()
            if step is None:
                break
            if isinstance(step, AnyKey | AnyIndex):
                wildcards += 1
                self.wildcards += 1
                if wildcards > 1:
                    raise cur.error("a selector may contain at most one wildcard", step_pos)
                if self.wildcards > MAX_WILDCARDS:
                    raise cur.error(f"a pattern may contain at most {MAX_WILDCARDS} wildcards", step_pos)
            steps.append(step)
        if not steps:
            raise cur.error("expected '.' or '[' after '$'", start + 1)
        return Selector(tuple(steps))

    def _step(self) -> Step | None:
        cur = self.cur
        if cur.startswith(".*"):
            cur.pos += 2
            return AnyKey()
        if cur.startswith(".["):
            cur.pos += 1
            return self._bracket(allow_index=False)
        if cur.startswith("["):
            return self._bracket(allow_index=True)
        if cur.startswith("."):
            cur.pos += 1
            name = cur.read_while(_NAME_CHARS)
            if not name:
                raise cur.error("expected a property name after '.' (quote other keys as .['key'])")
            return Key(name)
        return None

    def _bracket(self, allow_index: bool) -> Step:
        cur = self.cur
        cur.pos += 1  # the "["
        if cur.peek() == "'":
            close = cur.text.find("'", cur.pos + 1)
            if close < 0:
                raise cur.error("unterminated quoted key")
            step: Step = Key(cur.text[cur.pos + 1 : close])
            cur.pos = close + 1
        elif allow_index and cur.peek() == "*":
            cur.pos += 1
            step = AnyIndex()
        elif allow_index and cur.peek() in _DIGITS:
            step = Index(int(cur.read_while(string.digits)))
        else:
            expected = "a number, '*' or a quoted key" if allow_index else "a quoted key"
            raise cur.error(f"expected {expected} after '['")
        if cur.peek() != "]":
            raise cur.error("expected ']'")
        cur.pos += 1
        return step

    def _take(self, token: str) -> bool:
        self.cur.skip_ws()
        if self.cur.startswith(token):
            self.cur.pos += len(token)
            return True
        return False
