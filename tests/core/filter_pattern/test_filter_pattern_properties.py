"""Property tests: the parser only ever raises FilterPatternError, and to_text is a faithful printer."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest

# Hypothesis is a test tool, not part of the standard library: where only the standard library and
# pytest are importable (tests/test_packaging.py runs the core's tests so), this module alone skips.
pytest.importorskip("hypothesis", reason="property tests need hypothesis (requirements-dev.txt)")

from hypothesis import given, settings
from hypothesis import strategies as st

from cis_monitoring.core.filter_pattern import (
    MAX_LENGTH,
    And,
    AnyIndex,
    AnyKey,
    Compare,
    Delimited,
    Field,
    FieldTest,
    FilterPatternError,
    Index,
    Is,
    Key,
    NotExists,
    NumberValue,
    Or,
    Pattern,
    Regex,
    Rest,
    Selector,
    StringValue,
    Term,
    Terms,
    matches,
    parse,
    to_text,
)

SETTINGS = settings(max_examples=200, deadline=None)

# --- (a) parse never raises anything but FilterPatternError ---------------------------

TOKENS = [
    "{", "}", "(", ")", "$", ".", "=", "!=", "==", "!", "<", ">", "<=", ">=", "&&", "||", "&", "|",
    '"', "'", "\\", "*", "%", "[", "]", ",", "...", "?", "-", " ", "\n", "\t",
    "IS", "NOT", "EXISTS", "TRUE", "FALSE", "NULL", "IN", "is", "not",
    "$.a", "$.b[0]", ".*", "[*]", ".['k.y']", "a", "B", "1", "-2.5e3", "é", "\\x", "\\x3A", "(a)", "{1, 2}",
]  # fmt: skip

token_texts = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
spaced_token_texts = st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)
json_shaped = st.tuples(
    st.sampled_from(["{", "{ (", "[", "%", ""]), token_texts, st.sampled_from(["}", ") }", "]", "%", ""])
)


@st.composite
def mutated_valid_texts(draw: st.DrawFn) -> str:
    """A printed valid pattern with a few tokens inserted or deleted: exercises errors deep inside."""
    text = to_text(draw(patterns))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.sampled_from([*TOKENS, ""])) + text[at + cut :]
    return text


def _check_parse(text: str) -> None:
    try:
        pattern = parse(text)
    except FilterPatternError as err:
        assert 0 <= err.position <= len(text)
        assert err.pattern == text and str(err)
        return
    # Whatever parses prints to text that parses back to the same tree.
    printed = to_text(pattern)
    if len(printed) <= MAX_LENGTH:
        assert parse(printed) == pattern
    matches(pattern, text)
    matches(pattern, {"a": [1, {"b": None}], "k.y": "é"})


@SETTINGS
@given(st.text(max_size=200))
def test_parse_arbitrary_text(text: str) -> None:
    _check_parse(text)


@SETTINGS
@given(st.one_of(token_texts, spaced_token_texts, json_shaped.map("".join)))
def test_parse_grammar_token_soup(text: str) -> None:
    _check_parse(text)


@SETTINGS
@given(mutated_valid_texts())
def test_parse_mutated_valid_patterns(text: str) -> None:
    _check_parse(text)


# --- (b) random ASTs: printing preserves meaning -------------------------------------

NAMES = [
    "eventName", "errorCode", "awsRegion", "userIdentity", "type", "a", "b", "0", "x-y", "cluster.name", "a b", "é",
]  # fmt: skip
WORDS = [
    "CreateTrail", "UpdateTrail", "GetTrail", "Trail", "Create", "AccessDenied", "us-east-1", "", " ", "a b",
    "123", "1e3", "-1", "+5", "2.5", ".5", "true", "null", "é", 'q"uote', "back\\slash", "Ev*ent",
    "kms.amazonaws.com",
]  # fmt: skip
LITERALS = [*WORDS, "*", "*Trail", "Create*", "*rea*", "**"]
NUMBERS = ["0", "1", "-1", "+1000", "2.5", "1e3", "10e-1", ".5", "5.", "123456789012"]
REGEXES = ["Trail", "^Create", "Trail$", "[0-9]+", "Get|Put", "x{1, 2}", r"\d", r"\x3A", r"^us-[a-z]+-\d$"]
OPS = ["=", "!=", "<", ">", "<=", ">="]

free_text = st.text(alphabet=string.ascii_letters[:6] + ' *"\\-?%{[é\t', max_size=6)
literals = st.one_of(st.sampled_from(LITERALS), free_text)


@st.composite
def selectors_(draw: st.DrawFn) -> Selector:
    steps = draw(
        st.lists(st.one_of(st.sampled_from(NAMES).map(Key), st.integers(0, 2).map(Index)), max_size=2)
    )
    first = draw(st.sampled_from(NAMES).map(Key))
    wildcard = draw(st.sampled_from([None, AnyKey(), AnyIndex()]))
    if wildcard is not None:
        steps.insert(draw(st.integers(0, len(steps))), wildcard)
    return Selector((first, *steps))


values = st.one_of(
    literals.map(StringValue),
    st.sampled_from(NUMBERS).map(NumberValue),
    st.sampled_from(REGEXES).map(Regex),
)


@st.composite
def compares(draw: st.DrawFn) -> Compare:
    value = draw(values)
    ops = OPS if isinstance(value, NumberValue) else ["=", "!="]
    return Compare(draw(selectors_()), draw(st.sampled_from(ops)), value)


conditions = st.one_of(
    compares(),
    st.builds(Is, selectors_(), st.sampled_from(["TRUE", "FALSE", "NULL"])),
    st.builds(NotExists, selectors_()),
)
exprs = st.recursive(
    conditions,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
    ),
    max_leaves=8,
)


def _within_quotas(pattern: Pattern) -> bool:
    # The printer is only promised to round-trip what the parser could have produced.
    text = repr(pattern)
    return text.count("AnyKey()") + text.count("AnyIndex()") <= 3 and text.count("Regex(") <= 2


json_patterns = exprs.map(lambda e: Pattern("json", e)).filter(_within_quotas)

term_patterns = (
    st.lists(
        st.builds(Term, literals, st.sampled_from(["required", "optional", "excluded"])),
        min_size=1,
        max_size=4,
    )
    .filter(lambda ts: not (len(ts) == 1 and ts[0].kind == "required" and not ts[0].text.strip(" ")))
    .map(lambda ts: Pattern("terms", Terms(tuple(ts))))
)

field_tests = values.flatmap(
    lambda v: st.builds(
        FieldTest, st.sampled_from(OPS if isinstance(v, NumberValue) else ["=", "!="]), st.just(v)
    )
)
fields = st.builds(
    Field,
    st.sampled_from(["ip", "user", "w1", "status_code", "bytes"]),
    st.lists(st.lists(field_tests, min_size=1, max_size=2).map(tuple), max_size=2).map(tuple),
)


@st.composite
def delimited_patterns(draw: st.DrawFn) -> Pattern:
    specs: list[Field | Rest] = draw(st.lists(fields, min_size=1, max_size=4))
    if draw(st.booleans()):
        specs.insert(draw(st.integers(0, len(specs))), Rest())
    return Pattern("delimited", Delimited(tuple(specs)))


patterns = st.one_of(
    json_patterns,
    term_patterns,
    delimited_patterns().filter(_within_quotas),
    st.sampled_from(REGEXES).map(lambda r: Pattern("regex", Regex(r))),
    st.just(Pattern("empty")),
)

# --- events ---

json_scalars = st.one_of(
    st.sampled_from(WORDS),
    free_text,
    st.sampled_from([0, 1, -1, 50, 1000, 1000.0, 2.5, 0.5, 123456789012]),
    st.booleans(),
    st.none(),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(NAMES), inner, max_size=3),
    ),
    max_leaves=10,
)
records = st.fixed_dictionaries(
    {"eventName": st.sampled_from(WORDS), "eventVersion": st.just("1.11")},
    optional={name: json_values for name in NAMES if name != "eventName"},
)
lines = st.lists(
    st.one_of(st.sampled_from(WORDS + NUMBERS), st.sampled_from(WORDS).map(lambda w: f"[{w} x]")),
    max_size=6,
).map(" ".join)
events = st.one_of(records, records.map(json.dumps), lines, free_text)


def _same_result(pattern: Pattern, reparsed: Pattern, event: Any) -> None:
    for options in ({}, {"term_mode": "token"}, {"ne_matches_missing": True}):
        assert matches(reparsed, event, **options) == matches(pattern, event, **options)


@SETTINGS
@given(patterns, st.lists(events, min_size=1, max_size=4))
def test_to_text_round_trip(pattern: Pattern, sample: list[Any]) -> None:
    text = to_text(pattern)
    reparsed = parse(text)
    assert reparsed == pattern
    assert to_text(reparsed) == text
    for event in sample:
        _same_result(pattern, reparsed, event)


@SETTINGS
@given(json_patterns, st.lists(records, min_size=1, max_size=4))
def test_json_to_text_round_trip(pattern: Pattern, sample: list[dict[str, Any]]) -> None:
    text = to_text(pattern)
    reparsed = parse(text)
    assert reparsed == pattern
    assert to_text(reparsed) == text
    for record in sample:
        _same_result(pattern, reparsed, record)


@SETTINGS
@given(json_patterns, records)
def test_evaluator_laws(pattern: Pattern, record: dict[str, Any]) -> None:
    # A Mapping and its JSON text are the same event; X || X and X && X are X.
    body = pattern.body
    assert isinstance(body, And | Or | Compare | Is | NotExists)
    single = matches(pattern, record)
    assert matches(pattern, json.dumps(record)) == single
    assert matches(Pattern("json", Or((body, body))), record) == single
    assert matches(Pattern("json", And((body, body))), record) == single
