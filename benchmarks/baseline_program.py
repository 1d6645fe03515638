"""Baseline for the program benchmark: a plain Pulumi program, run by the same mock harness.

It registers, per (account, region), the same pulumi-aws resources with the same inputs as
``__main__.py`` (provider, kms Key + Alias, sns Topic + TopicPolicy + TopicSubscription,
LogMetricFilter, MetricAlarm) in a hard-coded loop: no config parsing or validation, no
component resources, no log-group lookup, no stack outputs. Only the target count is read from
config (``cis-monitoring:benchTargets``). The policy documents come from the same pure functions
the program uses, so the inputs are identical (``program_bench.check_same_inputs`` verifies it).

``cis-monitoring:benchControls: all`` also registers a filter and an alarm for every other catalog
control (the program's ``controls: all``), with the inputs the program gives them.

Diagnostic mode (``cis-monitoring:benchStructure: true``): the same loop plus the program's
*structure*: the two component resources per target (same types, names and registered
outputs), the getLogGroup invoke, and stack outputs of the same shape. It still has none of
the program's own code (config models, validation, naming), so ours vs this variant is the
cost of that code, and this variant vs the plain baseline is the SDK's cost of the structure.
"""

from typing import Any

import pulumi
import pulumi_aws as aws

from benchmarks import targets as t
from cis_monitoring.core.catalog import CIS_4_5 as CONTROL
from cis_monitoring.core.catalog import CONTROLS, Control
from cis_monitoring.core.project import PROJECT
from cis_monitoring.program.policies import key_policy, topic_policy

BASE_TAGS = {"ManagedBy": "pulumi", "Project": PROJECT}
TAG = f"{CONTROL.control_id.replace('.', '-')}-{CONTROL.slug}"


def register_control(
    control: Control,
    base: str,
    name: str,
    log_group: pulumi.Input[str],
    tags: dict[str, str],
    topic_arn: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.cloudwatch.LogMetricFilter, aws.cloudwatch.MetricAlarm]:
    """One control's filter and alarm, with the inputs ``metric_filter.registrations`` gives the program."""
    tag = f"{control.control_id.replace('.', '-')}-{control.slug}"
    filter_name, settings = f"{t.PREFIX}-{tag}", control.alarm
    metric_filter = aws.cloudwatch.LogMetricFilter(
        f"{base}-{tag}-filter",
        name=filter_name,
        log_group_name=log_group,
        pattern=control.filter_pattern,
        metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
            name=control.metric_name, namespace=control.namespace, value=control.metric_value
        ),
        opts=opts,
    )
    alarm = aws.cloudwatch.MetricAlarm(
        f"{base}-{tag}-alarm",
        name=f"{t.PREFIX}-{tag}-{name}-{t.REGION}",
        alarm_description=f"{control.alarm_description}. Metric filter {filter_name}.",
        metric_name=control.metric_name,
        namespace=control.namespace,
        statistic=settings.statistic,
        period=settings.period,
        threshold=settings.threshold,
        comparison_operator=settings.comparison_operator,
        evaluation_periods=settings.evaluation_periods,
        treat_missing_data=settings.treat_missing_data,
        actions_enabled=True,
        alarm_actions=[topic_arn],
        ok_actions=[],
        insufficient_data_actions=[],
        tags={**tags, "cis-control": control.control_id},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[metric_filter])),
    )
    return metric_filter, alarm


