"""IAM Condition blocks, three-valued: a table of operators, present/absent/unknown keys."""

from __future__ import annotations

from typing import Any

import pytest

from cis_monitoring.core.judge.policy_conditions import (
    all_of,
    any_of,
    arn_like,
    evaluate_conditions,
    glob_match,
)

TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
CONTEXT: dict[str, str | None] = {
    "aws:sourcearn": TOPIC,
    "aws:sourceaccount": "123456789012",
    "aws:securetransport": "true",
    "aws:principalorgid": None,  # known to be absent
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, True),
        ({"StringEquals": {"aws:SourceAccount": "999999999999"}}, False),
        ({"StringEquals": {"aws:SourceAccount": ["999999999999", "123456789012"]}}, True),  # values: OR
        ({"StringEquals": {"AWS:SOURCEACCOUNT": "123456789012"}}, True),  # keys are case-insensitive
        ({"StringEqualsIgnoreCase": {"aws:SourceArn": TOPIC.upper()}}, True),
        ({"StringNotEquals": {"aws:SourceAccount": "999999999999"}}, True),
        ({"StringNotEquals": {"aws:SourceAccount": ["999999999999", "123456789012"]}}, False),
        ({"StringLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:*"}}, True),
        ({"StringLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:alarm?"}}, True),
        (
            {"StringLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:[a]larms"}},
            False,
        ),  # no classes
        ({"ArnEquals": {"aws:SourceArn": TOPIC}}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:alarms"}}, True),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:*"}}, False),  # six parts, one by one
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:other"}}, True),
        ({"Bool": {"aws:SecureTransport": "false"}}, False),
        ({"Bool": {"aws:SecureTransport": True}}, True),  # JSON true reads as "true"
        # A key known to be absent: positive operators fail, negated and IfExists pass.
        ({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, False),
        ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}, True),
        ({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}, True),
        ({"Null": {"aws:PrincipalOrgID": "true"}}, True),
        ({"Null": {"aws:SourceArn": "true"}}, False),
        ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, False),
        ({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, True),
        ({"NumericLessThan": {"aws:PrincipalOrgID": "3"}}, False),
        # Operators and keys: AND.
        (
            {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnLike": {"aws:SourceArn": "arn:*:sns:*:*:x"},
            },
            False,
        ),
        ({"StringEquals": {"aws:SourceAccount": "123456789012", "aws:SourceArn": TOPIC}}, True),
    ],
)
def test_conditions_the_audit_can_decide(condition: dict[str, Any], expected: bool) -> None:
    result = evaluate_conditions(condition, CONTEXT)
    assert result.value is expected
    assert result.unknown == ()


@pytest.mark.parametrize(
    ("condition", "unknown"),
    [
        (
            {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}},
            ("StringEquals kms:ViaService",),
        ),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, ("IpAddress aws:SourceIp",)),
        (
            {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}},
            ("StringEquals aws:SourceAccount",),
        ),
        ({"NumericLessThan": {"aws:SourceAccount": "3"}}, ("NumericLessThan aws:SourceAccount",)),
        ({"StringEquals": "not an object"}, ("StringEquals (not an object)",)),
    ],
)
def test_conditions_the_audit_cannot_decide_say_which(
    condition: dict[str, Any], unknown: tuple[str, ...]
) -> None:
    result = evaluate_conditions(condition, CONTEXT)
    assert result.value is None
    assert result.unknown == unknown


def test_a_false_condition_decides_even_beside_an_unknown_one() -> None:
    condition = {
        "StringEquals": {"aws:SourceAccount": "999999999999", "kms:ViaService": "sns.us-east-1.amazonaws.com"}
    }
    assert evaluate_conditions(condition, CONTEXT).value is False


def test_no_condition_holds() -> None:
    assert evaluate_conditions(None, CONTEXT).value is True


@pytest.mark.parametrize(
    ("values", "and_", "or_"),
    [([True, True], True, True), ([True, None], None, True), ([False, None], False, None), ([], True, False)],
)
def test_three_valued_logic(values: list[bool | None], and_: bool | None, or_: bool | None) -> None:
    assert all_of(values) is and_
    assert any_of(values) is or_


def test_globs_and_arns() -> None:
    assert glob_match("kms:GenerateDataKey*", "kms:GenerateDataKey")
    assert not glob_match("kms:GenerateDataKey*", "KMS:generatedatakey")
    assert glob_match("kms:GenerateDataKey*", "KMS:generatedatakey", ignore_case=True)
    assert arn_like("arn:aws:lambda:*:*:function:*", "arn:aws:lambda:us-east-1:1:function:f:live")
    assert not arn_like("arn:aws:sns:*:*:alarms", "not-an-arn")
