"""AlarmNotification: the SNS topic that alarms of one account and region notify.

By default it creates a customer-managed KMS key that CloudWatch may use (alarms
cannot publish to a topic under the AWS-managed ``alias/aws/sns`` key), the topic
encrypted with it, a topic policy that admits only this account's alarms over TLS,
and the configured subscriptions. With an existing topic ARN it creates no topic,
only the subscriptions listed, if any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .config import Subscription
from .policies import key_policy, topic_policy

TYPE = "cis-monitoring:aws:AlarmNotification"


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


class AlarmNotification(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str | None]
    subscription_arns: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: AlarmNotificationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

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
                    policy=key_policy(args.account_id, args.region),
                    tags=dict(args.tags),
                    opts=child,
                )
                aws.kms.Alias(f"{name}-key-alias", name=args.key_alias, target_key_id=key.key_id, opts=child)
                key_arn = key.arn
            else:
                key_arn = args.kms_key_id
            topic = aws.sns.Topic(
                f"{name}-topic",
                name=args.topic_name,
                kms_master_key_id=key_arn,
                tags=dict(args.tags),
                opts=child,
            )
            aws.sns.TopicPolicy(
                f"{name}-topic-policy",
                arn=topic.arn,
                policy=topic.arn.apply(lambda arn: topic_policy(arn, args.account_id, args.region)),
                opts=child,
            )
            topic_arn = topic.arn

        subscription_arns = [
            self._subscribe(f"{name}-sub-{index}", topic_arn, subscription, args, child)
            for index, subscription in enumerate(args.subscriptions)
        ]

        self.topic_arn = pulumi.Output.from_input(topic_arn)
        self.kms_key_arn = pulumi.Output.from_input(key_arn)
        self.subscription_arns = pulumi.Output.all(*subscription_arns)
        self.register_outputs(
            {
                "topicArn": self.topic_arn,
                "kmsKeyArn": self.kms_key_arn,
                "subscriptionArns": self.subscription_arns,
            }
        )

    @staticmethod
    def _subscribe(
        name: str,
        topic_arn: pulumi.Input[str],
        subscription: Subscription,
        args: AlarmNotificationArgs,
        child: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        endpoint: pulumi.Input[str] = (
            pulumi.Output.secret(subscription.endpoint) if subscription.secret else subscription.endpoint
        )
        created = aws.sns.TopicSubscription(
            name, topic=topic_arn, protocol=subscription.protocol, endpoint=endpoint, opts=child
        )
        if subscription.protocol == "lambda" and _same_account_and_region(subscription.endpoint, args):
            # SNS may invoke the function only if the function's policy says so.
            aws.lambda_.Permission(
                f"{name}-invoke",
                action="lambda:InvokeFunction",
                function=subscription.endpoint,
                principal="sns.amazonaws.com",
                source_arn=topic_arn,
                opts=child,
            )
        return created.arn


def _same_account_and_region(function_arn: str, args: AlarmNotificationArgs) -> bool:
    parts = function_arn.split(":")
    return len(parts) > 4 and parts[3] == args.region and parts[4] == args.account_id
