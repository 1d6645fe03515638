"""The event-pattern evaluator: each operator as the EventBridge User Guide describes it, and what it does not judge."""

from __future__ import annotations

import pytest

from cis_monitoring.core.event_pattern import EventPatternError, Outcome, matches, parse_pattern

EVENT = {
    "source": "aws.cloudtrail",
    "detail-type": "AWS API Call via CloudTrail",
    "resources": ["arn:aws:ec2:us-east-1:1:instance/a", "arn:aws:ec2:us-east-1:1:instance/b"],
    "detail": {
        "eventName": "StopLogging",
        "count": 5,
        "ratio": 0.5,
        "readOnly": False,
        "responseElements": None,
        "eventVersion": "",
        "requestParameters": {"name": "main"},
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
    },
}


def outcome(pattern: object) -> Outcome:
    return matches(pattern, EVENT).outcome  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # exact values, nested fields, and the array as OR (eb-event-patterns.html)
        ({"source": ["aws.cloudtrail"]}, Outcome.MATCH),
        ({"source": ["aws.ec2", "aws.cloudtrail"]}, Outcome.MATCH),
        ({"source": ["aws.CloudTrail"]}, Outcome.NO_MATCH),  # no case folding
        ({"detail": {"eventName": ["StopLogging"]}}, Outcome.MATCH),
        ({"detail": {"requestParameters": {"name": ["main"]}}}, Outcome.MATCH),
        ({"detail": {"requestParameters": {"name": ["other"]}}}, Outcome.NO_MATCH),
        ({"detail": {"count": [5]}}, Outcome.MATCH),
        ({"detail": {"count": ["5"]}}, Outcome.NO_MATCH),  # a string is not the number
        ({"detail": {"readOnly": [False]}}, Outcome.MATCH),
        ({"detail": {"readOnly": [0]}}, Outcome.NO_MATCH),  # false is not 0
        ({"detail": {"responseElements": [None]}}, Outcome.MATCH),
        ({"detail": {"eventVersion": [""]}}, Outcome.MATCH),
        ({"detail": {"eventVersion": [None]}}, Outcome.NO_MATCH),  # "" and null are not interchangeable
        ({"detail": {"responseElements": [""]}}, Outcome.NO_MATCH),
        # every field the pattern names must be in the event
        ({"detail": {"errorCode": ["AccessDenied"]}}, Outcome.NO_MATCH),
        # an array value matches when it intersects (eb-event-patterns-arrays.html)
        ({"resources": ["arn:aws:ec2:us-east-1:1:instance/b"]}, Outcome.MATCH),
        # prefix
        ({"detail": {"eventName": [{"prefix": "Stop"}]}}, Outcome.MATCH),
        ({"detail": {"eventName": [{"prefix": "stop"}]}}, Outcome.NO_MATCH),
        ({"detail": {"count": [{"prefix": "5"}]}}, Outcome.NO_MATCH),  # only string values
        # anything-but: a value, a list, a prefix
        ({"detail": {"eventName": [{"anything-but": "StartLogging"}]}}, Outcome.MATCH),
        ({"detail": {"eventName": [{"anything-but": ["StopLogging", "DeleteTrail"]}]}}, Outcome.NO_MATCH),
        ({"detail": {"count": [{"anything-but": [1, 2]}]}}, Outcome.MATCH),
        ({"detail": {"eventName": [{"anything-but": {"prefix": "Start"}}]}}, Outcome.MATCH),
        ({"detail": {"eventName": [{"anything-but": {"prefix": "Stop"}}]}}, Outcome.NO_MATCH),
        (
            {"detail": {"errorCode": [{"anything-but": "AccessDenied"}]}},
            Outcome.NO_MATCH,
        ),  # the field is missing
        # exists, only on leaves
        ({"detail": {"eventName": [{"exists": True}]}}, Outcome.MATCH),
        ({"detail": {"errorCode": [{"exists": False}]}}, Outcome.MATCH),
        ({"detail": {"errorCode": [{"exists": True}]}}, Outcome.NO_MATCH),
        ({"detail": {"requestParameters": [{"exists": False}]}}, Outcome.MATCH),  # an object is not a leaf
        ({"detail": {"nope": {"deeper": [{"exists": False}]}}}, Outcome.MATCH),
        # $or
        ({"detail": {"$or": [{"eventName": ["X"]}, {"count": [5]}]}}, Outcome.MATCH),
        ({"detail": {"$or": [{"eventName": ["X"]}, {"count": [6]}]}}, Outcome.NO_MATCH),
    ],
)
def test_each_operator_as_documented(pattern: object, expected: Outcome) -> None:
    assert outcome(pattern) == expected


@pytest.mark.parametrize(
    "matcher",
    [
        {"suffix": "Logging"},
        {"wildcard": "Stop*"},
        {"equals-ignore-case": "stoplogging"},
        {"numeric": [">", 0]},
        {"cidr": "10.0.0.0/8"},
        {"anything-but": {"suffix": "x"}},
        {"prefix": {"equals-ignore-case": "stop"}},
        {"prefix": "a", "suffix": "b"},
    ],
)
def test_what_it_does_not_judge_is_cannot_never_a_match(matcher: dict) -> None:
    verdict = matches({"detail": {"eventName": [matcher]}}, EVENT)
    assert verdict.outcome == Outcome.CANNOT and verdict.why


def test_a_float_is_not_judged_because_its_text_is_lost() -> None:
    assert outcome({"detail": {"ratio": [0.5]}}) == Outcome.CANNOT


def test_three_valued_logic_judges_what_the_unjudged_part_cannot_change() -> None:
    unjudged = {"wildcard": "Stop*"}
    # AND: one field that surely does not match decides
    assert outcome({"source": ["aws.ec2"], "detail": {"eventName": [unjudged]}}) == Outcome.NO_MATCH
    assert outcome({"source": ["aws.cloudtrail"], "detail": {"eventName": [unjudged]}}) == Outcome.CANNOT
    # OR: one value that surely matches decides
    assert outcome({"detail": {"eventName": [unjudged, "StopLogging"]}}) == Outcome.MATCH
    assert outcome({"detail": {"eventName": [unjudged, "Other"]}}) == Outcome.CANNOT


def test_an_exclusion_with_exists_false_keeps_events_without_the_field() -> None:
    """The quiet-roles form: without the exists branch, anything-but drops every IAM user's event."""
    issuer = {
        "userIdentity": {
            "sessionContext": {"sessionIssuer": {"arn": [{"anything-but": ["arn:aws:iam::1:role/x"]}]}}
        }
    }
    missing = {"userIdentity": {"sessionContext": {"sessionIssuer": {"arn": [{"exists": False}]}}}}
    assert outcome({"detail": issuer}) == Outcome.NO_MATCH
    assert outcome({"detail": {"$or": [missing, issuer]}}) == Outcome.MATCH


@pytest.mark.parametrize(
    "pattern",
    [
        "not json",
        "[]",
        "{}",
        {"source": "aws.cloudtrail"},
        {"source": []},
        {"detail": {}},
        {"$or": [{"a": ["b"]}]},
    ],
)
def test_a_pattern_eventbridge_would_refuse_is_an_error(pattern: object) -> None:
    with pytest.raises(EventPatternError):
        parse_pattern(pattern)  # type: ignore[arg-type]
