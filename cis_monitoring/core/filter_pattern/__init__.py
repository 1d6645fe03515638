"""Parser and evaluator for the CloudWatch Logs filter-pattern language (stdlib only).

Used to judge whether a metric filter pattern really selects given CloudTrail records,
rather than comparing pattern strings::

    pattern = compile_pattern("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }")
    matches(pattern, {"eventName": "UpdateTrail"})  # True
"""

from .errors import FilterPatternError
from .evaluate import matches
from .nodes import (
    And,
    AnyIndex,
    AnyKey,
    Compare,
    Delimited,
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
    Rest,
    Selector,
    StringValue,
    Term,
    Terms,
)
from .parse_json import MAX_DEPTH, MAX_WILDCARDS
from .parser import MAX_LENGTH, compile_pattern, parse
from .printer import selector_text, selectors, to_text

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_WILDCARDS",
    "And",
    "AnyIndex",
    "AnyKey",
    "Compare",
    "Delimited",
    "Field",
    "FieldTest",
    "FilterPatternError",
    "Index",
    "Is",
    "Key",
    "NotExists",
    "NumberValue",
    "Or",
    "Pattern",
    "Regex",
    "Rest",
    "Selector",
    "StringValue",
    "Term",
    "Terms",
    "compile_pattern",
    "matches",
    "parse",
    "selector_text",
    "selectors",
    "to_text",
]
