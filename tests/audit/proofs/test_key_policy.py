"""The topic's KMS key policy must let CloudWatch use the key (kms:DescribeKey, kms:GetKeyPolicy)."""

from __future__ import annotations

import json

import pytest

from cis_monitoring.audit.proofs import KEY_POLICY, topic_key_policy, usage_problems
from cis_monitoring.core.status import Status
from cis_monitoring.program.policies import key_policy
from tests.audit.proofs.stubs import (
    ACCOUNT,
    ALARM_ARN,
    KEY_ARN,
    REGION,
    TOPIC,
    StubbedClients,
    add_error,
    default_key_policy,
    denied,
    key_metadata,
    policy,
)

ALIAS = "alias/cis-sandbox-alarms"
CLOUDWATCH_STATEMENT = {
    "Sid": "AllowCloudWatchAlarms",
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
    "Resource": "*",
}


def stub_key(clients: StubbedClients, key_policy_text: str, key_id: str = ALIAS, **metadata: str) -> None:
    kms = clients.stub("kms")
    kms.add_response("describe_key", {"KeyMetadata": key_metadata(**metadata)}, {"KeyId": key_id})
    kms.add_response(
        "get_key_policy",
        {"Policy": key_policy_text, "PolicyName": "default"},
        {"KeyId": KEY_ARN, "PolicyName": "default"},
    )


def test_the_programs_own_key_policy_lets_cloudwatch_use_the_key() -> None:
    clients = StubbedClients()
    stub_key(clients, key_policy(ACCOUNT, REGION))
    result = topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN)
    clients.assert_done()
    assert result.status is Status.PASS, result.detail
    assert result.proof == KEY_POLICY and result.subject == KEY_ARN
    assert "granted by statement 'AllowCloudWatchAlarmsOfThisAccount'" in result.detail
    assert result.evidence["grant"]["granted"] is True


def test_a_key_with_only_the_default_policy_fails_and_says_what_to_add() -> None:
    clients = StubbedClients()
    stub_key(clients, default_key_policy())
    result = topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN)
    assert result.status is Status.FAIL
    assert "no statement allows cloudwatch.amazonaws.com to call kms:GenerateDataKey" in result.detail
    assert '"Principal":{"Service":"cloudwatch.amazonaws.com"}' in result.detail
    added = result.evidence["grant"]["statementToAdd"]
    assert added["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert added["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_a_grant_for_another_account_s_alarms_does_not_count() -> None:
    clients = StubbedClients()
    other = {**CLOUDWATCH_STATEMENT, "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}
    stub_key(clients, policy(other))
    assert topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN).status is Status.FAIL


def test_an_explicit_deny_beats_the_grant() -> None:
    clients = StubbedClients()
    deny = {
        "Sid": "NoServiceUse",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    stub_key(clients, policy(CLOUDWATCH_STATEMENT, deny))
    result = topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN)
    assert result.status is Status.FAIL
    assert "statement 'NoServiceUse' denies kms:Decrypt to cloudwatch.amazonaws.com" in result.detail


def test_a_condition_the_audit_cannot_evaluate_fails_as_cannot_judge_never_pass() -> None:
    clients = StubbedClients()
    conditional = {
        **CLOUDWATCH_STATEMENT,
        "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC}},
    }
    stub_key(clients, policy(conditional))
    result = topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN)
    # NOT_AVAILABLE would leave the chain PASS on a grant nobody could check (proof_run.fold).
    assert result.status is Status.FAIL
    assert "StringEquals kms:EncryptionContext:aws:sns:topicArn" in result.detail
    assert "it cannot be judged, so it is not counted as granted" in result.detail
    assert result.evidence["grant"]["granted"] is None


def test_the_aws_managed_sns_key_fails_without_a_call() -> None:
    clients = StubbedClients()
    result = topic_key_policy(clients, TOPIC, "alias/aws/sns")
    assert result.status is Status.FAIL
    assert "alias/aws/sns, whose policy cannot admit CloudWatch" in result.detail
    assert clients.requested == []


def test_an_aws_managed_key_named_by_id_fails() -> None:
    clients = StubbedClients()
    clients.stub("kms").add_response(
        "describe_key", {"KeyMetadata": key_metadata(manager="AWS")}, {"KeyId": KEY_ARN}
    )
    result = topic_key_policy(clients, TOPIC, KEY_ARN)
    assert result.status is Status.FAIL
    assert "is an AWS-managed key" in result.detail


def test_a_key_pending_deletion_fails() -> None:
    clients = StubbedClients()
    clients.stub("kms").add_response(
        "describe_key", {"KeyMetadata": key_metadata(state="PendingDeletion")}, {"KeyId": ALIAS}
    )
    result = topic_key_policy(clients, TOPIC, ALIAS)
    assert result.status is Status.FAIL
    assert "is PendingDeletion" in result.detail


