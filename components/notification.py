"""AlarmNotification: the SNS topic that alarms of one account and region notify.

By default it creates a customer-managed KMS key that CloudWatch may use (alarms
cannot publish to a topic under the AWS-managed ``alias/aws/sns`` key), the topic
encrypted with it, a topic policy that admits only this account's alarms over TLS,
and the configured subscriptions. With an existing topic ARN it creates no topic,
only the subscriptions listed, if any.

Per subscriber protocol:
- ``https``: ``endpoint_auto_confirms`` from ``autoConfirms`` (pagers confirm themselves);
- ``sqs`` with ``queuePolicy: managed``: an ``aws.sqs.QueuePolicy`` that lets only this
  topic send. It REPLACES the queue's whole policy. With ``existing``, nothing: the
  queue's own policy must grant it (the audit checks);
- ``lambda``: the function's permission for SNS to invoke it.

A queue or a function may be in another Region of the same account (SNS confirms it at once,
``cis_monitoring.spec.notifications.location_problem``). The provider is per (account, Region),
so the queue policy and the function permission, which live with the queue and the function,
name their Region (pulumi-aws's per-resource ``region`` argument) rather than the chain's.

``subscriptions`` (an output) tells, per subscriber, whether it still waits for a
confirmation: email and https stay pending until confirmed, and AWS deletes an
unconfirmed subscription after 48 hours.

Real-time rules (``realTime``) publish to the same topic: with ``event_rule_arns`` the topic policy
also admits ``events.amazonaws.com`` for exactly those rule ARNs and the key lets EventBridge encrypt.
The central bus of ``realTime.centralBus`` is part of its site's notification path: the bus and its
organization-scoped policy are created here, at that site.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pulumi
import pulumi_aws as aws

from cis_monitoring.core.aws import arns
from cis_monitoring.program import naming
from cis_monitoring.program.aliases import child_options, own_options
from cis_monitoring.program.policies import (
    central_bus_policy,
    key_policy,
    queue_policy,
    queue_url,
    topic_policy,
)
from cis_monitoring.spec import Subscription
from cis_monitoring.spec.realtime import CentralBus

TYPE = "cis-monitoring:aws:AlarmNotification"
# The children's type tokens, for their aliases' URNs (cis_monitoring/program/aliases.py).
KEY_TYPE = "aws:kms/key:Key"
KEY_ALIAS_TYPE = "aws:kms/alias:Alias"
TOPIC_TYPE = "aws:sns/topic:Topic"
TOPIC_POLICY_TYPE = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION_TYPE = "aws:sns/topicSubscription:TopicSubscription"
QUEUE_POLICY_TYPE = "aws:sqs/queuePolicy:QueuePolicy"
PERMISSION_TYPE = "aws:lambda/permission:Permission"
EVENT_BUS_TYPE = "aws:cloudwatch/eventBus:EventBus"
EVENT_BUS_POLICY_TYPE = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"


@dataclass(frozen=True)
class AlarmNotificationArgs:
    account_id: str
    region: str
    topic_name: str
    key_alias: str
    subscriptions: Sequence[Subscription] = ()
    existing_topic_arn: str | None = None
    """Reuse this topic; create none."""
    kms_key_id: str | None = None
    """Encrypt a new topic with this existing customer-managed key instead of creating one."""
    tags: Mapping[str, str] = field(default_factory=dict)
    event_rule_arns: Sequence[str] = ()
    """The real-time rules that publish to the topic (the topic policy admits EventBridge for exactly these)."""
    central_bus: CentralBus | None = None
    """Create the organization's central real-time bus at this site."""


