"""Whether an alarm's SNS topic can be published to, and whether it reaches a subscriber.

CloudWatch cannot publish to a topic encrypted with the AWS-managed key ``alias/aws/sns``
(its key policy cannot admit CloudWatch), nor to one whose access policy shuts it out.
A topic reaches someone only through a subscription with an allowed protocol that is
confirmed; where confirmation cannot be known (the pack, a preview) it is not held
against the subscription.
"""

from __future__ import annotations

from collections.abc import Sequence

from cis_monitoring.core.aws.arns import parse_arn
from cis_monitoring.core.catalog import AWS_MANAGED_SNS_KEY, is_aws_managed_sns_key
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.problems import Code, Link, Problem
from cis_monitoring.core.unknown import is_unknown

from .facts import AlarmFacts, SubscriptionFacts, TopicFacts
from .topic_policy import topic_policy_problem

READS = {
    # The policy is judged for CloudWatch's request for the alarm: its ARN and account come from DescribeAlarms.
    Link.TOPIC: (
        AwsRead("sns", "GetTopicAttributes", ("Policy", "KmsMasterKeyId")),
        AwsRead("cloudwatch", "DescribeAlarms", ("AlarmArn",)),
    ),
    Link.SUBSCRIPTION: (
        AwsRead("sns", "ListSubscriptionsByTopic", ("SubscriptionArn", "Protocol", "Endpoint")),
    ),
}
"""The calls the notification path's links rest on (every detector kind's alarm notifies a topic)."""

ALLOWED_PROTOCOLS = ("email", "email-json", "https", "sqs", "lambda")
"""Protocols that deliver an alarm to a person or a system that acts on it (the one list: the stack
config offers these but email-json, see ``cis_monitoring.spec.notifications.SUBSCRIPTION_PROTOCOLS``)."""


def topic_lead(topic: TopicFacts, alarm: AlarmFacts | None, outcome: str) -> str:
    """``topic 'x' that alarm 'y' notifies <outcome>`` (an ARN is shown as it is, unquoted)."""
    name = topic.name if topic.name.startswith("arn:") else repr(topic.name)
    notified = f" that alarm {alarm.name!r} notifies" if alarm is not None else ""
    return f"topic {name}{notified} {outcome}"


CANNOT_RECEIVE = "cannot receive the alarm"
REACHES_NOBODY = "reaches nobody"


def topic_problems(topic: TopicFacts, alarm: AlarmFacts | None = None) -> list[Problem]:
    """Why CloudWatch could not publish ``alarm`` to ``topic`` (its key, its access policy).

    Without an alarm only the key is judged: the access policy decides a request made for one alarm.
    """
    lead = topic_lead(topic, alarm, CANNOT_RECEIVE)
    if is_aws_managed_sns_key(topic.kms_master_key_id):
        return [
            Problem(
                Code.TOPIC_AWS_MANAGED_KEY,
                Link.TOPIC,
                f"it is encrypted with {AWS_MANAGED_SNS_KEY}, which CloudWatch alarms cannot publish to. Use a "
                "customer-managed KMS key that allows cloudwatch.amazonaws.com kms:GenerateDataKey* and kms:Decrypt",
                lead,
                topic.ref,
            )
        ]
    if alarm is None or is_unknown(topic.policy) or is_unknown(alarm.arn) or not isinstance(topic.arn, str):
        return []  # not judged: a value not known until the update runs (the pack's preview)
    source = parse_arn(alarm.arn)
    alarm_arn = str(alarm.arn) if source is not None else None
    alarm_account = source.account if source is not None and source.account else None
    problem = topic_policy_problem(topic.policy, topic.arn, alarm_arn, alarm_account, lead, topic.ref)
    return [problem] if problem is not None else []


def missing_topic_problem(alarm: AlarmFacts, arn: str, why: str) -> Problem:
    return Problem(
        Code.TOPIC_NOT_FOUND, Link.TOPIC, f"alarm {alarm.name!r} notifies {arn}, which {why}", ref=alarm.ref
    )


def protocol_problem(subscription: SubscriptionFacts) -> Problem | None:
    protocol = subscription.protocol
    if is_unknown(protocol) or protocol in ALLOWED_PROTOCOLS:
        return None
    return Problem(
        Code.SUBSCRIPTION_PROTOCOL_NOT_ALLOWED,
        Link.SUBSCRIPTION,
        f"protocol {protocol!r} is not allowed for alarm notifications; use one of {', '.join(ALLOWED_PROTOCOLS)}",
        f"subscription {subscription.name!r} cannot deliver the alarm",
        subscription.ref,
    )


def usable_subscriptions(subscriptions: Sequence[SubscriptionFacts]) -> list[SubscriptionFacts]:
    """Subscriptions that deliver: an allowed protocol, and not known to be unconfirmed."""
    return [s for s in subscriptions if protocol_problem(s) is None and s.confirmed is not False]


def subscription_problems(
    topic: TopicFacts, subscriptions: Sequence[SubscriptionFacts], alarm: AlarmFacts | None = None
) -> list[Problem]:
    """Why ``topic`` reaches nobody (empty: a subscription delivers, or may once confirmed)."""
    if usable_subscriptions(subscriptions):
        return []
    lead = topic_lead(topic, alarm, REACHES_NOBODY)
    add = f"Add a TopicSubscription ({', '.join(ALLOWED_PROTOCOLS)})"
    if not subscriptions:
        return [
            Problem(
                Code.SUBSCRIPTION_NONE,
                Link.SUBSCRIPTION,
                f"it has no subscription with an allowed protocol (it has no subscription at all). {add}",
                lead,
                topic.ref,
            )
        ]
    allowed = [s for s in subscriptions if protocol_problem(s) is None]
    if not allowed:
        protocols = ", ".join(sorted({str(s.protocol) for s in subscriptions}))
        return [
            Problem(
                Code.SUBSCRIPTION_PROTOCOL_NOT_ALLOWED,
                Link.SUBSCRIPTION,
                f"it has no subscription with an allowed protocol (only {protocols}). {add}",
                lead,
                topic.ref,
            )
        ]
    return [
        Problem(
            Code.SUBSCRIPTION_NONE_CONFIRMED,
            Link.SUBSCRIPTION,
            f"it has no confirmed subscription ({len(allowed)} pending confirmation); the endpoint's owner must "
            "confirm it (email: the link in AWS's message; AWS deletes unconfirmed subscriptions after 48 hours)",
            lead,
            topic.ref,
        )
    ]
