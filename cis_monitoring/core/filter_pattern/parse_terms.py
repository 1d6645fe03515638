"""Parser for unstructured term patterns: ``ERROR -ARGUMENTS``, ``?a ?b``, ``"a phrase"``."""

from __future__ import annotations

from .cursor import WHITESPACE, Cursor
from .nodes import Term, TermKind, Terms

_PREFIXES: dict[str, TermKind] = {"?": "optional", "-": "excluded"}


def parse_terms(cur: Cursor) -> Terms | None:
    """Parse whitespace-separated terms to the end; None means the match-all ``" "`` pattern."""
    terms: list[Term] = []
    quoted_blank = False
    while True:
        cur.skip_ws()
        if cur.at_end():
            break
        start = cur.pos
        kind = _PREFIXES.get(cur.peek(), "required")
        if kind != "required":
            cur.pos += 1
            if cur.at_end() or cur.peek() in WHITESPACE:
                raise cur.error(f"expected a term right after '{cur.text[start]}'", start)
        term_pos = cur.pos
        ch = cur.peek()
        if ch == '"':
            text = cur.read_quoted()
            if not cur.at_end() and cur.peek() not in WHITESPACE:
                raise cur.error("expected whitespace after a quoted term")
            quoted_blank = not text.strip(" ")
        elif ch == "%":
            # Undocumented combination (reference §4): reject rather than guess.
            raise cur.error("a regular expression cannot be combined with other terms")
        elif ch in ("{", "["):
            raise cur.error(f"a term starting with '{ch}' must be double-quoted")
        else:
            text = cur.read_until(WHITESPACE)
            if '"' in text:
                raise cur.error("'\"' inside a term: double-quote the whole term", term_pos + text.index('"'))
        terms.append(Term(text, kind))
    if len(terms) == 1 and terms[0].kind == "required" and quoted_blank:
        return None  # `" "` (and the older `""`) mean "match every event"
    return Terms(tuple(terms))
