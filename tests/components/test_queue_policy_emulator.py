"""Moto tier: the local stack deployed into the emulator's organization world.

``queuePolicy: managed`` writes the subscriber queue's policy in the queue's own account. moto
delivers SNS messages to SQS without evaluating the queue policy, so this tier proves that the
policy is written where it belongs; that SNS honours it is not available in this emulator (the
audit reads it back in real accounts). The same deploy shows the organization trail's log group
found by prefix through moto's DescribeLogGroups (its name carries a random suffix) and one
chain per monitored log group, none in the member accounts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.emulator import Emulator, EmulatorSessions
from local.emulator_adapter import EmulatorAdapter
from local.emulator_deploy import with_emulator_endpoint
from local.program_harness import run_program, stack_config
from local.worlds import build_world

pytestmark = pytest.mark.emulator

SANDBOX, SANDBOX_HOME = "444444444444", "eu-west-1"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


def test_local_stack_in_the_organization_world_with_a_managed_queue_policy(emulator: Emulator) -> None:
    emulator.reset()
    world = build_world("organization", emulator.url)
    config = with_emulator_endpoint(stack_config("local")[0], emulator.url)
    sandbox = next(a for a in config["accounts"] if a["id"] == SANDBOX)
    queue_arn = f"arn:aws:sqs:{SANDBOX_HOME}:{SANDBOX}:alerts"
    sandbox["notifications"] = {
        "subscriptions": [{"protocol": "sqs", "endpoint": queue_arn, "queuePolicy": "managed"}]
    }
    sqs = EmulatorSessions(emulator.url).for_account("sqs", SANDBOX, SANDBOX_HOME, sandbox.get("roleArn"))
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]

    run = run_program(config, stack="local", mocks=EmulatorAdapter(emulator.url))
    assert run.error is None, run.error

    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])["Attributes"]
    statements = {s["Sid"]: s for s in json.loads(attributes["Policy"])["Statement"]}
    [chain] = [c for c in run.outputs["chains"].values() if c["accountId"] == SANDBOX]
    topic_arn = chain["topicArn"]
    assert statements["AllowTheAlarmTopicToSend"]["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_arn}}
    assert statements["AllowTheAlarmTopicToSend"]["Resource"] == queue_arn

    # One chain per monitored log group: the organization trail's (found by prefix) and the sandbox's.
    trail = world.organization_trail
    assert trail is not None and trail.log_group is not None
    assert sorted(run.outputs["chains"]) == sorted(g.key for g in world.monitored_log_groups)
    assert trail.log_group.key in run.outputs["chains"]
    sessions = EmulatorSessions(emulator.url)
    for account in world.accounts:
        for region in world.regions:
            logs = sessions.for_account("logs", account.id, region, account.role_arn)
            groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
            filters = [
                f["logGroupName"]
                for g in groups
                for f in logs.describe_metric_filters(logGroupName=g)["metricFilters"]
            ]
            monitored = [
                g.name for g in world.monitored_log_groups if (g.account_id, g.region) == (account.id, region)
            ]
            assert filters == monitored, (account.id, region)
