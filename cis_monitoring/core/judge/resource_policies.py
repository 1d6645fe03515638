"""Do the key, queue and function policies on an alarm's path let the next service act?

Three grants decide whether an alarm reaches a person, and none of them shows on the
resource that breaks:

- the topic's KMS key must let ``cloudwatch.amazonaws.com`` call ``kms:GenerateDataKey``
  and ``kms:Decrypt`` (else alarm history says "Failed to execute action");
- an SQS subscriber's queue policy must let ``sns.amazonaws.com`` call ``sqs:SendMessage``
  for this topic, and an encrypted queue's key must let SNS use it;
- a Lambda subscriber's resource policy must let ``sns.amazonaws.com`` call
  ``lambda:InvokeFunction`` for this topic.

Each ``*_grant`` function states one requirement (who, which actions, on what, and the
request context AWS sends); ``judge_grant`` decides it against a policy document and
says exactly what statement to add when it is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .policy_conditions import Context
from .policy_document import Decision, PolicyDocumentError, Request, Statement, decide, parse_policy

CLOUDWATCH = "cloudwatch.amazonaws.com"
SNS = "sns.amazonaws.com"
AWS_MANAGED_SQS_KEY = "alias/aws/sqs"
_SOURCE_KEYS = ("aws:sourcearn", "aws:sourceaccount")


@dataclass(frozen=True)
class Grant:
    """What one service needs from one resource policy."""

    what: str
    """The policy in words: "the KMS key policy of key X"."""
    service_principal: str
    actions: tuple[str, ...]
    resource: str
    context: Context
    statement_to_add: Mapping[str, Any]
    """A statement that grants it, to paste into the policy."""
    how_to_add: str = ""
    """A command that adds it, where AWS has one (lambda add-permission)."""


@dataclass(frozen=True)
class GrantVerdict:
    grant: Grant
    granted: bool | None
    """True: every action is allowed; False: one is denied or not allowed; None: cannot tell."""
    decisions: tuple[Decision, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def explain(self) -> str:
        """One sentence: what is granted, or what is missing and what to add."""
        if self.granted:
            return (
                f"{self.grant.what} lets {self.grant.service_principal} call {', '.join(self.grant.actions)}"
                + (f" ({'; '.join(self.notes)})" if self.notes else "")
            )
        text = f"{self.grant.what}: {'; '.join(self.problems)}"
        if self.granted is False:
            text += f"; add this statement: {json.dumps(self.grant.statement_to_add, separators=(',', ':'))}"
            if self.grant.how_to_add:
                text += f" (or run: {self.grant.how_to_add})"
        return text


def _context(source_arn: str | None, source_account: str | None) -> dict[str, str | None]:
    # AWS services delivering for a resource send its ARN and account as aws:SourceArn and
    # aws:SourceAccount, and call other AWS services over TLS.
    context: dict[str, str | None] = {"aws:securetransport": "true"}
    if source_arn:
        context["aws:sourcearn"] = source_arn
    if source_account:
        context["aws:sourceaccount"] = source_account
    return context


def cloudwatch_key_statement(account_id: str) -> dict[str, Any]:
    """The key-policy statement that lets this account's CloudWatch alarms use a topic's key.

    The program writes it into the keys it creates; the audit asks for it when a key lacks it.
    """
    return {
        "Sid": "AllowCloudWatchAlarmsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDWATCH},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


def cloudwatch_key_grant(key_arn: str, account_id: str, alarm_arn: str | None = None) -> Grant:
    """A topic's KMS key must let CloudWatch encrypt the alarm message for it."""
    return Grant(
        what=f"the key policy of KMS key {key_arn}",
        service_principal=CLOUDWATCH,
        actions=("kms:GenerateDataKey", "kms:Decrypt"),
        resource=key_arn,
        context=_context(alarm_arn, account_id),
        statement_to_add=cloudwatch_key_statement(account_id),
    )


def sns_key_grant(key_arn: str, topic_arn: str, topic_account: str) -> Grant:
    """An encrypted queue's KMS key must let SNS encrypt the messages it delivers."""
    return Grant(
        what=f"the key policy of KMS key {key_arn} (the queue's encryption key)",
        service_principal=SNS,
        actions=("kms:GenerateDataKey", "kms:Decrypt"),
        resource=key_arn,
        context=_context(topic_arn, topic_account),
        statement_to_add={
            "Sid": "AllowSnsTopicToEncryptForTheQueue",
            "Effect": "Allow",
            "Principal": {"Service": SNS},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
        },
    )


