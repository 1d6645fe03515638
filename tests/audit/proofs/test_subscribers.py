"""SQS and Lambda subscribers must let the topic deliver (sqs:GetQueueAttributes, lambda:GetPolicy)."""

from __future__ import annotations

from typing import Any

import pytest

from cis_monitoring.audit.proofs import (
    FUNCTION_POLICY,
    QUEUE_POLICY,
    function_policy,
    queue_policy,
    subscriber_policies,
)
from cis_monitoring.core.status import Status
from tests.audit.proofs.stubs import (
    ACCOUNT,
    FUNCTION,
    KEY_ARN,
    QUEUE,
    QUEUE_URL,
    REGION,
    TOPIC,
    StubbedClients,
    add_error,
    default_key_policy,
    denied,
    key_metadata,
    policy,
)

QUEUE_ATTRIBUTES = {"QueueUrl": QUEUE_URL, "AttributeNames": ["Policy", "KmsMasterKeyId"]}
SNS_SEND = {
    "Sid": "topic-to-queue",
    "Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"},
    "Action": "sqs:SendMessage",
    "Resource": QUEUE,
    "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
}
# What the SQS console writes when you subscribe a queue to a topic there.
CONSOLE_STYLE = {
    "Sid": "topic-subscription-" + TOPIC,
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "SQS:SendMessage",
    "Resource": QUEUE,
    "Condition": {"ArnLike": {"aws:SourceArn": TOPIC}},
}
# CDK's enforceSSL: SNS delivers over TLS, so this must not block it.
ENFORCE_SSL = {
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "sqs:*",
    "Resource": QUEUE,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
SNS_INVOKE = {
    "Sid": "sns-invoke",
    "Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"},
    "Action": "lambda:InvokeFunction",
    "Resource": FUNCTION,
    "Condition": {"ArnLike": {"AWS:SourceArn": TOPIC}},
}


def stub_queue(clients: StubbedClients, attributes: dict[str, str] | None) -> None:
    response: dict[str, Any] = {} if attributes is None else {"Attributes": attributes}
    clients.stub("sqs").add_response("get_queue_attributes", response, QUEUE_ATTRIBUTES)


# ---------------------------------------------------------------- queues


@pytest.mark.parametrize(
    "statements",
    [[SNS_SEND], [CONSOLE_STYLE], [SNS_SEND, ENFORCE_SSL]],
    ids=["service principal", "console style", "with enforceSSL"],
)
def test_a_queue_that_lets_the_topic_send_passes(statements: list[dict[str, Any]]) -> None:
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(*statements)})
    result = queue_policy(clients, TOPIC, QUEUE)
    clients.assert_done()
    assert result.status is Status.PASS, result.detail
    assert result.proof == QUEUE_POLICY and result.subject == QUEUE


def test_a_queue_without_a_policy_fails_and_says_what_to_add() -> None:
    clients = StubbedClients()
    stub_queue(clients, None)
    result = queue_policy(clients, TOPIC, QUEUE)
    assert result.status is Status.FAIL
    assert result.detail.startswith(
        f"the access policy of queue {QUEUE}: there is no policy; add this statement:"
    )
    assert result.evidence["statementToAdd"]["Condition"] == {"ArnEquals": {"aws:SourceArn": TOPIC}}


def test_a_queue_policy_for_another_topic_fails() -> None:
    clients = StubbedClients()
    other = {**SNS_SEND, "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC + "-old"}}}
    stub_queue(clients, {"Policy": policy(other)})
    result = queue_policy(clients, TOPIC, QUEUE)
    assert result.status is Status.FAIL
    assert "no statement allows sns.amazonaws.com to call sqs:SendMessage" in result.detail


def test_a_queue_under_the_aws_managed_sqs_key_fails() -> None:
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND), "KmsMasterKeyId": "alias/aws/sqs"})
    result = queue_policy(clients, TOPIC, QUEUE)
    assert result.status is Status.FAIL
    assert "encrypted with alias/aws/sqs, which SNS cannot use" in result.detail


