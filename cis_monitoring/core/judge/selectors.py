"""Whether a trail's event selectors record the management events a control watches.

What must be captured comes from the control: its ``event_source`` (the service whose
management events it watches) and its ``event_names``. A control without an event
source (root usage, unauthorized calls) needs every management event of every service;
one without event names needs every event of its source.

A selector that leaves some of them out is named with what it leaves out, in the selector's
own terms (``eventSource NotEquals cloudtrail.amazonaws.com``, ``eventName`` values the
control needs that the selector does not admit, ``eventCategory Equals Data``), so the
reader can find the field to fix. Advanced selectors as CloudTrail evaluates them
(CloudTrail API reference, ``AdvancedFieldSelector``: every operator given must match, and
the ``Not...`` operators exclude).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cis_monitoring.core.catalog import Control

_KNOWN_FIELDS = {"eventCategory", "eventSource", "eventName", "readOnly"}
_READ_WRITE = {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}
_OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")


def condition(selector: Mapping[str, Any]) -> str:
    """An advanced field selector in its own words: ``eventSource NotEquals kms.amazonaws.com``."""
    parts = [f"{op} {', '.join(map(str, selector[op]))}" for op in _OPERATORS if selector.get(op)]
    return f"{selector.get('Field')} {'; '.join(parts)}" if parts else str(selector.get("Field"))


def admits(selector: Mapping[str, Any] | None, value: str) -> bool:
    """Whether an advanced field selector lets ``value`` through (no selector: everything)."""
    if not selector:
        return True
    if selector.get("Equals") and value not in selector["Equals"]:
        return False
    if selector.get("StartsWith") and not any(value.startswith(p) for p in selector["StartsWith"]):
        return False
    if selector.get("EndsWith") and not any(value.endswith(s) for s in selector["EndsWith"]):
        return False
    return not (
        value in selector.get("NotEquals", ())
        or any(value.startswith(p) for p in selector.get("NotStartsWith", ()))
        or any(value.endswith(s) for s in selector.get("NotEndsWith", ()))
    )


def _sources(control: Control) -> str:
    return control.event_source or "any service"


def management_coverage(response: Mapping[str, Any], control: Control) -> tuple[set[str], list[str]]:
    """Which of the control's management events the selectors log: a subset of {"read", "write"}; and notes.

    ``response`` is CloudTrail's GetEventSelectors answer (classic or advanced selectors).
    """
    covered: set[str] = set()
    notes: list[str] = []
    for selector in response.get("EventSelectors") or ():
        if not selector.get("IncludeManagementEvents", True):
            continue
        excluded = list(selector.get("ExcludeManagementEventSources") or ())
        if excluded and (control.event_source is None or control.event_source in excluded):
            notes.append(f"a selector excludes {', '.join(excluded)} management events")
            continue
        covered |= _READ_WRITE.get(selector.get("ReadWriteType", "All"), set())
    for selector in response.get("AdvancedEventSelectors") or ():
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or ()}
        if "eventCategory" not in fields or not admits(fields["eventCategory"], "Management"):
            category = fields.get("eventCategory")
            notes.append(
                f"advanced selector {selector.get('Name') or 'unnamed'!r} logs no management events"
                + (f" ({condition(category)})" if category else " (it has no eventCategory field)")
            )
            continue
        note = _advanced_gap(selector.get("Name") or "unnamed", fields, control)
        if note:
            notes.append(note)
            continue
        covered |= {
            kind
            for kind, flag in (("read", "true"), ("write", "false"))
            if admits(fields.get("readOnly"), flag)
        }
    return covered, notes


def _advanced_gap(name: str, fields: Mapping[str, Any], control: Control) -> str | None:
    """Why an advanced management-event selector leaves some of the control's events out, or None."""
    source, by_source = control.event_source, fields.get("eventSource")
    if source is None:
        if by_source:
            return (
                f"advanced selector {name!r} logs only some event sources ({condition(by_source)});"
                f" the control needs {_sources(control)}"
            )
    elif not admits(by_source, source):
        return f"advanced selector {name!r} leaves out {source} ({condition(by_source)})"
    names, by_name = control.event_names, fields.get("eventName")
    left_out = [event for event in names if not admits(by_name, event)]
    if left_out and by_name is not None:
        return f"advanced selector {name!r} leaves out {', '.join(left_out)} ({condition(by_name)})"
    if not names and by_name:
        return (
            f"advanced selector {name!r} logs only some event names ({condition(by_name)}); the control"
            " needs every event"
        )
    unknown = sorted(set(fields) - _KNOWN_FIELDS)
    if unknown:
        return f"advanced selector {name!r} also filters on {', '.join(unknown)}"
    return None
