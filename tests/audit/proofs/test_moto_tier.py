"""The proofs against moto: what moto cannot give is NOT_AVAILABLE, never PASS; what it stores is judged.

moto implements neither TestMetricFilter nor DescribeAlarmHistory (in-process it raises
NotImplementedError; as a server it answers HTTP 500 with an HTML page), and runs no
alarm action. It does store key, queue and function policies, so those proofs give
real verdicts here (moto enforces none of them: the verdict is ours).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from cis_monitoring.audit.drill import DrillSettings, fire_drill
from cis_monitoring.audit.proofs import (
    ClientFor,
    alarm_history,
    aws_matcher,
    function_policy,
    queue_policy,
    topic_key_policy,
)
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.status import Status
from cis_monitoring.program.policies import key_policy
from local.emulator import Emulator

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
ALARM = "cis-4-5-cloudtrail-changes-sandbox-us-east-1"
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture
def moto() -> Iterator[ClientFor]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in FAKE_ENV.items():
            patch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            patch.delenv(key, raising=False)
        with mock_aws():
            yield lambda service, region=None: boto3.client(service, region_name=region or REGION)


def topic_with_alarm(clients: ClientFor) -> tuple[str, dict[str, Any]]:
    topic = clients("sns", None).create_topic(Name="cis-sandbox-alarms")["TopicArn"]
    cloudwatch = clients("cloudwatch", None)
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        MetricName=CIS_4_5.metric_name,
        Namespace=CIS_4_5.namespace,
        Statistic="Sum",
        Period=300,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        EvaluationPeriods=1,
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
    )
    return topic, cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]


# ---------------------------------------------------------------- what moto cannot give


def test_test_metric_filter_is_not_available_in_moto(moto: ClientFor) -> None:
    result = aws_matcher(moto, CIS_4_5.filter_pattern, CIS_4_5)
    assert result.status is Status.NOT_AVAILABLE
    assert result.detail.startswith("not available in this emulator")


def test_alarm_history_is_not_available_in_moto(moto: ClientFor) -> None:
    topic_with_alarm(moto)
    result = alarm_history(moto, ALARM)
    assert result.status is Status.NOT_AVAILABLE


def test_a_drill_in_moto_sets_the_state_but_is_not_available(moto: ClientFor) -> None:
    _topic, alarm = topic_with_alarm(moto)
    settings = DrillSettings("moto-tier-1", timeout_seconds=1, interval_seconds=1, sleep=lambda _: None)
    result = fire_drill(moto, alarm, settings)
    assert result.status is Status.NOT_AVAILABLE
    after = moto("cloudwatch", None).describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    assert after["StateValue"] == "ALARM" and "moto-tier-1" in after["StateReason"]
    # Drilled again, the alarm is in ALARM now: it is not touched.
    again = fire_drill(moto, after, settings)
    assert again.status is Status.SKIPPED


# ---------------------------------------------------------------- what moto stores, judged by us


def test_key_policies_stored_in_moto_are_judged(moto: ClientFor) -> None:
    kms = moto("kms", None)
    good = kms.create_key(Policy=key_policy(ACCOUNT, REGION))["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/cis-sandbox-alarms", TargetKeyId=good)
    bare = kms.create_key()["KeyMetadata"]["Arn"]
    topic, alarm = topic_with_alarm(moto)
    passed = topic_key_policy(moto, topic, "alias/cis-sandbox-alarms", alarm["AlarmArn"])
    failed = topic_key_policy(moto, topic, bare, alarm["AlarmArn"])
    assert passed.status is Status.PASS, passed.detail
    assert failed.status is Status.FAIL, failed.detail


def test_a_disabled_or_deleted_key_in_moto_leaves_the_topic_and_the_queue_unable_to_receive(
    moto: ClientFor,
) -> None:
    """DescribeKey's KeyState as moto answers it (Disabled, PendingDeletion), for the topic's and the queue's key."""
    kms = moto("kms", None)
    created = kms.create_key(Policy=key_policy(ACCOUNT, REGION))["KeyMetadata"]
    topic_key = created["Arn"]
    topic, alarm = topic_with_alarm(moto)
    assert topic_key_policy(moto, topic, topic_key, alarm["AlarmArn"]).status is Status.PASS
    kms.disable_key(KeyId=created["KeyId"])  # moto takes the key id here, not the ARN
    disabled = topic_key_policy(moto, topic, topic_key, alarm["AlarmArn"])
    assert disabled.status is Status.FAIL
    assert f"topic {topic} cannot receive the alarm: its KMS key {topic_key} is Disabled" in disabled.detail
    queue_key_metadata = kms.create_key()["KeyMetadata"]
    queue_key = queue_key_metadata["Arn"]
    sqs = moto("sqs", None)
    url = sqs.create_queue(QueueName="security-alerts", Attributes={"KmsMasterKeyId": queue_key})["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    kms.schedule_key_deletion(KeyId=queue_key_metadata["KeyId"], PendingWindowInDays=7)
    deleted = queue_policy(moto, topic, queue)
    assert deleted.status is Status.FAIL
    assert (
        f"queue {queue} cannot receive the alarm: its KMS key {queue_key} is PendingDeletion"
        in deleted.detail
    )


def test_a_queue_without_a_policy_fails_in_moto_though_sns_confirms_the_subscription(moto: ClientFor) -> None:
    topic, _alarm = topic_with_alarm(moto)
    sqs = moto("sqs", None)
    url = sqs.create_queue(QueueName="security-alerts")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    moto("sns", None).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    assert queue_policy(moto, topic, queue).status is Status.FAIL
    grant = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
    }
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [grant]})}
    )
    assert queue_policy(moto, topic, queue).status is Status.PASS


def test_a_function_policy_stored_in_moto_is_judged(moto: ClientFor) -> None:
    topic, _alarm = topic_with_alarm(moto)
    role = moto("iam", None).create_role(RoleName="relay", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    lam = moto("lambda", None)
    function = lam.create_function(
        FunctionName="pager-relay",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    assert function_policy(moto, topic, function).status is Status.FAIL
    lam.add_permission(
        FunctionName=function,
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    result = function_policy(moto, topic, function)
    assert result.status is Status.PASS, result.detail


# ---------------------------------------------------------------- moto as a server (HTTP 500)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.mark.emulator
def test_over_http_moto_s_gaps_are_not_available_too(moto_server: Emulator) -> None:
    # One attempt: botocore would otherwise retry moto's HTTP 500 for about 20 s.
    config = Config(retries={"mode": "standard", "max_attempts": 1})

    def clients(service: str, region: str | None = None) -> Any:
        return boto3.client(
            service,
            region_name=region or REGION,
            endpoint_url=moto_server.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )

    matcher = aws_matcher(clients, CIS_4_5.filter_pattern, CIS_4_5)
    history = alarm_history(clients, ALARM)
    assert (matcher.status, history.status) == (Status.NOT_AVAILABLE, Status.NOT_AVAILABLE)
    assert matcher.evidence == {"notImplemented": "TestMetricFilter"}
