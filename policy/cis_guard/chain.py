"""The alarm chain of a control in one target, judged by the core from the stack's resources.

``StackIndex`` indexes the stack once (by provider, by metric, by ARN and by URN), so
checking a stack costs time linear in its resources. ``StackLookups`` answers the core
judge's look-ups for one target from it, following the engine's property dependencies
where a value is unknown (preview). ``cis_monitoring.core.judge.chain.judge_chain`` decides.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cis_monitoring.core.aws import regions
from cis_monitoring.core.aws.arns import LogGroupRef, alarm_arn, parse_sns_topic_arn, sns_topic_arn
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import event_rule, metric_filter
from cis_monitoring.core.judge.chain import Notified, judge_chain
from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from cis_monitoring.core.unknown import UNKNOWN, is_unknown

from .declared import watches
from .facts import (
    ALARM,
    FILTER,
    PROVIDER,
    SUBSCRIPTION,
    TOPIC,
    TOPIC_POLICY,
    TRAIL,
    alarm_facts,
    filter_facts,
    subscription_facts,
    topic_facts,
)
from .real_time import evaluate_rules
from .stack_model import Resource, Target, provider_target
from .target_verdict import TargetVerdict

__all__ = [
    "ALARM",
    "EVALUATORS",
    "FILTER",
    "PROVIDER",
    "SUBSCRIPTION",
    "TOPIC",
    "ChainSettings",
    "StackIndex",
    "TargetVerdict",
    "evaluate_chain",
]

NOT_IN_STACK = (
    "is no SNS topic in this stack nor an allowed external topic. Point it at this stack's alarm topic, or "
    "list the ARN in allowedExternalTopicArns"
)
UNKNOWN_ACTIONS = "its alarm actions are not known until the update runs"


@dataclass(frozen=True)
class ChainSettings:
    strict_canonical_text: bool = False
    allowed_external_topic_arns: Sequence[str] = ()


def topic_arn(topic: Resource, target: Target) -> str | None:
    """The topic's ARN: its output once known, else derived from its name and provider."""
    arn = topic.get("arn")
    if isinstance(arn, str):
        return arn
    name = topic.get("name")
    if isinstance(name, str) and target.account and target.region:
        return sns_topic_arn(target.account, target.region, name)
    return None


def alarm_arn_of(alarm: Resource, target: Target) -> Any:
    """The alarm's ARN (what CloudWatch's request to publish carries): its output once known, else
    built from its name and provider; UNKNOWN when neither is known yet (preview)."""
    arn = alarm.get("arn")
    if isinstance(arn, str):
        return arn
    name = alarm.get("name")
    if isinstance(name, str) and target.account and target.region:
        return alarm_arn(target.account, target.region, name, regions.partition_of(target.region) or "aws")
    return UNKNOWN


def _metrics_read(alarm: AlarmFacts) -> list[tuple[object, object]]:
    metrics = [(alarm.namespace, alarm.metric_name), *alarm.math_metrics]
    return [m for m in metrics if m != (None, None)]