def test_an_encrypted_queue_s_key_must_let_sns_use_it() -> None:
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND), "KmsMasterKeyId": "alias/security-alerts"})
    kms = clients.stub("kms")
    kms.add_response("describe_key", {"KeyMetadata": key_metadata()}, {"KeyId": "alias/security-alerts"})
    kms.add_response("get_key_policy", {"Policy": default_key_policy(), "PolicyName": "default"})
    result = queue_policy(clients, TOPIC, QUEUE)
    assert result.status is Status.FAIL
    assert "lets sns.amazonaws.com call sqs:SendMessage" in result.detail  # the queue part is fine
    assert f"the key policy of KMS key {KEY_ARN} (the queue's encryption key)" in result.detail
    assert result.evidence["key"]["grant"]["granted"] is False


def test_an_encrypted_queue_with_a_granting_key_passes() -> None:
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND), "KmsMasterKeyId": KEY_ARN})
    kms = clients.stub("kms")
    kms.add_response("describe_key", {"KeyMetadata": key_metadata()}, {"KeyId": KEY_ARN})
    grant = {
        "Sid": "sns",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
    }
    kms.add_response("get_key_policy", {"Policy": policy(grant), "PolicyName": "default"})
    result = queue_policy(clients, TOPIC, QUEUE)
    clients.assert_done()
    assert result.status is Status.PASS, result.detail


@pytest.mark.parametrize("state", ["Disabled", "PendingDeletion"])
def test_an_encrypted_queue_whose_key_cannot_encrypt_cannot_receive(state: str) -> None:
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND), "KmsMasterKeyId": KEY_ARN})
    clients.stub("kms").add_response(
        "describe_key", {"KeyMetadata": key_metadata(state=state)}, {"KeyId": KEY_ARN}
    )
    result = queue_policy(clients, TOPIC, QUEUE)
    clients.assert_done()  # no key policy is read for a key that cannot encrypt
    assert result.status is Status.FAIL
    assert f"queue {QUEUE} cannot receive the alarm: its KMS key {KEY_ARN} is {state}" in result.detail
    assert result.evidence["key"]["keyState"] == state


def test_a_queue_policy_is_judged_for_this_topic_s_request() -> None:
    """SNS sends aws:SourceArn = the topic; a grant for a topic name pattern that misses it does not count."""
    clients = StubbedClients()
    pattern = {
        **SNS_SEND,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:other-*"}},
    }
    stub_queue(clients, {"Policy": policy(pattern, ENFORCE_SSL)})
    assert queue_policy(clients, TOPIC, QUEUE).status is Status.FAIL
    perimeter = {
        "Sid": "Perimeter",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": QUEUE,
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}},
    }
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND, perimeter)})
    denied_by_perimeter = queue_policy(clients, TOPIC, QUEUE)
    assert denied_by_perimeter.status is Status.FAIL
    assert "statement 'Perimeter' denies sqs:SendMessage to sns.amazonaws.com" in denied_by_perimeter.detail
    exempt = {
        **perimeter,
        "Condition": {**perimeter["Condition"], "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}},
    }
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND, exempt)})
    assert queue_policy(clients, TOPIC, QUEUE).status is Status.PASS


def test_a_queue_policy_the_evaluator_cannot_judge_is_not_a_pass() -> None:
    clients = StubbedClients()
    owner = {
        **SNS_SEND,
        "Condition": {"StringEquals": {"aws:SourceOwner": ACCOUNT}},
    }  # SNS does not document it
    stub_queue(clients, {"Policy": policy(owner)})
    result = queue_policy(clients, TOPIC, QUEUE)
    assert result.status is Status.FAIL
    assert "it cannot be judged, so it is not counted as granted" in result.detail


