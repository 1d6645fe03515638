"""What an EventBridge target receives through an input transformer (``render``), as EventBridge documents it.

Amazon EventBridge User Guide, "Transforming Amazon EventBridge target input"
(eb-transform-target-input.html), and the ``InputTransformer`` shape of the EventBridge API
(botocore's events service model, 2015-10-07):

- ``InputPathsMap`` names up to 100 variables (``[A-Za-z0-9_-]+``), each a JSON path in dot notation
  ("You must use JSON dot notation, not bracket notation"); ``<name>`` in ``InputTemplate`` is replaced
  by its value; the predefined ``aws.events.rule-arn``, ``aws.events.rule-name``, ``aws.events.event``,
  ``aws.events.event.ingestion-time`` and ``aws.events.event.json`` need no path;
- the template is a string (``"instance <instance> is in <state>"``) or JSON. Inside quotes a value is
  put in as its text ("EventBridge doesn't escape values extracted by Input Path"); outside quotes,
  in a JSON template, as JSON (``"instance" : <instance>`` gives ``"instance" : "i-0123456789"``);
- "If you specify a variable to match a JSON path that doesn't exist in the event, that variable isn't
  created and won't appear in the output": inside quotes it leaves nothing. Where it stands outside
  quotes the guide does not say what the target gets: ``TemplateError``, not a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
EVENT = "aws.events.event"
INGESTION_TIME = "aws.events.event.ingestion-time"
EVENT_JSON = "aws.events.event.json"
PREDEFINED = (RULE_ARN, RULE_NAME, EVENT, INGESTION_TIME, EVENT_JSON)

_VARIABLE = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")
_PATH = re.compile(r"^\$(\.[^.\[\]]+)*$")
_MISSING: Any = object()


class TemplateError(ValueError):
    """The transformer cannot be rendered as documented: what and where."""


@dataclass(frozen=True)
class InputTransformer:
    """A target's ``InputTransformer``: variables by JSON path, and the template that uses them."""

    template: str
    paths: Mapping[str, str] = field(default_factory=dict)

    def used(self) -> tuple[str, ...]:
        """The variables the template uses, in order of first use."""
        return tuple(dict.fromkeys(m.group(1) for m in _VARIABLE.finditer(self.template)))

    def used_paths(self) -> tuple[str, ...]:
        """The JSON paths whose values reach the target (each variable the template uses)."""
        return tuple(self.paths[name] for name in self.used() if name in self.paths)


def check(transformer: InputTransformer) -> list[str]:
    """What EventBridge's API would refuse in ``transformer`` (empty: nothing)."""
    problems = []
    if not transformer.template:
        problems.append("InputTemplate is empty")
    if len(transformer.paths) > 100:
        problems.append(f"InputPathsMap has {len(transformer.paths)} variables; at most 100")
    for name, path in transformer.paths.items():
        if not _KEY.match(name) or name.startswith("aws."):
            problems.append(
                f"InputPathsMap key {name!r} is not [A-Za-z0-9_-]+ (and not a reserved aws. name)"
            )
        if not _PATH.match(path):
            problems.append(f"InputPathsMap {name!r}: {path!r} is not a JSON path in dot notation ($.a.b)")
    return problems


def render(
    transformer: InputTransformer,
    event: Mapping[str, Any],
    *,
    rule_arn: str = "",
    rule_name: str = "",
    ingestion_time: str = "",
) -> str:
    """The text EventBridge passes to the target for ``event`` (raises ``TemplateError``)."""
    problems = check(transformer)
    if problems:
        raise TemplateError("; ".join(problems))
    values: dict[str, Any] = {
        RULE_ARN: rule_arn,
        RULE_NAME: rule_name,
        EVENT: event,
        INGESTION_TIME: ingestion_time,
        EVENT_JSON: json.dumps(event, separators=(",", ":")),
    }
    for name, path in transformer.paths.items():
        found = _lookup(event, path)
        if found is not _MISSING:
            values[name] = found
    defined = set(PREDEFINED) | set(transformer.paths)
    out: list[str] = []
    in_string = False
    template = transformer.template
    position = 0
    while position < len(template):
        char = template[position]
        match = _VARIABLE.match(template, position) if char == "<" else None
        if match is not None and match.group(1) in defined:
            name = match.group(1)
            out.append(_insert(name, values.get(name, _MISSING), in_string))
            position = match.end()
            continue
        if char == "\\" and position + 1 < len(template):
            out.append(template[position : position + 2])
            position += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        position += 1
    return "".join(out)


def _lookup(event: Mapping[str, Any], path: str) -> Any:
    value: Any = event
    for key in path.split(".")[1:]:
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _insert(name: str, value: Any, in_string: bool) -> str:
    if value is _MISSING:
        if in_string:
            return ""  # "that variable isn't created and won't appear in the output"
        raise TemplateError(
            f"<{name}> stands outside quotes and its path is not in the event: what EventBridge sends then is"
            " not documented"
        )
    if in_string:
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return json.dumps(value, separators=(",", ":"))


def message_text(rendered: str) -> str:
    """What a reader sees of a rendered string template: the text between its quotes, ``\\"`` as ``"``."""
    text = rendered.strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    return text.replace('\\"', '"')
