"""One judgement, two adapters: every row of chain facts gets the same verdict from the pack and the audit.

Each row describes one alarm chain (filter, alarm, topic, subscription) by how it differs
from the program's own chain, and the verdict it must get: "works", or the core's problem
codes. The same row is then

- judged by the core directly (``judge_chain`` over the facts: the reference);
- sent to the built policy pack over gRPC as the engine sends a stack (provider, filter,
  alarm, topic and subscription, with URNs and property dependencies), once with every
  value known and once as a preview sees it (ARNs unknown, followed through dependencies);
- deployed into moto and audited: moto stores every field the rows vary (dimensions, unit,
  default value, treatMissingData, metric math, datapoints, the topic's key and access policy;
  the pack sees the policy as the stack's ``aws:sns/topicPolicy:TopicPolicy``). It confirms
  every subscription at once, so the pending row answers ListSubscriptionsByTopic with the
  shape AWS gives a pending subscription.

The trail rows (``TRAIL_ROWS``) do the same for the link before the chain: which log group the
trail delivers to, and whether the trail counts (multi-Region, logging, selectors). The pack sees
the trail the stack manages (``aws:cloudtrail/trail:Trail``), the audit the trail CloudTrail shows.

A row fails if either adapter's verdict differs from the expected one, or the two differ
from each other. The one fact the pack cannot see, confirmation (it happens after the
deploy), is declared per row, never assumed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.models import MockAWS

from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.run import audit_chain, audit_coverage
from cis_monitoring.audit.scope import AccountFlags, flag_scope
from cis_monitoring.core.access import Access
from cis_monitoring.core.aws.arns import alarm_arn
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.judge.chain import StaticLookups, judge_chain
from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.program.policies import topic_policy
from local.analyzer_client import PolicyPackServer, to_analyzer_resource
from local.program_harness import Registration
from tests.audit.test_audit_unit import (
    ACCOUNT,
    FILTER_NAME,
    LOG_GROUP,
    REGION,
    build_compliant,
    group_of,
    moto_for_module,
    new_session,
)
from tests.core.judge.test_topic_policy import (
    EXEMPT_SERVICES,
    OTHER,
    PERIMETER,
    allow,
    deny,
    doc,
    sns_default_policy,
)

pytestmark = pytest.mark.protocol

TOPIC_NAME = "cis-sandbox-alarms"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
GONE_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:deleted-alarms"
ALARM_NAME = "cis-4-5-cloudtrail-changes-sandbox"
ALARM_ARN = alarm_arn(ACCOUNT, REGION, ALARM_NAME)
PROGRAM_TOPIC_POLICY = topic_policy(TOPIC_ARN, ACCOUNT, REGION)
CUSTOMER_KEY = "alias/cis-sandbox-alarms"
ENDPOINTS = {
    "sqs": f"arn:aws:sqs:{REGION}:{ACCOUNT}:security-alerts",
    "email": "soc@example.com",
    "http": "http://alerts.example.com/hook",
}
WORKS: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chain:
    """One chain's facts; the defaults are the program's chain (``components/control_monitor.py``)."""

    pattern: str = CIS_4_5.filter_pattern
    value: str = "1"
    filter_dimensions: dict[str, str] | None = None
    filter_unit: str | None = None
    default_value: float | None = None
    alarm_metric: str = CIS_4_5.metric_name
    statistic: str = "Sum"
    period: int = 300
    threshold: float = 1.0
    comparison: str = "GreaterThanOrEqualToThreshold"
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    actions_enabled: bool = True
    actions: str = "topic"
    """``topic``: the chain's topic; ``none``; ``gone``: a topic ARN nothing exists under."""
    treat_missing_data: str = "notBreaching"
    alarm_dimensions: dict[str, str] | None = None
    alarm_unit: str | None = None
    metric_math: bool = False
    topic_key: str = CUSTOMER_KEY
    topic_policy: str = PROGRAM_TOPIC_POLICY
    """The topic's access policy (the pack sees it as a TopicPolicy resource, the audit as SNS holds it)."""
    subscriptions: tuple[tuple[str, bool], ...] = (("sqs", True),)
    """(protocol, confirmed) of each subscription of the topic."""
    filter_system_dimensions: tuple[str, ...] = ()
    """The filter's emitSystemFieldDimensions (pulumi-aws has no such input: the pack cannot register it)."""
    apply_on_transformed_logs: bool = False
    filter_policy: str | None = None
    """Every subscription's FilterPolicy (JSON text); None: none."""
    filter_policy_scope: str | None = None

    @property
    def action_arns(self) -> list[str]:
        return {"topic": [TOPIC_ARN], "none": [], "gone": [GONE_TOPIC_ARN]}[self.actions]


