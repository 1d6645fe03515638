"""Which topic policy the pack judges: the one the stack shows (a TopicPolicy, else the topic's ``policy``).

The pack's index gives a topic the access policy it will have after the update where the stack
shows it, and the alarm the ARN CloudWatch's request carries; anything it cannot see stays
UNKNOWN and is not judged (the audit reads what AWS holds). The chain is judged by the core,
as for the audit (``tests/test_one_judgement.py`` sends whole stacks through the built pack).
"""

from __future__ import annotations

import json
from typing import Any

from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.unknown import UNKNOWN, is_unknown
from cis_monitoring.program.policies import topic_policy
from policy.cis_guard.chain import ChainSettings, StackIndex, evaluate_chain
from policy.cis_guard.facts import ALARM, FILTER, PROVIDER, SUBSCRIPTION, TOPIC, TOPIC_POLICY
from policy.cis_guard.stack_model import Resource, Target
from tests.core.judge.test_topic_policy import PERIMETER, allow, deny, doc

ACCOUNT, REGION = "123456789012", "us-east-1"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:cis-alarms"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cis-4-5"
PROVIDER_URN = "urn:pulumi:test::p::pulumi:providers:aws::main"
TOPIC_URN = "urn:pulumi:test::p::aws:sns/topic:Topic::alarms"
ALARM_URN = "urn:pulumi:test::p::aws:cloudwatch/metricAlarm:MetricAlarm::alarm"
GOOD = topic_policy(TOPIC_ARN, ACCOUNT, REGION)
DENYING = doc(allow(Resource=TOPIC_ARN), deny("Perimeter", PERIMETER, Resource=TOPIC_ARN))


def resource(type_: str, name: str, props: dict[str, Any], **deps: tuple[str, ...]) -> Resource:
    return Resource(
        urn=f"urn:pulumi:test::p::{type_}::{name}",
        type=type_,
        name=name,
        props=props,
        provider_urn=PROVIDER_URN,
        property_dependencies=deps,
    )


def stack(
    topic_props: dict[str, Any] | None = None, *extra: Resource, alarm: dict[str, Any] | None = None
) -> list[Resource]:
    provider = Resource(
        PROVIDER_URN, PROVIDER, "main", {"region": REGION, "allowedAccountIds": json.dumps([ACCOUNT])}
    )
    transformation = {"name": CIS_4_5.metric_name, "namespace": CIS_4_5.namespace, "value": "1"}
    alarm_props = {
        "name": "cis-4-5",
        "arn": ALARM_ARN,
        "namespace": CIS_4_5.namespace,
        "metricName": CIS_4_5.metric_name,
        "statistic": "Sum",
        "period": 300,
        "threshold": 1,
        "comparisonOperator": "GreaterThanOrEqualToThreshold",
        "evaluationPeriods": 1,
        "alarmActions": [TOPIC_ARN],
        "treatMissingData": "notBreaching",
        **(alarm or {}),
    }
    return [
        provider,
        resource(
            FILTER, "filter", {"pattern": CIS_4_5.filter_pattern, "metricTransformation": transformation}
        ),
        resource(ALARM, "alarm", alarm_props),
        resource(TOPIC, "alarms", {"name": "cis-alarms", "arn": TOPIC_ARN, **(topic_props or {})}),
        resource(
            SUBSCRIPTION, "sub", {"topic": TOPIC_ARN, "protocol": "email", "endpoint": "soc@example.com"}
        ),
        *extra,
    ]


def topic_policy_resource(name: str, policy: Any, arn: Any = UNKNOWN) -> Resource:
    # In a preview the topic's ARN is unknown: the pack follows the engine's dependency to the topic.
    return resource(TOPIC_POLICY, name, {"arn": arn, "policy": policy}, arn=(TOPIC_URN,))


def codes(resources: list[Resource]) -> tuple[str, ...]:
    index = StackIndex.build(resources)
    return evaluate_chain(index, Target(ACCOUNT, REGION), CIS_4_5, ChainSettings()).codes


def test_a_topic_policy_resource_is_judged_as_the_topic_s_policy() -> None:
    assert codes(stack(None, topic_policy_resource("policy", GOOD))) == ()
    assert codes(stack(None, topic_policy_resource("policy", DENYING))) == ("topic.policy.denies_cloudwatch",)
    assert codes(stack(None, topic_policy_resource("policy", DENYING, arn=TOPIC_ARN))) == (
        "topic.policy.denies_cloudwatch",
    )


def test_the_topic_s_own_policy_input_is_judged_without_a_topic_policy_resource() -> None:
    assert codes(stack({"policy": DENYING})) == ("topic.policy.denies_cloudwatch",)
    # A TopicPolicy is applied after the topic exists: it is what the topic ends up with.
    assert codes(stack({"policy": DENYING}, topic_policy_resource("policy", GOOD))) == ()


def test_a_policy_the_stack_does_not_show_is_not_judged() -> None:
    index = StackIndex.build(stack())
    assert is_unknown(index.topics_by_urn[TOPIC_URN].policy)  # SNS's default, or one set outside the stack
    preview = StackIndex.build(stack(None, topic_policy_resource("policy", UNKNOWN)))
    assert is_unknown(preview.topics_by_urn[TOPIC_URN].policy)
    both = stack(None, topic_policy_resource("a", GOOD), topic_policy_resource("b", DENYING))
    assert is_unknown(
        StackIndex.build(both).topics_by_urn[TOPIC_URN].policy
    )  # which one AWS keeps is unknown
    assert codes(both) == ()


def test_the_alarm_s_arn_is_its_output_or_built_from_its_name() -> None:
    [known] = StackIndex.build(stack()).alarms_by_target[Target(ACCOUNT, REGION)]
    assert known.arn == ALARM_ARN
    [preview] = StackIndex.build(stack(alarm={"arn": UNKNOWN})).alarms_by_target[Target(ACCOUNT, REGION)]
    assert preview.arn == ALARM_ARN
    [unnamed] = StackIndex.build(stack(alarm={"arn": UNKNOWN, "name": UNKNOWN})).alarms_by_target[
        Target(ACCOUNT, REGION)
    ]
    assert is_unknown(unnamed.arn)
    # Not known until the update runs: the policy is not judged (never a problem in a preview).
    assert (
        codes(stack(None, topic_policy_resource("policy", DENYING), alarm={"arn": UNKNOWN, "name": UNKNOWN}))
        == ()
    )
