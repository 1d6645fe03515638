"""ControlMonitor: the metric-filter detector of one catalog control on one chain site.

A CloudWatch Logs metric filter on the trail's log group counts the control's events; an
alarm on exactly that metric notifies the topic on the first one. What they are is the core's
(``cis_monitoring.core.detectors.metric_filter.registrations``: plain specs, judged in the
core's tests by the same judgement the pack and the audit make); this component only copies
the specs into resources.

Both are ``retain_on_delete``: when Pulumi deletes them (the account leaves the stack,
moves to another shard stack, ``pulumi destroy``) or replaces them under a new name,
it leaves the AWS resource in place and only forgets it. Nothing should remove the
monitoring by accident: the stack that gains an account may have taken over the same
filter and alarm already (PutMetricFilter and PutMetricAlarm overwrite), and a
deleted alarm fails silently. A leftover is visible and costs little; README
"Renames, moves and leftovers" says how to remove one on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import metric_filter as detector
from cis_monitoring.program import naming
from cis_monitoring.program.aliases import child_options, own_options
from cis_monitoring.spec import CONTROL_TAG

from .monitor import MonitorArgs

TYPE = "cis-monitoring:aws:ControlMonitor"
# The children's type tokens, for their aliases' URNs (cis_monitoring/program/aliases.py).
FILTER_TYPE = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"


@dataclass(frozen=True)
class ControlMonitorArgs:
    control: Control
    log_group_name: pulumi.Input[str]
    """The trail's log group, as found at preview time (nothing here creates or deletes it)."""
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
        self,
        name: str,
        args: ControlMonitorArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        legacy_name: str | None = None,
    ) -> None:
        """``legacy_name``: this monitor's logical name in releases that built it from the account name."""
        super().__init__(TYPE, name, None, own_options(opts, TYPE, legacy_name))
        control = self.control = args.control
        if not args.alarm_actions:
            raise ValueError(
                f"{name}: an alarm without actions notifies nobody; give at least one alarm action"
            )

        spec_filter, spec_alarm = detector.registrations(
            control,
            filter_name=args.filter_name,
            alarm_name=args.alarm_name,
            tags={**args.tags, CONTROL_TAG: control.control_id},
        )
        metric_filter = aws.cloudwatch.LogMetricFilter(
            f"{name}-filter",
            name=spec_filter.name,
            log_group_name=args.log_group_name,
            pattern=spec_filter.pattern,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                name=spec_filter.metric_name,
                namespace=spec_filter.metric_namespace,
                value=spec_filter.metric_value,
            ),
            opts=self._child(legacy_name, FILTER_TYPE, "-filter"),
        )
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=spec_alarm.name,
            alarm_description=spec_alarm.description,
            metric_name=spec_alarm.metric_name,
            namespace=spec_alarm.namespace,
            statistic=spec_alarm.statistic,
            period=spec_alarm.period,
            threshold=spec_alarm.threshold,
            comparison_operator=spec_alarm.comparison_operator,
            evaluation_periods=spec_alarm.evaluation_periods,
            treat_missing_data=spec_alarm.treat_missing_data,
            actions_enabled=True,
            alarm_actions=list(args.alarm_actions),
            ok_actions=list(args.ok_actions),
            insufficient_data_actions=list(args.insufficient_data_actions),
            tags=dict(spec_alarm.tags),
            # The metric exists only once the filter does.
            opts=self._child(legacy_name, ALARM_TYPE, "-alarm", depends_on=[metric_filter]),
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

    def result(self) -> dict[str, Any]:
        """This control's entry in the stack's ``chains`` output (cis_monitoring/program/outputs.py)."""
        control = self.control
        return {
            "controlId": control.control_id,
            "detector": detector.KIND,
            "alarmName": self.alarm_name,
            "alarmArn": self.alarm_arn,
            "metricFilterName": self.metric_filter_name,
            "metricName": control.metric_name,
            "namespace": control.namespace,
            "filterPattern": control.filter_pattern,
        }

    @classmethod
    def for_site(
        cls,
        name: str,
        args: MonitorArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        legacy_name: str | None = None,
    ) -> ControlMonitor:
        """The monitor at a chain site, named from the site's stable ids (``naming``)."""
        target, control = args.target, args.control
        return cls(
            name,
            ControlMonitorArgs(
                control=control,
                log_group_name=args.log_group_name,
                filter_name=naming.metric_filter_name(args.name_prefix, control),
                alarm_name=naming.alarm_name(args.name_prefix, target, control),
                alarm_actions=args.alarm_actions,
                ok_actions=args.ok_actions,
                insufficient_data_actions=args.insufficient_data_actions,
                tags=target.tags,
            ),
            opts,
            legacy_name=legacy_name,
        )

    def _child(
        self, legacy_name: str | None, type_: str, suffix: str, **options: Any
    ) -> pulumi.ResourceOptions:
        """A child that Pulumi never deletes from AWS (see the module's docstring)."""
        legacy_child = f"{legacy_name}{suffix}" if legacy_name else None
        return child_options(self, TYPE, type_, legacy_name, legacy_child, retain_on_delete=True, **options)