@dataclass(frozen=True)
class Row:
    case: str
    chain: Chain
    expected: tuple[str, ...]
    """The core's problem codes at the deepest broken link; () when the chain works."""
    pack_expected: tuple[str, ...] | None = None
    """Only where the pack cannot observe a fact of the row (confirmation); None: same as ``expected``."""
    unobservable_by_pack: str = ""

    @property
    def for_pack(self) -> tuple[str, ...]:
        return self.expected if self.pack_expected is None else self.pack_expected


GOOD = Chain()
PER_EVENT = {"EventName": "$.eventName"}
ROWS = [
    Row("the program's chain", GOOD, WORKS),
    Row("filter value 0", replace(GOOD, value="0"), ("filter.value.zero",)),
    Row(
        "filter value $.count (CloudTrail records have no count)",
        replace(GOOD, value="$.count"),
        ("filter.value.field_missing",),
    ),
    Row(
        "filter value 2 with GreaterThanThreshold 1",
        replace(GOOD, value="2", comparison="GreaterThanThreshold"),
        WORKS,
    ),
    Row(
        "pattern misses StopLogging",
        replace(GOOD, pattern=CIS_4_5.filter_pattern.replace(" || ($.eventName = StopLogging)", "")),
        ("filter.pattern.not_covering",),
    ),
    Row("alarm on another metric", replace(GOOD, alarm_metric="CloudTrailChanges"), ("alarm.none",)),
    Row(
        "alarm dimensions the filter does not emit",
        replace(GOOD, alarm_dimensions={"EventName": "StopLogging"}),
        ("alarm.dimensions.mismatch",),
    ),
    Row(
        "filter dimensions the alarm does not watch",
        replace(GOOD, filter_dimensions=PER_EVENT),
        ("alarm.dimensions.mismatch",),
    ),
    Row(
        "alarm watches one series of a per-event dimension",
        replace(GOOD, filter_dimensions=PER_EVENT, alarm_dimensions={"EventName": "StopLogging"}),
        ("alarm.dimensions.mismatch",),
    ),
    Row(
        "the same constant dimension on both",
        replace(
            GOOD,
            filter_dimensions={"EventSource": "$.eventSource"},
            alarm_dimensions={"EventSource": "cloudtrail.amazonaws.com"},
        ),
        WORKS,
    ),
    Row(
        "filter emits @aws.account as a dimension the alarm does not watch",
        replace(GOOD, filter_system_dimensions=("@aws.account",)),
        ("alarm.dimensions.mismatch",),
        pack_expected=WORKS,
        unobservable_by_pack="pulumi-aws's LogMetricFilter has no emitSystemFieldDimensions input",
    ),
    Row(
        "alarm watches one value of the filter's @aws.account dimension",
        replace(GOOD, filter_system_dimensions=("@aws.account",), alarm_dimensions={"@aws.account": ACCOUNT}),
        ("alarm.dimensions.system_field",),
        pack_expected=("alarm.dimensions.mismatch",),
        unobservable_by_pack="pulumi-aws's LogMetricFilter has no emitSystemFieldDimensions input, so the"
        " pack sees an alarm dimension the filter does not write",
    ),
    Row(
        "filter runs on transformed logs",
        replace(GOOD, apply_on_transformed_logs=True),
        ("filter.transformed_logs",),
    ),
    Row("alarm unit the metric does not have", replace(GOOD, alarm_unit="Count"), ("alarm.unit.mismatch",)),
    Row("alarm unit equal to the filter's", replace(GOOD, filter_unit="Count", alarm_unit="Count"), WORKS),
    Row(
        "treatMissingData breaching",
        replace(GOOD, treat_missing_data="breaching"),
        ("alarm.treat_missing_data",),
    ),
    Row("treatMissingData ignore", replace(GOOD, treat_missing_data="ignore"), ("alarm.treat_missing_data",)),
    Row("treatMissingData missing", replace(GOOD, treat_missing_data="missing"), WORKS),
    Row("alarm on metric math", replace(GOOD, metric_math=True), ("alarm.metric_math",)),
    Row(
        "GreaterThanThreshold 0 (equivalent)",
        replace(GOOD, comparison="GreaterThanThreshold", threshold=0.0),
        WORKS,
    ),
    Row(
        "GreaterThanThreshold 1 (never fires on one event)",
        replace(GOOD, comparison="GreaterThanThreshold"),
        ("alarm.threshold.never_fires",),
    ),
    Row(
        "GreaterThanOrEqualToThreshold 0 (breached with no event)",
        replace(GOOD, threshold=0.0),
        ("alarm.threshold.fires_on_zero",),
    ),
    Row(
        "filter default value 1",
        replace(GOOD, default_value=1.0),
        ("alarm.threshold.fires_on_default_value",),
    ),
    Row("statistic Average", replace(GOOD, statistic="Average"), ("alarm.statistic",)),
    Row("period 600 s", replace(GOOD, period=600), ("alarm.period.too_long",)),
    Row(
        "three evaluation periods",
        replace(GOOD, evaluation_periods=3),
        ("alarm.evaluation.multiple_periods",),
    ),
    Row(
        "2 of 3 datapoints",
        replace(GOOD, evaluation_periods=3, datapoints_to_alarm=2),
        ("alarm.evaluation.multiple_periods",),
    ),
    Row("1 of 3 datapoints", replace(GOOD, evaluation_periods=3, datapoints_to_alarm=1), WORKS),
    Row("actions disabled", replace(GOOD, actions_enabled=False), ("alarm.actions.disabled",)),
    Row("no alarm action", replace(GOOD, actions="none"), ("alarm.actions.none",)),
    Row("alarm notifies a topic that does not exist", replace(GOOD, actions="gone"), ("topic.not_found",)),
    Row("topic on alias/aws/sns", replace(GOOD, topic_key="alias/aws/sns"), ("topic.aws_managed_key",)),
    Row(
        "SNS's default topic policy (AWS:SourceOwner)",
        replace(GOOD, topic_policy=sns_default_policy(TOPIC_ARN)),
        WORKS,
    ),
    Row(
        "topic policy for another account's alarms (aws:SourceAccount)",
        replace(
            GOOD,
            topic_policy=doc(
                allow(Resource=TOPIC_ARN, Condition={"StringEquals": {"aws:SourceAccount": OTHER}})
            ),
        ),
        ("topic.policy.no_cloudwatch_allow",),
    ),
    Row(
        "topic policy for another account's alarm ARNs (aws:SourceArn)",
        replace(
            GOOD,
            topic_policy=doc(
                allow(
                    Resource=TOPIC_ARN,
                    Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{OTHER}:alarm:*"}},
                )
            ),
        ),
        ("topic.policy.no_cloudwatch_allow",),
    ),
    Row(
        "data-perimeter deny on aws:PrincipalOrgID",
        replace(
            GOOD,
            topic_policy=doc(allow(Resource=TOPIC_ARN), deny("Perimeter", PERIMETER, Resource=TOPIC_ARN)),
        ),
        ("topic.policy.denies_cloudwatch",),
    ),
    Row(
        "data-perimeter deny exempting aws:PrincipalIsAWSService",
        replace(
            GOOD,
            topic_policy=doc(
                allow(Resource=TOPIC_ARN), deny("Perimeter", EXEMPT_SERVICES, Resource=TOPIC_ARN)
            ),
        ),
        WORKS,
    ),
    Row(
        "topic policy the evaluator cannot judge (DateLessThan aws:CurrentTime)",
        replace(
            GOOD,
            topic_policy=doc(
                allow(
                    Resource=TOPIC_ARN,
                    Condition={"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}},
                )
            ),
        ),
        ("topic.policy.undecided",),
    ),
    Row("no subscription", replace(GOOD, subscriptions=()), ("subscription.none",)),
    Row(
        "http subscription only",
        replace(GOOD, subscriptions=(("http", True),)),
        ("subscription.protocol.not_allowed",),
    ),
    Row("confirmed email subscription", replace(GOOD, subscriptions=(("email", True),)), WORKS),
    Row(
        "attribute filter policy (CloudWatch sends no attributes)",
        replace(GOOD, filter_policy=json.dumps({"severity": ["high"]})),
        ("subscription.filter_policy.drops_alarm",),
    ),
    Row(
        'attribute filter policy of only "exists": false (an empty set of attributes matches nothing)',
        replace(GOOD, filter_policy=json.dumps({"severity": [{"exists": False}]})),
        ("subscription.filter_policy.drops_alarm",),
    ),
    Row(
        "body filter policy that matches the alarm",
        replace(
            GOOD,
            filter_policy=json.dumps({"NewStateValue": ["ALARM"], "Trigger": {"Statistic": ["SUM"]}}),
            filter_policy_scope="MessageBody",
        ),
        WORKS,
    ),
    Row(
        "body filter policy on another alarm",
        replace(
            GOOD, filter_policy=json.dumps({"AlarmName": ["billing"]}), filter_policy_scope="MessageBody"
        ),
        ("subscription.filter_policy.drops_alarm",),
    ),
    Row(
        "body filter policy on a value set per notification",
        replace(
            GOOD,
            filter_policy=json.dumps({"StateChangeTime": [{"prefix": "2025-"}]}),
            filter_policy_scope="MessageBody",
        ),
        ("subscription.filter_policy.cannot_judge",),
    ),
    Row(
        "email subscription pending confirmation",
        replace(GOOD, subscriptions=(("email", False),)),
        ("subscription.none_confirmed",),
        pack_expected=WORKS,
        unobservable_by_pack="confirmation happens after the deploy; the pack judges what is registered",
    ),
]


# ---------------------------------------------------------------- the reference: the core on the facts


def core_facts(chain: Chain) -> tuple[MetricFilterFacts, StaticLookups]:
    metric_filter = MetricFilterFacts(
        FILTER_NAME, chain.pattern, CIS_4_5.namespace, CIS_4_5.metric_name, chain.value,
        chain.filter_dimensions, chain.filter_unit, chain.default_value,
        system_field_dimensions=chain.filter_system_dimensions,
        apply_on_transformed_logs=chain.apply_on_transformed_logs,
    )  # fmt: skip
    math = ((CIS_4_5.namespace, chain.alarm_metric),) if chain.metric_math else ()
    alarm = AlarmFacts(
        ALARM_NAME,
        None if chain.metric_math else CIS_4_5.namespace,
        None if chain.metric_math else chain.alarm_metric,
        None if chain.metric_math else chain.statistic,
        None if chain.metric_math else chain.period,
        chain.threshold,
        chain.comparison,
        chain.evaluation_periods,
        chain.datapoints_to_alarm,
        chain.actions_enabled,
        tuple(chain.action_arns),
        chain.treat_missing_data,
        chain.alarm_dimensions,
        chain.alarm_unit,
        chain.metric_math,
        math,
        arn=ALARM_ARN,
    )
    topic = TopicFacts(TOPIC_ARN, TOPIC_ARN, chain.topic_key, policy=chain.topic_policy)
    subscriptions = [
        SubscriptionFacts(
            p, p, confirmed, filter_policy=chain.filter_policy, filter_policy_scope=chain.filter_policy_scope
        )
        for p, confirmed in chain.subscriptions
    ]
    return metric_filter, StaticLookups([alarm], [topic], {TOPIC_ARN: subscriptions})


def core_codes(chain: Chain) -> tuple[str, ...]:
    metric_filter, lookups = core_facts(chain)
    return judge_chain([metric_filter], lookups, CIS_4_5).codes


# ---------------------------------------------------------------- the pack: the stack the engine sends


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::{PROJECT}::{type_}::{name}"


PROVIDER_URN = urn("pulumi:providers:aws", f"{ACCOUNT}-{REGION}")
FILTER_URN = urn("aws:cloudwatch/logMetricFilter:LogMetricFilter", "control-4.5-filter")
ALARM_URN = urn("aws:cloudwatch/metricAlarm:MetricAlarm", "control-4.5-alarm")
TOPIC_URN = urn("aws:sns/topic:Topic", "alarm-topic")
TOPIC_POLICY_URN = urn("aws:sns/topicPolicy:TopicPolicy", "alarm-topic-policy")


def _registration(
    type_: str,
    resource_urn: str,
    inputs: dict[str, Any],
    outputs: dict[str, Any] | None = None,
    **deps: list[str],
) -> Registration:
    name = resource_urn.rsplit("::", 1)[1]
    return Registration(
        type=type_, name=name, urn=resource_urn, custom=True, inputs=inputs, raw_inputs=inputs,
        outputs={**inputs, **(outputs or {})}, provider=f"{PROVIDER_URN}::{name}-provider-id", parent="",
        dependencies=sorted({u for urns in deps.values() for u in urns}), property_dependencies=deps,
    )  # fmt: skip


def pack_registrations(chain: Chain) -> list[Registration]:
    transformation: dict[str, Any] = {
        "name": CIS_4_5.metric_name,
        "namespace": CIS_4_5.namespace,
        "value": chain.value,
    }
    if chain.filter_dimensions:
        transformation["dimensions"] = chain.filter_dimensions
    if chain.filter_unit:
        transformation["unit"] = chain.filter_unit
    if chain.default_value is not None:
        transformation["defaultValue"] = f"{chain.default_value:g}"  # the provider's schema takes a string
    alarm: dict[str, Any] = {
        "name": ALARM_NAME,
        "threshold": chain.threshold,
        "comparisonOperator": chain.comparison,
        "evaluationPeriods": chain.evaluation_periods,
        "actionsEnabled": chain.actions_enabled,
        "alarmActions": chain.action_arns,
        "treatMissingData": chain.treat_missing_data,
    }
    if chain.metric_math:
        alarm["metricQueries"] = [
            {"id": "e1", "expression": "m1 * 1", "label": "changes", "returnData": True},
            {
                "id": "m1",
                "metric": {
                    "namespace": CIS_4_5.namespace,
                    "metricName": chain.alarm_metric,
                    "period": 300,
                    "stat": "Sum",
                },
                "returnData": False,
            },
        ]
    else:
        alarm.update(
            namespace=CIS_4_5.namespace,
            metricName=chain.alarm_metric,
            statistic=chain.statistic,
            period=chain.period,
        )
    for key, value in (
        ("datapointsToAlarm", chain.datapoints_to_alarm),
        ("dimensions", chain.alarm_dimensions),
        ("unit", chain.alarm_unit),
    ):
        if value is not None:
            alarm[key] = value
    provider = Registration(
        type="pulumi:providers:aws", name=f"{ACCOUNT}-{REGION}", urn=PROVIDER_URN, custom=True,
        inputs={"region": REGION, "allowedAccountIds": json.dumps([ACCOUNT])}, raw_inputs={}, outputs={},
        provider="", parent="", dependencies=[], property_dependencies={},
    )  # fmt: skip
    resources = [
        provider,
        _registration(
            "aws:cloudwatch/logMetricFilter:LogMetricFilter",
            FILTER_URN,
            {
                "name": FILTER_NAME,
                "logGroupName": LOG_GROUP,
                "pattern": chain.pattern,
                "metricTransformation": transformation,
                **({"applyOnTransformedLogs": True} if chain.apply_on_transformed_logs else {}),
            },
        ),
        _registration(
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            ALARM_URN,
            alarm,
            {"arn": ALARM_ARN},
            **({"alarmActions": [TOPIC_URN]} if chain.actions == "topic" else {}),
        ),
        _registration(
            "aws:sns/topic:Topic",
            TOPIC_URN,
            {"name": TOPIC_NAME, "kmsMasterKeyId": chain.topic_key},
            {"arn": TOPIC_ARN},
        ),
        # As the program registers it (components/notification.py): the topic's ARN from the topic.
        _registration(
            "aws:sns/topicPolicy:TopicPolicy",
            TOPIC_POLICY_URN,
            {"arn": TOPIC_ARN, "policy": chain.topic_policy},
            arn=[TOPIC_URN],
        ),
    ]
    for index, (protocol, _confirmed) in enumerate(chain.subscriptions):
        subscription_urn = urn("aws:sns/topicSubscription:TopicSubscription", f"subscriber-{index}")
        inputs = {"topic": TOPIC_ARN, "protocol": protocol, "endpoint": ENDPOINTS[protocol]}
        if chain.filter_policy is not None:
            inputs["filterPolicy"] = chain.filter_policy
        if chain.filter_policy_scope is not None:
            inputs["filterPolicyScope"] = chain.filter_policy_scope
        resources.append(
            _registration(
                "aws:sns/topicSubscription:TopicSubscription", subscription_urn, inputs, topic=[TOPIC_URN]
            )
        )
    return resources


PREVIEW_UNKNOWNS = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": {"alarmActions", "arn"},
    "aws:sns/topic:Topic": {"arn"},
    "aws:sns/topicPolicy:TopicPolicy": {"arn"},
    "aws:sns/topicSubscription:TopicSubscription": {"topic"},
}
CODES = re.compile(r"\[codes: ([a-z_.]+(?:, [a-z_.]+)*)\]$")


