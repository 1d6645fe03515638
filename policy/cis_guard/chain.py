"""The alarm chain of a control in one target: filter -> alarm -> topic -> subscription.

Pure functions over ``stack_model.Resource``; ``rules`` adapts the SDK's objects.
Every lookup is indexed (by provider, by metric, by ARN and by URN), so checking a
stack costs time linear in its resources. A link counts as broken only when it is
provably broken: an unknown value (preview) that could complete it is followed
through the engine's property dependencies instead.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cis_core.catalog import Control, is_aws_managed_sns_key
from cis_core.judge.alarm import alarm_problems
from cis_core.judge.coverage import Coverage, judge

from .stack_model import UNKNOWN, Resource, Target, is_unknown, provider_target

PROVIDER = "pulumi:providers:aws"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALLOWED_PROTOCOLS = ("email", "email-json", "https", "sqs", "lambda")


@dataclass(frozen=True)
class ChainVerdict:
    target: Target
    control: Control
    ok: bool
    message: str
    """What is missing or broken and what to do (empty when ok)."""
    urn: str | None = None
    """The resource to attach the violation to, when one is to blame."""


def filter_metric(resource: Resource) -> tuple[object, object]:
    transformation = resource.get("metricTransformation")
    if is_unknown(transformation):
        return UNKNOWN, UNKNOWN
    if isinstance(transformation, list):  # older provider schemas used a one-element list
        transformation = transformation[0] if transformation else {}
    if not isinstance(transformation, dict):
        return None, None
    return transformation.get("namespace"), transformation.get("name")


def subscription_protocol_problem(protocol: object) -> str | None:
    if is_unknown(protocol) or protocol in ALLOWED_PROTOCOLS:
        return None
    return (
        f"protocol {protocol!r} is not allowed for alarm notifications; use one of email, https, sqs, lambda"
    )


def uses_managed_sns_key(topic: Resource) -> bool:
    return is_aws_managed_sns_key(topic.get("kmsMasterKeyId"))


@dataclass
class StackIndex:
    """The stack's resources, indexed once for all targets and controls."""

    targets: dict[str, Target] = field(default_factory=dict)
    """Provider URN -> target."""
    filters: dict[Target, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    alarms_by_metric: dict[tuple[Target, str, str], list[Resource]] = field(
        default_factory=lambda: defaultdict(list)
    )
    alarms_unknown_metric: dict[Target, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    alarms_by_target: dict[Target, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    """Every alarm of a target, for a filter whose metric is unknown (preview)."""
    topics_by_arn: dict[str, Resource] = field(default_factory=dict)
    topics_by_urn: dict[str, Resource] = field(default_factory=dict)
    subscriptions_by_topic_arn: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    subscriptions_by_topic_urn: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, resources: Iterable[Resource]) -> StackIndex:
        index = cls()
        resources = list(resources)
        for resource in resources:
            if resource.type == PROVIDER:
                index.targets[resource.urn] = provider_target(resource.props)
        for resource in resources:
            if resource.type == FILTER:
                index.filters[index.target_of(resource)].append(resource)
            elif resource.type == ALARM:
                target = index.target_of(resource)
                index.alarms_by_target[target].append(resource)
                namespace, name = resource.get("namespace"), resource.get("metricName")
                if isinstance(namespace, str) and isinstance(name, str):
                    index.alarms_by_metric[(target, namespace, name)].append(resource)
                else:
                    index.alarms_unknown_metric[target].append(resource)
            elif resource.type == TOPIC:
                index.topics_by_urn[resource.urn] = resource
                arn = topic_arn(resource, index.target_of(resource))
                if arn:
                    index.topics_by_arn[arn] = resource
            elif resource.type == SUBSCRIPTION:
                topic = resource.get("topic")
                if isinstance(topic, str):
                    index.subscriptions_by_topic_arn[topic].append(resource)
                for urn in resource.property_dependencies.get("topic", ()):
                    index.subscriptions_by_topic_urn[urn].append(resource)
        return index

    def target_of(self, resource: Resource) -> Target:
        if resource.provider_urn and resource.provider_urn in self.targets:
            return self.targets[resource.provider_urn]
        return provider_target(resource.provider_props)

    def all_targets(self) -> list[Target]:
        return list(dict.fromkeys(self.targets.values()))


def topic_arn(topic: Resource, target: Target) -> str | None:
    """The topic's ARN: its output once known, else derived from its name and provider."""
    arn = topic.get("arn")
    if isinstance(arn, str):
        return arn
    name = topic.get("name")
    if isinstance(name, str) and target.account and target.region:
        return f"arn:aws:sns:{target.region}:{target.account}:{name}"
    return None


@dataclass(frozen=True)
class ChainSettings:
    strict_canonical_text: bool = False
    allowed_external_topic_arns: Sequence[str] = ()


def evaluate_chain(
    index: StackIndex, target: Target, control: Control, settings: ChainSettings
) -> ChainVerdict:
    """Whether ``target`` has a complete, working chain for ``control``; the deepest break if not."""
    where = target.label()
    filters = index.filters.get(target, [])
    if not filters:
        return ChainVerdict(
            target,
            control,
            False,
            f"{where}: no CloudWatch Logs metric filter for CIS {control.control_id}. Add a LogMetricFilter on the "
            f"multi-region trail's log group with the pattern {control.filter_pattern!r} "
            f"(namespace {control.namespace}, metric {control.metric_name}).",
        )
    failures: list[tuple[int, str, str | None]] = []  # (depth reached, message, urn)
    for metric_filter in filters:
        verdict = _follow(index, target, control, metric_filter, settings)
        if verdict is None:
            return ChainVerdict(target, control, True, "")
        failures.append(verdict)
    _depth, message, urn = max(failures, key=lambda f: f[0])
    return ChainVerdict(target, control, False, f"{where}: {message}", urn)


def _follow(
    index: StackIndex, target: Target, control: Control, metric_filter: Resource, settings: ChainSettings
) -> tuple[int, str, str | None] | None:
    """None if this filter starts a complete chain; else how far it got and what broke."""
    pattern = metric_filter.get("pattern")
    name = metric_filter.name
    if isinstance(pattern, str):
        coverage: Coverage = judge(pattern, control)
        if not coverage.covers:
            return (
                0,
                f"metric filter {name!r} does not cover CIS {control.control_id}: {coverage.explain()}. Use the benchmark pattern.",
                metric_filter.urn,
            )
        if settings.strict_canonical_text and not coverage.canonical:
            return (
                0,
                (
                    f"metric filter {name!r} covers CIS {control.control_id} but its text is not the benchmark's, and the "
                    f"pack is in strict canonical-text mode. Use exactly {control.filter_pattern!r}."
                ),
                metric_filter.urn,
            )
    elif not is_unknown(pattern):
        return 0, f"metric filter {name!r} has no pattern", metric_filter.urn

    namespace, metric = filter_metric(metric_filter)
    if is_unknown(namespace) or is_unknown(metric):
        alarms = index.alarms_by_target.get(target, [])
    elif isinstance(namespace, str) and isinstance(metric, str):
        alarms = index.alarms_by_metric.get(
            (target, namespace, metric), []
        ) + index.alarms_unknown_metric.get(target, [])
    else:
        return 1, f"metric filter {name!r} has no metric transformation", metric_filter.urn
    if not alarms:
        return (
            1,
            (
                f"no CloudWatch alarm on metric {namespace}/{metric} written by metric filter {name!r}. Add a MetricAlarm "
                f"with metricName {metric!r} and namespace {namespace!r} (Sum, 300 s, >= 1, 1 evaluation period)."
            ),
            metric_filter.urn,
        )

    best: tuple[int, str, str | None] = (1, "", None)
    for alarm in alarms:
        problems = alarm_problems(alarm.props, control)
        if problems:
            best = max(
                best,
                (
                    2,
                    f"alarm {alarm.name!r} on the filter's metric cannot fire on one event: {'; '.join(problems)}",
                    alarm.urn,
                ),
                key=lambda b: b[0],
            )
            continue
        outcome = _alarm_notifies(index, alarm, settings)
        if outcome is None:
            return None
        best = max(best, outcome, key=lambda b: b[0])
    return best


def _alarm_notifies(
    index: StackIndex, alarm: Resource, settings: ChainSettings
) -> tuple[int, str, str | None] | None:
    actions = alarm.get("alarmActions")
    dependency_topics = [
        index.topics_by_urn[u]
        for u in alarm.property_dependencies.get("alarmActions", ())
        if u in index.topics_by_urn
    ]
    if is_unknown(actions):
        candidates = dependency_topics
        if not candidates and alarm.property_dependencies.get("alarmActions"):
            return (
                None  # depends on something we cannot see into (e.g. a component output): not provably broken
            )
    elif isinstance(actions, list) and actions:
        candidates = []
        for action in actions:
            if is_unknown(action):
                candidates.extend(dependency_topics)
                if not dependency_topics:
                    return None
            elif isinstance(action, str):
                if action in index.topics_by_arn:
                    candidates.append(index.topics_by_arn[action])
                elif _allowed_external(action, settings):
                    return None
    else:
        return (
            3,
            f"alarm {alarm.name!r} has no alarm action. Point alarmActions at an SNS topic with a subscriber.",
            alarm.urn,
        )
    if not candidates:
        return (
            3,
            (
                f"alarm {alarm.name!r} notifies {actions!r}, which is no SNS topic in this stack nor an allowed external "
                f"topic. Point it at this stack's alarm topic, or list the ARN in allowedExternalTopicArns."
            ),
            alarm.urn,
        )
    for topic in candidates:
        if uses_managed_sns_key(topic):
            continue
        arn = topic_arn(topic, index.target_of(topic))
        subscriptions = index.subscriptions_by_topic_urn.get(topic.urn, []) + (
            index.subscriptions_by_topic_arn.get(arn, []) if arn else []
        )
        if any(subscription_protocol_problem(s.get("protocol")) is None for s in subscriptions):
            return None
    topic = candidates[0]
    if uses_managed_sns_key(topic):
        return (
            4,
            f"topic {topic.name!r} is encrypted with alias/aws/sns, which CloudWatch alarms cannot publish to. Use a customer-managed KMS key.",
            topic.urn,
        )
    return (
        4,
        f"topic {topic.name!r} that alarm {alarm.name!r} notifies has no subscription with an allowed protocol. Add a TopicSubscription (email, https, sqs or lambda).",
        topic.urn,
    )


def _allowed_external(arn: str, settings: ChainSettings) -> bool:
    return any(fnmatch.fnmatchcase(arn, pattern) for pattern in settings.allowed_external_topic_arns)
