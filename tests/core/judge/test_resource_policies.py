"""The three grants on an alarm's path, judged on real-shaped policies, with the statement to add."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cis_monitoring.core.judge.resource_policies import (
    cloudwatch_key_grant,
    function_grant,
    judge_grant,
    queue_grant,
    sns_key_grant,
)

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:cis-sandbox-alarms"
ALARM = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:cis-4-5-cloudtrail-changes-sandbox-us-east-1"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:security-alerts"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pager-relay"
ROOT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def cloudwatch_use(**fields: Any) -> dict[str, Any]:
    return {
        "Sid": "AllowCloudWatch",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        **fields,
    }


@pytest.mark.parametrize(
    ("statements", "granted"),
    [
        ([ROOT], False),  # the default key policy: IAM policies only, no service
        ([ROOT, cloudwatch_use()], True),
        ([ROOT, cloudwatch_use(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})], True),
        (
            [
                ROOT,
                cloudwatch_use(
                    Condition={
                        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:cis-*"}
                    }
                ),
            ],
            True,
        ),
        (
            [
                ROOT,
                cloudwatch_use(
                    Condition={
                        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:other-*"}
                    }
                ),
            ],
            False,
        ),
        ([ROOT, cloudwatch_use(Action="kms:Decrypt")], False),  # GenerateDataKey is missing
        (
            [
                ROOT,
                cloudwatch_use(Condition={"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}}),
            ],
            None,
        ),
    ],
)
def test_the_topic_key_must_let_cloudwatch_use_it(
    statements: list[dict[str, Any]], granted: bool | None
) -> None:
    verdict = judge_grant(doc(*statements), cloudwatch_key_grant(KEY, ACCOUNT, ALARM))
    assert verdict.granted is granted


def test_a_missing_key_grant_says_which_actions_and_what_to_add() -> None:
    verdict = judge_grant(doc(ROOT, cloudwatch_use(Action="kms:Decrypt")), cloudwatch_key_grant(KEY, ACCOUNT))
    assert verdict.problems == ("no statement allows cloudwatch.amazonaws.com to call kms:GenerateDataKey",)
    text = verdict.explain()
    assert text.startswith(f"the key policy of KMS key {KEY}: no statement allows")
    assert '"Action":["kms:GenerateDataKey*","kms:Decrypt"]' in text
    assert '"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}' in text


def test_the_alias_aws_sns_key_policy_does_not_admit_cloudwatch() -> None:
    # The AWS-managed SNS key's policy: everyone in the account, but only via SNS.
    managed = {
        "Sid": "Allow access through SNS for all principals in the account that are authorized to use SNS",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": [
            "kms:Decrypt",
            "kms:GenerateDataKey*",
            "kms:CreateGrant",
            "kms:ListGrants",
            "kms:DescribeKey",
        ],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}
        },
    }
    assert judge_grant(doc(managed, ROOT), cloudwatch_key_grant(KEY, ACCOUNT)).granted is not True


def sns_send(**fields: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": QUEUE,
        "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
        **fields,
    }


@pytest.mark.parametrize(
    ("policy", "granted"),
    [
        (None, False),
        ("", False),
        ("{not json", False),
        (doc(sns_send()), True),
        (doc(sns_send(Principal={"AWS": "*"})), True),
        (doc(sns_send(Action="sqs:*")), True),
        (doc(sns_send(Condition={"ArnEquals": {"aws:SourceArn": TOPIC + "2"}})), False),
        (doc(sns_send(Resource=QUEUE + "-dlq")), False),
        (doc(sns_send(Condition={"StringEquals": {"aws:SourceOwner": ACCOUNT}})), None),  # not sent here
        (
            doc(
                sns_send(),
                {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE},
            ),
            False,
        ),
    ],
)
def test_the_queue_must_let_the_topic_send(policy: str | None, granted: bool | None) -> None:
    assert judge_grant(policy, queue_grant(QUEUE, TOPIC, ACCOUNT)).granted is granted


def test_an_unreadable_policy_is_named() -> None:
    verdict = judge_grant("{not json", queue_grant(QUEUE, TOPIC, ACCOUNT))
    assert verdict.problems[0].startswith("the policy cannot be read: the policy is not valid JSON")


def test_the_encrypted_queue_key_must_let_sns_use_it() -> None:
    grant = sns_key_grant(KEY, TOPIC, ACCOUNT)
    sns_use = {**cloudwatch_use(), "Principal": {"Service": "sns.amazonaws.com"}}
    assert judge_grant(doc(ROOT, sns_use), grant).granted is True
    assert judge_grant(doc(ROOT, cloudwatch_use()), grant).granted is False


def sns_invoke(**fields: Any) -> dict[str, Any]:
    # The statement lambda:AddPermission writes.
    return {
        "Sid": "sns",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": FUNCTION,
        "Condition": {"ArnLike": {"AWS:SourceArn": TOPIC}},
        **fields,
    }


@pytest.mark.parametrize(
    ("statement", "granted"),
    [
        (sns_invoke(), True),
        (sns_invoke(Condition={"StringEquals": {"AWS:SourceAccount": ACCOUNT}}), True),
        (sns_invoke(Condition={"ArnLike": {"AWS:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:*"}}), True),
        (sns_invoke(Condition={"ArnLike": {"AWS:SourceArn": TOPIC + "-old"}}), False),
        (sns_invoke(Principal={"Service": "events.amazonaws.com"}), False),
        (sns_invoke(Resource=FUNCTION + ":live"), False),
    ],
)
def test_the_function_must_let_the_topic_invoke(statement: dict[str, Any], granted: bool) -> None:
    assert judge_grant(doc(statement), function_grant(FUNCTION, TOPIC, ACCOUNT)).granted is granted


def test_a_missing_function_grant_gives_the_add_permission_command() -> None:
    text = judge_grant(None, function_grant(FUNCTION, TOPIC, ACCOUNT)).explain()
    assert "there is no policy; add this statement:" in text
    assert f"--principal sns.amazonaws.com --source-arn {TOPIC}" in text


def test_a_grant_notes_whether_it_is_limited_to_a_source() -> None:
    scoped = judge_grant(doc(sns_invoke()), function_grant(FUNCTION, TOPIC, ACCOUNT))
    bare = {k: v for k, v in sns_invoke().items() if k != "Condition"}
    unscoped = judge_grant(doc(bare), function_grant(FUNCTION, TOPIC, ACCOUNT))
    assert scoped.notes == ("granted by statement 'sns'",)
    assert (
        unscoped.notes[1]
        == "not limited by aws:SourceArn or aws:SourceAccount, so other sources may use it too"
    )