@pytest.mark.parametrize(
    ("state", "fix"),
    [
        ("Disabled", "enable it (aws kms enable-key)"),
        ("PendingDeletion", "cancel its deletion (aws kms cancel-key-deletion), then enable it"),
        ("PendingReplicaDeletion", "cancel its deletion"),
        ("PendingImport", "import its key material"),
        ("Unavailable", "reconnect its custom key store"),
        ("Creating", "wait until the replica key is created"),
    ],
)
def test_a_key_that_cannot_encrypt_leaves_the_topic_unable_to_receive(state: str, fix: str) -> None:
    """KeyMetadata.KeyState as botocore's model lists it; no policy is read for such a key."""
    clients = StubbedClients()
    clients.stub("kms").add_response(
        "describe_key", {"KeyMetadata": key_metadata(state=state)}, {"KeyId": ALIAS}
    )
    result = topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN)
    clients.assert_done()
    assert result.status is Status.FAIL
    assert result.detail.startswith(
        f"topic {TOPIC} cannot receive the alarm: its KMS key {KEY_ARN} is {state}, so nothing can be encrypted"
    )
    assert fix in result.detail
    assert result.evidence["keyState"] == state


def test_a_multi_region_key_being_updated_still_encrypts() -> None:
    """KMS: "While the key state is Updating, you can use the keys in cryptographic operations"."""
    clients = StubbedClients()
    stub_key(clients, key_policy(ACCOUNT, REGION), state="Updating")
    result = topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN)
    clients.assert_done()
    assert result.status is Status.PASS, result.detail


def test_every_key_state_of_the_botocore_model_is_judged() -> None:
    """A new state in KMS's model fails this test until the core says whether it encrypts."""
    import botocore.session

    from cis_monitoring.core.judge.resource_policies import _KEY_STATE_FIX, USABLE_KEY_STATES

    model = botocore.session.get_session().get_service_model("kms")
    states = set(model.shape_for("KeyState").enum)
    assert states == set(USABLE_KEY_STATES) | set(_KEY_STATE_FIX)


def test_a_missing_key_fails() -> None:
    clients = StubbedClients()
    message = f"Alias arn:aws:kms:{REGION}:{ACCOUNT}:{ALIAS} is not found."
    add_error(clients.stub("kms"), "describe_key", "NotFoundException", message, expected={"KeyId": ALIAS})
    result = topic_key_policy(clients, TOPIC, ALIAS)
    assert result.status is Status.FAIL
    assert f"KMS key {ALIAS} does not exist ({message})" in result.detail


def test_a_key_of_another_account_is_not_available_and_read_in_its_region() -> None:
    other = "arn:aws:kms:eu-west-1:999999999999:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    clients = StubbedClients()
    clients.stub("kms", "eu-west-1").add_response(
        "describe_key", {"KeyMetadata": key_metadata(other, account="999999999999")}, {"KeyId": other}
    )
    result = topic_key_policy(clients, TOPIC, other)
    clients.assert_done()
    assert result.status is Status.NOT_AVAILABLE
    assert "belongs to account 999999999999" in result.detail
    assert clients.requested == [("kms", "eu-west-1")]


def test_access_denied_is_an_error_for_this_target_only() -> None:
    clients = StubbedClients()
    kms = clients.stub("kms")
    kms.add_response("describe_key", {"KeyMetadata": key_metadata()}, {"KeyId": ALIAS})
    add_error(
        kms,
        "get_key_policy",
        "AccessDeniedException",
        denied("kms:GetKeyPolicy", KEY_ARN, kind="resource-based"),
    )
    result = topic_key_policy(clients, TOPIC, ALIAS)
    assert result.status is Status.ERROR and result.access_denied
    assert result.error is not None and result.error.action == "kms:GetKeyPolicy"
    assert result.detail.endswith("(GetKeyPolicy); grant kms:GetKeyPolicy")
    assert usage_problems([result]) == []  # part of the auditor policy, not an opt-in


def test_throttling_after_retries_is_an_error() -> None:
    clients = StubbedClients()
    message = "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
    add_error(clients.stub("kms"), "describe_key", "ThrottlingException", message, retries=9)
    result = topic_key_policy(clients, TOPIC, ALIAS)
    assert result.status is Status.ERROR
    assert "(still failing after 9 retries)" in result.detail


def test_an_unencrypted_topic_needs_no_grant() -> None:
    clients = StubbedClients()
    result = topic_key_policy(clients, TOPIC, None)
    assert result.status is Status.PASS
    assert clients.requested == []


def test_evidence_is_json() -> None:
    clients = StubbedClients()
    stub_key(clients, default_key_policy())
    json.dumps(topic_key_policy(clients, TOPIC, ALIAS, ALARM_ARN).to_dict())


def test_an_odd_answer_is_an_error_row_not_an_exception() -> None:
    clients = StubbedClients()
    clients.stub("kms").add_response("describe_key", {}, {"KeyId": ALIAS})  # no KeyMetadata
    result = topic_key_policy(clients, TOPIC, ALIAS)
    assert result.status is Status.ERROR
    assert result.detail.startswith("UnexpectedKeyError")