def pack_codes(pack: PolicyPackServer, chain: Chain, preview: bool) -> tuple[str, ...]:
    registrations = pack_registrations(chain)
    by_urn = {r.urn: r for r in registrations}
    unknown = PREVIEW_UNKNOWNS if preview else {}
    if preview and chain.actions != "topic":
        unknown = {**unknown, "aws:cloudwatch/metricAlarm:MetricAlarm": {"arn"}}  # a literal ARN stays known
    violations = pack.analyze_stack(
        to_analyzer_resource(r, by_urn, unknown.get(r.type, set())) for r in registrations
    )
    assert not [v for v in violations if "during preview" in v.message], violations
    chain_violations = [v for v in violations if v.policy == "cis-monitoring-chain"]
    if not chain_violations:
        return WORKS
    [violation] = chain_violations
    assert violation.level == "mandatory" and f"account {ACCOUNT} region {REGION}: " in violation.message
    match = CODES.search(violation.message)
    assert match, violation.message
    return tuple(match.group(1).split(", "))


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        server.configure({})
        yield server
    finally:
        server.close()


# ---------------------------------------------------------------- the audit: the chain deployed into moto


@pytest.fixture(scope="module")
def _moto() -> Iterator[MockAWS]:
    yield from moto_for_module()


def deploy(chain: Chain) -> None:
    """The program's setup (trail, filter, alarm, topic, sqs subscriber), then the row's changes."""
    setup = build_compliant()
    assert setup.topic_arn == TOPIC_ARN
    logs, cloudwatch, sns = (boto3.client(s, region_name=REGION) for s in ("logs", "cloudwatch", "sns"))
    transformation: dict[str, Any] = {
        "metricName": CIS_4_5.metric_name, "metricNamespace": CIS_4_5.namespace, "metricValue": chain.value,
    }  # fmt: skip
    if chain.filter_dimensions:
        transformation["dimensions"] = chain.filter_dimensions
    if chain.filter_unit:
        transformation["unit"] = chain.filter_unit
    if chain.default_value is not None:
        transformation["defaultValue"] = chain.default_value
    logs.delete_metric_filter(logGroupName=LOG_GROUP, filterName=FILTER_NAME)
    logs.put_metric_filter(
        logGroupName=LOG_GROUP,
        filterName=FILTER_NAME,
        filterPattern=chain.pattern,
        metricTransformations=[transformation],
    )
    cloudwatch.delete_alarms(AlarmNames=[setup.alarm_name])
    cloudwatch.put_metric_alarm(**_alarm_request(chain))
    sns.set_topic_attributes(
        TopicArn=TOPIC_ARN, AttributeName="KmsMasterKeyId", AttributeValue=chain.topic_key
    )
    sns.set_topic_attributes(TopicArn=TOPIC_ARN, AttributeName="Policy", AttributeValue=chain.topic_policy)
    sns.unsubscribe(SubscriptionArn=setup.subscription_arn)
    attributes = {}
    if chain.filter_policy is not None:
        attributes["FilterPolicy"] = chain.filter_policy
    if chain.filter_policy_scope is not None:
        attributes["FilterPolicyScope"] = chain.filter_policy_scope
    for protocol, _confirmed in chain.subscriptions:
        sns.subscribe(
            TopicArn=TOPIC_ARN, Protocol=protocol, Endpoint=ENDPOINTS[protocol], Attributes=attributes
        )


def _alarm_request(chain: Chain) -> dict[str, Any]:
    request: dict[str, Any] = {
        "AlarmName": ALARM_NAME,
        "Threshold": chain.threshold,
        "ComparisonOperator": chain.comparison,
        "EvaluationPeriods": chain.evaluation_periods,
        "ActionsEnabled": chain.actions_enabled,
        "AlarmActions": chain.action_arns,
        "TreatMissingData": chain.treat_missing_data,
    }
    if chain.metric_math:
        metric = {"Namespace": CIS_4_5.namespace, "MetricName": chain.alarm_metric}
        request["Metrics"] = [
            {"Id": "e1", "Expression": "m1 * 1", "Label": "changes", "ReturnData": True},
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": 300, "Stat": "Sum"}, "ReturnData": False},
        ]
    else:
        request.update(
            Namespace=CIS_4_5.namespace,
            MetricName=chain.alarm_metric,
            Statistic=chain.statistic,
            Period=chain.period,
        )
    if chain.datapoints_to_alarm is not None:
        request["DatapointsToAlarm"] = chain.datapoints_to_alarm
    if chain.alarm_dimensions:
        request["Dimensions"] = [{"Name": k, "Value": v} for k, v in chain.alarm_dimensions.items()]
    if chain.alarm_unit:
        request["Unit"] = chain.alarm_unit
    return request


