"""Who hears an alarm: the ``notifications`` and ``subscriptions[]`` models, and the rules of endpoints.

An endpoint must be well-formed for its protocol, come with the keys its protocol needs,
and be in the chain's own account and Region where SNS requires it. See README
"Subscribers": an SQS queue receives nothing unless its policy lets the topic send; a
cross-account SQS or Lambda subscription stays pending, and the deploy fails. Which
settings apply at a chain (stack-wide, then the account's, then the organization
trail's) is resolve.py's job; the per-site checks are in checks.py.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from pydantic import Field, field_validator

from cis_monitoring.core.aws import arns
from cis_monitoring.core.catalog import is_aws_managed_sns_key
from cis_monitoring.core.judge.notification import ALLOWED_PROTOCOLS

from . import fields
from .fields import Model

EMAIL_JSON = "email-json"
# The protocols a subscription in the config may use: the core's ALLOWED_PROTOCOLS (the one
# list of protocols that deliver an alarm to someone; the pack and the audit accept an existing
# subscription with any of them) except email-json. email-json does deliver, so a topic that
# already has such a subscriber passes, but it mails the raw JSON envelope of the SNS message:
# it is made for a program that reads a mailbox, and `email` sends the same alarm to the same
# mailbox in a form a person reads. The program would also have to treat its confirmation like
# email's (components/notification.py). So the config offers the four a user needs.
SUBSCRIPTION_PROTOCOLS = tuple(p for p in ALLOWED_PROTOCOLS if p != EMAIL_JSON)
QUEUE_POLICY_MODES = ("managed", "existing")


class SubscriptionConfig(Model):
    """One subscriber of the alarm topic."""

    protocol: str
    endpoint: str | None = None
    endpoint_secret_key: str | None = Field(
        default=None, description="Name of a secret config key of this project that holds the endpoint."
    )
    queue_policy: str | None = Field(
        default=None,
        description="sqs only, required: 'managed' (this program writes the queue's whole policy)"
        " or 'existing' (the queue's policy already lets the topic send).",
    )
    auto_confirms: bool | None = Field(
        default=None, description="https only: the endpoint confirms the subscription by itself."
    )

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: str) -> str:
        if value not in SUBSCRIPTION_PROTOCOLS:
            raise ValueError(
                f"protocol {value!r} is not allowed; use one of {', '.join(SUBSCRIPTION_PROTOCOLS)}"
                " (http and sms would carry alerts unencrypted or unauthenticated)"
            )
        return value

    @field_validator("queue_policy")
    @classmethod
    def _queue_policy(cls, value: str | None) -> str | None:
        if value is not None and value not in QUEUE_POLICY_MODES:
            raise ValueError(
                f"{value!r} is not a queuePolicy; use 'managed' (this program writes the queue's whole"
                " policy) or 'existing' (the queue's policy already lets the alarm topic send)"
            )
        return value

    @field_validator("endpoint_secret_key")
    @classmethod
    def _secret_key(cls, value: str | None) -> str | None:
        return None if value is None else fields.config_key_name(value)


class NotificationConfig(Model):
    """Where alarms notify. Every field may be overridden per account."""

    topic_arn: str | None = None
    kms_key_id: str | None = None
    subscriptions: tuple[SubscriptionConfig, ...] | None = Field(
        default=None, examples=[[{"protocol": "email", "endpoint": "soc@example.com"}]]
    )
    notify_on_ok: bool | None = None
    ok_actions: tuple[str, ...] | None = Field(
        default=None, examples=[["arn:aws:sns:{region}:{accountId}:ops"]]
    )
    insufficient_data_actions: tuple[str, ...] | None = Field(
        default=None, examples=[["arn:aws:sns:{region}:{accountId}:ops"]]
    )

    @field_validator("topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and arns.parse_sns_topic_arn(value, placeholders=True) is None:
            raise ValueError(
                f"{value!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>;"
                " {region} and {accountId} placeholders are allowed)"
            )
        return value

    @field_validator("kms_key_id")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and is_aws_managed_sns_key(value):
            raise ValueError(
                "alias/aws/sns cannot be used: CloudWatch alarms cannot publish to a topic encrypted with"
                " the AWS-managed SNS key; omit kmsKeyId to get a customer-managed key"
            )
        return value

    @field_validator("ok_actions", "insufficient_data_actions")
    @classmethod
    def _actions(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for arn in value or ():
            if arns.parse_sns_topic_arn(arn, placeholders=True) is None:
                raise ValueError(f"{arn!r} is not an SNS topic ARN")
        return value


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

QUEUE_GRANT = (
    '{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",'
    ' "Resource": "<queue ARN>", "Condition": {"ArnEquals": {"aws:SourceArn": "<alarm topic ARN>"}}}'
)
"""The statement an SQS subscriber's queue policy needs (the topic ARN is each chain's topicArn output)."""
QUEUE_KMS_NOTE = (
    "a KMS-encrypted queue also needs a customer-managed key whose key policy lets sns.amazonaws.com"
    " use kms:GenerateDataKey* and kms:Decrypt (the AWS-managed alias/aws/sqs cannot grant that)"
)


def check_endpoint(protocol: str, endpoint: str) -> str | None:
    """Why ``endpoint`` is not a valid ``protocol`` subscription endpoint, or None."""
    if protocol == "email":
        return None if _EMAIL_RE.match(endpoint) else f"{endpoint!r} is not an email address"
    if protocol == "https":
        url = urlparse(endpoint)
        if url.scheme != "https" or not url.netloc:
            return "an https endpoint must be a URL starting with https:// and naming a host"
        return None
    if protocol == "sqs":
        queue = arns.parse_sqs_queue_arn(endpoint)
        if queue is None:
            return f"{endpoint!r} is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<queue>)"
        if queue.resource.endswith(".fifo"):
            return "a standard SNS topic cannot deliver to a FIFO queue; use a standard queue"
        return None
    if protocol == "lambda":
        if arns.parse_lambda_function_arn(endpoint) is None:
            return f"{endpoint!r} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)"
        return None
    return f"unsupported protocol {protocol!r}"


def protocol_key_problems(subscription: SubscriptionConfig) -> list[tuple[str, str]]:
    """(key, what is wrong) for keys that the subscription's protocol requires or does not take."""
    problems = []
    if subscription.protocol == "sqs" and subscription.queue_policy is None:
        problems.append(
            (
                "queuePolicy",
                "is required for an sqs subscription: SNS delivers to a queue only if the queue's policy lets"
                " sns.amazonaws.com call sqs:SendMessage with aws:SourceArn equal to the alarm topic's ARN"
                " (without it the subscription still shows as confirmed, and nothing arrives)."
                " Set 'managed' to have this program write that policy: an aws.sqs.QueuePolicy replaces the"
                " queue's WHOLE policy, so any other statement in it is lost."
                f" Set 'existing' if the queue's policy already has: {QUEUE_GRANT}"
                " (the topic ARN is the stack output chains.<account>/<region>/<log group>.topicArn)."
                f" Either way, {QUEUE_KMS_NOTE}",
            )
        )
    if subscription.protocol != "sqs" and subscription.queue_policy is not None:
        problems.append(("queuePolicy", f"applies only to sqs subscriptions, not {subscription.protocol}"))
    if subscription.protocol != "https" and subscription.auto_confirms is not None:
        problems.append(
            (
                "autoConfirms",
                f"applies only to https subscriptions (endpoints that confirm themselves), not {subscription.protocol}",
            )
        )
    return problems


