"""IAM policy documents for the alarm topic and its KMS key.

Both let CloudWatch act only for alarms of the topic's own account (and, for the
topic, its own region), so no other account's alarm can publish or use the key.
"""

from __future__ import annotations

import json

CLOUDWATCH = "cloudwatch.amazonaws.com"


def alarm_source_arn(partition: str, region: str, account_id: str) -> str:
    return f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def topic_policy(topic_arn: str, account_id: str, region: str) -> str:
    partition = partition_of(region)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "cis-monitoring-alarm-topic",
            "Statement": [
                {
                    "Sid": "AllowCloudWatchAlarmsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDWATCH},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {"aws:SourceArn": alarm_source_arn(partition, region, account_id)},
                    },
                },
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
                {
                    # CloudWatch encrypts the alarm message for the encrypted topic.
                    "Sid": "AllowCloudWatchAlarmsOfThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDWATCH},
                    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        }
    )