def _answer_pending(session: boto3.Session, chain: Chain) -> None:
    """moto confirms every subscription at once; AWS lists an unconfirmed one with a status word."""
    if all(confirmed for _protocol, confirmed in chain.subscriptions):
        return
    listed = [
        {
            "SubscriptionArn": f"{TOPIC_ARN}:{index:08d}-0000-0000-0000-000000000000"
            if confirmed
            else "PendingConfirmation",
            "Owner": ACCOUNT,
            "Protocol": protocol,
            "Endpoint": ENDPOINTS[protocol],
            "TopicArn": TOPIC_ARN,
        }
        for index, (protocol, confirmed) in enumerate(chain.subscriptions)
    ]

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://sns.us-east-1.amazonaws.com/", 200, {}, None), {"Subscriptions": listed}

    session.events.register("before-call.sns.ListSubscriptionsByTopic", answer)


def _answer_filter_fields(session: boto3.Session, chain: Chain) -> None:
    """moto keeps neither emitSystemFieldDimensions nor applyOnTransformedLogs: add them to its answer as
    DescribeMetricFilters gives them (the MetricFilter shape of the logs service model)."""
    fields: dict[str, Any] = {}
    if chain.filter_system_dimensions:
        fields["emitSystemFieldDimensions"] = list(chain.filter_system_dimensions)
    if chain.apply_on_transformed_logs:
        fields["applyOnTransformedLogs"] = True
    if not fields:
        return

    def add(parsed: dict[str, Any], **_: Any) -> None:
        for metric_filter in parsed.get("metricFilters", []):
            metric_filter.update(fields)

    session.events.register("after-call.cloudwatch-logs.DescribeMetricFilters", add)


