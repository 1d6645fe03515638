"""Example-based tests for the CloudWatch Logs filter-pattern parser and evaluator."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from cis_monitoring.core.filter_pattern import (
    FilterPatternError,
    Pattern,
    compile_pattern,
    matches,
    parse,
    selectors,
    to_text,
)

# --- CloudTrail-like records ---------------------------------------------------------


def cloudtrail_record(
    event_name: str,
    *,
    error_code: str | None = None,
    region: str = "us-east-1",
    source: str = "cloudtrail.amazonaws.com",
    read_only: bool = False,
) -> dict[str, Any]:
    """One CloudTrail management event as CloudTrail sends it to CloudWatch Logs."""
    record: dict[str, Any] = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEALICE01",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "alice",
            "sessionContext": {"attributes": {"mfaAuthenticated": "false"}},
        },
        "eventTime": "2024-05-02T01:07:13Z",
        "eventSource": source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6",
        "requestParameters": {"name": "org-trail"},
        "responseElements": None,
        "requestID": "2f1c2f6e-0000-4000-8000-000000000001",
        "eventID": "8d1b6f1e-0000-4000-8000-000000000002",
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
    }
    if error_code is not None:
        record["errorCode"] = error_code
        record["errorMessage"] = (
            f"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:{event_name}"
        )
    return record


TRAIL_CHANGES = ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")

RECORDS: dict[str, dict[str, Any]] = {}
for _name in TRAIL_CHANGES:
    # CreateTrail succeeds in another region so region-narrowed variants are observable.
    RECORDS[_name] = cloudtrail_record(_name, region="eu-west-1" if _name == "CreateTrail" else "us-east-1")
    RECORDS[f"{_name}/AccessDenied"] = cloudtrail_record(_name, error_code="AccessDenied")
RECORDS["DescribeTrails"] = cloudtrail_record("DescribeTrails", read_only=True)
RECORDS["GetTrail"] = cloudtrail_record("GetTrail", read_only=True)
RECORDS["GetTrailStatus"] = cloudtrail_record("GetTrailStatus", read_only=True)
RECORDS["PutEventSelectors"] = cloudtrail_record("PutEventSelectors")
RECORDS["ConsoleLogin"] = {
    **cloudtrail_record("ConsoleLogin", source="signin.amazonaws.com"),
    "eventType": "AwsConsoleSignIn",
    "responseElements": {"ConsoleLogin": "Success"},
    "additionalEventData": {"MFAUsed": "No", "MobileVersion": "No"},
}
RECORDS["RunInstances"] = cloudtrail_record("RunInstances", source="ec2.amazonaws.com")

ALL = frozenset(RECORDS)
TARGET = frozenset(n for n in ALL if n.split("/")[0] in TRAIL_CHANGES)
SUCCEEDED = frozenset(n for n in TARGET if "/" not in n)


def both(name: str) -> frozenset[str]:
    return frozenset({name, f"{name}/AccessDenied"})


CANONICAL = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) }"
)
OR_CHAIN = " || ".join(f"($.eventName = {n})" for n in TRAIL_CHANGES)

CIS_4_5_VARIANTS: list[tuple[str, str, frozenset[str]]] = [
    ("canonical", CANONICAL, TARGET),
    (
        "compact",
        "{($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)"
        "||($.eventName=StartLogging)||($.eventName=StopLogging)}",
        TARGET,
    ),
    ("reordered", "{ " + " || ".join(f"($.eventName = {n})" for n in reversed(TRAIL_CHANGES)) + " }", TARGET),
    ("quoted", "{ " + " || ".join(f'($.eventName = "{n}")' for n in TRAIL_CHANGES) + " }", TARGET),
    ("newlines", "{\n  " + " ||\n  ".join(f"($.eventName = {n})" for n in TRAIL_CHANGES) + "\n}", TARGET),
    ("no parentheses", "{ " + " || ".join(f"$.eventName = {n}" for n in TRAIL_CHANGES) + " }", TARGET),
    (
        "missing DeleteTrail",
        CANONICAL.replace(" || ($.eventName = DeleteTrail)", ""),
        TARGET - both("DeleteTrail"),
    ),
    ("and instead of or", CANONICAL.replace("||", "&&"), frozenset()),
    ("narrowed by region", "{ (" + OR_CHAIN + ") && ($.awsRegion = us-east-1) }", TARGET - {"CreateTrail"}),
    # Without the grouping parentheses "&&" binds to the last condition only.
    ("region, precedence", "{ " + OR_CHAIN + " && ($.awsRegion = us-east-1) }", TARGET),
    ("narrowed to successes", "{ (" + OR_CHAIN + ") && ($.errorCode NOT EXISTS) }", SUCCEEDED),
    ("not equal", "{ $.eventName != CreateTrail }", ALL - both("CreateTrail")),
    ("not equal chain", "{ ($.eventName != CreateTrail) || ($.eventName != UpdateTrail) }", ALL),
    ("wrong case", CANONICAL.replace("= CreateTrail", "= createtrail"), TARGET - both("CreateTrail")),
    ("longer name", CANONICAL.replace("= CreateTrail", "= CreateTrailX"), TARGET - both("CreateTrail")),
    ("prefix wildcard", CANONICAL.replace("= CreateTrail", "= CreateTrail*"), TARGET),
    (
        "suffix wildcard",
        "{ ($.eventName = *Trail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        TARGET | {"GetTrail"},
    ),
    (
        "contains wildcard",
        "{ $.eventName = *Trail* }",
        both("CreateTrail")
        | both("UpdateTrail")
        | both("DeleteTrail")
        | {"DescribeTrails", "GetTrail", "GetTrailStatus"},
    ),
    (
        "extra event",
        CANONICAL[:-2] + " || ($.eventName = PutEventSelectors) }",
        TARGET | {"PutEventSelectors"},
    ),
    ("any eventName", "{ $.eventName = * }", ALL),
    ("empty pattern", "", ALL),
    ("quoted space", '" "', ALL),
    ("source", "{ $.eventSource = cloudtrail.amazonaws.com }", ALL - {"ConsoleLogin", "RunInstances"}),
    ("term", "ConsoleLogin", frozenset({"ConsoleLogin"})),
    (
        "term exclusion",
        "cloudtrail -AccessDenied",
        SUCCEEDED | {"DescribeTrails", "GetTrail", "GetTrailStatus", "PutEventSelectors"},
    ),
]


@pytest.mark.parametrize("as_text", [False, True], ids=["mapping", "json-text"])
@pytest.mark.parametrize(
    ("label", "pattern", "expected"), CIS_4_5_VARIANTS, ids=[v[0] for v in CIS_4_5_VARIANTS]
)
def test_cis_4_5_variants(label: str, pattern: str, expected: frozenset[str], as_text: bool) -> None:
    parsed = parse(pattern)
    matched = {
        name for name, record in RECORDS.items() if matches(parsed, json.dumps(record) if as_text else record)
    }
    assert matched == expected


def test_canonical_text_round_trips_exactly() -> None:
    spellings = {label: text for label, text, _ in CIS_4_5_VARIANTS}
    for label in ("canonical", "compact", "quoted", "newlines", "no parentheses"):
        assert to_text(parse(spellings[label])) == CANONICAL, label
    assert to_text(parse(spellings["reordered"])) != CANONICAL


def test_selectors_and_kind() -> None:
    pattern = parse("{ (" + OR_CHAIN + ") && ($.errorCode NOT EXISTS) && $.a.['b.c'][0] IS NULL }")
    assert pattern.kind == "json"
    assert selectors(pattern) == {"$.eventName", "$.errorCode", "$.a.['b.c'][0]"}
    assert selectors(parse("ERROR")) == frozenset()
    assert [parse(t).kind for t in ("", "  ", '" "', "x", "%x%", "[a]", "{$.a=1}")] == [
        "empty",
        "empty",
        "empty",
        "terms",
        "regex",
        "delimited",
        "json",
    ]


def test_compile_pattern_caches() -> None:
    first = compile_pattern(CANONICAL)
    assert isinstance(first, Pattern)
    assert compile_pattern(CANONICAL) is first
    with pytest.raises(FilterPatternError):
        compile_pattern("{ $.a == 1 }")
    with pytest.raises(FilterPatternError):
        compile_pattern(None)  # type: ignore[arg-type]


# --- reference §8 examples -----------------------------------------------------------

S1 = (
    '{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],'
    '"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c"}'
)
S1_FLAG = S1[:-1] + ',"ThisFlag":true}'
S2 = (
    '{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},'
    '{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],'
    '"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}'
)
ACCESS_LOG = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
UPDATE_TRAIL_NOT_FOUND = json.dumps(
    {
        **cloudtrail_record("UpdateTrail"),
        "errorCode": "TrailNotFoundException",
        "errorMessage": "Unknown trail",
    }
)
SIGNIN_FAILED = json.dumps(
    {
        **RECORDS["ConsoleLogin"],
        "userIdentity": {
            "type": "IAMUser",
            "accountId": "111122223333",
            "accessKeyId": "",
            "userName": "alice",
        },
        "responseElements": {"ConsoleLogin": "Failure"},
        "errorMessage": "Failed authentication",
    }
)
SIGNIN_NO_MFA = json.dumps(RECORDS["ConsoleLogin"])

REFERENCE_EXAMPLES: list[tuple[int, str, str, bool]] = [
    (1, "ERROR", "[ERROR 400] BAD REQUEST", True),
    (2, "ERROR ARGUMENTS", "[ERROR 400] BAD REQUEST", False),
    (3, "ERROR ARGUMENTS", "[ERROR 419] MISSING ARGUMENTS", True),
    (4, "?ERROR ?ARGUMENTS", "[ERROR 401] UNAUTHORIZED REQUEST", True),
    (5, "?ERROR ?ARGUMENTS REQUEST", "[INFO] REQUEST FAILED", True),
    (6, '"INTERNAL SERVER ERROR"', "[ERROR 500] INTERNAL SERVER ERROR", True),
    (7, "ERROR -ARGUMENTS", "[ERROR 420] INVALID ARGUMENTS", False),
    (8, "ERROR -ARGUMENTS", "[ERROR 400] BAD REQUEST", True),
    (9, "%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST", True),
    (10, "ERROR", "[error 400] bad request", False),
    (11, '{ $.eventType = "UpdateTrail" }', S1, True),
    (12, "{ $.sourceIPAddress != 123.123.* }", S1, True),
    (13, '{ $.arrayKey[0] = "value" }', S1, True),
    (14, "{ $.objectList[1].id = 2 }", S1, True),
    (15, "{ $.eventType = %Trail% }", S1, True),
    (16, "{ $.arrayKey[*] = %val.{2}% }", S1, True),
    (17, r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }", S1, True),
    (18, "{ $.['cluster.name'] = \"c\" }", S1, True),
    (19, "{ $.SomeObject IS NULL }", S1, True),
    (20, "{ $.SomeOtherObject NOT EXISTS }", S1, True),
    (21, "{ $.ThisFlag IS TRUE }", S1_FLAG, True),
    (22, '{ $.eventType = "updatetrail" }', S1, False),
    (23, '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', S2, True),
    (
        24,
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" '
        '&& $.actions[2] = "nonmatch" }',
        S2,
        True,
    ),
    (
        25,
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") '
        '&& $.actions[2] = "nonmatch" }',
        S2,
        False,
    ),
    (26, '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', S2, False),
    (27, "{ $.users = 1 }", '{"users":[1,2,3]}', False),
    (27, "{ $.users != 1 }", '{"users":[1,2,3]}', False),
    (28, "{ $.foo = bar || $.foo = baz }", '{"foo":"baz"}', True),
    (29, "{ $.name = *Event }", '{"name":"PutEvent"}', True),
    (30, "{ $.name = Ev*ent }", '{"name":"EvXent"}', False),
    (31, "{ $.latency = * }", '{"latency":50,"requestType":"GET"}', True),
    (32, "[w1=ERROR, w2]", "ERROR 09/25/2014 12:00:02 Failed to process request", True),
    (33, "[w1=ERROR, w2]", "WARNING 09/25/2014 12:00:02 Invalid user request", False),
    (34, "[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]", ACCESS_LOG, True),
    (
        35,
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        ACCESS_LOG,
        True,
    ),
    (36, "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }", UPDATE_TRAIL_NOT_FOUND, True),
    (
        37,
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        SIGNIN_FAILED,
        True,
    ),
    (
        38,
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        SIGNIN_NO_MFA,
        False,
    ),
]


@pytest.mark.parametrize(
    ("row", "pattern", "event", "expected"),
    REFERENCE_EXAMPLES,
    ids=[f"row{r[0]}-{i}" for i, r in enumerate(REFERENCE_EXAMPLES)],
)
def test_reference_examples(row: int, pattern: str, event: str, expected: bool) -> None:
    parsed = parse(pattern)
    assert matches(parsed, event) is expected
    # The canonical text must behave the same.
    assert matches(parse(to_text(parsed)), event) is expected


# --- finer semantics -------------------------------------------------------------------

EVENT = {
    "s": "CreateTrail",
    "n": 50,
    "f": 2.5,
    "big": 12345678901234567890,
    "acct": "123456789012",
    "t": True,
    "fl": False,
    "z": None,
    "obj": {"k": "v", "x.y": "dots"},
    "arr": ["a", "b", 3],
    "num_text": "1000",
    "star": "Ev*ent",
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{ $.acct = 123456789012 }", True),  # bare number vs JSON string: literal text
        ("{ $.acct != 123456789012 }", False),
        ("{ $.acct > 1 }", False),  # ordering vs a string is false
        ("{ $.num_text = 1e3 }", False),  # text comparison, not numeric
        ("{ $.n = 5e1 }", True),  # number vs number: numeric
        ("{ $.n = 50.0 }", True),
        ("{ $.n >= 50 }", True),
        ("{ $.n < 50 }", False),
        ("{ $.n != 50 }", False),
        ("{ $.f = 2.5 }", True),
        ("{ $.f > 2.4 }", True),
        ("{ $.big = 12345678901234567890 }", True),
        ("{ $.big = 12345678901234567891 }", False),  # exact, not float
        ('{ $.n = "50" }', True),  # quoted string vs number: the number's JSON text
        ("{ $.n = 5* }", True),
        ("{ $.n = %5% }", False),  # regexes only apply to strings
        ("{ $.s = %^Create% }", True),
        ("{ $.s != %^Create% }", False),
        ("{ $.s = %^Trail% }", False),
        ("{ $.s = Create }", False),  # whole-value equality
        ("{ $.s = *eateTr* }", True),
        ("{ $.s = *Create* }", True),
        ("{ $.s = *Trail* }", True),
        ("{ $.s = Trail* }", False),  # trailing "*" is a prefix match
        ("{ $.s = *Create }", False),  # leading "*" is a suffix match
        ("{ $.s = *CreateTrail }", True),
        ("{ $.s = CreateTrail* }", True),
        ("{ $.star = Ev*ent }", True),  # inner "*" is literal
        ('{ $.s = "*" }', True),
        ("{ $.t IS TRUE }", True),
        ("{ $.t IS FALSE }", False),
        ("{ $.fl IS FALSE }", True),
        ("{ $.t = true }", False),  # string comparison against a boolean
        ("{ $.t != true }", False),
        ("{ $.z IS NULL }", True),
        ("{ $.z = * }", False),  # null is not a comparable value
        ("{ $.z NOT EXISTS }", False),  # present null is not missing
        ("{ $.missing IS NULL }", False),
        ("{ $.missing NOT EXISTS }", True),
        ("{ $.missing.deeper NOT EXISTS }", True),
        ("{ $.missing != x }", False),  # "!=" on a missing field is false by default
        ("{ $.obj = * }", False),  # objects and arrays are not value nodes
        ("{ $.obj != x }", False),
        ("{ $.obj.['x.y'] = dots }", True),
        ("{ $.obj.* = v }", True),
        ("{ $.obj.* = w }", False),
        ("{ $.arr[*] = b }", True),
        ("{ $.arr[*] = 3 }", True),
        ("{ $.arr[*] != a }", True),  # existential: "b" differs from "a"
        ("{ $.arr[5] NOT EXISTS }", True),
        ("{ $.arr[3] NOT EXISTS }", True),  # one past the end
        ("{ $.arr[2] = 3 }", True),
        ("{ $.s[0] = C }", False),  # indexing a string resolves nothing
        ("{ $.* = CreateTrail }", True),
        ("{ $.*.k = v }", True),
        ("{ $.a = 1 && $.b = 2 || $.s = CreateTrail }", True),
        ("{ $.s = CreateTrail && ($.n = 1 || $.n = 50) }", True),
        ("{ $.s = CreateTrail && ($.n = 1 || $.n = 51) }", False),
    ],
)
def test_json_semantics(pattern: str, expected: bool) -> None:
    assert matches(parse(pattern), EVENT) is expected
    assert matches(parse(pattern), json.dumps(EVENT)) is expected


def test_ne_on_missing_switch() -> None:
    pattern = parse('{ $.additionalEventData.MFAUsed != "Yes" }')
    assert matches(pattern, {"eventName": "ConsoleLogin"}) is False
    assert matches(pattern, {"eventName": "ConsoleLogin"}, ne_matches_missing=True) is True
    assert matches(pattern, {"additionalEventData": {"MFAUsed": "Yes"}}, ne_matches_missing=True) is False
    # Arrays/objects stay false under the switch: the field is present, just not a value.
    assert matches(pattern, {"additionalEventData": {"MFAUsed": ["No"]}}, ne_matches_missing=True) is False


@pytest.mark.parametrize(
    "event", ["not json", "[1, 2]", '"text"', "", "{" * 5000, "[" * 100_000 + "]" * 100_000, "NaN"]
)
def test_json_pattern_needs_a_json_object(event: str) -> None:
    assert matches(parse("{ $.a NOT EXISTS }"), event) is False


def test_nan_and_infinity_in_events() -> None:
    assert matches(parse("{ $.n != 1 }"), '{"n": NaN}') is True
    assert matches(parse("{ $.n > 1 }"), '{"n": NaN}') is False
    assert matches(parse("{ $.n > 1e300 }"), '{"n": Infinity}') is True


@pytest.mark.parametrize(
    ("pattern", "text", "substring", "token"),
    [
        ("ERROR", "Exiting with ERRORCODE: -1", True, False),
        ("ERROR", "[ERROR 400]", True, True),
        ("ERROR", "NOERROR here", True, False),
        ('"SERVER ERROR"', "INTERNAL SERVER ERRORS", True, False),
        ("-ERROR", "all good", True, True),
        ("-ERROR", "ERROR here", False, False),
        ("-ERROR", "ERRORS here", False, True),
        ("?ERROR ?WARN", "a WARN b", True, True),
        ("?ERROR ?WARN", "INFO", False, False),
        ('ERROR ""', "ERROR", True, True),
        ("a:b", "x a:b y", True, True),
    ],
)
def test_terms(pattern: str, text: str, substring: bool, token: bool) -> None:
    parsed = parse(pattern)
    assert matches(parsed, text) is substring
    assert matches(parsed, text, term_mode="token") is token


def test_terms_see_a_mapping_as_compact_json() -> None:
    assert matches(parse('"\\"eventName\\":\\"RunInstances\\""'), RECORDS["RunInstances"])
    assert matches(parse("%eventName.{3}RunInstances%"), RECORDS["RunInstances"])
    assert not matches(parse('"eventName: RunInstances"'), RECORDS["RunInstances"])


@pytest.mark.parametrize(
    ("pattern", "line", "expected"),
    [
        ("[a, b, c]", "1 2", False),  # too few fields
        ("[a, b=2]", "1 2 3", False),  # the last field takes the rest of the line
        ("[a, b=2, c]", "1 2 3 4", True),
        ('[a, b = "2 3"]', "1 2 3", True),
        ("[..., code = 404, bytes]", ACCESS_LOG, True),
        ("[..., code = 404]", ACCESS_LOG, False),
        ("[ip = %^127%, ...]", ACCESS_LOG, True),
        ("[ip, ..., bytes > 1000]", ACCESS_LOG, True),
        ("[ip, ..., bytes > 2000]", ACCESS_LOG, False),
        ("[ip, ..., bytes = 1534.0]", ACCESS_LOG, True),  # numeric fields compare numerically
        ("[w1 != ERROR && w1 != WARNING, w2]", "INFO all fine", True),
        ("[w1 != ERROR && w1 != WARNING, w2]", "ERROR broken", False),
        ("[ip, user, name, time = *2000*, req, ...]", ACCESS_LOG, True),
        ('[ip, user, name, time, req = "GET /index.html HTTP/1.0", ...]', ACCESS_LOG, True),
        ("[...]", "", True),
    ],
)
def test_delimited(pattern: str, line: str, expected: bool) -> None:
    assert matches(parse(pattern), line) is expected


# --- syntax errors -------------------------------------------------------------------

FOUR_WILDCARDS = "{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 || $.d[*] = 1 }"
THREE_REGEXES = "{ $.a = %a% || $.b = %b% || $.c = %c% }"
DEEP = "{ " + "(" * 101 + "$.a = 1" + ")" * 101 + " }"

SYNTAX_ERRORS: list[tuple[str, int, str]] = [
    ("{ ($.a = 1 || $.b = 2 }", 22, "expected '&&', '||' or ')'"),
    ("{ $.a = 1 ) }", 10, "expected '&&', '||' or '}'"),
    ("{ $.a = 1", 9, "expected '&&', '||' or '}'"),
    ("{ $.a = 1 } x", 12, "unexpected text"),
    ("{ }", 2, "expected a condition"),
    ("{}", 1, "expected a condition"),
    ("{ () }", 3, "expected a condition"),
    ("{ $.a = }", 8, "expected a value"),
    ("{ $.a = 1 && }", 13, "expected a condition"),
    ("{ $.a == 1 }", 6, "'=='"),
    ("{ $.a = 1 & $.b = 2 }", 10, "expected '&&'"),
    ("{ $.eventName IN [CreateTrail, UpdateTrail] }", 14, "'IN' is not supported"),
    ("{ $.eventName NOT IN [CreateTrail] }", 14, "'NOT IN' is not supported"),
    ("{ $.a IS NOT NULL }", 6, "'IS NOT' is not supported"),
    ("{ $.a IS MISSING }", 9, "expected TRUE, FALSE or NULL"),
    ("{ $.a is null }", 6, "upper case"),
    ("{ $.a IS null }", 9, "upper case"),
    ("{ $.a not exists }", 6, "upper case"),
    ("{ $.a NOT exists }", 10, "upper case"),
    ("{ $.a EXISTS }", 6, "'EXISTS' is not supported"),
    ("{ $.a ! = 1 }", 6, "'!'"),
    ("{ !($.a = 1) }", 2, "'!'"),
    ("{ NOT ($.a = 1) }", 2, "'NOT (...)'"),
    ("{ a = 1 }", 2, "starting with '$'"),
    ("{ $ = 1 }", 3, "after '$'"),
    ("{ $. = 1 }", 4, "property name"),
    ("{ $.a[x] = 1 }", 6, "after '['"),
    ("{ $.a[0 = 1 }", 7, "expected ']'"),
    ("{ $.['a = 1 }", 5, "unterminated quoted key"),
    ('{ $.a = "abc }', 8, "unterminated string"),
    ("{ $.a > abc }", 8, "needs a number"),
    ('{ $.a > "1" }', 8, "needs a number"),
    ("{ $.a > %1% }", 8, "regular expression"),
    ("{ $.a = é }", 8, "double-quoted"),
    ("{ $.a = %x }", 8, "unterminated regular expression"),
    ("{ $.a = %a(b)% }", 10, "'('"),
    ("%a(b)%", 2, "'('"),
    ("%something!%", 10, "'!'"),
    ("%é%", 1, "ASCII"),
    ("%%", 0, "empty regular expression"),
    ("%a\\%", 2, "cannot end with"),
    ("%\\bword%", 1, "unsupported escape"),
    ("%\\x4%", 1, "two hex digits"),
    ("%a**%", 3, "invalid regular expression"),
    ("ERROR %x%", 6, "cannot be combined"),
    ("%x% ERROR", 4, "cannot be combined"),
    ('"unterminated', 0, "unterminated string"),
    ('"a"b', 3, "expected whitespace"),
    ('a"b', 1, "double-quote the whole term"),
    ("ERROR -", 6, "expected a term"),
    ("ERROR ? WARN", 6, "expected a term"),
    ("ERROR {x}", 6, "must be double-quoted"),
    ("x" * 1025, 1024, "longer than 1024"),
    ("{ $.a[*].b[*] = 1 }", 10, "at most one wildcard"),
    (FOUR_WILDCARDS, FOUR_WILDCARDS.rindex("[*]"), "at most 3 wildcards"),
    (THREE_REGEXES, THREE_REGEXES.index("%c%"), "at most 2 regular expressions"),
    (DEEP, 2 + 100, "nested deeper than 100"),
    ("[a, b", 5, "expected ',' or ']'"),
    ("[]", 1, "expected a field name"),
    ("[a = 1 && b = 2, c]", 10, "may only test 'a'"),
    ("[a, ..., b, ..., c]", 12, "only one '...'"),
    ("[a == 1]", 3, "'=='"),
    ("[a] b", 4, "unexpected text"),
    ("[a, b = *2 3*]", 11, "expected ',' or ']'"),  # bare values stop at whitespace
]


@pytest.mark.parametrize(
    ("pattern", "position", "fragment"), SYNTAX_ERRORS, ids=[s[0][:40] for s in SYNTAX_ERRORS]
)
def test_syntax_errors(pattern: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse(pattern)
    err = caught.value
    assert fragment in err.message
    assert (err.position, err.pattern) == (position, pattern)
    assert f"at position {position}" in str(err)


def test_boundaries_are_accepted() -> None:
    parse("x" * 1024)
    parse("{ " + "(" * 100 + "$.a = 1" + ")" * 100 + " }")
    parse("{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 }")
    parse("{ $.a = %a% || $.b = %b% }")
    parse("%^starting|^initializing|^shutting down%")  # space allowed (documented example)
    assert matches(parse(r"%\x3A{1, 2}%"), "a:b")  # "{m, n}" as the docs write it


def test_error_message_has_a_caret_under_the_position() -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse("{ ($.eventName = CreateTrail) ||\n ($.eventName == UpdateTrail) }")
    first, caret = str(caught.value).split("\n")
    assert first.startswith("'==' is not supported; use '=' at position 47: ")
    column = caret.index("^")
    assert first[column : column + 2] == "=="


def test_error_pickles() -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse("{ $.a == 1 }")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.message, copy.position, copy.pattern, str(copy)) == (
        caught.value.message,
        caught.value.position,
        caught.value.pattern,
        str(caught.value),
    )