def test_the_queue_proof_s_basis_names_the_key_reads_it_rests_on() -> None:
    """An encrypted queue's verdict rests on its key's state and policy: the JSON's basis says so."""
    from cis_monitoring.audit.proofs.result import PROOF_BASIS

    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND), "KmsMasterKeyId": KEY_ARN})
    kms = clients.stub("kms")
    kms.add_response("describe_key", {"KeyMetadata": key_metadata()}, {"KeyId": KEY_ARN})
    grant = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
    }
    kms.add_response("get_key_policy", {"Policy": policy(grant), "PolicyName": "default"})
    result = queue_policy(clients, TOPIC, QUEUE)
    clients.assert_done()  # exactly these three calls were made
    assert result.status is Status.PASS, result.detail
    basis = {read["action"]: read["fields"] for read in result.to_dict()["basis"]}
    assert set(basis) == {"sqs:GetQueueAttributes", "kms:DescribeKey", "kms:GetKeyPolicy"}
    assert "KeyMetadata.KeyState" in basis["kms:DescribeKey"]
    assert [read.action for read in PROOF_BASIS[QUEUE_POLICY]] == list(basis)


def test_a_deleted_queue_fails() -> None:
    clients = StubbedClients()
    add_error(
        clients.stub("sqs"),
        "get_queue_attributes",
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    )
    result = queue_policy(clients, TOPIC, QUEUE)
    assert result.status is Status.FAIL
    assert f"queue {QUEUE} does not exist" in result.detail


def test_queue_access_denied_and_throttling_are_errors() -> None:
    clients = StubbedClients()
    sqs = clients.stub("sqs")
    add_error(
        sqs, "get_queue_attributes", "AccessDenied", denied("sqs:getqueueattributes", QUEUE), status=403
    )
    add_error(sqs, "get_queue_attributes", "RequestThrottled", "Request is throttled.", retries=9)
    first, second = queue_policy(clients, TOPIC, QUEUE), queue_policy(clients, TOPIC, QUEUE)
    assert first.status is Status.ERROR and first.access_denied
    assert first.error is not None and first.error.action == "sqs:GetQueueAttributes"
    assert second.status is Status.ERROR and not second.access_denied
    assert "(still failing after 9 retries)" in second.detail


def test_a_queue_of_another_account_is_not_available() -> None:
    clients = StubbedClients()
    result = queue_policy(clients, TOPIC, "arn:aws:sqs:us-east-1:999999999999:soc-inbox")
    assert result.status is Status.NOT_AVAILABLE
    assert "belongs to account 999999999999" in result.detail
    assert clients.requested == []


# ---------------------------------------------------------------- functions


def stub_function(clients: StubbedClients, policy_text: str, function: str = FUNCTION) -> None:
    clients.stub("lambda").add_response(
        "get_policy",
        {"Policy": policy_text, "RevisionId": "4b1c5b5e-2a3f-4a5e-9f0a-1d2c3b4a5f6e"},
        {"FunctionName": function},
    )


def test_a_function_that_lets_the_topic_invoke_passes() -> None:
    clients = StubbedClients()
    stub_function(clients, policy(SNS_INVOKE))
    result = function_policy(clients, TOPIC, FUNCTION)
    clients.assert_done()
    assert result.status is Status.PASS, result.detail
    assert result.proof == FUNCTION_POLICY
    assert "not limited" not in result.detail


def test_an_unscoped_grant_passes_with_a_note() -> None:
    clients = StubbedClients()
    stub_function(clients, policy({k: v for k, v in SNS_INVOKE.items() if k != "Condition"}))
    result = function_policy(clients, TOPIC, FUNCTION)
    assert result.status is Status.PASS
    assert "not limited by aws:SourceArn or aws:SourceAccount" in result.detail


