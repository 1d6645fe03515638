"""Do the key, queue and function policies on an alarm's path let the next service act?

Four grants decide whether an alarm reaches a person, and none of them shows on the
resource that breaks:

- the topic's access policy must let ``cloudwatch.amazonaws.com`` call ``sns:Publish`` for
  the alarm (``cloudwatch_topic_grant``; ``topic_policy`` turns the verdict into the chain's problem);
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

from cis_monitoring.core.aws.arns import parse_arn

from .policy_conditions import Context
from .policy_document import Decision, PolicyDocumentError, Request, Statement, decide, parse_policy

CLOUDWATCH = "cloudwatch.amazonaws.com"
SNS = "sns.amazonaws.com"
EVENTS = "events.amazonaws.com"
AWS_MANAGED_SQS_KEY = "alias/aws/sqs"
_SOURCE_KEYS = ("aws:sourcearn", "aws:sourceaccount", "aws:sourceowner")

USABLE_KEY_STATES = ("Enabled", "Updating")
"""KMS key states (DescribeKey ``KeyMetadata.KeyState``; the botocore model's enum is Creating,
Enabled, Disabled, PendingDeletion, PendingImport, PendingReplicaDeletion, Unavailable, Updating)
in which a key encrypts. KMS Developer Guide, "Key states of AWS KMS keys"
(https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html): a Disabled, PendingDeletion,
PendingImport or Unavailable key cannot be used in cryptographic operations; "Change the primary key
in a set of multi-Region keys" (.../multi-region-update.html): "While the key state is Updating, you
can use the keys in cryptographic operations"."""
_KEY_STATE_FIX = {
    "Disabled": "enable it (aws kms enable-key)",
    "PendingDeletion": "cancel its deletion (aws kms cancel-key-deletion), then enable it",
    "PendingReplicaDeletion": "cancel its deletion (aws kms cancel-key-deletion), then enable it",
    "PendingImport": "import its key material",
    "Unavailable": "reconnect its custom key store",
    "Creating": "wait until the replica key is created",
}


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
        statement = json.dumps(self.grant.statement_to_add, separators=(",", ":"))
        if self.granted is None:
            # Never counted as granted: the reader learns why and how to make it decidable.
            text += f"; it cannot be judged, so it is not counted as granted: rewrite that condition or add this statement: {statement}"
        else:
            text += f"; add this statement: {statement}"
            if self.grant.how_to_add:
                text += f" (or run: {self.grant.how_to_add})"
        return text


def service_context(
    service: str, source_arn: str | None, source_account: str | None
) -> dict[str, str | None]:
    """The request context of ``service`` acting as its service principal for a resource of the source.

    Each key from the IAM User Guide, "AWS global condition context keys"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):

    - ``aws:SourceArn``/``aws:SourceAccount``: "included ... only if accessing a resource triggers an
      AWS service to call another service on behalf of the resource owner": the source's ARN and
      account (CloudWatch: the alarm's; SNS: the topic's). Not known: left out, so a condition on it
      is undecided, never guessed;
    - ``aws:PrincipalIsAWSService`` "is set to true when a service uses a service principal";
      ``aws:PrincipalServiceName`` is the service principal's name;
    - ``aws:PrincipalOrgID``/``aws:PrincipalOrgPaths``: "included ... only if the principal is a member
      of an organization"; a service principal is not (the key's note: a policy on it also shuts out
      "AWS services that interact with your internal resources"): absent;
    - ``aws:SourceVpc``/``aws:SourceVpce``: "included ... only if the requester uses a VPC endpoint";
      a service principal calls "using their own identities and from outside of your network locations"
      (AWS Security Blog, "IAM makes it easier for you to manage permissions for AWS services accessing
      your resources"), not through the customer's endpoint: absent;
    - ``aws:SecureTransport`` "is always included"; AWS's own service deliveries pass a TLS-only Deny
      (the Control Tower log bucket policy denies ``aws:SecureTransport false`` to ``*`` and CloudTrail
      and Config still deliver: Control Tower User Guide, "Amazon S3 bucket policy in the audit
      account"; SNS Developer Guide, "Enforce encryption of data in transit": HTTP cannot publish to an
      encrypted topic at all): true.

    ``aws:PrincipalAccount`` is documented as present on every request, with no value given for a
    service principal: it stays unknown, so a condition on it is undecided.
    """
    context: dict[str, str | None] = {
        "aws:securetransport": "true",
        "aws:principalisawsservice": "true",
        "aws:principalservicename": service,
        "aws:principalorgid": None,
        "aws:principalorgpaths": None,
        "aws:sourcevpc": None,
        "aws:sourcevpce": None,
    }
    if source_arn:
        context["aws:sourcearn"] = source_arn
    if source_account:
        context["aws:sourceaccount"] = source_account
    return context


