"""The metric filter fields DescribeMetricFilters returns besides the pattern (logs service model 2014-03-28):
fieldSelectionCriteria, emitSystemFieldDimensions and applyOnTransformedLogs. What the core cannot see is a
problem with a code, never a pass."""

from __future__ import annotations

from dataclasses import replace

from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.judge.alarm import alarm_problems
from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts
from cis_monitoring.core.judge.metric_filter import filter_problems
from cis_monitoring.core.problems import Code
from cis_monitoring.core.unknown import UNKNOWN

FILTER = MetricFilterFacts("f", CIS_4_5.filter_pattern, CIS_4_5.namespace, CIS_4_5.metric_name, "1")
ALARM = AlarmFacts(
    "a",
    CIS_4_5.namespace,
    CIS_4_5.metric_name,
    "Sum",
    300,
    1.0,
    "GreaterThanOrEqualToThreshold",
    1,
    alarm_actions=("arn:aws:sns:us-east-1:111111111111:t",),
    treat_missing_data="notBreaching",
)


def codes(metric_filter: MetricFilterFacts, alarm: AlarmFacts = ALARM) -> set[str]:
    return {p.code for p in filter_problems(metric_filter, CIS_4_5)} | {
        p.code for p in alarm_problems(alarm, CIS_4_5, metric_filter)
    }


def test_the_program_filter_has_none_of_them() -> None:
    assert codes(FILTER) == set()


def test_selection_criteria_are_not_judged() -> None:
    found = filter_problems(replace(FILTER, selection_criteria='@aws.region = "us-east-1"'), CIS_4_5)
    assert [p.code for p in found] == [Code.FILTER_SELECTION_CRITERIA]
    assert "cannot be judged" in found[0].detail and "Remove fieldSelectionCriteria" in found[0].detail
    assert codes(replace(FILTER, selection_criteria="")) == set()


def test_transformed_logs_are_not_judged_unless_no_transformer_applies() -> None:
    assert codes(replace(FILTER, apply_on_transformed_logs=True)) == {Code.FILTER_TRANSFORMED_LOGS}
    assert codes(replace(FILTER, apply_on_transformed_logs=True, transformer=True)) == {
        Code.FILTER_TRANSFORMED_LOGS
    }
    # AWS: "valid only for log groups that have an active log transformer": without one, no effect.
    assert codes(replace(FILTER, apply_on_transformed_logs=True, transformer=False)) == set()
    assert codes(replace(FILTER, apply_on_transformed_logs=UNKNOWN)) == set()


def test_system_field_dimensions_must_be_watched_and_then_cannot_be_judged() -> None:
    emitting = replace(FILTER, system_field_dimensions=("@aws.account",))
    missing = alarm_problems(ALARM, CIS_4_5, emitting)
    assert [p.code for p in missing] == [Code.ALARM_DIMENSIONS_MISMATCH]
    assert "series nobody writes" in missing[0].detail
    watching = replace(ALARM, dimensions={"@aws.account": "111111111111"})
    assert [p.code for p in alarm_problems(watching, CIS_4_5, emitting)] == [
        Code.ALARM_DIMENSIONS_SYSTEM_FIELD
    ]
    # The alarm's other dimensions are still held against the filter's own.
    both = replace(ALARM, dimensions={"@aws.account": "111111111111", "EventName": "StopLogging"})
    assert {p.code for p in alarm_problems(both, CIS_4_5, emitting)} == {
        Code.ALARM_DIMENSIONS_SYSTEM_FIELD,
        Code.ALARM_DIMENSIONS_MISMATCH,
    }