def queue_send_statement(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """The queue-policy statement that lets the alarm topic deliver to an SQS subscriber.

    The program writes it (``queuePolicy: managed``); the audit asks for it when a queue lacks it.
    """
    return {
        "Sid": "AllowTheAlarmTopicToSend",
        "Effect": "Allow",
        "Principal": {"Service": SNS},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }


def queue_grant(queue_arn: str, topic_arn: str, topic_account: str) -> Grant:
    """An SQS subscriber's queue policy must let the topic send."""
    return Grant(
        what=f"the access policy of queue {queue_arn}",
        service_principal=SNS,
        actions=("sqs:SendMessage",),
        resource=queue_arn,
        context=_context(topic_arn, topic_account),
        statement_to_add=queue_send_statement(queue_arn, topic_arn),
    )


def function_grant(function_arn: str, topic_arn: str, topic_account: str) -> Grant:
    """A Lambda subscriber's resource policy must let the topic invoke it."""
    return Grant(
        what=f"the resource policy of function {function_arn}",
        service_principal=SNS,
        actions=("lambda:InvokeFunction",),
        resource=function_arn,
        context=_context(topic_arn, topic_account),
        statement_to_add={
            "Sid": "AllowSnsTopicToInvoke",
            "Effect": "Allow",
            "Principal": {"Service": SNS},
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn,
            "Condition": {"ArnLike": {"AWS:SourceArn": topic_arn}},
        },
        how_to_add=(
            f"aws lambda add-permission --function-name {function_arn} --statement-id AllowSnsTopicToInvoke"
            f" --action lambda:InvokeFunction --principal {SNS} --source-arn {topic_arn}"
        ),
    )


def _names(statements: tuple[Statement, ...]) -> str:
    return ", ".join(s.name for s in statements)


def _unscoped(statements: tuple[Statement, ...]) -> bool:
    """Whether none of the granting statements is limited to a source (aws:SourceArn/SourceAccount)."""
    for statement in statements:
        for entries in (statement.condition or {}).values():
            if isinstance(entries, Mapping) and any(str(k).lower() in _SOURCE_KEYS for k in entries):
                return False
    return True


def _problem(decision: Decision, grant: Grant) -> str | None:
    who, action = grant.service_principal, decision.action
    if decision.outcome == "denied":
        return f"{_names(decision.denied_by)} denies {action} to {who}; remove it or exempt {who}"
    if decision.outcome == "not allowed":
        return f"no statement allows {who} to call {action}"
    if decision.outcome == "undecided":
        conditions = "; ".join(f"{s.name}: {', '.join(c)}" for s, c in decision.undecided_by)
        return (
            f"whether {who} may call {action} depends on conditions the audit cannot evaluate ({conditions})"
        )
    return None


def judge_grant(policy: str | Mapping[str, Any] | None, grant: Grant) -> GrantVerdict:
    """Whether ``policy`` (None: the resource has no policy) gives ``grant``."""
    if policy is None or policy == "":
        return GrantVerdict(grant, False, problems=("there is no policy",))
    try:
        statements = parse_policy(policy)
    except PolicyDocumentError as error:
        return GrantVerdict(grant, False, problems=(f"the policy cannot be read: {error}",))
    decisions = tuple(
        decide(statements, Request(grant.service_principal, action, grant.resource, grant.context))
        for action in grant.actions
    )
    problems = tuple(p for p in (_problem(d, grant) for d in decisions) if p)
    if any(d.outcome in ("denied", "not allowed") for d in decisions):
        return GrantVerdict(grant, False, decisions, problems)
    if problems:
        return GrantVerdict(grant, None, decisions, problems)
    granting = tuple(dict.fromkeys(s for d in decisions for s in d.allowed_by))
    notes = [f"granted by {_names(granting)}"]
    if _unscoped(granting):
        notes.append("not limited by aws:SourceArn or aws:SourceAccount, so other sources may use it too")
    return GrantVerdict(grant, True, decisions, (), tuple(notes))
