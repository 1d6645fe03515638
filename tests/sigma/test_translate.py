"""The filter-pattern tree as a Sigma detection: shapes, refusals, and equivalence on any record.

The equivalence test is the strong one: for generated pattern trees and records, the product's
matcher over the translated detection, pySigma's own reading of the same rule, and the core's
filter evaluator with letter case folded give the same verdict.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.rule import SigmaRule

from cis_monitoring.core.filter_pattern import (
    And,
    Compare,
    Key,
    NotExists,
    Or,
    Pattern,
    Selector,
    StringValue,
    matches,
    parse,
)
from cis_monitoring.sigma.check import fold_pattern, fold_record
from cis_monitoring.sigma.matcher import selects
from cis_monitoring.sigma.translate import Detection, Untranslatable, escape, translate
from tests.sigma.pysigma_eval import pysigma_selects


def _detection(text: str) -> dict[str, Any]:
    return translate(parse(text)).as_yaml_data()


def as_rule(detection: Detection) -> SigmaRule:
    document = {
        "title": "translation under test",
        "logsource": {"product": "aws", "service": "cloudtrail"},
        "detection": detection.as_yaml_data(),
    }
    return SigmaRule.from_yaml(yaml.safe_dump(document, sort_keys=False))


SHAPES = [
    (
        "{ ($.eventName = CreateTrail) || ($.eventName = StopLogging) }",
        {"selection": {"eventName": ["CreateTrail", "StopLogging"]}, "condition": "selection"},
    ),
    (
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
        {
            "selection": {
                "userIdentity.type": "Root",
                "userIdentity.invokedBy|exists": False,
                "eventType|exists": True,
            },
            "filter": {"eventType": "AwsServiceEvent"},
            "condition": "selection and not filter",
        },
    ),
    (
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.eventName != "HeadBucket") }',
        {
            "selection_1": {"errorCode|endswith": "UnauthorizedOperation"},
            "selection_2": {"errorCode|startswith": "AccessDenied", "eventName|exists": True},
            "filter": {"eventName": "HeadBucket"},
            "condition": "selection_1 or (selection_2 and not filter)",
        },
    ),
    (
        "{ ($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || ($.eventName = DeleteRoute) }",
        {
            "selection_1": {"eventSource": "ec2.amazonaws.com", "eventName": "CreateRoute"},
            "selection_2": {"eventName": "DeleteRoute"},
            "condition": "1 of selection_*",
        },
    ),
    (
        "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
        {
            "selection": {
                "eventSource": "kms.amazonaws.com",
                "eventName": ["DisableKey", "ScheduleKeyDeletion"],
            },
            "condition": "selection",
        },
    ),
    (
        '{ $.errorMessage = "*denied*" }',
        {"selection": {"errorMessage|contains": "denied"}, "condition": "selection"},
    ),
    ('{ $.x = "*" }', {"selection": {"x|exists": True}, "condition": "selection"}),
    # An inner * is literal in the filter; in Sigma it is escaped, and so are ? and \.
    ('{ $.x = "a*b?c" }', {"selection": {"x": "a\\*b\\?c"}, "condition": "selection"}),
    (
        "{ ($.a = x) && (($.b = y) || ($.c NOT EXISTS)) }",
        {
            "selection_1": {"a": "x"},
            "selection_2": {"b": "y"},
            "selection_3": {"c|exists": False},
            "condition": "selection_1 and (selection_2 or selection_3)",
        },
    ),
]


@pytest.mark.parametrize(("pattern", "expected"), SHAPES, ids=[p for p, _ in SHAPES])
def test_each_construct_translates_to_its_idiomatic_sigma(pattern: str, expected: dict[str, Any]) -> None:
    assert _detection(pattern) == expected


REFUSED = [
    ("{ $.x = 1 }", "number"),
    ("{ $.x > 1 }", "number"),
    ("{ $.x = %ab+% }", "regular expression"),
    ("{ $.x IS TRUE }", "IS TRUE"),
    ("{ $.x IS NULL }", "IS NULL"),
    ("{ $.x[0] = a }", "arrays"),
    ("{ $.x[*] = a }", "arrays"),
    ("{ $.* = a }", "arrays"),
    ("{ $.['a b'] = c }", "plain name"),
    ('{ $.x = "" }', "empty string"),
    ("StopLogging", "terms pattern"),
    ("[ip, user, ...]", "delimited pattern"),
    ("", "empty pattern"),
]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED, ids=[p or "(empty)" for p, _ in REFUSED])
def test_what_sigma_cannot_state_is_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(Untranslatable, match=reason):
        translate(parse(pattern))


def test_an_ordering_on_a_string_is_refused() -> None:
    """The parser rejects it in text; a tree built by hand still gets a reason, not a rule."""
    with pytest.raises(Untranslatable, match="ordering"):
        translate(Pattern("json", Compare(_selector("x"), ">", StringValue("a"))))


def test_escape_makes_sigma_wildcards_and_backslashes_plain() -> None:
    assert escape(r"a*b?c\d") == r"a\*b\?c\\d"
    rule = as_rule(translate(parse('{ $.x = "a*b" }')))
    assert pysigma_selects(rule, {"x": "a*b"}) and not pysigma_selects(rule, {"x": "aZZb"})


# ---------------------------------------------------------------- equivalence on any record

FIELDS = ("eventName", "userIdentity.type", "errorCode")
TEXT = st.text(alphabet="aB*?\\", min_size=1, max_size=4)


def _selector(field: str) -> Selector:
    return Selector(tuple(Key(name) for name in field.split(".")))


leaves = st.one_of(
    st.builds(
        lambda f, op, v: Compare(_selector(f), op, StringValue(v)),
        st.sampled_from(FIELDS),
        st.sampled_from(["=", "!="]),
        TEXT,
    ),
    st.builds(lambda f: NotExists(_selector(f)), st.sampled_from(FIELDS)),
)
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(lambda items: And(tuple(items)), st.lists(children, min_size=2, max_size=3)),
        st.builds(lambda items: Or(tuple(items)), st.lists(children, min_size=2, max_size=3)),
    ),
    max_leaves=6,
)
# Strings (in any case), numbers, or absent: the values CloudTrail's compared fields hold.
values = st.one_of(st.text(alphabet="aAbB*?\\", max_size=4), st.integers(-5, 5))
records = st.fixed_dictionaries(
    {},
    optional={
        "eventName": values,
        "errorCode": values,
        "userIdentity": st.fixed_dictionaries({}, optional={"type": values}),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, record_list=st.lists(records, min_size=1, max_size=6))
def test_the_rule_selects_what_the_case_folded_filter_selects(tree: Any, record_list: list[Any]) -> None:
    pattern = Pattern("json", tree)
    detection = translate(pattern)
    rule = as_rule(detection)
    folded = fold_pattern(pattern)
    for record in record_list:
        expected = matches(folded, fold_record(record))
        assert selects(detection.as_yaml_data(), record) == expected, (detection, record)
        assert pysigma_selects(rule, record) == expected, (detection, record)


def test_stated_limit_a_boolean_or_object_field_under_not_equals() -> None:
    """The filter's != is false on a boolean or object; Sigma's "present and not equal" is true.

    CloudTrail's compared fields hold strings, so the rules never meet this; the module docstring
    and the rule text say the translation is exact for string and number fields and absent ones.
    """
    pattern = parse('{ $.x != "a" }')
    detection = translate(pattern).as_yaml_data()
    for odd in (True, None, {"y": 1}, ["a"]):
        assert not matches(pattern, {"x": odd})
        assert selects(detection, {"x": odd})
