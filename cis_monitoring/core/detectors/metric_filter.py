"""The CIS detector: a CloudWatch Logs metric filter on the trail's log group, and an alarm on its metric.

What the program registers (``registrations``): a filter with the benchmark's exact pattern
writing the control's metric with value 1, and an alarm that watches exactly that metric (same
namespace and name, no dimensions, no unit) with the benchmark's settings and
``treatMissingData`` ``notBreaching``. The specs are plain data, so the core's tests check the
filter-to-alarm link without Pulumi; the program's component copies them into resources.

What the pack and the audit read (``PULUMI_TYPES``, ``AWS_READS``), and how it is judged: the
core's chain judgement (``judge.chain.judge_chain``) from filter, alarm, topic and subscription
facts. The notification path (topic, key, subscribers) is shared by every kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cis_monitoring.core.catalog import Control
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.judge.chain import judge_chain
from cis_monitoring.core.problems import Link

from .kind import Detector

KIND = "metric-filter"
LOG_METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"

AWS_READS = {
    Link.FILTER: (
        AwsRead(
            "logs",
            "DescribeMetricFilters",
            (
                "filterName",
                "filterPattern",
                "metricTransformations",
                "logGroupName",
                "fieldSelectionCriteria",
                "emitSystemFieldDimensions",
                "applyOnTransformedLogs",
            ),
        ),
    ),
    Link.ALARM: (
        AwsRead(
            "cloudwatch",
            "DescribeAlarms",
            (
                "AlarmName",
                "Namespace",
                "MetricName",
                "Statistic",
                "Period",
                "Threshold",
                "ComparisonOperator",
                "EvaluationPeriods",
                "DatapointsToAlarm",
                "TreatMissingData",
                "Dimensions",
                "Unit",
                "Metrics",
                "ActionsEnabled",
                "AlarmActions",
            ),
        ),
    ),
}
"""The calls each of the kind's links rests on (the notification path's: ``judge.notification.READS``)."""


@dataclass(frozen=True)
class MetricFilterSpec:
    """A ``PutMetricFilter`` the program makes: one metric transformation."""

    name: str
    pattern: str
    metric_namespace: str
    metric_name: str
    metric_value: str


@dataclass(frozen=True)
class AlarmSpec:
    """A ``PutMetricAlarm`` on the filter's metric (its actions are the chain's topic)."""

    name: str
    description: str
    namespace: str
    metric_name: str
    statistic: str
    period: int
    threshold: float
    comparison_operator: str
    evaluation_periods: int
    treat_missing_data: str
    tags: Mapping[str, str] = field(default_factory=dict)


def registrations(
    control: Control, *, filter_name: str, alarm_name: str, tags: Mapping[str, str] | None = None
) -> tuple[MetricFilterSpec, AlarmSpec]:
    """The filter and the alarm for ``control`` (the alarm reads exactly the filter's metric)."""
    metric_filter = MetricFilterSpec(
        name=filter_name,
        pattern=control.filter_pattern,
        metric_namespace=control.namespace,
        metric_name=control.metric_name,
        metric_value=control.metric_value,
    )
    settings = control.alarm
    alarm = AlarmSpec(
        name=alarm_name,
        description=f"{control.alarm_description}. Metric filter {filter_name}.",
        # The filter's own metric: an alarm on any other name or namespace (or with dimensions
        # or a unit the filter does not publish) watches a series nobody writes and never fires.
        namespace=metric_filter.metric_namespace,
        metric_name=metric_filter.metric_name,
        statistic=settings.statistic,
        period=settings.period,
        threshold=settings.threshold,
        comparison_operator=settings.comparison_operator,
        evaluation_periods=settings.evaluation_periods,
        treat_missing_data=settings.treat_missing_data,
        tags=dict(tags or {}),
    )
    return metric_filter, alarm


DETECTOR = Detector(
    kind=KIND,
    title="CloudWatch Logs metric filter and alarm",
    pulumi_types=(LOG_METRIC_FILTER, METRIC_ALARM),
    aws_reads=AWS_READS,
    registrations=registrations,
    judge=judge_chain,
)