def register_target(index: int, structured: bool, other_controls: tuple[Control, ...] = ()) -> dict[str, Any]:
    account, name = t.account_id(index), t.account_name(index)
    base = f"{account}-{t.REGION}"  # the program's logical-name stem (account id, Region)
    topic_name = f"{t.PREFIX}-{name}-alarms"
    tags = dict(t.STACK_TAGS)
    provider = aws.Provider(
        base,
        region=t.REGION,
        allowed_account_ids=[account],
        assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=t.role_arn(index), session_name=PROJECT)],
        default_tags=aws.ProviderDefaultTagsArgs(tags={**BASE_TAGS, **tags}),
    )
    log_group: pulumi.Input[str] = t.LOG_GROUP
    notify_opts = monitor_opts = pulumi.ResourceOptions(provider=provider)
    notification = monitor = None
    if structured:
        found = aws.cloudwatch.get_log_group_output(
            name=t.LOG_GROUP, opts=pulumi.InvokeOutputOptions(provider=provider)
        )
        log_group = found.name
        in_target = pulumi.ResourceOptions(providers=[provider])
        notification = pulumi.ComponentResource(
            "cis-monitoring:aws:AlarmNotification", f"{base}-notify", None, in_target
        )
        monitor = pulumi.ComponentResource(
            "cis-monitoring:aws:ControlMonitor", f"{base}-{TAG}", None, in_target
        )
        notify_opts = pulumi.ResourceOptions(parent=notification)
        monitor_opts = pulumi.ResourceOptions(parent=monitor)

    key = aws.kms.Key(
        f"{base}-notify-key",
        description=f"Encrypts the CIS alarm topic {topic_name}; CloudWatch alarms may use it",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=key_policy(account, t.REGION),
        tags=tags,
        opts=notify_opts,
    )
    aws.kms.Alias(
        f"{base}-notify-key-alias", name=f"alias/{topic_name}", target_key_id=key.key_id, opts=notify_opts
    )
    topic = aws.sns.Topic(
        f"{base}-notify-topic", name=topic_name, kms_master_key_id=key.arn, tags=tags, opts=notify_opts
    )
    aws.sns.TopicPolicy(
        f"{base}-notify-topic-policy",
        arn=topic.arn,
        policy=topic.arn.apply(lambda arn: topic_policy(arn, account, t.REGION)),
        opts=notify_opts,
    )
    subscription = aws.sns.TopicSubscription(
        f"{base}-notify-sub-0", topic=topic.arn, protocol="email", endpoint=t.EMAIL, opts=notify_opts
    )
    metric_filter, alarm = register_control(CONTROL, base, name, log_group, tags, topic.arn, monitor_opts)
    for other in other_controls:  # benchControls: all (never with benchStructure)
        register_control(
            other, base, name, log_group, tags, topic.arn, pulumi.ResourceOptions(provider=provider)
        )
    if notification is None or monitor is None:
        return {}
    notification.register_outputs(
        {"topicArn": topic.arn, "kmsKeyArn": key.arn, "subscriptionArns": pulumi.Output.all(subscription.arn)}
    )
    monitor.register_outputs(
        {"metricFilterName": metric_filter.name, "alarmName": alarm.name, "alarmArn": alarm.arn}
    )
    return {
        "accountId": account,
        "accountName": name,
        "region": t.REGION,
        "logGroup": log_group,
        "topicArn": topic.arn,
        "controls": {
            CONTROL.control_id: {
                "controlId": CONTROL.control_id,
                "alarmName": alarm.name,
                "alarmArn": alarm.arn,
                "metricFilterName": metric_filter.name,
                "metricName": CONTROL.metric_name,
                "namespace": CONTROL.namespace,
                "filterPattern": CONTROL.filter_pattern,
            }
        },
    }


if __name__ == "__main__":
    config = pulumi.Config()
    structured = bool(config.get_bool("benchStructure"))
    others = (
        tuple(c for c in CONTROLS.values() if c is not CONTROL)
        if config.get("benchControls") == "all"
        else ()
    )
    results = {}
    for i in range(config.require_int("benchTargets")):
        results[f"{t.account_id(i)}/{t.REGION}"] = register_target(i, structured, others)
    if structured:
        pulumi.export("resultsSchemaVersion", 1)
        pulumi.export("monitoring", results)
        pulumi.export("summary", {"targets": len(results), "controls": [CONTROL.control_id]})
