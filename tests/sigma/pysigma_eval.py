"""A second Sigma evaluator, over pySigma's own reading of a rule (tests only).

``cis_monitoring.sigma.matcher`` reads the rule's YAML data itself. This one lets pySigma parse
the rule (``SigmaRule.from_yaml``) and its condition (identifiers expanded, ``1 of``, ``not``,
brackets resolved into ``ConditionAND``/``ConditionOR``/``ConditionNOT``), and runs that tree: where
pySigma and the product's matcher read a rule differently, the two verdicts differ and a test fails.

Values are pySigma's ``SigmaString`` (its parts: text and ``SpecialChars`` wildcards, escapes
already resolved) and ``SigmaExists``; matching is case-insensitive, as the Sigma specification's
"General" section says. Anything else raises, so a new kind of value is never judged by guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
)
from sigma.rule import SigmaRule
from sigma.types import SigmaExists, SigmaString, SpecialChars

_ABSENT = object()


def pysigma_selects(rule: SigmaRule, record: Mapping[str, Any]) -> bool:
    conditions = rule.detection.parsed_condition
    assert len(conditions) == 1, "the generated rules have one condition"
    return _evaluate(conditions[0].parse(), record)


def _evaluate(node: Any, record: Mapping[str, Any]) -> bool:
    if isinstance(node, ConditionAND):
        return all(_evaluate(arg, record) for arg in node.args)
    if isinstance(node, ConditionOR):
        return any(_evaluate(arg, record) for arg in node.args)
    if isinstance(node, ConditionNOT):
        (arg,) = node.args
        return not _evaluate(arg, record)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        found = _lookup(record, node.field)
        if isinstance(node.value, SigmaExists):
            return (found is not _ABSENT) == node.value.exists
        if isinstance(node.value, SigmaString):
            text = _text(found)
            return text is not None and _regex(node.value).fullmatch(text) is not None
    raise TypeError(f"pySigma node this evaluator does not judge: {node!r}")


def _lookup(record: Mapping[str, Any], field: str) -> Any:
    node: Any = record
    for name in field.split("."):
        if not isinstance(node, Mapping) or name not in node:
            return _ABSENT
        node = node[name]
    return node


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return None


def _regex(value: SigmaString) -> re.Pattern[str]:
    parts = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            parts.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(".")
        elif isinstance(part, str):
            parts.append(re.escape(part))
        else:
            raise TypeError(f"SigmaString part this evaluator does not judge: {part!r}")
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
