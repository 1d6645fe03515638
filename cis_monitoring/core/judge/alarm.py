"""Whether an alarm on a control's metric notifies on a single matching event.

One event adds the filter's value (the catalog's, 1, when no filter is given) to one
period's Sum. The alarm must breach on that, must not breach on a period without events
(else it sits in ALARM and the next event changes nothing), must watch exactly the series
the filter writes, and must send its notification to an SNS topic.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from cis_monitoring.core.aws.arns import parse_sns_topic_arn
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.problems import Code, Link, Problem
from cis_monitoring.core.unknown import is_unknown

from .facts import AlarmFacts, MetricFilterFacts
from .metric_filter import filter_event_values
from .metric_values import as_number, series_of

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
"""Static-threshold operators (the anomaly-band ones compare with a band, not a number)."""
FAILING_MISSING_DATA = {
    "breaching": "every period without an event breaches, so the alarm sits in ALARM and the next event changes nothing",
    "ignore": "after an event the alarm keeps its ALARM state through the empty periods that follow, so the next event changes nothing",
}


def alarm_lead(alarm: AlarmFacts) -> str:
    return f"alarm {alarm.name!r} on the filter's metric cannot notify on one event"


def watches(alarm: AlarmFacts, metric_filter: MetricFilterFacts) -> bool | None:
    """Whether the alarm reads the filter's metric (directly or in metric math); None: not known yet."""
    wanted = (metric_filter.namespace, metric_filter.metric_name)
    if any(is_unknown(part) for part in wanted):
        return None
    math = alarm.math_metrics
    metrics = [(alarm.namespace, alarm.metric_name), *(() if is_unknown(math) else math)]
    if any(m == wanted for m in metrics):
        return True
    if is_unknown(math):
        return None
    if any(is_unknown(part) for metric in metrics for part in metric):
        return None
    return False


def alarm_problems(
    alarm: AlarmFacts, control: Control, metric_filter: MetricFilterFacts | None = None
) -> list[Problem]:
    """Why ``alarm`` would not notify on one of the control's events (unknown values are no problems).

    With ``metric_filter`` the alarm is also judged against what that filter writes (value,
    dimensions, unit, default value); without it, against the catalog's metric value.
    """
    math = alarm.uses_metric_math
    if math is True:
        # Statistic, period, dimensions, unit and what one event adds all live inside the math.
        details = [
            (
                Code.ALARM_METRIC_MATH,
                "it uses metric math instead of the filter's metric; alarm on the metric itself",
            )
        ]
    elif is_unknown(math):
        details = []  # whether it reads the metric directly is not known yet
    else:
        details = _reading_problems(alarm, control, metric_filter)
        details += _threshold_problems(alarm, control, metric_filter)
    details += _state_problems(alarm)
    details += _action_problems(alarm)
    lead = alarm_lead(alarm)
    return [Problem(code, Link.ALARM, detail, lead, alarm.ref) for code, detail in details]


def _reading_problems(
    alarm: AlarmFacts, control: Control, metric_filter: MetricFilterFacts | None
) -> list[tuple[str, str]]:
    """How the alarm reads the metric: with Sum, over short periods, the filter's series and unit."""
    found = []
    statistic = alarm.statistic
    if not is_unknown(statistic) and statistic != control.alarm.statistic:
        found.append(
            (
                Code.ALARM_STATISTIC,
                f"statistic is {statistic!r}, not {control.alarm.statistic!r} (one event must count as 1)",
            )
        )
    period = as_number(alarm.period)
    if period is not None and period > control.alarm.period:
        found.append(
            (Code.ALARM_PERIOD_TOO_LONG, f"period is {period:g} s; at most {control.alarm.period} s")
        )
    if metric_filter is not None:
        found += _series_problems(alarm, metric_filter, control)
    return found