class AlarmNotification(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str | None]
    subscription_arns: pulumi.Output[list[str]]
    subscriptions: pulumi.Output[list[dict[str, Any]]]
    """Per subscriber: protocol, endpoint (masked if secret), pendingConfirmation, confirmationRequired."""

    def __init__(
        self,
        name: str,
        args: AlarmNotificationArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        legacy_name: str | None = None,
    ) -> None:
        """``legacy_name``: this component's logical name in releases that built it from the account name."""
        super().__init__(TYPE, name, None, own_options(opts, TYPE, legacy_name))
        self._logical, self._legacy_name = name, legacy_name

        key_arn: pulumi.Input[str] | None = None
        if args.existing_topic_arn is not None:
            topic_arn: pulumi.Input[str] = args.existing_topic_arn
        else:
            if args.kms_key_id is None:
                key = aws.kms.Key(
                    f"{name}-key",
                    description=f"Encrypts the CIS alarm topic {args.topic_name}; CloudWatch alarms may use it",
                    enable_key_rotation=True,
                    deletion_window_in_days=30,
                    policy=key_policy(args.account_id, args.region, events=bool(args.event_rule_arns)),
                    tags=dict(args.tags),
                    opts=self._child(KEY_TYPE, "-key"),
                )
                aws.kms.Alias(
                    f"{name}-key-alias",
                    name=args.key_alias,
                    target_key_id=key.key_id,
                    opts=self._child(KEY_ALIAS_TYPE, "-key-alias"),
                )
                key_arn = key.arn
            else:
                key_arn = args.kms_key_id
            topic = aws.sns.Topic(
                f"{name}-topic",
                name=args.topic_name,
                kms_master_key_id=key_arn,
                tags=dict(args.tags),
                opts=self._child(TOPIC_TYPE, "-topic"),
            )
            aws.sns.TopicPolicy(
                f"{name}-topic-policy",
                arn=topic.arn,
                policy=topic.arn.apply(
                    lambda arn: topic_policy(arn, args.account_id, args.region, args.event_rule_arns)
                ),
                opts=self._child(TOPIC_POLICY_TYPE, "-topic-policy"),
            )
            topic_arn = topic.arn

        subscribed = [
            self._subscribe(index, topic_arn, subscription, args)
            for index, subscription in _distinct(args.subscriptions)
        ]
        self.event_bus_arn: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if args.central_bus is not None:
            bus = aws.cloudwatch.EventBus(
                f"{name}-central-bus",
                name=args.central_bus.bus_name,
                tags=dict(args.tags),
                opts=self._child(EVENT_BUS_TYPE, None),  # new: no earlier name
            )
            organization = args.central_bus.organization_id
            aws.cloudwatch.EventBusPolicy(
                f"{name}-central-bus-policy",
                event_bus_name=bus.name,
                policy=bus.arn.apply(lambda arn: central_bus_policy(arn, organization)),
                opts=self._child(EVENT_BUS_POLICY_TYPE, None),
            )
            self.event_bus_arn = bus.arn

        self.topic_arn = pulumi.Output.from_input(topic_arn)
        self.kms_key_arn = pulumi.Output.from_input(key_arn)
        self.subscription_arns = pulumi.Output.all(*(s.arn for s, _ in subscribed))
        self.subscriptions = pulumi.Output.all(*(status for _, status in subscribed))
        self.register_outputs(
            {
                "topicArn": self.topic_arn,
                "kmsKeyArn": self.kms_key_arn,
                "subscriptionArns": self.subscription_arns,
                "subscriptions": self.subscriptions,
            }
        )

    def _child(self, type_: str, legacy_suffix: str | None, **options: Any) -> pulumi.ResourceOptions:
        """A child, aliased to ``<legacy name><legacy_suffix>`` if it existed in earlier releases."""
        legacy = self._legacy_name
        legacy_child = f"{legacy}{legacy_suffix}" if legacy and legacy_suffix else None
        return child_options(self, TYPE, type_, legacy, legacy_child, **options)

    def _subscribe(
        self,
        index: int,
        topic_arn: pulumi.Input[str],
        subscription: Subscription,
        args: AlarmNotificationArgs,
    ) -> tuple[aws.sns.TopicSubscription, pulumi.Output[dict[str, Any]]]:
        suffix = f"-sub-{naming.subscription_key(subscription)}"
        legacy_suffix = f"-sub-{index}"  # earlier releases named subscriptions by their place in the list
        endpoint: pulumi.Input[str] = (
            pulumi.Output.secret(subscription.endpoint) if subscription.secret else subscription.endpoint
        )
        waits_for: list[pulumi.Resource] = []
        if subscription.protocol == "sqs" and subscription.queue_policy == "managed":
            # Before the subscription, so that the first message already finds the grant.
            waits_for.append(
                aws.sqs.QueuePolicy(
                    f"{self._logical}{suffix}-queue-policy",
                    queue_url=queue_url(subscription.endpoint),
                    policy=pulumi.Output.from_input(topic_arn).apply(
                        lambda arn: queue_policy(subscription.endpoint, arn)
                    ),
                    # SetQueueAttributes goes to the queue's own Region (its URL names it).
                    region=_elsewhere(subscription.endpoint, args),
                    opts=self._child(QUEUE_POLICY_TYPE, None),  # new: no earlier name
                )
            )
        created = aws.sns.TopicSubscription(
            f"{self._logical}{suffix}",
            topic=topic_arn,
            protocol=subscription.protocol,
            endpoint=endpoint,
            endpoint_auto_confirms=subscription.auto_confirms if subscription.protocol == "https" else None,
            opts=self._child(SUBSCRIPTION_TYPE, legacy_suffix, depends_on=waits_for),
        )
        if subscription.protocol == "lambda" and _same_account(subscription.endpoint, args):
            # SNS may invoke the function only if the function's policy says so.
            aws.lambda_.Permission(
                f"{self._logical}{suffix}-invoke",
                action="lambda:InvokeFunction",
                function=subscription.endpoint,
                principal="sns.amazonaws.com",
                source_arn=topic_arn,
                region=_elsewhere(subscription.endpoint, args),  # AddPermission in the function's Region
                opts=self._child(PERMISSION_TYPE, f"{legacy_suffix}-invoke"),
            )
        status = created.pending_confirmation.apply(
            lambda pending: {
                "protocol": subscription.protocol,
                "endpoint": masked_endpoint(subscription),
                # As of the last `pulumi up` or `pulumi refresh`: a later confirmation shows after a refresh.
                "pendingConfirmation": pending,
                "confirmationRequired": confirmation_required(subscription),
            }
        )
        return created, status


