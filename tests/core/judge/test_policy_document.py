"""Resource policy documents: parsing (all problems at once) and IAM's decision for one request."""

from __future__ import annotations

from typing import Any

import pytest

from cis_monitoring.core.judge.policy_document import PolicyDocumentError, Request, decide, parse_policy

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CONTEXT: dict[str, str | None] = {"aws:sourceaccount": "123456789012", "aws:securetransport": "true"}


def request(action: str = "kms:GenerateDataKey", service: str = "cloudwatch.amazonaws.com") -> Request:
    return Request(service, action, KEY, CONTEXT)


def allow(**fields: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        **fields,
    }


def outcome(*statements: dict[str, Any], action: str = "kms:GenerateDataKey", **kwargs: Any) -> str:
    return decide(parse_policy({"Statement": list(statements)}), request(action, **kwargs)).outcome


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (allow(), "allowed"),
        (allow(Principal="*"), "allowed"),
        (allow(Principal={"AWS": "*"}), "allowed"),  # everyone, service principals included
        (allow(Principal={"Service": ["sns.amazonaws.com", "CloudWatch.amazonaws.com"]}), "allowed"),
        (allow(Principal={"AWS": "arn:aws:iam::123456789012:root"}), "not allowed"),  # IAM delegation only
        (allow(Principal={"Service": "events.amazonaws.com"}), "not allowed"),
        (allow(Action="kms:*"), "allowed"),
        (allow(Action="*"), "allowed"),
        (allow(Action="KMS:generatedatakey"), "allowed"),  # action names are case-insensitive
        (allow(Action="kms:GenerateDataKeyWithoutPlaintext"), "not allowed"),
        (allow(Action=None, NotAction="kms:Decrypt"), "allowed"),
        (allow(Action=None, NotAction="kms:Generate*"), "not allowed"),
        (allow(Resource=KEY), "allowed"),
        (allow(Resource=KEY.replace("1234abcd", "ffffffff")), "not allowed"),
        (allow(Resource=None, NotResource=KEY), "not allowed"),
        (allow(Principal=None, NotPrincipal={"Service": "sns.amazonaws.com"}), "allowed"),
        (allow(Principal=None, NotPrincipal={"Service": "cloudwatch.amazonaws.com"}), "not allowed"),
        (allow(Condition={"StringEquals": {"aws:SourceAccount": "123456789012"}}), "allowed"),
        (allow(Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}}), "not allowed"),
        (allow(Condition={"StringEquals": {"kms:CallerAccount": "123456789012"}}), "undecided"),
    ],
)
def test_one_statement(statement: dict[str, Any], expected: str) -> None:
    cleaned = {k: v for k, v in statement.items() if v is not None}
    assert outcome(cleaned) == expected


def test_an_explicit_deny_wins() -> None:
    deny = {"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    decision = decide(parse_policy({"Statement": [allow(), deny]}), request())
    assert decision.outcome == "denied"
    assert [s.name for s in decision.denied_by] == ["statement 'Deny'"]


def test_a_deny_whose_condition_is_false_does_not_apply() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert outcome(allow(), deny) == "allowed"


def test_a_deny_the_audit_cannot_evaluate_leaves_it_undecided() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}},
    }
    decision = decide(parse_policy({"Statement": [allow(), deny]}), request())
    assert decision.outcome == "undecided"
    assert [c for _, c in decision.undecided_by] == [("StringNotEquals kms:ViaService",)]


def test_a_single_statement_object_is_accepted() -> None:
    assert (
        len(
            parse_policy(
                '{"Version": "2012-10-17", "Statement": '
                + '{"Effect": "Allow", "Principal": "*", "Action": "*"}}'
            )
        )
        == 1
    )


def test_every_problem_is_named_by_its_key_path() -> None:
    with pytest.raises(PolicyDocumentError) as caught:
        parse_policy(
            {
                "Statement": [
                    {"Effect": "allow", "Principal": "*", "Action": "*"},
                    {"Effect": "Allow", "Action": "*", "NotAction": "x", "Principal": "*"},
                    {"Effect": "Deny", "Action": "*"},
                    {"Effect": "Allow", "Principal": "*", "Action": [], "Resources": "*"},
                    "not an object",
                ]
            }
        )
    assert caught.value.problems == [
        "Statement[0].Effect: must be 'Allow' or 'Deny', not 'allow'",
        "Statement[1]: needs exactly one of Action and NotAction",
        "Statement[2]: needs exactly one of Principal and NotPrincipal",
        "Statement[3].Resources: unknown key",
        "Statement[3].Action: must be a string or a non-empty list of strings",
        "Statement[4]: must be an object",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "the policy is not valid JSON"),
        ("[]", "the policy must be a JSON object"),
        ("{}", "Statement: missing"),
    ],
)
def test_text_that_is_no_policy(text: str, problem: str) -> None:
    with pytest.raises(PolicyDocumentError, match=problem):
        parse_policy(text)
