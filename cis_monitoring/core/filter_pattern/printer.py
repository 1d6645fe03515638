"""``to_text``: canonical, re-parseable text for a pattern AST, and ``selectors``."""

from __future__ import annotations

import re

from .cursor import WHITESPACE
from .nodes import (
    NUMBER_RE,
    And,
    AnyIndex,
    AnyKey,
    Compare,
    Delimited,
    Expr,
    Field,
    FieldTest,
    Index,
    Is,
    Key,
    NotExists,
    NumberValue,
    Or,
    Pattern,
    Regex,
    Selector,
    Step,
    Term,
    Terms,
    Value,
)

_BARE_VALUE = re.compile(r"[A-Za-z0-9_.*:/-]+")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def to_text(pattern: Pattern) -> str:
    """Canonical text: JSON conditions each in parentheses, single spaces around operators.

    Re-parsing gives an equal AST as long as the text stays within the parser's limits
    (1024 characters, 100 nested parentheses).
    """
    body = pattern.body
    if pattern.kind == "empty" or body is None:
        return ""
    if isinstance(body, Terms):
        return " ".join(_term(term) for term in body.terms)
    if isinstance(body, Regex):
        return _regex(body)
    if isinstance(body, Delimited):
        return (
            "[" + ", ".join(_field(spec) if isinstance(spec, Field) else "..." for spec in body.fields) + "]"
        )
    return "{ " + _expr(body) + " }"


def selectors(pattern: Pattern) -> frozenset[str]:
    """Canonical texts of the property selectors a JSON pattern uses (empty for other kinds)."""
    found: set[str] = set()
    stack = [pattern.body] if pattern.kind == "json" else []
    while stack:
        node = stack.pop()
        if isinstance(node, And | Or):
            stack.extend(node.items)
        elif isinstance(node, Compare | Is | NotExists):
            found.add(selector_text(node.selector))
    return frozenset(found)


def selector_text(selector: Selector) -> str:
    return "$" + "".join(_step(step) for step in selector.steps)


def _step(step: Step) -> str:
    if isinstance(step, Key):
        if _BARE_KEY.fullmatch(step.name):
            return "." + step.name
        if "'" in step.name:
            raise ValueError(f"a key containing a single quote cannot be written: {step.name!r}")
        return f".['{step.name}']"
    if isinstance(step, Index):
        return f"[{step.index}]"
    if isinstance(step, AnyKey):
        return ".*"
    if isinstance(step, AnyIndex):
        return "[*]"
    raise TypeError(f"unknown selector step {step!r}")


def _expr(expr: Expr) -> str:
    if isinstance(expr, And | Or):
        joiner = " && " if isinstance(expr, And) else " || "
        return joiner.join(_operand(item) for item in expr.items)
    return _operand(expr)


def _operand(expr: Expr) -> str:
    if isinstance(expr, And | Or):
        return "(" + _expr(expr) + ")"
    return "(" + _condition(expr) + ")"


def _condition(cond: Compare | Is | NotExists) -> str:
    selector = selector_text(cond.selector)
    if isinstance(cond, Is):
        return f"{selector} IS {cond.literal}"
    if isinstance(cond, NotExists):
        return f"{selector} NOT EXISTS"
    return f"{selector} {cond.op} {_value(cond.value)}"


def _value(value: Value) -> str:
    if isinstance(value, NumberValue):
        return value.text
    if isinstance(value, Regex):
        return _regex(value)
    if _BARE_VALUE.fullmatch(value.text) and not NUMBER_RE.fullmatch(value.text):
        return value.text
    return _quote(value.text)


def _regex(regex: Regex) -> str:
    return f"%{regex.source}%"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _term(term: Term) -> str:
    prefix = {"required": "", "optional": "?", "excluded": "-"}[term.kind]
    text = term.text
    bare = text and text[0] not in '?-"%{[' and '"' not in text and not any(c in WHITESPACE for c in text)
    return prefix + (text if bare else _quote(text))


def _field(spec: Field) -> str:
    if not spec.any_of:
        return spec.name
    return " || ".join(" && ".join(_field_test(spec.name, test) for test in group) for group in spec.any_of)


def _field_test(name: str, test: FieldTest) -> str:
    return f"{name} {test.op} {_value(test.value)}"