@pytest.mark.parametrize(
    "statement",
    [
        {**SNS_INVOKE, "Condition": {"ArnLike": {"AWS:SourceArn": TOPIC + "-old"}}},
        {**SNS_INVOKE, "Principal": {"Service": "events.amazonaws.com"}},
        {**SNS_INVOKE, "Action": "lambda:GetFunction"},
    ],
    ids=["other topic", "other service", "other action"],
)
def test_a_function_policy_without_the_grant_fails_with_the_command(statement: dict[str, Any]) -> None:
    clients = StubbedClients()
    stub_function(clients, policy(statement))
    result = function_policy(clients, TOPIC, FUNCTION)
    assert result.status is Status.FAIL
    assert (
        f"aws lambda add-permission --function-name {FUNCTION} --statement-id AllowSnsTopicToInvoke"
        f" --action lambda:InvokeFunction --principal sns.amazonaws.com --source-arn {TOPIC}"
    ) in result.detail


def test_a_function_without_a_policy_fails() -> None:
    clients = StubbedClients()
    add_error(
        clients.stub("lambda"),
        "get_policy",
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        status=404,
    )
    result = function_policy(clients, TOPIC, FUNCTION)
    assert result.status is Status.FAIL
    assert "there is no policy" in result.detail


def test_a_deleted_function_fails() -> None:
    clients = StubbedClients()
    add_error(
        clients.stub("lambda"),
        "get_policy",
        "ResourceNotFoundException",
        f"Function not found: {FUNCTION}",
        status=404,
    )
    result = function_policy(clients, TOPIC, FUNCTION)
    assert result.status is Status.FAIL
    assert f"function {FUNCTION} does not exist" in result.detail


def test_an_alias_endpoint_is_judged_by_the_alias_policy() -> None:
    alias = FUNCTION + ":live"
    clients = StubbedClients()
    stub_function(clients, policy({**SNS_INVOKE, "Resource": alias}), function=alias)
    assert function_policy(clients, TOPIC, alias).status is Status.PASS
    clients = StubbedClients()
    stub_function(clients, policy(SNS_INVOKE), function=alias)  # a grant on the function, not the alias
    assert function_policy(clients, TOPIC, alias).status is Status.FAIL


def test_function_access_denied_and_throttling_are_errors() -> None:
    clients = StubbedClients()
    lam = clients.stub("lambda")
    add_error(lam, "get_policy", "AccessDeniedException", denied("lambda:GetPolicy", FUNCTION), status=403)
    add_error(lam, "get_policy", "TooManyRequestsException", "Rate exceeded", status=429, retries=9)
    first, second = function_policy(clients, TOPIC, FUNCTION), function_policy(clients, TOPIC, FUNCTION)
    assert first.status is Status.ERROR and first.access_denied
    assert first.error is not None and first.error.action == "lambda:GetPolicy"
    assert second.status is Status.ERROR and "(still failing after 9 retries)" in second.detail


# ---------------------------------------------------------------- dispatch


def test_only_queue_and_function_subscriptions_are_judged() -> None:
    subscriptions = [
        {
            "SubscriptionArn": f"{TOPIC}:0b6bd7c2-1a4e-4c57-9d2f-6f1b3c3e9a11",
            "Owner": ACCOUNT,
            "Protocol": "sqs",
            "Endpoint": QUEUE,
            "TopicArn": TOPIC,
        },
        {
            "SubscriptionArn": f"{TOPIC}:5e2f0a55-43a0-4c1d-8f51-2d6a3f7e8b22",
            "Owner": ACCOUNT,
            "Protocol": "lambda",
            "Endpoint": FUNCTION,
            "TopicArn": TOPIC,
        },
        {
            "SubscriptionArn": "PendingConfirmation",
            "Owner": ACCOUNT,
            "Protocol": "email",
            "Endpoint": "soc@example.com",
            "TopicArn": TOPIC,
        },
    ]
    clients = StubbedClients()
    stub_queue(clients, {"Policy": policy(SNS_SEND)})
    stub_function(clients, policy(SNS_INVOKE))
    results = subscriber_policies(clients, TOPIC, subscriptions)
    clients.assert_done()
    assert [(r.proof, r.subject, r.status) for r in results] == [
        (QUEUE_POLICY, QUEUE, Status.PASS),
        (FUNCTION_POLICY, FUNCTION, Status.PASS),
    ]
    assert clients.requested == [("sqs", REGION), ("lambda", REGION)]
