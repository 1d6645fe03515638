"""The small Sigma evaluator: the specification's semantics for the subset, checked against pySigma's reading."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sigma.rule import SigmaRule

from cis_monitoring.sigma.matcher import UnsupportedSigma, selects
from tests.sigma.pysigma_eval import pysigma_selects

RECORD = {
    "eventName": "StopLogging",
    "eventSource": "cloudtrail.amazonaws.com",
    "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"},
    "errorCode": "AccessDenied",
    "count": 3,
    "readOnly": False,
    "path": r"C:\temp*x",
}

CASES: list[tuple[dict[str, Any], bool]] = [
    ({"s": {"eventName": "StopLogging"}, "condition": "s"}, True),
    ({"s": {"eventName": "stoplogging"}, "condition": "s"}, True),  # case-insensitive ("General")
    ({"s": {"eventName": ["CreateTrail", "StopLogging"]}, "condition": "s"}, True),  # a list is OR
    ({"s": {"eventName": "StopLogging", "errorCode": "Other"}, "condition": "s"}, False),  # a map is AND
    ({"s": {"eventName": "Stop*"}, "condition": "s"}, True),
    ({"s": {"eventName": "Stop?ogging"}, "condition": "s"}, True),
    ({"s": {"eventName": "Stop\\*"}, "condition": "s"}, False),  # an escaped * is plain
    ({"s": {"path": "C:\\\\temp\\*x"}, "condition": "s"}, True),  # \\ is one backslash, \* a star
    ({"s": {"eventName|contains": "opLog"}, "condition": "s"}, True),
    ({"s": {"eventName|startswith": "Stop"}, "condition": "s"}, True),
    ({"s": {"eventName|endswith": "Stop"}, "condition": "s"}, False),
    ({"s": {"userIdentity.type": "Root"}, "condition": "s"}, True),  # dotted path into objects
    ({"s": {"userIdentity.missing|exists": False}, "condition": "s"}, True),
    ({"s": {"readOnly|exists": True}, "condition": "s"}, True),  # presence only, whatever the value
    ({"s": {"readOnly": "false"}, "condition": "s"}, False),  # a boolean is never compared as text
    ({"s": {"count": "3"}, "condition": "s"}, True),  # a number is compared as its JSON text
    ({"a": {"eventName": "X"}, "b": {"errorCode": "AccessDenied"}, "condition": "a or b"}, True),
    ({"a": {"eventName": "X"}, "b": {"errorCode": "AccessDenied"}, "condition": "a and b"}, False),
    ({"a": {"eventName": "X"}, "b": {"errorCode": "AccessDenied"}, "condition": "not a and b"}, True),
    # or < and < not: "a or b and c" is "a or (b and c)".
    (
        {
            "a": {"eventName": "StopLogging"},
            "b": {"eventName": "X"},
            "c": {"errorCode": "Y"},
            "condition": "a or b and c",
        },
        True,
    ),
    (
        {
            "a": {"eventName": "StopLogging"},
            "b": {"eventName": "X"},
            "c": {"errorCode": "Y"},
            "condition": "(a or b) and c",
        },
        False,
    ),
    (
        {
            "selection_1": {"eventName": "X"},
            "selection_2": {"errorCode": "AccessDenied"},
            "condition": "1 of selection_*",
        },
        True,
    ),
    (
        {
            "selection_1": {"eventName": "X"},
            "selection_2": {"errorCode": "AccessDenied"},
            "condition": "all of selection_*",
        },
        False,
    ),
    (
        {"a": {"eventName": "StopLogging"}, "_b": {"eventName": "X"}, "condition": "all of them"},
        True,
    ),  # _b is not "them"
    ({"a": {"eventName": "X"}, "f": {"errorCode": "AccessDenied"}, "condition": "not (a or f)"}, False),
]


def _rule(detection: dict[str, Any]) -> SigmaRule:
    document = {
        "title": "t",
        "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": detection,
    }
    return SigmaRule.from_yaml(yaml.safe_dump(document))


@pytest.mark.parametrize(("detection", "expected"), CASES, ids=[str(d) for d, _ in CASES])
def test_the_matcher_reads_rules_as_the_specification_and_pysigma_do(
    detection: dict[str, Any], expected: bool
) -> None:
    assert selects(detection, RECORD) is expected
    assert pysigma_selects(_rule(detection), RECORD) is expected


UNSUPPORTED = [
    {"s": {"eventName|re": "Stop.*"}, "condition": "s"},
    {"s": {"eventName|contains|all": ["a", "b"]}, "condition": "s"},
    {"s": {"eventName": None}, "condition": "s"},
    {"s": {"count|exists": "yes"}, "condition": "s"},
    {"s": ["keyword"], "condition": "s"},
    {"s": {"eventName": "X"}, "condition": ["s", "s"]},
    {"s": {"eventName": "X"}, "condition": "t"},
    {"s": {"eventName": "X"}, "condition": "1 of t*"},
    {"s": {"eventName": "X"}, "condition": "(s"},
    {"s": {"eventName": "X"}, "condition": "s s"},
    {"s": {"eventName": "X"}, "condition": "s | count() > 1"},
]


@pytest.mark.parametrize("detection", UNSUPPORTED, ids=[str(d) for d in UNSUPPORTED])
def test_what_it_does_not_implement_is_refused_not_guessed(detection: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedSigma):
        selects(detection, RECORD)