def cloudwatch_topic_statement(
    topic_arn: str, account_id: str, partition: str, region: str
) -> dict[str, Any]:
    """The topic-policy statement that lets the alarms of ``account_id`` in ``region`` publish.

    Scoped as the CloudWatch User Guide recommends against the confused deputy ("Setting up Amazon
    SNS notifications": ``aws:SourceArn`` the alarms, ``aws:SourceAccount`` their account). The program
    writes it; the audit asks for it when a topic policy lacks it.
    """
    return {
        "Sid": "AllowCloudWatchAlarmsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDWATCH},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"},
        },
    }


def cloudwatch_topic_grant(topic_arn: str, alarm_arn: str | None, alarm_account: str | None) -> Grant:
    """A topic's access policy must let CloudWatch publish the alarm ``alarm_arn`` to it.

    CloudWatch publishes as ``cloudwatch.amazonaws.com`` with ``aws:SourceArn`` the alarm's ARN and
    ``aws:SourceAccount`` its account (CloudWatch User Guide, "Setting up Amazon SNS notifications";
    SNS Developer Guide, "Example cases for Amazon SNS access control": "Allow any CloudWatch alarm to
    publish to a topic in a different account" grants ``"AWS": "*"`` under ``aws:SourceArn`` = the
    alarms). It also sets SNS's ``aws:SourceOwner`` to "the 12-digit AWS account ID on whose behalf the
    service is publishing" (same page, "aws:SourceAccount versus aws:SourceOwner": Amazon CloudWatch
    is listed among the services that support it). That is what SNS's default topic policy
    (``__default_statement_ID``: ``"AWS": "*"`` under ``AWS:SourceOwner`` = the topic's account) matches,
    so a new topic takes the account's own alarms with no policy change, as the CloudWatch guide uses
    it; "the default policy gives all other AWS products access to your topic ... only on behalf of AWS
    resources you own" (SNS Developer Guide, access-control use cases).
    """
    topic, alarm = parse_arn(topic_arn), parse_arn(alarm_arn)
    # What to add names the alarm's account and Region (an alarm may notify another account's topic).
    place = alarm or topic
    region = place.region if place is not None else ""
    partition = place.partition if place is not None else "aws"
    account = alarm_account or (topic.account if topic is not None else "")
    context = service_context(CLOUDWATCH, alarm_arn, alarm_account)
    if alarm_account:
        context["aws:sourceowner"] = alarm_account
    return Grant(
        what=f"the access policy of topic {topic_arn}",
        service_principal=CLOUDWATCH,
        actions=("sns:Publish",),
        resource=topic_arn,
        context=context,
        statement_to_add=cloudwatch_topic_statement(topic_arn, account, partition, region),
    )


def events_topic_statement(topic_arn: str, rule_arns: list[str]) -> dict[str, Any]:
    """The topic-policy statement that lets exactly these EventBridge rules publish (the real-time channel).

    EventBridge publishes as ``events.amazonaws.com`` with ``aws:SourceArn`` "the ARN of the rule that is
    sending the event" and ``aws:SourceAccount`` the rule's account (EventBridge User Guide, "Using IAM
    policy conditions in Amazon EventBridge"); the topic policy must allow it (re:Post Knowledge Center,
    "sns-not-getting-eventbridge-notification": the topic's policy must list events.amazonaws.com for
    sns:Publish). Scoped to the rule ARNs, so no other rule, of this account or another, may publish.
    """
    return {
        "Sid": "AllowTheRealTimeRulesOfThisStack",
        "Effect": "Allow",
        "Principal": {"Service": EVENTS},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
    }


