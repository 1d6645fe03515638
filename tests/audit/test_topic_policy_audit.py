"""The audit's topic-policy check against moto: the policy SNS holds, judged for the alarm's request.

moto answers GetTopicAttributes with the policy as AWS does (SNS's default policy for a new topic,
``__default_statement_ID`` under ``AWS:SourceOwner``); the core judges it with CloudWatch's request
context for the alarm DescribeAlarms names. The JSON names both reads as the check's basis.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.core.models import MockAWS

from cis_monitoring.audit.chain import Check
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status
from tests.audit.test_audit_unit import Setup, build_compliant, one
from tests.core.judge.test_topic_policy import EXEMPT_SERVICES, PERIMETER, allow, deny, doc


@pytest.fixture
def setup(_moto: MockAWS) -> Setup:
    _moto.reset()
    return build_compliant()


def _topic(result: Any) -> Any:
    return next(f for f in result.findings if f.check == Check.TOPIC)


def _set_policy(setup: Setup, policy: str) -> None:
    setup.client("sns").set_topic_attributes(
        TopicArn=setup.topic_arn, AttributeName="Policy", AttributeValue=policy
    )


def test_a_new_topic_s_default_policy_lets_the_account_s_alarms_publish(setup: Setup) -> None:
    """The CloudWatch guide's own setup: create a topic, subscribe, point the alarm at it, no policy change."""
    sns = setup.client("sns")
    fresh = sns.create_topic(Name="cis-fresh-alarms")["TopicArn"]
    default = sns.get_topic_attributes(TopicArn=fresh)["Attributes"]["Policy"]
    assert json.loads(default)["Statement"][0]["Sid"] == "__default_statement_ID"  # as AWS answers
    _set_policy(setup, default.replace(fresh, setup.topic_arn))
    result = one()
    topic = _topic(result)
    assert result.status == Status.PASS, result.reasons
    assert topic.ok is True and topic.detail == f"topic {setup.topic_arn} lets CloudWatch publish"
    basis = {read["action"]: read["fields"] for read in topic.to_dict()["basis"]}
    assert basis == {
        "sns:GetTopicAttributes": ["Policy", "KmsMasterKeyId"],
        "cloudwatch:DescribeAlarms": ["AlarmArn"],
    }


@pytest.mark.parametrize(
    ("statements", "code", "said"),
    [
        (
            lambda arn: [allow(Resource=arn), deny("Perimeter", PERIMETER, Resource=arn)],
            Code.TOPIC_POLICY_DENIES_CLOUDWATCH,
            "statement 'Perimeter' denies sns:Publish to cloudwatch.amazonaws.com",
        ),
        (
            lambda arn: [
                allow(Resource=arn, Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})
            ],
            Code.TOPIC_POLICY_UNDECIDED,
            "cannot judge whether it lets cloudwatch.amazonaws.com publish",
        ),
    ],
    ids=["data perimeter", "a condition it cannot judge"],
)
def test_a_policy_that_shuts_cloudwatch_out_or_cannot_be_judged_fails(
    setup: Setup, statements: Any, code: Code, said: str
) -> None:
    _set_policy(setup, doc(*statements(setup.topic_arn)))
    result = one()
    assert result.status == Status.FAIL and result.codes == (code,)
    topic = _topic(result)
    assert topic.ok is False and said in topic.detail


def test_the_perimeter_exempting_aws_services_passes(setup: Setup) -> None:
    arn = setup.topic_arn
    _set_policy(setup, doc(allow(Resource=arn), deny("Perimeter", EXEMPT_SERVICES, Resource=arn)))
    assert one().status == Status.PASS
