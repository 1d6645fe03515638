"""The topic policy, judged as AWS decides CloudWatch's sns:Publish for one alarm (issue 15).

Every case is a policy AWS users write (SNS's default, the program's, a data perimeter, a TLS-only
Deny, grants for another account's alarms) and the code the core gives it: one evaluator
(``resource_policies.judge_grant``) with CloudWatch's request context, as for key, queue and
function policies. The adapters' tests (``tests/test_one_judgement.py``) send the same policies
through the built pack and the audit against moto.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cis_monitoring.core.judge.topic_policy import topic_policy_problem
from cis_monitoring.core.problems import Code, Link
from cis_monitoring.program.policies import topic_policy

ACCOUNT = "123456789012"
OTHER = "999999999999"
REGION = "us-east-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:cis-sandbox-alarms"
ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cis-4-5-cloudtrail-changes-sandbox"
OTHER_ALARM = f"arn:aws:cloudwatch:{REGION}:{OTHER}:alarm:cis-4-5-cloudtrail-changes-sandbox"
WORKS = None


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def sns_default_policy(topic: str = TOPIC, owner: str = ACCOUNT) -> str:
    """What SNS gives a topic created without a policy (GetTopicAttributes ``Policy``, as AWS answers)."""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": topic,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": owner}},
                }
            ],
        }
    )


def allow(**fields: Any) -> dict[str, Any]:
    return {
        "Sid": "AllowAlarms",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": TOPIC,
        **fields,
    }


def deny(sid: str, condition: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
    statement = {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:*",
        "Resource": TOPIC,
        **fields,
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


PERIMETER = {"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}
EXEMPT_SERVICES = {**PERIMETER, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}
TLS_ONLY = {"Bool": {"aws:SecureTransport": "false"}}


def judged(policy: str | None, alarm: str | None = ALARM, account: str | None = ACCOUNT) -> Code | None:
    problem = topic_policy_problem(policy, TOPIC, alarm, account)
    return problem.code if problem is not None else None


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(topic_policy(TOPIC, ACCOUNT, REGION), WORKS, id="the program's policy"),
        pytest.param(sns_default_policy(), WORKS, id="SNS's default policy (AWS:SourceOwner)"),
        pytest.param(doc(allow()), WORKS, id="an unconditional allow"),
        pytest.param(
            doc(allow(Principal={"AWS": "*"})), WORKS, id="AWS * names every principal, services too"
        ),
        pytest.param(doc(allow(Action="SNS:*")), WORKS, id="actions are case-insensitive"),
        pytest.param(
            doc(allow(Principal={"Service": ["cloudwatch.amazonaws.com"]}, Action=["*"])),
            WORKS,
            id="lists and the action wildcard",
        ),
        pytest.param(
            doc(allow(Condition={"StringEquals": {"aws:SourceAccount": OTHER}})),
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            id="SourceAccount of another account",
        ),
        pytest.param(
            doc(
                allow(
                    Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{OTHER}:alarm:*"}}
                )
            ),
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            id="SourceArn of another account's alarms",
        ),
        pytest.param(
            doc(
                allow(
                    Condition={
                        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"}
                    }
                )
            ),
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            id="SourceArn of another Region's alarms",
        ),
        pytest.param(
            doc(allow(Resource=TOPIC + "-old")),
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            id="allow on another topic",
        ),
        pytest.param(
            doc(allow(Action="sns:Subscribe")),
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            id="allow of another action",
        ),
        pytest.param(
            doc(allow(Principal={"Service": "events.amazonaws.com"})),
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            id="allow for another service",
        ),
        pytest.param(
            sns_default_policy(owner=OTHER),
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            id="default policy of another owner",
        ),
        pytest.param(
            doc(allow(), deny("DataPerimeter", PERIMETER)),
            Code.TOPIC_POLICY_DENIES_CLOUDWATCH,
            id="data perimeter on PrincipalOrgID hits the service principal",
        ),
        pytest.param(
            doc(allow(), deny("DataPerimeter", EXEMPT_SERVICES)),
            WORKS,
            id="data perimeter exempting PrincipalIsAWSService",
        ),
        pytest.param(
            doc(
                allow(),
                deny("DataPerimeter", {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdef1234"}}),
            ),
            Code.TOPIC_POLICY_DENIES_CLOUDWATCH,
            id="data perimeter with IfExists: an absent key passes IfExists, so the deny applies",
        ),
        pytest.param(
            doc(allow(), deny("OnlyOurVpce", {"StringNotEquals": {"aws:SourceVpce": "vpce-1ab2c34d"}})),
            Code.TOPIC_POLICY_DENIES_CLOUDWATCH,
            id="SNS's VPC-endpoint-only example shuts CloudWatch out",
        ),
        pytest.param(doc(allow(), deny("TlsOnly", TLS_ONLY)), WORKS, id="TLS-only deny"),
        pytest.param(
            doc(allow(), deny("OnlyOurAlarms", {"StringNotEquals": {"aws:SourceAccount": ACCOUNT}})),
            WORKS,
            id="a deny of other accounts' sources",
        ),
        pytest.param(
            doc(allow(), deny("NoOne", None)), Code.TOPIC_POLICY_DENIES_CLOUDWATCH, id="an unconditional deny"
        ),
        pytest.param(
            doc(allow(), deny("NoAlarms", None, Principal={"Service": "cloudwatch.amazonaws.com"})),
            Code.TOPIC_POLICY_DENIES_CLOUDWATCH,
            id="a deny of CloudWatch",
        ),
        pytest.param(
            doc(allow(Condition={"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}})),
            Code.TOPIC_POLICY_UNDECIDED,
            id="an operator the evaluator does not evaluate",
        ),
        pytest.param(
            doc(allow(Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})),
            Code.TOPIC_POLICY_UNDECIDED,
            id="a key whose value for a service principal is not documented",
        ),
        pytest.param(
            doc(allow(), deny("Office", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
            Code.TOPIC_POLICY_UNDECIDED,
            id="a deny on the source IP",
        ),
        pytest.param(None, Code.TOPIC_POLICY_NONE, id="no policy"),
        pytest.param("{not json", Code.TOPIC_POLICY_INVALID, id="not JSON"),
        pytest.param(
            json.dumps({"Statement": [{"Effect": "Allow"}]}), Code.TOPIC_POLICY_INVALID, id="not a policy"
        ),
    ],
)
def test_the_topic_policy_is_judged_for_cloudwatch_s_request(
    policy: str | None, expected: Code | None
) -> None:
    assert judged(policy) == expected


def test_a_policy_for_this_account_s_alarms_does_not_admit_another_account_s_alarm() -> None:
    """An alarm may notify another account's topic; the topic's policy decides for that alarm's account."""
    assert (
        judged(topic_policy(TOPIC, ACCOUNT, REGION), OTHER_ALARM, OTHER)
        == Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW
    )
    assert judged(sns_default_policy(), OTHER_ALARM, OTHER) == Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW
    cross = doc(
        allow(Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{OTHER}:alarm:*"}})
    )
    assert judged(cross, OTHER_ALARM, OTHER) is WORKS


def test_without_the_alarm_s_arn_a_scoped_grant_is_not_judged_a_pass() -> None:
    assert judged(topic_policy(TOPIC, ACCOUNT, REGION), None, None) == Code.TOPIC_POLICY_UNDECIDED


def test_each_problem_names_the_statement_and_what_to_do() -> None:
    denied = topic_policy_problem(
        doc(allow(), deny("DataPerimeter", PERIMETER)), TOPIC, ALARM, ACCOUNT, "lead"
    )
    assert denied is not None and denied.link == Link.TOPIC
    assert "statement 'DataPerimeter' denies sns:Publish to cloudwatch.amazonaws.com" in denied.detail
    assert '"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}' in denied.detail
    missing = topic_policy_problem(doc(allow(Action="sns:Subscribe")), TOPIC, ALARM, ACCOUNT)
    assert missing is not None and "add this statement:" in missing.detail
    added = json.loads(missing.detail.split("add this statement: ", 1)[1])
    assert added["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
    }
    # The statement to add is the program's own: adding it makes the policy pass.
    fixed = json.loads(doc(allow(Action="sns:Subscribe")))
    fixed["Statement"].append(added)
    assert judged(json.dumps(fixed)) is WORKS
    undecided = topic_policy_problem(
        doc(allow(Condition={"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}})),
        TOPIC,
        ALARM,
        ACCOUNT,
    )
    assert undecided is not None
    assert undecided.detail.startswith("cannot judge whether it lets cloudwatch.amazonaws.com publish")
    assert "DateLessThan aws:CurrentTime" in undecided.detail
