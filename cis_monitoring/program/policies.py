"""IAM policy documents for the alarm topic, its KMS key, a managed SQS subscriber, and the real-time path.

The topic's and the key's let CloudWatch act only for alarms of the topic's own
account (and, for the topic, its own region), so no other account's alarm can publish
or use the key. The queue's lets only the alarm topic send. With real-time rules, the topic
also admits EventBridge for exactly those rules' ARNs, and the key lets EventBridge encrypt
(``resource_policies.events_topic_statement``, ``events_key_statement``); a forwarding rule's
role may only put events on the one delivery bus; the central bus takes events only from the
organization.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cis_monitoring.core.aws import arns, regions
from cis_monitoring.core.judge.resource_policies import (
    EVENTS,
    cloudwatch_key_statement,
    cloudwatch_topic_statement,
    events_key_statement,
    events_topic_statement,
    queue_send_statement,
)

CLOUDWATCH = "cloudwatch.amazonaws.com"
SNS = "sns.amazonaws.com"
_DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}


def partition_of(region: str) -> str:
    return regions.partition_of(region) or "aws"


def topic_policy(topic_arn: str, account_id: str, region: str, event_rule_arns: Sequence[str] = ()) -> str:
    """``event_rule_arns``: the real-time rules that may publish (none: EventBridge is not admitted)."""
    partition = partition_of(region)
    events = [events_topic_statement(topic_arn, list(event_rule_arns))] if event_rule_arns else []
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "cis-monitoring-alarm-topic",
            "Statement": [
                # The core's statement: the audit and the pack judge this policy with the same grant.
                cloudwatch_topic_statement(topic_arn, account_id, partition, region),
                *events,
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


def key_policy(account_id: str, region: str, events: bool = False) -> str:
    """``events``: EventBridge publishes to the key's topic too (real-time rules)."""
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
                *([events_key_statement()] if events else []),
            ],
        }
    )


def forward_role_trust() -> str:
    """Who may assume a forwarding rule's role: EventBridge.

    Without a source condition: no AWS source found states which of aws:SourceArn/aws:SourceAccount
    EventBridge sends when it assumes a target's role, and one it does not send would stop the
    forwarding silently. A rule can name the role only if its creator may iam:PassRole it, which no
    identity of another account can for a role of this account.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": EVENTS}, "Action": "sts:AssumeRole"}],
        }
    )


def forward_role_policy(bus_arn: str) -> str:
    """A forwarding role may put events on exactly one bus: the delivery point's."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ForwardToTheDeliveryBus",
                    "Effect": "Allow",
                    "Action": "events:PutEvents",
                    "Resource": bus_arn,
                }
            ],
        }
    )


def central_bus_policy(bus_arn: str, organization_id: str) -> str:
    """The central bus takes events from principals of the organization only (``aws:PrincipalOrgID``).

    EventBridge User Guide, "Permissions for Amazon EventBridge event buses": a bus policy grants
    ``events:PutEvents`` to an organization with ``aws:PrincipalOrgID``; a member's rule forwards with a
    role of its account ("the sender account also must have an IAM role", "Sending and receiving events
    between AWS accounts"), which is such a principal.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowTheOrganizationsRealTimeRules",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "events:PutEvents",
                    "Resource": bus_arn,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
                }
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