def audit_codes(chain: Chain) -> tuple[str, ...]:
    deploy(chain)
    session = new_session()
    _answer_pending(session, chain)
    _answer_filter_fields(session, chain)
    group = group_of()
    [result] = audit_chain(group, Access(group.account_id), SessionFactory(session), [CIS_4_5]).controls
    assert result.status in (Status.PASS, Status.FAIL), result.reasons  # an ERROR would prove nothing
    assert (result.status == Status.PASS) == (result.codes == ()), result
    if result.status == Status.FAIL:
        failed = [f for f in result.findings if f.ok is False]
        assert len(failed) == 1 and failed[0].codes == result.codes, result.findings
    return result.codes


# ---------------------------------------------------------------- the table


def test_the_table_has_the_rows_the_issue_asks_for() -> None:
    assert len(ROWS) >= 20
    assert len({r.case for r in ROWS}) == len(ROWS)
    chains = [r.chain for r in ROWS]
    assert replace(GOOD, value="0") in chains and replace(GOOD, value="$.count") in chains
    assert any(c.treat_missing_data == "breaching" for c in chains) and any(
        c.treat_missing_data == "ignore" for c in chains
    )
    assert any(c.metric_math for c in chains) and any(c.alarm_unit and not c.filter_unit for c in chains)
    assert any(c.alarm_dimensions and not c.filter_dimensions for c in chains)
    gt = {(c.comparison, c.threshold) for c in chains}
    assert {("GreaterThanThreshold", 0.0), ("GreaterThanThreshold", 1.0)} <= gt
    policies = {c.topic_policy for c in chains}
    assert sns_default_policy(TOPIC_ARN) in policies and len(policies) >= 6
    assert {"topic.policy.denies_cloudwatch", "topic.policy.undecided"} <= {
        c for r in ROWS for c in r.expected
    }
    assert all(r.pack_expected is None or r.unobservable_by_pack for r in ROWS), (
        "say why the pack cannot see it"
    )


