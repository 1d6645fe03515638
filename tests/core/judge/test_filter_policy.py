"""The SNS filter-policy evaluator, and CloudWatch's alarm message it is judged against.

Each case follows an example or a sentence of the Amazon SNS developer guide (the module
docstring of ``cis_monitoring.core.judge.filter_policy`` names the pages).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cis_monitoring.core.judge.alarm_message import alarm_message
from cis_monitoring.core.judge.facts import AlarmFacts, SubscriptionFacts
from cis_monitoring.core.judge.filter_policy import (
    MESSAGE_ATTRIBUTES,
    MESSAGE_BODY,
    Outcome,
    Varies,
    judge_message,
)
from cis_monitoring.core.judge.notification import filter_policy_problem, filter_verdict, usable_subscriptions
from cis_monitoring.core.problems import Code
from cis_monitoring.core.unknown import UNKNOWN

ACCOUNT, REGION = "111111111111", "us-east-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"
ALARM = AlarmFacts(
    "cis-4-5-cloudtrail-changes",
    namespace="CISBenchmark",
    metric_name="CloudTrailConfigChanges",
    statistic="Sum",
    period=300,
    threshold=1.0,
    comparison_operator="GreaterThanOrEqualToThreshold",
    evaluation_periods=1,
    alarm_actions=(TOPIC,),
    treat_missing_data="notBreaching",
    description="CIS 4.5",
    arn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cis-4-5-cloudtrail-changes",
)


def body(policy: dict[str, Any], message: dict[str, Any] | None = None) -> Outcome:
    found = judge_message(
        json.dumps(policy), MESSAGE_BODY, attributes={}, body=message or alarm_message(ALARM)
    )
    return found.outcome


def attributes(policy: dict[str, Any], given: dict[str, Any]) -> Outcome:
    return judge_message(json.dumps(policy), MESSAGE_ATTRIBUTES, attributes=given, body={}).outcome


# ---------------------------------------------------------------- the alarm's message


def test_the_message_has_the_shape_cloudwatch_sends() -> None:
    message = alarm_message(ALARM)
    assert message["AlarmName"] == ALARM.name and message["NewStateValue"] == "ALARM"
    assert message["AWSAccountId"] == ACCOUNT and message["Region"] == "US East (N. Virginia)"
    assert message["AlarmActions"] == [TOPIC] and message["InsufficientDataActions"] == []
    trigger = message["Trigger"]
    assert trigger["Statistic"] == "SUM" and trigger["StatisticType"] == "Statistic"
    assert trigger["Dimensions"] == [] and trigger["Unit"] is None and trigger["Threshold"] == 1.0
    assert isinstance(message["OldStateValue"], Varies) and message["OldStateValue"].choices == (
        "OK",
        "INSUFFICIENT_DATA",
    )
    assert isinstance(message["StateChangeTime"], Varies)


# ---------------------------------------------------------------- MessageAttributes: CloudWatch sends none


@pytest.mark.parametrize(
    "policy",
    [
        {
            "k": [{"exists": False}]
        },  # the guide: "An empty set of attributes results in the filter not matching"
        {"AlarmName": [ALARM.name]},
        {"k": [{"anything-but": ["x"]}]},
        {"$or": [{"a": [{"exists": False}]}, {"b": ["x"]}]},
    ],
)
def test_an_attribute_policy_drops_a_message_without_attributes(policy: dict[str, Any]) -> None:
    verdict = judge_message(json.dumps(policy), None, attributes={}, body=alarm_message(ALARM))
    assert verdict.outcome == Outcome.NO_MATCH and "empty set of attributes" in verdict.why


def test_attribute_matching_where_a_message_has_attributes() -> None:
    given = {"store": "example_corp", "price_usd": 210.75, "customer_interests": ["rugby", "baseball"]}
    assert attributes({"store": [{"exists": True}]}, given) == Outcome.MATCH
    assert attributes({"color": [{"exists": False}]}, given) == Outcome.MATCH  # some attribute is present
    assert attributes({"store": [{"exists": False}]}, given) == Outcome.NO_MATCH
    assert attributes({"price_usd": [{"numeric": [">", 100, "<=", 300]}]}, given) == Outcome.MATCH
    assert attributes({"price_usd": [{"numeric": ["<", 100]}]}, given) == Outcome.NO_MATCH
    assert attributes({"customer_interests": ["rugby", "tennis"]}, given) == Outcome.MATCH
    assert attributes({"store": [{"prefix": "example"}], "price_usd": [210.75]}, given) == Outcome.MATCH
    assert attributes({"store": [{"suffix": "_corp"}]}, given) == Outcome.MATCH
    assert attributes({"store": [{"equals-ignore-case": "EXAMPLE_CORP"}]}, given) == Outcome.MATCH
    assert attributes({"store": [{"anything-but": ["other"]}]}, given) == Outcome.MATCH
    assert attributes({"store": [{"anything-but": {"prefix": "example"}}]}, given) == Outcome.NO_MATCH
    assert attributes({"missing": [{"anything-but": ["x"]}]}, given) == Outcome.NO_MATCH  # needs the key
    assert attributes({"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "10.0.0.7"}) == Outcome.MATCH
    assert attributes({"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "10.0.1.7"}) == Outcome.NO_MATCH
    assert attributes({"nested": {"a": ["b"]}}, given) == Outcome.CANNOT  # only MessageBody takes nesting


# ---------------------------------------------------------------- MessageBody: the alarm's JSON


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"NewStateValue": ["ALARM"]}, Outcome.MATCH),
        ({"NewStateValue": ["OK"]}, Outcome.NO_MATCH),
        ({"NewStateValue": [{"equals-ignore-case": "alarm"}]}, Outcome.MATCH),
        ({"AlarmName": [{"prefix": "cis-4-5"}]}, Outcome.MATCH),
        ({"AlarmName": [{"suffix": "-changes"}]}, Outcome.MATCH),
        ({"AlarmName": [{"anything-but": {"prefix": "test-"}}]}, Outcome.MATCH),
        ({"AWSAccountId": [ACCOUNT]}, Outcome.MATCH),
        ({"AWSAccountId": ["222222222222"]}, Outcome.NO_MATCH),
        ({"Region": ["US East (N. Virginia)"]}, Outcome.MATCH),
        ({"Region": ["us-east-1"]}, Outcome.NO_MATCH),  # the message has the long name
        (
            {"Trigger": {"MetricName": ["CloudTrailConfigChanges"], "Threshold": [{"numeric": [">=", 1]}]}},
            Outcome.MATCH,
        ),
        ({"Trigger": {"Namespace": ["AWS/EC2"]}}, Outcome.NO_MATCH),
        ({"Trigger": {"Statistic": ["Sum"]}}, Outcome.NO_MATCH),  # CloudWatch writes "SUM"
        ({"Severity": [{"exists": False}]}, Outcome.MATCH),
        ({"Severity": ["high"]}, Outcome.NO_MATCH),
        ({"OldStateValue": ["OK"]}, Outcome.NO_MATCH),  # drops the alarms that leave INSUFFICIENT_DATA
        ({"$or": [{"OldStateValue": ["OK"]}, {"OldStateValue": ["INSUFFICIENT_DATA"]}]}, Outcome.MATCH),
        ({"StateChangeTime": [{"exists": True}]}, Outcome.MATCH),
        ({"StateChangeTime": [{"prefix": "2025-"}]}, Outcome.CANNOT),  # set per notification
        ({"Trigger": {"TreatMissingData": ["notBreaching"]}}, Outcome.CANNOT),  # rendered two ways
        ({"AlarmName": [{"wildcard": "cis-*"}]}, Outcome.CANNOT),  # not implemented: never MATCH
        ({"AlarmDescription": [None]}, Outcome.CANNOT),
        ({"AlarmActions": [{"anything-but": [TOPIC]}]}, Outcome.NO_MATCH),  # both readings agree
        ({"AlarmActions": [TOPIC]}, Outcome.MATCH),
        ({"InsufficientDataActions": [{"exists": True}]}, Outcome.NO_MATCH),  # "non-empty value"
    ],
)
def test_a_body_policy_against_the_alarm(policy: dict[str, Any], expected: Outcome) -> None:
    assert body(policy) == expected


def test_anything_but_on_an_array_the_guide_words_two_ways_is_not_judged() -> None:
    message = alarm_message(AlarmFacts(**{**ALARM.__dict__, "alarm_actions": (TOPIC, TOPIC + "-2")}))
    assert body({"AlarmActions": [{"anything-but": [TOPIC]}]}, message) == Outcome.CANNOT


@pytest.mark.parametrize(
    ("policy", "scope", "expected"),
    [
        (None, None, Outcome.MATCH),
        ("", MESSAGE_BODY, Outcome.MATCH),
        ("{}", None, Outcome.MATCH),  # how a filter policy is removed
        ("{not json", MESSAGE_BODY, Outcome.CANNOT),
        ('["a"]', MESSAGE_BODY, Outcome.CANNOT),
        ('{"a": ["b"]}', "Elsewhere", Outcome.CANNOT),
        (UNKNOWN, None, Outcome.PENDING),
        ('{"NewStateValue": ["ALARM"]}', UNKNOWN, Outcome.PENDING),
    ],
)
def test_no_policy_bad_policies_and_preview_values(policy: Any, scope: Any, expected: Outcome) -> None:
    assert judge_message(policy, scope, attributes={}, body=alarm_message(ALARM)).outcome == expected


def test_a_preview_value_in_the_message_is_pending_not_a_problem() -> None:
    message = alarm_message(AlarmFacts(**{**ALARM.__dict__, "arn": UNKNOWN}))
    assert body({"AWSAccountId": [ACCOUNT]}, message) == Outcome.PENDING


# ---------------------------------------------------------------- the subscription link


def subscription(policy: Any = None, scope: Any = None, protocol: str = "sqs") -> SubscriptionFacts:
    return SubscriptionFacts(
        "s",
        protocol,
        True,
        "arn:aws:sqs:us-east-1:111111111111:q",
        filter_policy=policy,
        filter_policy_scope=scope,
    )


def test_a_subscription_whose_policy_drops_the_alarm_does_not_count() -> None:
    dropping = subscription(json.dumps({"severity": ["high"]}))  # MessageAttributes, the default
    assert usable_subscriptions([dropping], ALARM) == []
    problem = filter_policy_problem(dropping, ALARM)
    assert problem is not None and problem.code == Code.SUBSCRIPTION_FILTER_POLICY_DROPS
    assert "receives nothing" in problem.message
    passing = subscription(json.dumps({"NewStateValue": ["ALARM"]}), MESSAGE_BODY)
    assert usable_subscriptions([dropping, passing], ALARM) == [passing]


def test_a_policy_it_cannot_judge_does_not_count_either() -> None:
    unjudged = subscription(json.dumps({"AlarmName": [{"wildcard": "cis-*"}]}), MESSAGE_BODY)
    assert usable_subscriptions([unjudged], ALARM) == []
    problem = filter_policy_problem(unjudged, ALARM)
    assert problem is not None and problem.code == Code.SUBSCRIPTION_FILTER_POLICY_UNJUDGED


def test_an_email_subscriber_gets_text_so_a_body_policy_is_not_judged() -> None:
    email = subscription(json.dumps({"NewStateValue": ["ALARM"]}), MESSAGE_BODY, protocol="email")
    assert filter_verdict(email, ALARM).outcome == Outcome.CANNOT
    assert filter_verdict(subscription(None, MESSAGE_BODY, protocol="email"), ALARM).outcome == Outcome.MATCH
