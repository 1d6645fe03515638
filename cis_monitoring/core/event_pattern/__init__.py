"""EventBridge event patterns and input transformers, judged as EventBridge documents them (stdlib only).

- ``evaluate``: whether a pattern matches an event (``matches``), for the content-filtering subset
  the product writes (exact values, ``prefix``, ``anything-but``, ``exists``, ``$or``, nested fields);
  anything else is CANNOT, never a match;
- ``cloudtrail``: a CloudTrail record as the EventBridge event that carries it (``as_event``);
- ``transformer``: what a target receives through an input transformer (``render``).

Used to judge whether a real-time rule selects exactly a control's events, on the same sample
records the metric filter is judged on::

    matches({"detail": {"eventName": ["StopLogging"]}}, as_event(record)).matched
"""

from .cloudtrail import API_CALL, DETAIL_TYPES, GLOBAL_SERVICE_REGION, SOURCES, as_event, source_of
from .evaluate import MATCH, EventPatternError, Outcome, Verdict, matches, parse_pattern
from .transformer import InputTransformer, TemplateError, message_text, render

__all__ = [
    "API_CALL",
    "DETAIL_TYPES",
    "GLOBAL_SERVICE_REGION",
    "MATCH",
    "SOURCES",
    "EventPatternError",
    "InputTransformer",
    "Outcome",
    "TemplateError",
    "Verdict",
    "as_event",
    "matches",
    "message_text",
    "parse_pattern",
    "render",
    "source_of",
]
