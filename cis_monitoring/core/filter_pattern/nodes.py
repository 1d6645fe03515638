"""The pattern AST: immutable, hashable dataclasses produced by ``parse``.

Parentheses do not create nodes, but every ``And``/``Or`` the text groups explicitly is
kept as its own node (no flattening), so printing and re-parsing gives back an equal tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Literal, TypeAlias

PatternKind: TypeAlias = Literal["empty", "terms", "json", "regex", "delimited"]
CompareOp: TypeAlias = Literal["=", "!=", "<", ">", "<=", ">="]
TermKind: TypeAlias = Literal["required", "optional", "excluded"]
IsLiteral: TypeAlias = Literal["TRUE", "FALSE", "NULL"]

NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A bare numeric literal (int, decimal, signed, scientific); quoted text is never a number."""

_SPACED_REPEAT = re.compile(r"(?<!\\)\{([0-9]*)\s*,\s*([0-9]*)\}")


def normalise_regex(source: str) -> str:
    """AWS documents bounded repeats as ``{m, n}``; Python only accepts ``{m,n}``."""
    return _SPACED_REPEAT.sub(r"{\1,\2}", source)


# --- values -------------------------------------------------------------------------


@dataclass(frozen=True)
class StringValue:
    """A string literal (bare or quoted: equivalent); ``*`` at either end is a wildcard."""

    text: str


@dataclass(frozen=True)
class NumberValue:
    """A bare numeric literal; ``text`` is kept because ``=`` against a JSON string compares text."""

    text: str

    @cached_property
    def value(self) -> Decimal:
        # Decimal, not float: account ids and large integers must compare exactly.
        return Decimal(self.text)


@dataclass(frozen=True)
class Regex:
    """A ``%...%`` regular expression; ``source`` is the text between the percent signs."""

    source: str

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(normalise_regex(self.source), re.ASCII)


Value: TypeAlias = StringValue | NumberValue | Regex


# --- term patterns ------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One search term: ``required`` (plain), ``optional`` (``?term``) or ``excluded`` (``-term``)."""

    text: str
    kind: TermKind = "required"


@dataclass(frozen=True)
class Terms:
    terms: tuple[Term, ...]


# --- JSON patterns ------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """``.name`` or ``.['name']``."""

    name: str


@dataclass(frozen=True)
class Index:
    """``[n]``."""

    index: int


@dataclass(frozen=True)
class AnyKey:
    """``.*``: any direct field of an object."""


@dataclass(frozen=True)
class AnyIndex:
    """``[*]``: any element of an array."""


Step: TypeAlias = Key | Index | AnyKey | AnyIndex


@dataclass(frozen=True)
class Selector:
    """``$`` followed by at least one step."""

    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Compare:
    selector: Selector
    op: CompareOp
    value: Value


@dataclass(frozen=True)
class Is:
    selector: Selector
    literal: IsLiteral


@dataclass(frozen=True)
class NotExists:
    selector: Selector


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Condition: TypeAlias = Compare | Is | NotExists
Expr: TypeAlias = Compare | Is | NotExists | And | Or


# --- space-delimited patterns -------------------------------------------------------


@dataclass(frozen=True)
class FieldTest:
    """One ``op value`` test on the field it belongs to."""

    op: CompareOp
    value: Value


@dataclass(frozen=True)
class Field:
    """A named field; ``any_of`` is OR-of-AND groups of tests (``&&`` binds tighter), ``()`` = no test."""

    name: str
    any_of: tuple[tuple[FieldTest, ...], ...] = ()


@dataclass(frozen=True)
class Rest:
    """``...``: any number of unnamed fields."""


@dataclass(frozen=True)
class Delimited:
    fields: tuple[Field | Rest, ...]


# --- root ---------------------------------------------------------------------------

Body: TypeAlias = Terms | Compare | Is | NotExists | And | Or | Regex | Delimited | None


@dataclass(frozen=True)
class Pattern:
    """The parsed pattern. ``body`` type follows ``kind``: None ("empty"), Terms, an Expr
    ("json"), Regex, or Delimited. ``parse`` maps both ``""`` and ``" "`` to "empty"."""

    kind: PatternKind
    body: Body = field(default=None)
