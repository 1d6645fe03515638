"""Moto tier: ``queuePolicy: managed`` writes the subscriber queue's policy in the queue's own account.

moto delivers SNS messages to SQS without evaluating the queue policy, so this tier proves
that the policy is written where it belongs; that SNS honours it is not available in this
emulator (the audit reads it back in real accounts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from components.config import load_config, targets
from local.emulator import Emulator, EmulatorSessions, organization_fixture
from local.emulator_adapter import EmulatorAdapter
from local.emulator_deploy import with_emulator_endpoint
from local.program_harness import run_program, stack_config

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


def test_managed_queue_policy_lands_on_the_queue(emulator: Emulator) -> None:
    config = with_emulator_endpoint(stack_config("local")[0], emulator.url)
    account = config["accounts"][0]
    account["regions"] = account["regions"][:1]
    region = account["regions"][0]["region"]
    queue_arn = f"arn:aws:sqs:{region}:{account['id']}:alerts"
    account["notifications"] = {
        "subscriptions": [{"protocol": "sqs", "endpoint": queue_arn, "queuePolicy": "managed"}]
    }
    organization_fixture(emulator.url, targets(load_config(config)))
    sqs = EmulatorSessions(emulator.url).for_account("sqs", account["id"], region, account.get("roleArn"))
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]

    run = run_program(config, stack="local", mocks=EmulatorAdapter(emulator.url))
    assert run.error is None, run.error

    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]
    statements = {s["Sid"]: s for s in json.loads(attributes["Policy"])["Statement"]}
    topic_arn = run.outputs["monitoring"][f"{account['id']}/{region}"]["topicArn"]
    assert statements["AllowTheAlarmTopicToSend"]["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_arn}}
    assert statements["AllowTheAlarmTopicToSend"]["Resource"] == queue_arn
