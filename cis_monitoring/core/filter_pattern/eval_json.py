"""Evaluation of JSON-pattern expressions against a parsed JSON object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .nodes import And, AnyIndex, AnyKey, Compare, Expr, Index, Is, Key, NotExists, Or, Selector
from .values import compare_number, compare_string

_IS_VALUES: dict[str, object] = {"TRUE": True, "FALSE": False, "NULL": None}


def resolve(selector: Selector, root: Any) -> list[Any]:
    """All nodes the selector reaches (several only through a wildcard); [] when absent."""
    nodes = [root]
    for step in selector.steps:
        found: list[Any] = []
        for node in nodes:
            if isinstance(step, Key):
                if isinstance(node, Mapping) and step.name in node:
                    found.append(node[step.name])
            elif isinstance(step, Index):
                if isinstance(node, list | tuple) and step.index < len(node):
                    found.append(node[step.index])
            elif isinstance(step, AnyKey):
                if isinstance(node, Mapping):
                    found.extend(node.values())  # direct children only (reference §5.2)
            elif isinstance(step, AnyIndex) and isinstance(node, list | tuple):
                found.extend(node)
        if not found:
            return []
        nodes = found
    return nodes


def evaluate(expr: Expr, root: Any, ne_matches_missing: bool) -> bool:
    if isinstance(expr, And):
        return all(evaluate(item, root, ne_matches_missing) for item in expr.items)
    if isinstance(expr, Or):
        return any(evaluate(item, root, ne_matches_missing) for item in expr.items)
    nodes = resolve(expr.selector, root)
    if isinstance(expr, NotExists):
        return not nodes  # a present null is not "missing"
    if isinstance(expr, Is):
        wanted = _IS_VALUES[expr.literal]
        return any(node is wanted for node in nodes)
    if not nodes:
        # Reference §5.6 AMBIGUOUS: by default a comparison on a missing field is false even
        # for "!=" (use NOT EXISTS for absence); the switch gives the other reading.
        return ne_matches_missing and expr.op == "!="
    return any(_compare_node(expr, node) for node in nodes)  # wildcards are existential


def _compare_node(cond: Compare, node: Any) -> bool:
    # Only strings and numbers are comparable value nodes; objects, arrays, booleans and
    # null make "=" and "!=" both false.
    if isinstance(node, str):
        return compare_string(cond.op, cond.value, node)
    if isinstance(node, int | float) and not isinstance(node, bool):
        return compare_number(cond.op, cond.value, node)
    return False
