"""Who hears an alarm: the ``notifications`` and ``subscriptions[]`` models, and the rules of endpoints.

An endpoint must be well-formed for its protocol, come with the keys its protocol needs,
and be in the chain's own account where SNS requires it. See README "Subscribers": an SQS
queue receives nothing unless its policy lets the topic send; a cross-account SQS or
Lambda subscription stays pending, and the deploy fails. One in the same account and
another Region is confirmed at once (SNS Subscribe, below) and is allowed. Which
settings apply at a chain (stack-wide, then the account's, then the organization
trail's) is resolve.py's job; the per-site checks are in checks.py.
"""

from __future__ import annotations

import re
from typing import Any
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
_PROTOCOL_WORDS = (
    ", ".join(f"`{p}`" for p in SUBSCRIPTION_PROTOCOLS[:-1]) + f" or `{SUBSCRIPTION_PROTOCOLS[-1]}`"
)


def _unset_means(value: Any) -> dict[str, Any]:
    """The schema's ``default`` for a key whose model default is None: None means "not set here" (a
    less specific layer may set it), and what applies when no layer sets it is ``value``."""
    return {"default": value}


class SubscriptionConfig(Model):
    """One subscriber of the alarm topic. What each protocol needs before anything arrives (a
    confirmation, a queue policy): README, "Subscribers"."""

    protocol: str = Field(
        description=f"How SNS delivers: {_PROTOCOL_WORDS}. `http` and `sms` are refused (they would carry"
        " alerts unencrypted or unauthenticated), and so is `email-json` (it mails the raw JSON message;"
        " `email` reaches the same mailbox readably).",
        json_schema_extra={"enum": list(SUBSCRIPTION_PROTOCOLS)},
    )
    endpoint: str | None = Field(
        default=None,
        description="Where to deliver: an email address (`email`), an `https://` URL (`https`), a standard"
        " (not FIFO) SQS queue ARN (`sqs`) or a Lambda function ARN (`lambda`). A queue or a function must"
        " be in the chain's own account (any Region): a cross-account subscription stays pending and the"
        " deploy fails. https endpoints are always kept as secrets (they usually embed a token); the"
        " outputs show only their scheme and host. Set exactly one of `endpoint` and `endpointSecretKey`.",
    )
    endpoint_secret_key: str | None = Field(
        default=None,
        description="The name of a secret config key of this project that holds the endpoint, e.g."
        " `pagerEndpoint` after `pulumi config set --secret pagerEndpoint https://...`; refused when that"
        " key is unset or stored in plain text. Set exactly one of `endpoint` and `endpointSecretKey`.",
    )
    queue_policy: str | None = Field(
        default=None,
        description="`sqs` only, and required there: `managed` (this program writes the queue's policy so"
        " that only the alarm topic may send; it replaces the queue's WHOLE policy) or `existing` (the"
        " queue's policy already lets the topic send). Without such a grant SNS shows the subscription as"
        " confirmed, and nothing arrives.",
        json_schema_extra={"anyOf": [{"enum": list(QUEUE_POLICY_MODES)}, {"type": "null"}]},
    )
    auto_confirms: bool | None = Field(
        default=None,
        description="`https` only: `true` when the endpoint confirms the subscription by itself (pagers"
        " such as PagerDuty); the deploy then waits for that and fails without it. Default `false`:"
        " someone must confirm, and the outputs say so (`confirmationRequired`).",
        json_schema_extra=_unset_means(False),
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
    """Where alarms notify: by default a new SNS topic per chain, encrypted with a new KMS key, with
    these subscribers. At each chain, each key comes from the most specific settings that set it: the
    organization trail's (for its chain), then the account's, then the stack-wide ones."""

    topic_arn: str | None = Field(
        default=None,
        description="Reuse an existing SNS topic instead of creating one, `arn:aws:sns:<region>:<account>:"
        "<name>`, where `{region}` and `{accountId}` placeholders are filled in per chain. It must be in the"
        " chain's Region (an alarm notifies only a topic in its own Region). No topic or key is created,"
        " and the topic's policy and key must let CloudWatch of that account publish. Do not point it at"
        " AWS Control Tower's `aws-controltower-SecurityNotifications` topics: they are in the Audit"
        " account, not where the chains are. Default: none, a topic is created.",
    )
    kms_key_id: str | None = Field(
        default=None,
        description="Encrypt the created topic with this existing customer-managed KMS key (id, ARN or"
        " alias), whose key policy lets `cloudwatch.amazonaws.com` use it. `alias/aws/sns` is refused"
        " (CloudWatch cannot publish to a topic encrypted with it), and so is `kmsKeyId` with `topicArn`."
        " Default: none, a key is created per topic, with rotation on.",
    )
    subscriptions: tuple[SubscriptionConfig, ...] | None = Field(
        default=None,
        examples=[[{"protocol": "email", "endpoint": "soc@example.com"}]],
        description="Who receives the alarm. Every chain needs at least one subscriber or a `topicArn`. In"
        " an override, the list replaces the whole less specific list. Default: none.",
    )
    notify_on_ok: bool | None = Field(
        default=None,
        description="Also notify the topic when the alarm returns to OK. Default `false`: only the alarm"
        " itself is sent.",
        json_schema_extra=_unset_means(False),
    )
    ok_actions: tuple[str, ...] | None = Field(
        default=None,
        examples=[["arn:aws:sns:{region}:{accountId}:ops"]],
        description="More SNS topic ARNs to notify when the alarm returns to OK (placeholders as in"
        " `topicArn`). Default `[]`.",
        json_schema_extra=_unset_means([]),
    )
    insufficient_data_actions: tuple[str, ...] | None = Field(
        default=None,
        examples=[["arn:aws:sns:{region}:{accountId}:ops"]],
        description="More SNS topic ARNs to notify when the alarm has too little data to decide"
        " (placeholders as in `topicArn`). Default `[]`.",
        json_schema_extra=_unset_means([]),
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


# ---------------------------------------------------------------- the rules of endpoints

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

    SNS Subscribe (botocore's sns service model, ``Subscribe``): "If the endpoint type is HTTP/S or
    email, or if the endpoint and the topic are not in the same Amazon Web Services account, the
    endpoint owner must run the ConfirmSubscription action to confirm the subscription." So an SQS
    queue or a Lambda function of the topic's own account is confirmed at once in any Region; one
    of another account stays pending (this program cannot confirm it there), and the deploy fails.

    ``owner_path`` is the config path of the endpoint's own account entry, when it is listed.
    """
    if protocol == "sqs":
        arn, kind = arns.parse_sqs_queue_arn(endpoint), "queue"
    elif protocol == "lambda":
        arn, kind = arns.parse_lambda_function_arn(endpoint), "function"
    else:
        return None
    if arn is None or arn.account == account_id:
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
        f" {account_id}/{region} is in account {account_id}: a cross-account {protocol} subscription stays"
        f" pending (its owner must confirm it) and the deploy fails{extra}. Use a {kind} in account"
        f" {account_id} (any Region){advice}"
    )
