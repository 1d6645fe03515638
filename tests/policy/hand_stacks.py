"""Stacks as the engine sends them to the pack, built by hand: one working chain per log group.

Each chain is what the program registers for one monitored log group (provider, metric
filter, alarm, topic, subscription), with URNs, the provider reference and the property
dependencies the engine sends, so the pack sees what it would see from ``pulumi preview``.
``Stack`` mutates one link of one target's chain, as a careless change would.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.project import PROJECT
from local.analyzer_client import to_analyzer_resource
from local.program_harness import Registration

PROVIDER = "pulumi:providers:aws"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
PREVIEW_UNKNOWNS: dict[str, set[str]] = {
    ALARM: {"alarmActions", "arn"},
    TOPIC: {"arn"},
    SUBSCRIPTION: {"topic", "arn"},
}
"""What a preview does not know yet: the ARNs (alarms reach their topic through dependencies)."""


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::{PROJECT}::{type_}::{name}"


def _registration(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    provider_urn: str,
    outputs: dict[str, Any] | None = None,
    **deps: list[str],
) -> Registration:
    return Registration(
        type=type_, name=name, urn=urn(type_, name), custom=True, inputs=inputs, raw_inputs=inputs,
        outputs={**inputs, **(outputs or {})}, provider=f"{provider_urn}::{name}-provider-id", parent="",
        dependencies=sorted({u for urns in deps.values() for u in urns}), property_dependencies=deps,
    )  # fmt: skip


def provider(account: str, region: str) -> Registration:
    name = f"{account}-{region}"
    inputs = {"region": region, "allowedAccountIds": json.dumps([account])}
    return Registration(
        type=PROVIDER, name=name, urn=urn(PROVIDER, name), custom=True, inputs=inputs, raw_inputs=inputs,
        outputs={}, provider="", parent="", dependencies=[], property_dependencies={},
    )  # fmt: skip


def chain(account: str, region: str, log_group: str) -> list[Registration]:
    """The program's chain for CIS 4.5 on ``log_group`` in (account, region), its provider first."""
    site = f"{account}-{region}-{log_group.replace('/', '-')}"
    provider_urn = urn(PROVIDER, f"{account}-{region}")
    topic_name = f"cis-alarms-{account}-{region}"
    topic_arn = f"arn:aws:sns:{region}:{account}:{topic_name}"
    topic = _registration(
        TOPIC, f"{site}-topic", {"name": topic_name, "kmsMasterKeyId": "alias/cis-alarms"}, provider_urn,
        {"arn": topic_arn},
    )  # fmt: skip
    transformation = {"name": CIS_4_5.metric_name, "namespace": CIS_4_5.namespace, "value": "1"}
    metric_filter = _registration(
        FILTER,
        f"{site}-4.5-filter",
        {
            "name": f"cis-4-5-{site}",
            "logGroupName": log_group,
            "pattern": CIS_4_5.filter_pattern,
            "metricTransformation": transformation,
        },
        provider_urn,
    )
    alarm = _registration(
        ALARM,
        f"{site}-4.5-alarm",
        {
            "name": f"cis-4-5-{site}",
            "namespace": CIS_4_5.namespace,
            "metricName": CIS_4_5.metric_name,
            "statistic": "Sum",
            "period": 300,
            "threshold": 1,
            "comparisonOperator": "GreaterThanOrEqualToThreshold",
            "evaluationPeriods": 1,
            "actionsEnabled": True,
            "alarmActions": [topic_arn],
            "treatMissingData": "notBreaching",
        },
        provider_urn,
        {"arn": f"arn:aws:cloudwatch:{region}:{account}:alarm:cis-4-5-{site}"},
        alarmActions=[topic.urn],
    )
    subscription = _registration(
        SUBSCRIPTION, f"{site}-subscriber", {"topic": topic_arn, "protocol": "email", "endpoint": "soc@example.com"},
        provider_urn, topic=[topic.urn],
    )  # fmt: skip
    return [provider(account, region), metric_filter, alarm, topic, subscription]


def _target(registration: Registration, by_urn: Mapping[str, Registration]) -> tuple[str, str] | None:
    provider_reg = by_urn.get(registration.provider.rsplit("::", 1)[0]) if registration.provider else None
    if provider_reg is None:
        return None
    return json.loads(provider_reg.inputs["allowedAccountIds"])[0], provider_reg.inputs["region"]


@dataclass
class Stack:
    registrations: list[Registration] = field(default_factory=list)

    @classmethod
    def of(cls, *chains: Iterable[Registration]) -> Stack:
        """The chains' registrations, each provider once (two log groups may share a target)."""
        seen: dict[str, Registration] = {}
        for registration in (r for c in chains for r in c):
            seen.setdefault(registration.urn, registration)
        return cls(list(seen.values()))

    def resources(
        self, unknown: Mapping[str, Iterable[str]] | None = None
    ) -> list[analyzer_pb2.AnalyzerResource]:
        by_urn = {r.urn: r for r in self.registrations}
        unknown = {k: set(v) for k, v in (unknown or {}).items()}
        return [to_analyzer_resource(r, by_urn, unknown.get(r.type, set())) for r in self.registrations]

    def _in(self, type_: str, account: str, region: str) -> list[Registration]:
        by_urn = {r.urn: r for r in self.registrations}
        found = [r for r in self.registrations if r.type == type_ and _target(r, by_urn) == (account, region)]
        assert found, (type_, account, region)
        return found

    def without(self, type_: str, account: str, region: str) -> Stack:
        gone = {r.urn for r in self._in(type_, account, region)}
        return Stack([copy.deepcopy(r) for r in self.registrations if r.urn not in gone])

    def changed(self, type_: str, account: str, region: str, **values: Any) -> Stack:
        stack = Stack(copy.deepcopy(self.registrations))
        for registration in stack._in(type_, account, region):
            registration.inputs.update(values)
            registration.outputs.update(values)
        return stack
