"""IAM policy documents for the alarm topic, its KMS key and a managed SQS subscriber.

The topic's and the key's let CloudWatch act only for alarms of the topic's own
account (and, for the topic, its own region), so no other account's alarm can publish
or use the key. The queue's lets only the alarm topic send.
"""

from __future__ import annotations

import json

from cis_monitoring.core.aws import arns, regions
from cis_monitoring.core.judge.resource_policies import (
    cloudwatch_key_statement,
    cloudwatch_topic_statement,
    queue_send_statement,
)

CLOUDWATCH = "cloudwatch.amazonaws.com"
SNS = "sns.amazonaws.com"
_DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}


def partition_of(region: str) -> str:
    return regions.partition_of(region) or "aws"


def topic_policy(topic_arn: str, account_id: str, region: str) -> str:
    partition = partition_of(region)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "cis-monitoring-alarm-topic",
            "Statement": [
                # The core's statement: the audit and the pack judge this policy with the same grant.
                cloudwatch_topic_statement(topic_arn, account_id, partition, region),
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["sns:Publish", "sns:Subscribe"],
                    "Resource": topic_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        },
        sort_keys=False,
    )


def key_policy(account_id: str, region: str) -> str:
    partition = partition_of(region)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "cis-monitoring-alarm-topic-key",
            "Statement": [
                {
                    # Without this the key is unmanageable: IAM policies of the account apply to it.
                    "Sid": "EnableIamPoliciesOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                # CloudWatch encrypts the alarm message for the encrypted topic (the audit checks this grant).
                cloudwatch_key_statement(account_id),
            ],
        }
    )


def queue_url(queue_arn: str) -> str:
    """The queue URL of an SQS queue ARN (what SetQueueAttributes takes)."""
    queue = arns.parse_sqs_queue_arn(queue_arn)
    if queue is None:
        raise ValueError(f"{queue_arn!r} is not an SQS queue ARN")
    suffix = _DNS_SUFFIX.get(queue.partition, "amazonaws.com")
    return f"https://sqs.{queue.region}.{suffix}/{queue.account}/{queue.resource}"


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    """The WHOLE policy of a subscriber queue: only this alarm topic may send, and only over TLS.

    SQS keeps one policy document per queue, so writing this one replaces any other
    statement the queue had (hence the explicit opt-in ``queuePolicy: managed``).
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "cis-monitoring-alarm-queue",
            "Statement": [
                queue_send_statement(queue_arn, topic_arn),
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )
