"""What a metric filter writes for one matching event: its value, and the series (dimensions) it lands in.

A metric value is a number (``"1"``) or a field reference into the event (``"$.count"``);
dimension values are field references too. A reference is judged against the control's
target sample records, since those are the events the alarm must see: a field that a
CloudTrail record does not have (CloudTrail records carry no numeric ``count``) adds
nothing to the metric. References use the filter-pattern selector syntax, so the core's
own selector parser reads them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cis_monitoring.core.catalog import SampleRecord
from cis_monitoring.core.filter_pattern import (
    AnyIndex,
    AnyKey,
    FilterPatternError,
    NotExists,
    Selector,
    parse,
)
from cis_monitoring.core.filter_pattern.eval_json import resolve


@dataclass(frozen=True)
class EventValues:
    """What the filter adds to its metric for each target record."""

    reference: str | None
    """The field reference, when the value is one."""
    values: tuple[float | None, ...]
    """Per record: the number added, or None when the record gives no number."""

    @property
    def missing(self) -> int:
        return sum(v is None for v in self.values)

    @property
    def smallest(self) -> float | None:
        """The least one event adds (what an alarm must fire on); None if some event adds nothing."""
        if not self.values or self.missing:
            return None
        return min(v for v in self.values if v is not None)


def as_number(value: object) -> float | None:
    """A finite number from a number or its text; None otherwise (booleans are no numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def selector_of(reference: str) -> Selector | None:
    """The JSON selector of a ``$.a.b[0]`` field reference; None if it is no single-field reference."""
    if not reference.startswith("$."):
        return None
    try:
        pattern = parse(f"{{ {reference} NOT EXISTS }}")
    except FilterPatternError:
        return None
    body = pattern.body
    if not isinstance(body, NotExists):
        return None
    if any(isinstance(step, AnyKey | AnyIndex) for step in body.selector.steps):
        return None  # a metric value names one field; wildcards pick many
    return body.selector


def event_values(value: str, records: Sequence[SampleRecord]) -> EventValues | None:
    """What ``value`` adds per record; None when it is neither a number nor a field reference."""
    number = as_number(value)
    if number is not None:
        return EventValues(None, tuple(number for _ in records) or (number,))
    text = value.strip()
    if not text.startswith("$"):
        return None
    selector = selector_of(text)
    if selector is None:
        # "$size" names a space-delimited field: a JSON event (CloudTrail) has none.
        return EventValues(text, tuple(None for _ in records))
    return EventValues(text, tuple(_one_number(resolve(selector, r.record)) for r in records))


def _one_number(nodes: list[Any]) -> float | None:
    if len(nodes) != 1:
        return None
    node = nodes[0]
    # CloudWatch publishes a field's value only when it is a JSON number.
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def series_of(dimensions: Mapping[str, Any], record: SampleRecord) -> dict[str, str] | None:
    """The dimension values one record gets; None when a dimension's field is missing from it."""
    series = {}
    for name, reference in dimensions.items():
        if not isinstance(reference, str):
            return None
        selector = selector_of(reference.strip())
        if selector is None:
            series[name] = reference  # not a reference: taken as given
            continue
        nodes = resolve(selector, record.record)
        if len(nodes) != 1 or isinstance(nodes[0], dict | list) or nodes[0] is None:
            return None
        node = nodes[0]
        series[name] = str(node).lower() if isinstance(node, bool) else str(node)
    return series
