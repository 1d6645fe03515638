"""Whether an alarm on a control's metric can fire on a single matching event."""

from __future__ import annotations

from cis_core.catalog import Control
from cis_core.unknown import is_unknown


def alarm_problems(props: dict, control: Control) -> list[str]:
    """Why an alarm could not fire on a single matching event (unknown values are not problems)."""
    problems = []
    statistic = props.get("statistic")
    if not is_unknown(statistic) and statistic != control.alarm.statistic:
        problems.append(f"statistic is {statistic!r}, not 'Sum' (one event must count as 1)")
    period = props.get("period")
    if isinstance(period, (int, float)) and period > control.alarm.period:
        problems.append(f"period is {period:g} s; at most {control.alarm.period} s")
    operator, threshold = props.get("comparisonOperator"), props.get("threshold")
    if isinstance(threshold, (int, float)) and not is_unknown(operator):
        fires = (operator == "GreaterThanOrEqualToThreshold" and 0 < threshold <= 1) or (
            operator == "GreaterThanThreshold" and 0 <= threshold < 1
        )
        if not fires:
            problems.append(
                f"{operator} {threshold:g} never fires on one event (use GreaterThanOrEqualToThreshold 1)"
            )
    evaluation, datapoints = props.get("evaluationPeriods"), props.get("datapointsToAlarm")
    needed = datapoints if isinstance(datapoints, (int, float)) and datapoints else evaluation
    if isinstance(needed, (int, float)) and needed > 1:
        problems.append(f"it needs {needed:g} breaching periods; one event breaches only one")
    if props.get("actionsEnabled") is False:
        problems.append("its actions are disabled")
    if props.get("metricQueries"):
        problems.append("it uses metric math instead of the filter's metric")
    return problems