def confirmation_required(subscription: Subscription) -> bool:
    """True when someone (not this program, not SNS) must confirm before anything is delivered."""
    if subscription.protocol == "email":
        return True
    if subscription.protocol == "https":
        return not subscription.auto_confirms
    return False  # sqs and lambda in the topic's own account confirm at once


def masked_endpoint(subscription: Subscription) -> str:
    """The endpoint as the stack outputs may show it: a secret one keeps only scheme and host."""
    if not subscription.secret:
        return subscription.endpoint
    url = urlparse(subscription.endpoint)
    if url.scheme and url.netloc:
        return f"{url.scheme}://{url.hostname}/<secret>"
    return "<secret>"


def _distinct(subscriptions: Sequence[Subscription]) -> list[tuple[int, Subscription]]:
    """Each (protocol, endpoint) once, with its place in the list: SNS holds one such subscription."""
    seen: set[str] = set()
    result = []
    for index, subscription in enumerate(subscriptions):
        key = naming.subscription_key(subscription)
        if key not in seen:
            seen.add(key)
            result.append((index, subscription))
    return result


def _same_account(function_arn: str, args: AlarmNotificationArgs) -> bool:
    function = arns.parse_lambda_function_arn(function_arn)
    return function is not None and function.account == args.account_id


def _elsewhere(endpoint_arn: str, args: AlarmNotificationArgs) -> str | None:
    """The endpoint's Region when it is not the chain's (None: the provider's own Region applies)."""
    endpoint = arns.parse_arn(endpoint_arn)
    return endpoint.region if endpoint is not None and endpoint.region not in ("", args.region) else None
