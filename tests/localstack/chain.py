"""The program's chain deployed into LocalStack, and bounded waits on what LocalStack does with it.

``deploy_chain`` builds what an organization has before this project deploys (the CloudTrail
log group, and an SQS queue as the on-call subscriber), then runs the real ``__main__.py``
through the emulator adapter (``local.emulator_deploy.deploy_stack``) pointed at LocalStack:
every resource the program registers (metric filter, customer-managed KMS key, encrypted topic,
topic policy, SQS subscription, alarm) is created in LocalStack from exactly the program's inputs.

Each chain lives in an account of its own (reached, as in an organization, by assuming a role in
it), so metric data, alarms and queues of one test never reach another in the shared LocalStack.
LocalStack has no CloudTrail in its free edition: the log group is created directly, and the
test writes the CloudTrail record into it as the trail would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from cis_monitoring.core.catalog import Control
from cis_monitoring.core.judge.resource_policies import queue_grant
from local.emulator import EmulatorSessions
from local.emulator_deploy import deploy_stack
from local.localstack import LocalStack

T = TypeVar("T")

REGION = "us-east-1"
LOG_GROUP = "org-trail/cloudtrail"
DEPLOYER_ROLE = "cis-monitoring-deployer"


@dataclass
class Chain:
    account_id: str
    region: str
    sessions: EmulatorSessions
    role_arn: str
    queue_url: str
    queue_arn: str
    outputs: dict[str, Any]
    """The stack outputs of the program's run (``chains.<account>/<region>/<log group>``...)."""

    def client(self, service: str) -> Any:
        return self.sessions.client(service, self.region, self.role_arn)

    @property
    def monitoring(self) -> dict[str, Any]:
        """This site's entry of the ``chains`` output (resultsSchemaVersion 2: one per monitored log group)."""
        [chain] = [
            c
            for c in self.outputs["chains"].values()
            if (c["accountId"], c["region"]) == (self.account_id, self.region)
        ]
        return chain

    def alarm_name(self, control: Control) -> str:
        return str(self.monitoring["controls"][control.control_id]["alarmName"])

    @property
    def topic_arn(self) -> str:
        return str(self.monitoring["topicArn"])

    def describe_alarm(self, control: Control) -> dict[str, Any]:
        (alarm,) = self.client("cloudwatch").describe_alarms(AlarmNames=[self.alarm_name(control)])[
            "MetricAlarms"
        ]
        return alarm


def deploy_chain(server: LocalStack, account_id: str, account_name: str) -> Chain:
    sessions = EmulatorSessions(server.url)
    role_arn = f"arn:aws:iam::{account_id}:role/{DEPLOYER_ROLE}"

    def client(service: str) -> Any:
        return sessions.client(service, REGION, role_arn)

    client("logs").create_log_group(logGroupName=LOG_GROUP)
    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName="on-call")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    config = {
        "namePrefix": "cis",
        "emulator": {"endpoint": server.url},
        "tags": {"Environment": "localstack-tier"},
        "notifications": {
            # "existing": the queue's grant to the topic is ours to write (below), as a user does.
            "subscriptions": [{"protocol": "sqs", "endpoint": queue_arn, "queuePolicy": "existing"}]
        },
        "accounts": [
            {
                "id": account_id,
                "name": account_name,
                "roleArn": role_arn,
                "regions": [{"region": REGION, "logGroup": LOG_GROUP}],
            }
        ],
    }
    deployment = deploy_stack(config, server.url)
    if deployment.error is not None:
        raise AssertionError(f"the program did not deploy into LocalStack: {deployment.error}")
    chain = Chain(account_id, REGION, sessions, role_arn, queue_url, queue_arn, deployment.outputs)
    # The grant the config's "existing" promises. LocalStack does not enforce queue policies (a
    # queue without it receives too), so this is what real AWS needs, not something proved here.
    grant = queue_grant(queue_arn, chain.topic_arn, account_id).statement_to_add
    policy = {"Version": "2012-10-17", "Statement": [grant]}
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    return chain


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """``probe()``'s first non-None answer, polled with short sleeps until ``timeout`` (then fail;
    the tier's conftest adds LocalStack's log to the report)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:.0f}s")
        time.sleep(0.2)


def write_record(chain: Chain, message: str, log_group: str = LOG_GROUP, stream: str = "trail") -> None:
    """One CloudTrail record into ``log_group``, as CloudTrail delivers it (one JSON event)."""
    logs = chain.client("logs")
    existing = logs.describe_log_streams(logGroupName=log_group, logStreamNamePrefix=stream)["logStreams"]
    if not any(s["logStreamName"] == stream for s in existing):
        logs.create_log_stream(logGroupName=log_group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=log_group,
        logStreamName=stream,
        logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
    )


def metric_sum(chain: Chain, control: Control) -> float:
    """The control's metric, summed over the last hour (0 when it has no datapoint)."""
    now = datetime.now(UTC)
    found = chain.client("cloudwatch").get_metric_statistics(
        Namespace=control.namespace,
        MetricName=control.metric_name,
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=control.alarm.period,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in found["Datapoints"]))


def receive_notifications(chain: Chain) -> list[dict[str, Any]] | None:
    """The SNS notifications waiting in the subscriber queue (deleted once read), or None."""
    sqs = chain.client("sqs")
    answer = sqs.receive_message(QueueUrl=chain.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    messages = answer.get("Messages") or []
    for message in messages:
        sqs.delete_message(QueueUrl=chain.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages] or None


def recreate_alarm(chain: Chain, control: Control) -> None:
    """Delete the deployed alarm and create it again, unchanged (same request, same tags).

    LocalStack evaluates an alarm when it is created, then every period x evaluation periods
    (300 s for the catalog's alarm); putting an existing alarm again does not re-evaluate it.
    Re-creating the program's own alarm after the datapoint exists makes it evaluate now.
    """
    cloudwatch = chain.client("cloudwatch")
    alarm = chain.describe_alarm(control)
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    request = {key: alarm[key] for key in _ALARM_REQUEST_KEYS if alarm.get(key) not in (None, [], "")}
    cloudwatch.delete_alarms(AlarmNames=[alarm["AlarmName"]])
    cloudwatch.put_metric_alarm(**request, **({"Tags": tags} if tags else {}))


_ALARM_REQUEST_KEYS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)