@pytest.mark.parametrize("row", ROWS, ids=[r.case for r in ROWS])
def test_core_pack_and_audit_agree(row: Row, pack: PolicyPackServer, _moto: MockAWS) -> None:
    _moto.reset()
    assert core_codes(row.chain) == row.expected
    audited = audit_codes(row.chain)
    packed = pack_codes(pack, row.chain, preview=False)
    previewed = pack_codes(pack, row.chain, preview=True)
    assert audited == row.expected, f"audit: {audited}"
    assert packed == row.for_pack, f"pack: {packed}"
    assert previewed == packed, f"pack in preview: {previewed}"
    if row.pack_expected is None:
        assert packed == audited, "the pack and the audit disagree"


def test_an_unknown_fact_is_never_a_problem() -> None:
    """Each fact of the working chain replaced by UNKNOWN (a preview value) keeps the verdict "works"."""
    from dataclasses import fields

    from cis_monitoring.core.unknown import UNKNOWN

    metric_filter, lookups = core_facts(GOOD)
    [alarm], [topic] = lookups.alarms, lookups.topics
    [subscription] = lookups.subscriptions[TOPIC_ARN]
    facts = {"filter": metric_filter, "alarm": alarm, "topic": topic, "subscription": subscription}
    for kind, fact in facts.items():
        for name in (f.name for f in fields(fact)):
            if name in ("name", "ref", "arn"):
                continue  # how the adapter names and finds a resource, not a judged fact
            changed = {**facts, kind: replace(fact, **{name: UNKNOWN})}
            world = StaticLookups(
                [changed["alarm"]], [changed["topic"]], {TOPIC_ARN: [changed["subscription"]]}
            )
            verdict = judge_chain([changed["filter"]], world, CIS_4_5)
            assert verdict.ok, (kind, name, verdict.summary())


@pytest.mark.parametrize("row", [r for r in ROWS if r.expected], ids=[r.case for r in ROWS if r.expected])
def test_the_core_names_the_broken_link_and_says_what_to_do(row: Row) -> None:
    metric_filter, lookups = core_facts(row.chain)
    verdict = judge_chain([metric_filter], lookups, CIS_4_5)
    assert not verdict.ok and verdict.link is not None
    assert {p.link for p in verdict.problems} == {verdict.link}
    assert all(p.code.startswith(verdict.link.label) for p in verdict.problems)
    summary = verdict.summary()
    assert summary and all(p.detail in summary for p in verdict.problems)


# ---------------------------------------------------------------- the trail: which group, and does it count


@dataclass(frozen=True)
class TrailRow:
    """The program's chain behind a trail that differs from the compliant one; the codes both must give.

    The pack sees the trail where the stack manages it (``aws:cloudtrail/trail:Trail``); the audit reads
    it from CloudTrail (moto, shaped like AWS by ``local.worlds.shadows``). ``expected``: the chain's codes
    at the trail's group, then the pair's coverage code (the pack prints them in that order).
    """

    case: str
    expected: tuple[str, ...]
    filter_group: str = LOG_GROUP
    multi_region: bool = True
    logging: bool = True
    write_only: bool = False