def _series_problems(
    alarm: AlarmFacts, metric_filter: MetricFilterFacts, control: Control
) -> list[tuple[str, str]]:
    found = []
    wanted, watched = metric_filter.dimensions, alarm.dimensions
    system = metric_filter.system_field_dimensions
    if not is_unknown(wanted) and not is_unknown(watched) and not is_unknown(system):
        watched = dict(watched or {})
        system_problem = _system_field_problem(tuple(system or ()), watched)
        if system_problem is not None:
            found.append(system_problem)
        watched = {k: v for k, v in watched.items() if k not in tuple(system or ())}
        mismatch = _dimension_mismatch(dict(wanted or {}), watched, control)
        if mismatch:
            found.append((Code.ALARM_DIMENSIONS_MISMATCH, mismatch))
    unit, published = alarm.unit, metric_filter.unit
    # A filter without a unit publishes its datapoints with unit "None".
    if isinstance(unit, str) and not is_unknown(published) and unit != (published or "None"):
        found.append(
            (
                Code.ALARM_UNIT_MISMATCH,
                f"its unit is {unit!r}, but the filter publishes the metric "
                + (f"with unit {published!r}" if published else "without a unit")
                + ", so the alarm sees no datapoints; leave the alarm's unit unset",
            )
        )
    return found


def _system_field_problem(system: tuple[str, ...], watched: Mapping[str, Any]) -> tuple[str, str] | None:
    """The filter's emitted system-field dimensions (``emitSystemFieldDimensions``: ``@aws.account``,
    ``@aws.region``, logs service model) against the alarm's: every series the filter writes has them."""
    if not system:
        return None
    missing = [f for f in system if f not in watched]
    if missing:
        return (
            Code.ALARM_DIMENSIONS_MISMATCH,
            f"the filter also writes the system fields {', '.join(missing)} as dimensions"
            " (emitSystemFieldDimensions), so every series it writes has them, and an alarm without them"
            " watches a series nobody writes; remove emitSystemFieldDimensions from the filter",
        )
    shown = ", ".join(f"{f}={watched[f]}" for f in system)
    return (
        Code.ALARM_DIMENSIONS_SYSTEM_FIELD,
        f"it watches the series {shown} of the filter's system-field dimensions, and which values CloudTrail's"
        " events carry there (AWS sets them per event from its source account and Region) cannot be judged;"
        " remove emitSystemFieldDimensions from the filter and these dimensions from the alarm",
    )


def _dimension_mismatch(
    wanted: Mapping[str, Any], watched: Mapping[str, Any], control: Control
) -> str | None:
    """Why the alarm's dimensions do not select the series every target event lands in, or None."""
    if any(is_unknown(v) for v in (*wanted.values(), *watched.values())):
        return None
    if set(wanted) != set(watched):
        emits = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items())) or "no dimensions"
        reads = ", ".join(f"{k}={v}" for k, v in sorted(watched.items())) or "no dimensions"
        return (
            f"it watches the metric with {reads}, but the filter writes it with {emits}; an alarm sees only the "
            "series with exactly its dimensions, so give it the filter's dimensions"
        )
    missed = []
    for record in control.target_samples():
        series = series_of(wanted, record)
        if series is not None and series != {k: str(v) for k, v in watched.items()}:
            missed.append(record.event_name or record.label)
    if missed:
        names = ", ".join(dict.fromkeys(missed))
        return (
            f"it watches only the series {dict(watched)}, but the filter writes {names} events into other series "
            "(its dimensions take their values from the event); drop the dimensions from both"
        )
    return None


