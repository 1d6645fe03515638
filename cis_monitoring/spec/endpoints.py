"""Subscription endpoints: well-formed for their protocol, with the keys their protocol needs,
and in the target's own account and Region where SNS requires it.

See README "Subscribers": an SQS queue receives nothing unless its policy lets the
topic send; a cross-account SQS or Lambda subscription stays pending, and the deploy fails.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from cis_monitoring.core.aws import arns

from .schema import SubscriptionConfig

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
