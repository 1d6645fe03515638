"""``matches``: does a parsed pattern select a log event?"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .eval_json import evaluate
from .eval_text import TermMode, match_delimited, match_terms
from .nodes import Delimited, Pattern, Regex, Terms


def matches(
    pattern: Pattern,
    event: str | Mapping[str, Any],
    *,
    term_mode: TermMode = "substring",
    ne_matches_missing: bool = False,
) -> bool:
    """Evaluate ``pattern`` against one log event.

    ``event`` is the raw message text, or an already-parsed JSON object (a CloudTrail record);
    text patterns see a Mapping as its compact JSON serialisation. ``term_mode="token"`` makes
    terms match whole ``[A-Za-z0-9_]`` runs only; ``ne_matches_missing=True`` makes ``!=`` true
    on a missing field. Both defaults follow the reference's recommendations.
    """
    body = pattern.body
    if pattern.kind == "empty":
        return True
    if pattern.kind == "json":
        root = _as_object(event)
        return root is not None and evaluate(body, root, ne_matches_missing)  # type: ignore[arg-type]
    text = event if isinstance(event, str) else _serialise(event)
    if isinstance(body, Terms):
        return match_terms(body, text, term_mode)
    if isinstance(body, Regex):
        return body.compiled.search(text) is not None
    if isinstance(body, Delimited):
        return match_delimited(body, text)
    raise ValueError(f"pattern of kind {pattern.kind!r} has an unexpected body {body!r}")


def _as_object(event: str | Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The JSON object a JSON pattern looks at; None when the message is not a JSON object."""
    if isinstance(event, Mapping):
        return event
    try:
        parsed = json.loads(event)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _serialise(event: Mapping[str, Any]) -> str:
    # Compact, like the one-line message CloudTrail sends; non-ASCII kept as is so terms can hit it.
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)