OTHER_GROUP = "app/payments"
TRAIL_ROWS = [
    TrailRow("the trail delivers to the chain's group", WORKS),
    TrailRow(
        "the filter watches another group than the trail delivers to",
        ("filter.none", "coverage.none.chain_broken"),
        filter_group=OTHER_GROUP,
    ),
    TrailRow("single-Region trail", ("coverage.none.single_region",), multi_region=False),
    TrailRow("trail not logging", ("coverage.none.not_logging",), logging=False),
    TrailRow("write-only event selectors", ("coverage.none.selectors",), write_only=True),
]


def trail_pack_codes(pack: PolicyPackServer, row: TrailRow, preview: bool) -> tuple[str, ...]:
    registrations = pack_registrations(GOOD)
    for registration in registrations:
        if registration.type == "aws:cloudwatch/logMetricFilter:LogMetricFilter":
            registration.inputs["logGroupName"] = registration.outputs["logGroupName"] = row.filter_group
    inputs: dict[str, Any] = {
        "name": f"org-trail-{REGION}",
        "s3BucketName": f"trail-bucket-{REGION}",
        "isMultiRegionTrail": row.multi_region,
        "enableLogging": row.logging,
        "cloudWatchLogsGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*",
        "eventSelectors": [
            {"readWriteType": "WriteOnly" if row.write_only else "All", "includeManagementEvents": True}
        ],
    }
    registrations.append(
        _registration("aws:cloudtrail/trail:Trail", urn("aws:cloudtrail/trail:Trail", "trail"), inputs)
    )
    by_urn = {r.urn: r for r in registrations}
    unknown = {**PREVIEW_UNKNOWNS, "aws:cloudtrail/trail:Trail": {"arn"}} if preview else {}
    violations = pack.analyze_stack(
        to_analyzer_resource(r, by_urn, unknown.get(r.type, set())) for r in registrations
    )
    chain_violations = [v for v in violations if v.policy == "cis-monitoring-chain"]
    if not chain_violations:
        return WORKS
    [violation] = chain_violations
    match = CODES.search(violation.message)
    assert match, violation.message
    return tuple(match.group(1).split(", "))


def trail_audit_codes(row: TrailRow) -> tuple[str, ...]:
    setup = build_compliant()
    cloudtrail, logs = (boto3.client(s, region_name=REGION) for s in ("cloudtrail", "logs"))
    if row.filter_group != LOG_GROUP:
        [found] = logs.describe_metric_filters(logGroupName=LOG_GROUP)["metricFilters"]
        logs.create_log_group(logGroupName=row.filter_group)
        logs.delete_metric_filter(logGroupName=LOG_GROUP, filterName=FILTER_NAME)
        logs.put_metric_filter(
            logGroupName=row.filter_group,
            filterName=FILTER_NAME,
            filterPattern=found["filterPattern"],
            metricTransformations=found["metricTransformations"],
        )
    if not row.multi_region:
        cloudtrail.update_trail(Name=setup.trail_name, IsMultiRegionTrail=False)
    if not row.logging:
        cloudtrail.stop_logging(Name=setup.trail_name)
    if row.write_only:
        cloudtrail.put_event_selectors(
            TrailName=setup.trail_name,
            EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
        )
    report = audit_coverage(
        flag_scope(AccountFlags(ACCOUNT, [REGION])), SessionFactory(new_session()), [CIS_4_5]
    )
    [pair] = report.pairs
    assert pair.status in (Status.PASS, Status.FAIL) and pair.coverage is not None, pair.reasons
    if pair.status == Status.PASS:
        return WORKS
    chain = report.chains.get(pair.coverage.log_group) if pair.coverage.log_group else None
    chain_codes = tuple(c for result in chain.controls for c in result.codes) if chain is not None else ()
    if pair.coverage.code != "coverage.none.chain_broken":
        chain_codes = ()
    return (*chain_codes, pair.coverage.code)


@pytest.mark.parametrize("row", TRAIL_ROWS, ids=[r.case for r in TRAIL_ROWS])
def test_the_pack_and_the_audit_judge_the_trail_alike(
    row: TrailRow, pack: PolicyPackServer, _moto: MockAWS
) -> None:
    _moto.reset()
    audited = trail_audit_codes(row)
    packed = trail_pack_codes(pack, row, preview=False)
    previewed = trail_pack_codes(pack, row, preview=True)
    assert audited == row.expected, f"audit: {audited}"
    assert packed == row.expected, f"pack: {packed}"
    assert previewed == packed, f"pack in preview: {previewed}"
