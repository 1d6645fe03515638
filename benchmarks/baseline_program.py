"""Baseline for the program benchmark: a plain Pulumi program, run by the same mock harness.

It registers, per (account, region), the same pulumi-aws resources with the same inputs as
``__main__.py`` (provider, kms Key + Alias, sns Topic + TopicPolicy + TopicSubscription,
LogMetricFilter, MetricAlarm) in a hard-coded loop: no config parsing or validation, no
component resources, no log-group lookup, no stack outputs. Only the target count is read from
config (``cis-monitoring:benchTargets``). The policy documents come from the same pure functions
the program uses, so the inputs are identical (``program_bench.check_same_inputs`` verifies it).

``cis-monitoring:benchControls: all`` also registers a filter and an alarm for every other catalog
control (the program's ``controls: all``), with the inputs the program gives them.

``cis-monitoring:benchRealTime: true`` (with ``benchControls: all``; the program's ``realTime`` of
``targets.REAL_TIME``) also registers, for every control with a real-time rule, what the program's
``RealTimeMonitor`` makes, as plain calls: the rule and its topic target (input transformer) in the chain's
Region, the same rule in the second Region with a forwarding target, and the forwarding role and its
policy; the topic policy then admits EventBridge for the home rules and the key lets EventBridge encrypt.
The rule patterns and message templates are constants per control, computed once before the loop (a bare
script would write them out); logical names are the program's, since the mocks derive ids from them.

Diagnostic mode (``cis-monitoring:benchStructure: true``): the same loop plus the program's
*structure*: the two component resources per target (same types, names and registered
outputs), the getLogGroup invoke, and stack outputs of the same shape. It still has none of
the program's own code (config models, validation, naming), so ours vs this variant is the
cost of that code, and this variant vs the plain baseline is the SDK's cost of the structure.
"""

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from benchmarks import targets as t
from cis_monitoring.core.catalog import CIS_4_5 as CONTROL
from cis_monitoring.core.catalog import CONTROLS, Control
from cis_monitoring.core.detectors.event_rule import message, rule_pattern
from cis_monitoring.core.project import PROJECT
from cis_monitoring.program.policies import (
    forward_role_policy,
    forward_role_trust,
    key_policy,
    topic_policy,
)

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


@dataclass(frozen=True)
class RealTimeRule:
    """One control's real-time rule, as constants (what a bare script would write out)."""

    control: Control
    tag: str
    rule_name: str
    role_name: str
    description: str
    pattern: str
    template: str
    paths: dict[str, str]


def real_time_rules(controls: tuple[Control, ...]) -> tuple[RealTimeRule, ...]:
    found = []
    for control in controls:
        pattern = rule_pattern(control)
        if pattern is None:
            continue
        tag = f"{control.control_id.replace('.', '-')}-{control.slug}"
        transformer = message(control)
        found.append(
            RealTimeRule(
                control=control,
                tag=tag,
                rule_name=f"{t.PREFIX}-{tag}-realtime",
                role_name=f"{t.PREFIX}-{tag}-forward",
                description=f"CIS {control.control_id} real-time: {control.title}",
                pattern=json.dumps(pattern, separators=(",", ":")),
                template=transformer.template,
                paths=dict(transformer.paths),
            )
        )
    return tuple(found)


def register_real_time(
    rule: RealTimeRule,
    base: str,
    account: str,
    tags: dict[str, str],
    topic_arn: pulumi.Output[str],
    provider: aws.Provider,
) -> None:
    """One control's rules, targets, forwarding role and policy at one target (``benchRealTime``)."""
    opts = pulumi.ResourceOptions(provider=provider)
    stem = f"{base}-control-{rule.control.control_id}-event-rule"  # the program's names (the mocks' ids)
    rule_tags = {**tags, "cis-control": rule.control.control_id}
    home = aws.cloudwatch.EventRule(
        f"{stem}-home-rule",
        name=rule.rule_name,
        description=rule.description,
        event_pattern=rule.pattern,
        state="ENABLED",
        tags=rule_tags,
        opts=opts,
    )
    aws.cloudwatch.EventTarget(
        f"{stem}-home-topic-target",
        rule=home.name,
        target_id="topic",
        arn=topic_arn,
        input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
            input_paths=rule.paths, input_template=rule.template
        ),
        opts=opts,
    )
    away = aws.cloudwatch.EventRule(
        f"{stem}-{t.FORWARD_REGION}-rule",
        name=rule.rule_name,
        description=rule.description,
        event_pattern=rule.pattern,
        state="ENABLED",
        region=t.FORWARD_REGION,
        tags=rule_tags,
        opts=opts,
    )
    role = aws.iam.Role(
        f"{stem}-forward-role",
        name=rule.role_name,
        assume_role_policy=forward_role_trust(),
        tags=rule_tags,
        opts=opts,
    )
    bus = f"arn:aws:events:{t.REGION}:{account}:event-bus/default"
    aws.iam.RolePolicy(f"{stem}-forward-policy", role=role.id, policy=forward_role_policy(bus), opts=opts)
    aws.cloudwatch.EventTarget(
        f"{stem}-{t.FORWARD_REGION}-forward-target",
        rule=away.name,
        target_id="forward",
        arn=bus,
        role_arn=role.arn,
        region=t.FORWARD_REGION,
        opts=opts,
    )


def register_target(
    index: int,
    structured: bool,
    other_controls: tuple[Control, ...] = (),
    rules: tuple[RealTimeRule, ...] = (),
) -> dict[str, Any]:
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
        policy=key_policy(account, t.REGION, events=bool(rules)),
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
        policy=topic.arn.apply(
            lambda arn: topic_policy(
                arn,
                account,
                t.REGION,
                [f"arn:aws:events:{t.REGION}:{account}:rule/{r.rule_name}" for r in rules],
            )
        ),
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
    for rule in rules:  # benchRealTime (never with benchStructure)
        register_real_time(rule, base, account, tags, topic.arn, provider)
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
    rules = real_time_rules((CONTROL, *others)) if config.get_bool("benchRealTime") else ()
    results = {}
    for i in range(config.require_int("benchTargets")):
        results[f"{t.account_id(i)}/{t.REGION}"] = register_target(i, structured, others, rules)
    if structured:
        pulumi.export("resultsSchemaVersion", 1)
        pulumi.export("monitoring", results)
        pulumi.export("summary", {"targets": len(results), "controls": [CONTROL.control_id]})
