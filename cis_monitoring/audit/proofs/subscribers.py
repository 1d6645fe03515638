"""Subscriber policies: an SQS queue must let the topic send, a Lambda function must let it invoke.

SNS shows such a subscription as confirmed at once (same account), even when the
queue's or function's policy makes every delivery fail. So for each ``sqs`` and
``lambda`` subscription (as ``sns:ListSubscriptionsByTopic`` returns them) this reads
the endpoint's own policy and judges it with ``cis_monitoring.core.judge.resource_policies``:

- queue: ``sqs:GetQueueAttributes`` (``Policy``, ``KmsMasterKeyId``); the queue URL is
  built from its ARN. A KMS-encrypted queue's key must also let SNS use it
  (``alias/aws/sqs`` cannot);
- function: ``lambda:GetPolicy`` on the endpoint ARN (an alias or version has its own policy).

Endpoints in another account than the audited one are NOT_AVAILABLE (their policies can
only be read there). Email, https and other protocols have no resource policy to judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from cis_monitoring.audit.aws import error_code
from cis_monitoring.audit.proofs.keys import STATUS_OF_GRANT, check_key, statement_json
from cis_monitoring.audit.proofs.result import (
    FUNCTION_POLICY,
    QUEUE_POLICY,
    ClientFor,
    ProofResult,
    guarded,
)
from cis_monitoring.core.aws.arns import (
    Arn,
    parse_lambda_function_arn,
    parse_sns_topic_arn,
    parse_sqs_queue_arn,
)
from cis_monitoring.core.judge.resource_policies import (
    AWS_MANAGED_SQS_KEY,
    function_grant,
    judge_grant,
    queue_grant,
    sns_key_grant,
)
from cis_monitoring.core.status import Status

QUEUE_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
"""SQS's code for a missing queue (the query-compatible code, and the JSON protocol's shape name)."""
_DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}
_RANK = (Status.FAIL, Status.NOT_AVAILABLE, Status.PASS)


def queue_url(queue: Arn) -> str:
    """The queue's URL from its ARN (SQS accepts it from any endpoint of the queue's Region)."""
    suffix = _DNS_SUFFIX.get(queue.partition, "amazonaws.com")
    return f"https://sqs.{queue.region}.{suffix}/{queue.account}/{queue.resource}"


def _elsewhere(proof: str, endpoint: str, owner: str, audited: str) -> ProofResult:
    return ProofResult(
        proof,
        endpoint,
        Status.NOT_AVAILABLE,
        f"{endpoint} belongs to account {owner}, not the audited account {audited}; its policy can be read"
        " only there, so audit that account",
        {"endpointAccount": owner},
    )


def queue_policy(clients: ClientFor, topic_arn: str, queue_arn: str) -> ProofResult:
    """Whether queue ``queue_arn`` lets topic ``topic_arn`` send to it (and, if encrypted, use its key)."""
    topic, queue = parse_sns_topic_arn(topic_arn), parse_sqs_queue_arn(queue_arn)
    if topic is None or queue is None:
        return ProofResult(
            QUEUE_POLICY, queue_arn, Status.ERROR, f"cannot read {topic_arn!r} -> {queue_arn!r} as ARNs"
        )
    if queue.account != topic.account:
        return _elsewhere(QUEUE_POLICY, queue_arn, queue.account, topic.account)

    def body() -> ProofResult:
        sqs = clients("sqs", queue.region)
        try:
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue_url(queue), AttributeNames=["Policy", "KmsMasterKeyId"]
            ).get("Attributes", {})
        except ClientError as error:
            if error_code(error) not in QUEUE_MISSING:
                raise
            return ProofResult(
                QUEUE_POLICY,
                queue_arn,
                Status.FAIL,
                f"queue {queue_arn} does not exist, so SNS delivers nothing to it; recreate the queue or"
                f" remove the subscription from {topic_arn}",
                {"queueExists": False},
            )
        verdict = judge_grant(attributes.get("Policy"), queue_grant(queue_arn, topic_arn, topic.account))
        statuses = [STATUS_OF_GRANT[verdict.granted]]
        details = [verdict.explain()]
        evidence: dict[str, Any] = {
            "queueUrl": queue_url(queue),
            "granted": verdict.granted,
            "problems": list(verdict.problems),
            "statementToAdd": dict(verdict.grant.statement_to_add) if verdict.granted is False else None,
        }
        key_id = attributes.get("KmsMasterKeyId")
        if key_id:
            evidence["keyId"] = key_id
            if key_id == AWS_MANAGED_SQS_KEY or key_id.endswith(":" + AWS_MANAGED_SQS_KEY):
                statement = sns_key_grant("*", topic_arn, topic.account).statement_to_add
                statuses.append(Status.FAIL)
                details.append(
                    f"the queue is encrypted with {AWS_MANAGED_SQS_KEY}, which SNS cannot use; encrypt it with a"
                    f" customer-managed key whose policy has this statement: {statement_json(statement)}"
                )
            else:
                check = check_key(
                    clients,
                    key_id,
                    queue.region,
                    queue.account,
                    lambda key_arn: sns_key_grant(key_arn, topic_arn, topic.account),
                    holder=f"queue {queue_arn}",
                )
                statuses.append(check.status)
                details.append(check.detail)
                evidence["key"] = check.evidence
        status = next(s for s in _RANK if s in statuses)
        return ProofResult(QUEUE_POLICY, queue_arn, status, "; ".join(details), evidence)

    return guarded(QUEUE_POLICY, queue_arn, body)


def function_policy(clients: ClientFor, topic_arn: str, function_arn: str) -> ProofResult:
    """Whether function ``function_arn`` (maybe an alias or version) lets topic ``topic_arn`` invoke it."""
    topic, function = parse_sns_topic_arn(topic_arn), parse_lambda_function_arn(function_arn)
    if topic is None or function is None:
        return ProofResult(
            FUNCTION_POLICY,
            function_arn,
            Status.ERROR,
            f"cannot read {topic_arn!r} -> {function_arn!r} as ARNs",
        )
    if function.account != topic.account:
        return _elsewhere(FUNCTION_POLICY, function_arn, function.account, topic.account)
    grant = function_grant(function_arn, topic_arn, topic.account)

    def body() -> ProofResult:
        try:
            policy = clients("lambda", function.region).get_policy(FunctionName=function_arn).get("Policy")
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            # Lambda says "Function not found: <arn>" for a missing function, and
            # "The resource you requested does not exist." for a function without a policy.
            message = str(error.response.get("Error", {}).get("Message", ""))
            if message.startswith("Function not found"):
                return ProofResult(
                    FUNCTION_POLICY,
                    function_arn,
                    Status.FAIL,
                    f"function {function_arn} does not exist, so SNS invokes nothing; recreate it or remove the"
                    f" subscription from {topic_arn}",
                    {"functionExists": False},
                )
            policy = None
        verdict = judge_grant(policy, grant)
        evidence = {
            "granted": verdict.granted,
            "problems": list(verdict.problems),
            "statementToAdd": dict(grant.statement_to_add) if verdict.granted is False else None,
        }
        return ProofResult(
            FUNCTION_POLICY, function_arn, STATUS_OF_GRANT[verdict.granted], verdict.explain(), evidence
        )

    return guarded(FUNCTION_POLICY, function_arn, body)


def subscriber_policies(
    clients: ClientFor, topic_arn: str, subscriptions: Iterable[Mapping[str, Any]]
) -> list[ProofResult]:
    """One result per ``sqs`` or ``lambda`` subscription of the topic (others have no policy to judge)."""
    results = []
    for subscription in subscriptions:
        protocol, endpoint = subscription.get("Protocol"), str(subscription.get("Endpoint", ""))
        if protocol == "sqs":
            results.append(queue_policy(clients, topic_arn, endpoint))
        elif protocol == "lambda":
            results.append(function_policy(clients, topic_arn, endpoint))
    return results