def events_topic_grant(topic_arn: str, rule_arn: str | None, rule_account: str | None) -> Grant:
    """A topic's access policy must let EventBridge publish for rule ``rule_arn``.

    SNS's ``AWS:SourceOwner`` (which SNS's default policy tests) is not documented for EventBridge: it stays
    out of the request, so the default policy is not counted as a grant (an explicit statement is).
    """
    return Grant(
        what=f"the access policy of topic {topic_arn}",
        service_principal=EVENTS,
        actions=("sns:Publish",),
        resource=topic_arn,
        context=service_context(EVENTS, rule_arn, rule_account),
        statement_to_add=events_topic_statement(topic_arn, [rule_arn] if rule_arn else ["<the rule's ARN>"]),
    )


def events_key_statement() -> dict[str, Any]:
    """The key-policy statement that lets EventBridge publish to a topic encrypted with the key.

    As the SNS Developer Guide writes it for AWS services that publish to an encrypted topic ("Enable
    compatibility between event sources from AWS services and encrypted topics"): the service principal,
    ``kms:GenerateDataKey*`` and ``kms:Decrypt``, and no condition. No AWS source found documents which of
    ``aws:SourceArn``/``aws:SourceAccount`` EventBridge sends to KMS when SNS encrypts for it; a condition
    it does not send would drop every real-time alert silently, so there is none. The topic policy,
    scoped to the rule ARNs, decides who may publish at all.
    """
    return {
        "Sid": "AllowEventBridgeToPublishToTheEncryptedTopic",
        "Effect": "Allow",
        "Principal": {"Service": EVENTS},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
    }


def key_state_problem(key: str, state: str | None) -> str | None:
    """Why KMS key ``key`` in ``state`` cannot encrypt, and what to do (None: it can)."""
    if state in USABLE_KEY_STATES:
        return None
    fix = _KEY_STATE_FIX.get(str(state), "make it Enabled")
    return f"its KMS key {key} is {state}, so nothing can be encrypted with it; {fix}"


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
        context=service_context(CLOUDWATCH, alarm_arn, account_id),
        statement_to_add=cloudwatch_key_statement(account_id),
    )


def sns_key_grant(key_arn: str, topic_arn: str, topic_account: str) -> Grant:
    """An encrypted queue's KMS key must let SNS encrypt the messages it delivers."""
    return Grant(
        what=f"the key policy of KMS key {key_arn} (the queue's encryption key)",
        service_principal=SNS,
        actions=("kms:GenerateDataKey", "kms:Decrypt"),
        resource=key_arn,
        context=service_context(SNS, topic_arn, topic_account),
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
        context=service_context(SNS, topic_arn, topic_account),
        statement_to_add=queue_send_statement(queue_arn, topic_arn),
    )


def function_grant(function_arn: str, topic_arn: str, topic_account: str) -> Grant:
    """A Lambda subscriber's resource policy must let the topic invoke it."""
    return Grant(
        what=f"the resource policy of function {function_arn}",
        service_principal=SNS,
        actions=("lambda:InvokeFunction",),
        resource=function_arn,
        context=service_context(SNS, topic_arn, topic_account),
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
        # The IAM User Guide's own exemption for service principals (aws:PrincipalIsAWSService).
        return (
            f"{_names(decision.denied_by)} denies {action} to {who}; remove it or exempt {who}"
            ' (for example with "BoolIfExists": {"aws:PrincipalIsAWSService": "false"})'
        )
    if decision.outcome == "not allowed":
        return f"no statement allows {who} to call {action}"
    if decision.outcome == "undecided":
        conditions = "; ".join(f"{s.name}: {', '.join(c)}" for s, c in decision.undecided_by)
        return f"whether {who} may call {action} depends on conditions the evaluator cannot evaluate ({conditions})"
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
