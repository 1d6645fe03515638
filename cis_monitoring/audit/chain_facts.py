"""The audit's adapter: boto3's answers (DescribeMetricFilters, DescribeAlarms, SNS) as the core's facts.

Only copying and renaming happens here; every judgement is the core's
(``cis_monitoring.core.judge``), the same one the policy pack makes from a stack's resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts


def filter_facts(metric_filter: Mapping[str, Any]) -> list[MetricFilterFacts]:
    """One fact per metric transformation of a DescribeMetricFilters entry (AWS allows one; none is possible)."""
    name, pattern = str(metric_filter.get("filterName", "?")), metric_filter.get("filterPattern", "")
    transformations = metric_filter.get("metricTransformations") or [{}]
    return [
        MetricFilterFacts(
            name=name,
            pattern=pattern,
            namespace=t.get("metricNamespace"),
            metric_name=t.get("metricName"),
            value=t.get("metricValue"),
            dimensions=t.get("dimensions"),
            unit=t.get("unit"),
            default_value=t.get("defaultValue"),
            ref=name,
        )
        for t in transformations
    ]


def _dimensions(dimensions: Any) -> dict[str, Any]:
    return {d.get("Name"): d.get("Value") for d in dimensions or () if isinstance(d, Mapping)}


def math_metrics(alarm: Mapping[str, Any]) -> tuple[tuple[Any, Any], ...]:
    """(namespace, metric name) of each metric a metric-math alarm reads."""
    metrics = []
    for query in alarm.get("Metrics") or ():
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric:
            metrics.append((metric.get("Namespace"), metric.get("MetricName")))
    return tuple(metrics)


def metrics_read(alarm: Mapping[str, Any]) -> set[tuple[Any, Any]]:
    """Every metric the alarm reads, directly or in its metric math (how it is found for a filter)."""
    return {(alarm.get("Namespace"), alarm.get("MetricName")), *math_metrics(alarm)}


def alarm_facts(alarm: Mapping[str, Any]) -> AlarmFacts:
    """A DescribeAlarms ``MetricAlarms`` entry."""
    enabled = alarm.get("ActionsEnabled")
    return AlarmFacts(
        name=str(alarm.get("AlarmName", "?")),
        namespace=alarm.get("Namespace"),
        metric_name=alarm.get("MetricName"),
        statistic=alarm.get("Statistic") or alarm.get("ExtendedStatistic"),
        period=alarm.get("Period"),
        threshold=alarm.get("Threshold"),
        comparison_operator=alarm.get("ComparisonOperator"),
        evaluation_periods=alarm.get("EvaluationPeriods"),
        datapoints_to_alarm=alarm.get("DatapointsToAlarm"),
        actions_enabled=True if enabled is None else enabled,
        alarm_actions=tuple(alarm.get("AlarmActions") or ()),
        treat_missing_data=alarm.get("TreatMissingData"),
        dimensions=_dimensions(alarm.get("Dimensions")),
        unit=alarm.get("Unit"),
        uses_metric_math=bool(alarm.get("Metrics")),
        math_metrics=math_metrics(alarm),
        ref=alarm.get("AlarmArn"),
    )


def topic_facts(arn: str, attributes: Mapping[str, Any]) -> TopicFacts:
    """A topic from its GetTopicAttributes ``Attributes``."""
    return TopicFacts(
        name=arn,
        arn=arn,
        kms_master_key_id=attributes.get("KmsMasterKeyId"),
        policy=attributes.get("Policy"),
        ref=arn,
    )


def subscription_facts(subscription: Mapping[str, Any]) -> SubscriptionFacts:
    """A ListSubscriptionsByTopic entry: pending and deleted ones show a status word instead of an ARN."""
    arn = str(subscription.get("SubscriptionArn", ""))
    return SubscriptionFacts(
        name=arn
        if arn.startswith("arn:")
        else f"{subscription.get('Protocol')}:{subscription.get('Endpoint')}",
        protocol=subscription.get("Protocol"),
        confirmed=arn.startswith("arn:"),
        endpoint=subscription.get("Endpoint"),
        ref=arn or None,
    )