def _threshold_problems(
    alarm: AlarmFacts, control: Control, metric_filter: MetricFilterFacts | None
) -> list[tuple[str, str]]:
    """The comparison must breach on one event's value and not on a period without events."""
    comparison, threshold = alarm.comparison_operator, as_number(alarm.threshold)
    if is_unknown(comparison) or is_unknown(alarm.threshold):
        return []
    fix = f"use {control.alarm.comparison_operator} {control.alarm.threshold:g}"
    compare = COMPARISONS.get(comparison) if isinstance(comparison, str) else None
    if compare is None or threshold is None:
        return [
            (
                Code.ALARM_COMPARISON_UNSUPPORTED,
                f"compares with {comparison!r}, not a static threshold; {fix}",
            )
        ]
    one_event, quiet = _event_value(control, metric_filter), _quiet_value(metric_filter)
    found = []
    if one_event is not None and not compare(one_event, threshold):
        added = "" if one_event == 1 else f", which adds {one_event:g}"
        found.append(
            (
                Code.ALARM_THRESHOLD_NEVER_FIRES,
                f"{comparison} {threshold:g} never fires on one event{added} ({fix})",
            )
        )
    if compare(0.0, threshold):
        found.append(
            (
                Code.ALARM_THRESHOLD_FIRES_ON_ZERO,
                f"{comparison} {threshold:g} is breached by a period without events, so the alarm sits in ALARM "
                f"and the next event changes nothing ({fix})",
            )
        )
    elif quiet is not None and quiet != 0 and compare(quiet, threshold):
        found.append(
            (
                Code.ALARM_THRESHOLD_FIRES_ON_DEFAULT_VALUE,
                f"the filter's default value {quiet:g} breaches {comparison} {threshold:g} in every period without "
                "events, so the alarm sits in ALARM and the next event changes nothing; remove the default value",
            )
        )
    return found


def _event_value(control: Control, metric_filter: MetricFilterFacts | None) -> float | None:
    """The least one event adds (None: not known, so the breach on one event is not judged)."""
    if metric_filter is None:
        return as_number(control.metric_value)
    values = filter_event_values(metric_filter, control)
    return values.smallest if values is not None else None


def _quiet_value(metric_filter: MetricFilterFacts | None) -> float | None:
    return as_number(metric_filter.default_value) if metric_filter is not None else None


def _state_problems(alarm: AlarmFacts) -> list[tuple[str, str]]:
    found = []
    evaluation, datapoints = alarm.evaluation_periods, alarm.datapoints_to_alarm
    if not is_unknown(datapoints):
        needed = as_number(datapoints) or as_number(evaluation)
        if needed is not None and needed > 1:
            found.append(
                (
                    Code.ALARM_EVALUATION_MULTIPLE_PERIODS,
                    f"it needs {needed:g} breaching periods; one event breaches only one",
                )
            )
    treatment = alarm.treat_missing_data
    if isinstance(treatment, str) and treatment in FAILING_MISSING_DATA:
        found.append(
            (
                Code.ALARM_TREAT_MISSING_DATA,
                f"treatMissingData is {treatment!r}: {FAILING_MISSING_DATA[treatment]}; use 'notBreaching'",
            )
        )
    return found


def _action_problems(alarm: AlarmFacts) -> list[tuple[str, str]]:
    found = []
    if alarm.actions_enabled is False:
        found.append((Code.ALARM_ACTIONS_DISABLED, "its actions are disabled"))
    actions = alarm.alarm_actions
    if is_unknown(actions):
        return found
    actions = tuple(actions or ())
    if not actions:
        found.append(
            (
                Code.ALARM_ACTIONS_NONE,
                "it has no alarm action, so it notifies nobody; point alarmActions at an SNS topic with a subscriber",
            )
        )
    elif not any(is_unknown(a) or parse_sns_topic_arn(a) for a in actions):
        found.append(
            (
                Code.ALARM_ACTIONS_NO_SNS,
                f"it has no SNS topic among its alarm actions ({', '.join(map(str, actions))}); add one",
            )
        )
    return found


def sns_actions(alarm: AlarmFacts) -> tuple[Any, ...]:
    """The alarm's actions that are (or may turn out to be) SNS topic ARNs."""
    if is_unknown(alarm.alarm_actions):
        return ()
    return tuple(a for a in alarm.alarm_actions or () if is_unknown(a) or parse_sns_topic_arn(a))