def location_problem(
    protocol: str,
    endpoint: str,
    account_id: str,
    region: str,
    *,
    stack_wide: bool,
    owner_path: str | None = None,
) -> str | None:
    """Why an sqs or lambda endpoint cannot be subscribed from target (account_id, region)'s topic.

    ``owner_path`` is the config path of the endpoint's own account entry, when it is listed.
    """
    if protocol == "sqs":
        arn, kind = arns.parse_sqs_queue_arn(endpoint), "queue"
    elif protocol == "lambda":
        arn, kind = arns.parse_lambda_function_arn(endpoint), "function"
    else:
        return None
    if arn is None or (arn.account, arn.region) == (account_id, region):
        return None
    extra = "; SNS would also get no permission to invoke it" if protocol == "lambda" else ""
    if stack_wide:
        override = (
            f"{owner_path}.notifications.subscriptions"
            if owner_path
            else "its account entry's notifications.subscriptions"
        )
        advice = f", or subscribe this {kind} only from account {arn.account} with an account-level override ({override})"
    else:
        advice = " (an account's notifications apply to every chain of that account)"
    return (
        f"the {kind} is in account {arn.account} Region {arn.region}, but the alarm topic of target"
        f" {account_id}/{region} is in account {account_id} Region {region}: a cross-account or"
        f" cross-Region {protocol} subscription stays pending and the deploy fails{extra}."
        f" Use a {kind} in account {account_id} Region {region}{advice}"
    )
