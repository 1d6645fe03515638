"""Whether an alarm's SNS topic can be published to, and whether it reaches a subscriber.

CloudWatch cannot publish to a topic encrypted with the AWS-managed key ``alias/aws/sns``
(its key policy cannot admit CloudWatch), nor to one whose access policy shuts it out.
A topic reaches someone only through a subscription with an allowed protocol that is
confirmed, and whose filter policy lets CloudWatch's notification through (judged against the
message CloudWatch sends, ``alarm_message``, by ``filter_policy``: a subscription that filters
the alarm out is confirmed and receives nothing). Where confirmation cannot be known (the pack,
a preview) it is not held against the subscription.
"""

from __future__ import annotations

from collections.abc import Sequence

from cis_monitoring.core.aws.arns import parse_arn
from cis_monitoring.core.catalog import AWS_MANAGED_SNS_KEY, is_aws_managed_sns_key
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.problems import Code, Link, Problem
from cis_monitoring.core.unknown import is_unknown

from .alarm_message import alarm_message
from .facts import AlarmFacts, SubscriptionFacts, TopicFacts
from .filter_policy import MATCH, MESSAGE_BODY, Outcome, Verdict, judge_message, parse_policy
from .topic_policy import topic_policy_problem

READS = {
    # The policy is judged for CloudWatch's request for the alarm: its ARN and account come from DescribeAlarms.
    Link.TOPIC: (
        AwsRead("sns", "GetTopicAttributes", ("Policy", "KmsMasterKeyId")),
        AwsRead("cloudwatch", "DescribeAlarms", ("AlarmArn",)),
    ),
    Link.SUBSCRIPTION: (
        AwsRead("sns", "ListSubscriptionsByTopic", ("SubscriptionArn", "Protocol", "Endpoint")),
        # Per confirmed subscription: its filter policy decides whether the alarm reaches it.
        AwsRead(
            "sns",
            "GetSubscriptionAttributes",
            ("FilterPolicy", "FilterPolicyScope", "PendingConfirmation", "ConfirmationWasAuthenticated"),
        ),
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


RECEIVES = (Outcome.MATCH, Outcome.PENDING)
"""Filter-policy outcomes under which a subscription counts (PENDING: a preview value, never a problem)."""
TEXT_RENDERED_PROTOCOLS = ("email",)
"""Protocols to which CloudWatch sends a text rendering of the alarm, not the JSON message (an email
subscriber reads prose): how SNS applies a MessageBody filter policy to it is not documented."""


def filter_verdict(subscription: SubscriptionFacts, alarm: AlarmFacts | None) -> Verdict:
    """Whether ``subscription``'s filter policy lets ``alarm``'s ALARM notification through.

    CloudWatch publishes no message attributes (``alarm_message``), so a MessageAttributes policy
    (the default scope) drops every alarm; a MessageBody policy is judged against the JSON.
    """
    scope = subscription.filter_policy_scope
    if scope == MESSAGE_BODY and subscription.protocol in TEXT_RENDERED_PROTOCOLS:
        parsed = parse_policy(subscription.filter_policy)
        if parsed is None:
            return MATCH
        if isinstance(parsed, Verdict):
            return parsed
        return Verdict(
            Outcome.CANNOT,
            f"it filters the message body, and CloudWatch sends {subscription.protocol} subscribers a text"
            " rendering of the alarm whose filtering SNS does not document",
        )
    if alarm is None and scope == MESSAGE_BODY and parse_policy(subscription.filter_policy) is not None:
        return Verdict(Outcome.CANNOT, "no alarm to build the message from")
    body = alarm_message(alarm) if alarm is not None else {}
    return judge_message(subscription.filter_policy, scope, attributes={}, body=body)


def usable_subscriptions(
    subscriptions: Sequence[SubscriptionFacts], alarm: AlarmFacts | None = None
) -> list[SubscriptionFacts]:
    """Subscriptions that deliver: an allowed protocol, not known to be unconfirmed, and not filtering
    ``alarm``'s notification out."""
    return [
        s
        for s in subscriptions
        if protocol_problem(s) is None
        and s.confirmed is not False
        and filter_verdict(s, alarm).outcome in RECEIVES
    ]


def filter_policy_problem(subscription: SubscriptionFacts, alarm: AlarmFacts | None) -> Problem | None:
    """Why ``subscription`` receives no alarm because of its filter policy, or None."""
    verdict = filter_verdict(subscription, alarm)
    if verdict.outcome in RECEIVES:
        return None
    fix = (
        "remove its filter policy (CloudWatch sets no message attributes, and the alarm's JSON is in the"
        " message body), or give it one with FilterPolicyScope MessageBody that matches the alarm"
    )
    if verdict.outcome == Outcome.NO_MATCH:
        code, what = Code.SUBSCRIPTION_FILTER_POLICY_DROPS, "its filter policy drops the alarm notification"
    else:
        code, what = Code.SUBSCRIPTION_FILTER_POLICY_UNJUDGED, "its filter policy cannot be judged"
    return Problem(
        code,
        Link.SUBSCRIPTION,
        f"{what}: {verdict.why}; {fix}",
        f"subscription {subscription.name!r} is confirmed but receives nothing",
        subscription.ref,
    )


def subscription_problems(
    topic: TopicFacts, subscriptions: Sequence[SubscriptionFacts], alarm: AlarmFacts | None = None
) -> list[Problem]:
    """Why ``topic`` reaches nobody (empty: a subscription delivers, or may once confirmed)."""
    if usable_subscriptions(subscriptions, alarm):
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
    filtered = [p for p in (filter_policy_problem(s, alarm) for s in allowed) if p is not None]
    receiving = len(allowed) - len(filtered)
    if not receiving:
        return filtered
    return [
        *filtered,
        Problem(
            Code.SUBSCRIPTION_NONE_CONFIRMED,
            Link.SUBSCRIPTION,
            f"it has no confirmed subscription ({receiving} pending confirmation); the endpoint's owner must "
            "confirm it (email: the link in AWS's message; AWS deletes unconfirmed subscriptions after 48 hours)",
            lead,
            topic.ref,
        ),
    ]
