"""KMS key policies on the alarm's path: the topic's key must let CloudWatch use it.

The topic names its key as SNS stores it (``KmsMasterKeyId``: a key id, key ARN, alias
name or alias ARN). ``kms:DescribeKey`` resolves it to the key, its account, manager and
state; ``kms:GetKeyPolicy`` (policy name ``default``, the only one) returns the policy,
which ``cis_monitoring.core.judge.resource_policies`` judges. A key whose state cannot encrypt
(``resource_policies.USABLE_KEY_STATES``: Enabled, or Updating) leaves its topic or queue unable to
receive the alarm. GetKeyPolicy works only in the key's
own account, so a key of another account is NOT_AVAILABLE with the account to audit.
The same steps judge an encrypted SQS subscriber's key for SNS (``cis_monitoring.audit.proofs.subscribers``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cis_monitoring.audit.aws import error_code
from cis_monitoring.audit.proofs.result import KEY_POLICY, ClientFor, ProofResult, guarded
from cis_monitoring.core.aws.arns import parse_arn, parse_sns_topic_arn
from cis_monitoring.core.catalog import AWS_MANAGED_SNS_KEY, is_aws_managed_sns_key
from cis_monitoring.core.judge.notification import CANNOT_RECEIVE
from cis_monitoring.core.judge.resource_policies import (
    Grant,
    cloudwatch_key_grant,
    judge_grant,
    key_state_problem,
)
from cis_monitoring.core.status import Status

POLICY_NAME = "default"
"""The only key policy name KMS has."""
STATUS_OF_GRANT = {True: Status.PASS, False: Status.FAIL, None: Status.FAIL}
"""A grant verdict as a proof status. One the evaluator cannot decide (a condition it cannot evaluate)
is a FAIL that says so, as the core's ``topic.policy.undecided``: NOT_AVAILABLE would leave the chain
PASS (``proof_run.fold`` counts only FAIL and ERROR) on a grant nobody could check; not an ERROR,
because re-running cannot change it and the fix is in the policy."""


@dataclass(frozen=True)
class KeyCheck:
    status: Status
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)


def statement_json(statement: Mapping[str, Any]) -> str:
    return json.dumps(statement, separators=(",", ":"))


def key_region(key_id: str, default_region: str | None) -> str | None:
    """Where the key is: an ARN says so; an id or alias name is in the caller's Region."""
    arn = parse_arn(key_id)
    return arn.region if arn is not None and arn.region else default_region


def check_key(
    clients: ClientFor,
    key_id: str,
    region: str | None,
    account_id: str,
    grant_for: Callable[[str], Grant],
    holder: str = "",
) -> KeyCheck:
    """Resolve ``key_id`` and judge its state and policy against ``grant_for(key ARN)``; AWS errors propagate.

    ``holder``: whose key it is ("topic arn:..."), to say that it cannot receive the alarm.
    """
    kms = clients("kms", key_region(key_id, region))
    try:
        metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    except ClientError as error:
        if error_code(error) != "NotFoundException":
            raise
        # A deleted key (or an alias that points nowhere): nothing can be encrypted for the topic.
        message = error.response.get("Error", {}).get("Message", "")
        return KeyCheck(
            Status.FAIL,
            f"KMS key {key_id} does not exist ({message}); point the resource at an existing"
            f" customer-managed key whose policy has this statement: {statement_json(grant_for('*').statement_to_add)}",
            {"keyId": key_id, "keyExists": False},
        )
    key_arn = str(metadata.get("Arn") or key_id)
    evidence: dict[str, Any] = {
        "keyId": key_id,
        "keyArn": key_arn,
        "keyAccount": metadata.get("AWSAccountId"),
        "keyManager": metadata.get("KeyManager"),
        "keyState": metadata.get("KeyState"),
    }
    if metadata.get("KeyManager") == "AWS":
        return KeyCheck(
            Status.FAIL,
            f"{key_id} is an AWS-managed key: its policy cannot be changed to admit another service;"
            " encrypt with a customer-managed key whose policy has this statement:"
            f" {statement_json(grant_for(key_arn).statement_to_add)}",
            evidence,
        )
    unusable = key_state_problem(key_arn, metadata.get("KeyState"))
    if unusable is not None:
        lead = f"{holder} {CANNOT_RECEIVE}: " if holder else ""
        return KeyCheck(Status.FAIL, lead + unusable, evidence)
    owner = str(metadata.get("AWSAccountId") or account_id)
    if owner != account_id:
        return KeyCheck(
            Status.NOT_AVAILABLE,
            f"KMS key {key_arn} belongs to account {owner}; kms:GetKeyPolicy works only in the key's own"
            " account, so audit the key there",
            evidence,
        )
    policy = kms.get_key_policy(KeyId=key_arn, PolicyName=POLICY_NAME).get("Policy")
    verdict = judge_grant(policy, grant_for(key_arn))
    evidence["grant"] = {
        "granted": verdict.granted,
        "problems": list(verdict.problems),
        "statementToAdd": dict(verdict.grant.statement_to_add) if verdict.granted is False else None,
    }
    return KeyCheck(STATUS_OF_GRANT[verdict.granted], verdict.explain(), evidence)


def topic_key_policy(
    clients: ClientFor,
    topic_arn: str,
    kms_master_key_id: str | None,
    alarm_arn: str | None = None,
) -> ProofResult:
    """Whether the topic's KMS key (GetTopicAttributes' ``KmsMasterKeyId``) lets CloudWatch use it."""
    topic = parse_sns_topic_arn(topic_arn)
    if topic is None:
        return ProofResult(KEY_POLICY, topic_arn, Status.ERROR, f"{topic_arn!r} is not an SNS topic ARN")
    if not kms_master_key_id:
        return ProofResult(
            KEY_POLICY,
            topic_arn,
            Status.PASS,
            f"topic {topic_arn} is not encrypted with KMS, so CloudWatch needs no key grant",
            {"keyId": None},
        )
    key_id = kms_master_key_id
    alarm = parse_arn(alarm_arn)
    # CloudWatch acts for the alarm's account; an alarm may notify another account's topic.
    source_account = alarm.account if alarm is not None and alarm.account else topic.account
    if is_aws_managed_sns_key(key_id):
        statement = cloudwatch_key_grant("*", source_account, alarm_arn).statement_to_add
        return ProofResult(
            KEY_POLICY,
            key_id,
            Status.FAIL,
            f"topic {topic_arn} is encrypted with {AWS_MANAGED_SNS_KEY}, whose policy cannot admit CloudWatch;"
            f" use a customer-managed key whose policy has this statement: {statement_json(statement)}",
            {"keyId": key_id, "keyManager": "AWS", "statementToAdd": dict(statement)},
        )

    def body() -> ProofResult:
        check = check_key(
            clients,
            key_id,
            topic.region,
            topic.account,
            lambda key_arn: cloudwatch_key_grant(key_arn, source_account, alarm_arn),
            holder=f"topic {topic_arn}",
        )
        subject = str(check.evidence.get("keyArn") or key_id)
        return ProofResult(KEY_POLICY, subject, check.status, check.detail, check.evidence)

    return guarded(KEY_POLICY, key_id, body)
