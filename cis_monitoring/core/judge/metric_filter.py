"""Whether a metric filter counts every event of a control: its pattern covers it, and a match adds ≥ 1.

The pattern judgement is ``pattern.judge_pattern`` (matching the control's sample records);
this module adds what the filter writes per match: a metric, and a value that puts at
least 1 into it for every target record.
"""

from __future__ import annotations

from cis_monitoring.core.catalog import Control
from cis_monitoring.core.problems import Code, Link, Problem
from cis_monitoring.core.unknown import is_unknown

from .facts import MetricFilterFacts
from .metric_values import EventValues, event_values
from .pattern import PatternVerdict, judge_pattern


def filter_lead(metric_filter: MetricFilterFacts, control: Control) -> str:
    return f"metric filter {metric_filter.name!r} does not count CIS {control.control_id} events"


def filter_problems(
    metric_filter: MetricFilterFacts, control: Control, *, strict_canonical_text: bool = False
) -> list[Problem]:
    """Why ``metric_filter`` does not count each of the control's events (empty: it does, or it is unknown)."""
    pattern_problem = _pattern_problem(metric_filter, control, strict_canonical_text)
    if pattern_problem is not None:
        return [pattern_problem]
    unseen = _unseen_events_problems(metric_filter, control)
    if unseen:
        return unseen
    if metric_filter.namespace is None or metric_filter.metric_name is None:
        return [
            _problem(
                metric_filter,
                control,
                Code.FILTER_METRIC_NONE,
                "it has no metric transformation, so it writes no metric",
            )
        ]
    value = value_problem(metric_filter, control)
    return [value] if value is not None else []


def _pattern_problem(metric_filter: MetricFilterFacts, control: Control, strict: bool) -> Problem | None:
    pattern = metric_filter.pattern
    if is_unknown(pattern):
        return None
    if not isinstance(pattern, str):
        return _problem(metric_filter, control, Code.FILTER_PATTERN_NONE, "it has no pattern")
    coverage: PatternVerdict = judge_pattern(pattern, control)
    if coverage.error:
        return Problem(
            Code.FILTER_PATTERN_INVALID,
            Link.FILTER,
            f"{coverage.explain()}. Use the benchmark pattern {control.filter_pattern!r}",
            f"metric filter {metric_filter.name!r} does not cover CIS {control.control_id}",
            metric_filter.ref,
        )
    if not coverage.covers:
        return Problem(
            Code.FILTER_PATTERN_NOT_COVERING,
            Link.FILTER,
            f"{coverage.explain()}. Use the benchmark pattern.",
            f"metric filter {metric_filter.name!r} does not cover CIS {control.control_id}",
            metric_filter.ref,
        )
    if strict and not coverage.canonical:
        return Problem(
            Code.FILTER_PATTERN_NOT_CANONICAL,
            Link.FILTER,
            f"the pack is in strict canonical-text mode. Use exactly {control.filter_pattern!r}.",
            f"metric filter {metric_filter.name!r} covers CIS {control.control_id} but its text is not the benchmark's",
            metric_filter.ref,
        )
    return None


def _unseen_events_problems(metric_filter: MetricFilterFacts, control: Control) -> list[Problem]:
    """What makes the filter read other events than the CloudTrail records the pattern was judged on.

    PutMetricFilter (logs service model): ``fieldSelectionCriteria`` "specifies which log events
    should be processed by this metric filter based on system fields such as source account and
    source region"; with ``applyOnTransformedLogs`` true and a log-group or account-level transformer,
    "the metric filter will be applied on the transformed version of the log events"; the parameter
    "is valid only for log groups that have an active log transformer" (without one it changes nothing).
    """
    found = []
    criteria = metric_filter.selection_criteria
    if isinstance(criteria, str) and criteria.strip():
        found.append(
            _problem(
                metric_filter,
                control,
                Code.FILTER_SELECTION_CRITERIA,
                f"its fieldSelectionCriteria {criteria!r} counts only events whose system fields (@aws.account,"
                " @aws.region: the source account and Region AWS sets per log event) satisfy it, and the"
                " control's sample records are CloudTrail records, which carry no such fields: whether every"
                " CloudTrail change is counted cannot be judged. Remove fieldSelectionCriteria",
            )
        )
    transformer = metric_filter.transformer
    if (
        metric_filter.apply_on_transformed_logs is True
        and transformer is not False
        and not is_unknown(transformer)
    ):
        found.append(
            _problem(
                metric_filter,
                control,
                Code.FILTER_TRANSFORMED_LOGS,
                "applyOnTransformedLogs is true, so where a log transformer applies (the log group's or the"
                " account's) the pattern runs on the transformed events, which the core cannot see (it judges the"
                " pattern on CloudTrail's records as delivered). Set applyOnTransformedLogs to false: without a"
                " transformer it has no effect, with one the benchmark's pattern reads the original events",
            )
        )
    return found


def filter_event_values(metric_filter: MetricFilterFacts, control: Control) -> EventValues | None:
    """What the filter adds per target record; None when its value is unknown or unreadable."""
    value = metric_filter.value
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    return event_values(str(value), control.target_samples())


def value_problem(metric_filter: MetricFilterFacts, control: Control) -> Problem | None:
    """Why a match of ``metric_filter`` does not add at least 1 to its metric, or None."""
    value = metric_filter.value
    if is_unknown(value):
        return None
    fix = f"use value {control.metric_value}"
    if value is None or value == "":
        return _problem(metric_filter, control, Code.FILTER_VALUE_NONE, f"it has no metric value; {fix}")
    values = filter_event_values(metric_filter, control)
    if values is None:
        return _problem(
            metric_filter,
            control,
            Code.FILTER_VALUE_INVALID,
            f"its metric value is {value!r}, which is neither a number nor a field reference; {fix}",
        )
    if values.reference is not None and values.missing:
        total = len(values.values)
        return _problem(
            metric_filter,
            control,
            Code.FILTER_VALUE_FIELD_MISSING,
            f"it takes its metric value from {values.reference}, which {values.missing} of the control's {total} "
            f"sample records do not have as a number (CloudTrail records have no such field), so those "
            f"events add nothing to the metric; {fix}",
        )
    smallest = values.smallest
    if smallest is not None and smallest <= 0:
        return _problem(
            metric_filter,
            control,
            Code.FILTER_VALUE_ZERO,
            f"its metric value is {value!r}, so a match adds nothing; {fix}",
        )
    if smallest is not None and smallest < 1:
        return _problem(
            metric_filter,
            control,
            Code.FILTER_VALUE_BELOW_ONE,
            f"it adds {smallest:g} per matching event; one event must add at least 1, so {fix}",
        )
    return None


def _problem(metric_filter: MetricFilterFacts, control: Control, code: str, detail: str) -> Problem:
    return Problem(code, Link.FILTER, detail, filter_lead(metric_filter, control), metric_filter.ref)
