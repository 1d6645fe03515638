"""ControlMonitor: one catalog control in one account and region.

A CloudWatch Logs metric filter on the trail's log group counts the control's
events; an alarm on exactly that metric notifies the topic on the first one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from cis_core.catalog import Control

TYPE = "cis-monitoring:aws:ControlMonitor"


@dataclass(frozen=True)
class ControlMonitorArgs:
    control: Control
    log_group_name: pulumi.Input[str]
    """The multi-region trail's log group (must exist; nothing here creates or deletes it)."""
    filter_name: str
    alarm_name: str
    alarm_actions: Sequence[pulumi.Input[str]]
    ok_actions: Sequence[pulumi.Input[str]] = ()
    insufficient_data_actions: Sequence[pulumi.Input[str]] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


class ControlMonitor(pulumi.ComponentResource):
    metric_filter_name: pulumi.Output[str]
    alarm_name: pulumi.Output[str]
    alarm_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ControlMonitorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        control = args.control
        if not args.alarm_actions:
            raise ValueError(
                f"{name}: an alarm without actions notifies nobody; give at least one alarm action"
            )

        metric_filter = aws.cloudwatch.LogMetricFilter(
            f"{name}-filter",
            name=args.filter_name,
            log_group_name=args.log_group_name,
            pattern=control.filter_pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=control.metric_name,
                namespace=control.namespace,
                value=control.metric_value,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        settings = control.alarm
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=args.alarm_name,
            alarm_description=f"{control.alarm_description}. Metric filter {args.filter_name}.",
            # The same catalog fields as the filter's transformation: an alarm on any other
            # name or namespace would watch a metric nobody writes and never fire.
            metric_name=control.metric_name,
            namespace=control.namespace,
            statistic=settings.statistic,
            period=settings.period,
            threshold=settings.threshold,
            comparison_operator=settings.comparison_operator,
            evaluation_periods=settings.evaluation_periods,
            treat_missing_data=settings.treat_missing_data,
            actions_enabled=True,
            alarm_actions=list(args.alarm_actions),
            ok_actions=list(args.ok_actions),
            insufficient_data_actions=list(args.insufficient_data_actions),
            tags={**args.tags, "cis-control": control.control_id},
            # The metric exists only once the filter does.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[metric_filter]),
        )

        self.metric_filter_name = metric_filter.name
        self.alarm_name = alarm.name
        self.alarm_arn = alarm.arn
        self.register_outputs(
            {
                "metricFilterName": self.metric_filter_name,
                "alarmName": self.alarm_name,
                "alarmArn": self.alarm_arn,
            }
        )