@dataclass
class StackIndex:
    """The stack's resources and their facts, indexed once for all targets and controls."""

    targets: dict[str, Target] = field(default_factory=dict)
    """Provider URN -> target."""
    resources: dict[str, Resource] = field(default_factory=dict)
    filters: dict[Target, list[MetricFilterFacts]] = field(default_factory=lambda: defaultdict(list))
    alarms_by_metric: dict[tuple[Target, str, str], list[AlarmFacts]] = field(
        default_factory=lambda: defaultdict(list)
    )
    alarms_unknown_metric: dict[Target, list[AlarmFacts]] = field(default_factory=lambda: defaultdict(list))
    alarms_by_target: dict[Target, list[AlarmFacts]] = field(default_factory=lambda: defaultdict(list))
    """Every alarm of a target, for a filter whose metric is unknown (preview)."""
    topics_by_arn: dict[str, TopicFacts] = field(default_factory=dict)
    topics_by_urn: dict[str, TopicFacts] = field(default_factory=dict)
    topic_policies_by_arn: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    """Topic ARN -> the ``policy`` of each TopicPolicy naming it (and by the topic's URN, in preview)."""
    topic_policies_by_urn: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    subscriptions_by_topic_arn: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    subscriptions_by_topic_urn: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    trails: dict[Target, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    """The trails the stack manages (``aws:cloudtrail/trail:Trail``), by the target that owns them."""
    by_type: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    """Every resource by its type (a detector kind's evaluator builds its own index from it)."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Detector kind -> the index its evaluator built from this one (built once per stack)."""

    @classmethod
    def build(cls, resources: Iterable[Resource]) -> StackIndex:
        index = cls()
        resources = list(resources)
        for resource in resources:
            index.resources[resource.urn] = resource
            index.by_type[resource.type].append(resource)
            if resource.type == PROVIDER:
                index.targets[resource.urn] = provider_target(resource.props)
        for resource in resources:
            if resource.type == FILTER:
                index.filters[index.target_of(resource)].append(filter_facts(resource))
            elif resource.type == ALARM:
                index._add_alarm(resource)
            elif resource.type == TOPIC_POLICY:
                topic = resource.get("arn")
                if isinstance(topic, str):
                    index.topic_policies_by_arn[topic].append(resource.get("policy"))
                for urn in resource.property_dependencies.get("arn", ()):
                    index.topic_policies_by_urn[urn].append(resource.get("policy"))
            elif resource.type == TRAIL:
                index.trails[index.target_of(resource)].append(resource)
            elif resource.type == SUBSCRIPTION:
                topic = resource.get("topic")
                if isinstance(topic, str):
                    index.subscriptions_by_topic_arn[topic].append(resource)
                for urn in resource.property_dependencies.get("topic", ()):
                    index.subscriptions_by_topic_urn[urn].append(resource)
        for resource in resources:  # after every TopicPolicy is indexed
            if resource.type == TOPIC:
                index._add_topic(resource)
        return index

    def _add_topic(self, resource: Resource) -> None:
        arn = topic_arn(resource, self.target_of(resource))
        policies = self.topic_policies_by_urn.get(resource.urn, []) + (
            self.topic_policies_by_arn.get(arn, []) if arn else []
        )
        facts = topic_facts(resource, arn, policies)
        self.topics_by_urn[resource.urn] = facts
        if arn:
            self.topics_by_arn[arn] = facts

    def _add_alarm(self, resource: Resource) -> None:
        target = self.target_of(resource)
        facts = replace(alarm_facts(resource), arn=alarm_arn_of(resource, target))
        self.alarms_by_target[target].append(facts)
        metrics = _metrics_read(facts)
        if any(not isinstance(part, str) for metric in metrics for part in metric):
            self.alarms_unknown_metric[target].append(facts)
            return
        for namespace, name in dict.fromkeys(metrics):
            self.alarms_by_metric[(target, str(namespace), str(name))].append(facts)

    def target_of(self, resource: Resource) -> Target:
        if resource.provider_urn and resource.provider_urn in self.targets:
            return self.targets[resource.provider_urn]
        return provider_target(resource.provider_props)

    def all_targets(self) -> list[Target]:
        return list(dict.fromkeys(self.targets.values()))


@dataclass
class StackLookups:
    """The core judge's look-ups, answered from the index for one target."""

    index: StackIndex
    target: Target
    settings: ChainSettings

    def alarms_on(self, metric_filter: MetricFilterFacts) -> Sequence[AlarmFacts]:
        namespace, metric = metric_filter.namespace, metric_filter.metric_name
        if is_unknown(namespace) or is_unknown(metric):
            return self.index.alarms_by_target.get(self.target, [])
        if not isinstance(namespace, str) or not isinstance(metric, str):
            return []
        return self.index.alarms_by_metric.get(
            (self.target, namespace, metric), []
        ) + self.index.alarms_unknown_metric.get(self.target, [])

    def notified_topics(self, alarm: AlarmFacts) -> Notified:
        resource = self.index.resources[str(alarm.ref)]
        dependencies = resource.property_dependencies.get("alarmActions", ())
        dependency_topics = tuple(
            self.index.topics_by_urn[u] for u in dependencies if u in self.index.topics_by_urn
        )
        actions = alarm.alarm_actions
        if is_unknown(actions):
            # Follow the engine's dependencies; into anything else (a component output) we cannot see.
            return (
                Notified(topics=dependency_topics) if dependency_topics else Notified(trusted=UNKNOWN_ACTIONS)
            )
        topics: list[TopicFacts] = []
        missing: list[str] = []
        for action in actions:
            if is_unknown(action):
                if not dependency_topics:
                    return Notified(trusted=UNKNOWN_ACTIONS)
                topics.extend(dependency_topics)
            elif action in self.index.topics_by_arn:
                topics.append(self.index.topics_by_arn[action])
            elif self._allowed_external(action):
                return Notified(trusted=f"{action} is an allowed external topic")
            elif parse_sns_topic_arn(action):
                missing.append(action)
        return Notified(topics=tuple(dict.fromkeys(topics)), missing=tuple(missing), missing_why=NOT_IN_STACK)

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]:
        found = self.index.subscriptions_by_topic_urn.get(str(topic.ref), []) + (
            self.index.subscriptions_by_topic_arn.get(topic.arn, []) if isinstance(topic.arn, str) else []
        )
        unique = {s.urn: s for s in found}
        return [subscription_facts(s) for s in unique.values()]

    def _allowed_external(self, arn: str) -> bool:
        return any(fnmatch.fnmatchcase(arn, p) for p in self.settings.allowed_external_topic_arns)


def evaluate_chain(
    index: StackIndex,
    target: Target,
    control: Control,
    settings: ChainSettings,
    log_group: LogGroupRef | None = None,
) -> TargetVerdict:
    """Whether ``target`` has a complete, working chain for ``control``; the deepest break if not.

    With ``log_group``, only metric filters on that group count (a declared trail's chain).
    """
    filters = index.filters.get(target, [])
    place = "the multi-region trail's log group"
    if log_group is not None:
        filters = [f for f in filters if watches(log_group, index.resources[str(f.ref)].get("logGroupName"))]
        place = log_group.describe()
    verdict = judge_chain(
        filters,
        StackLookups(index, target, settings),
        control,
        strict_canonical_text=settings.strict_canonical_text,
        place=place,
    )
    return TargetVerdict(target, verdict)


EVALUATORS = {metric_filter.KIND: evaluate_chain, event_rule.KIND: evaluate_rules}
"""Detector kind -> the pack's judgement of one control's chain at a site (tests/test_architecture.py
holds it equal to the core's kinds)."""
