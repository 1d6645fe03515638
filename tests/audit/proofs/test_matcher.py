"""AWS's own matcher (logs:TestMetricFilter) next to the core engine: AWS's verdict counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cis_monitoring.audit.proofs import MATCHER, aws_matcher, usage_problems
from cis_monitoring.audit.proofs.matcher import BATCH, aws_matches
from cis_monitoring.core.catalog import CIS_4_5, SampleRecord
from cis_monitoring.core.filter_pattern import compile_pattern, matches
from cis_monitoring.core.judge.pattern import probe_records
from cis_monitoring.core.status import Status
from tests.audit.proofs.stubs import ROLE, StubbedClients, add_error, denied

CANONICAL = CIS_4_5.filter_pattern
RECORDS: list[SampleRecord] = [
    *CIS_4_5.target_samples(),
    *CIS_4_5.unrelated_samples(),
    *probe_records(CIS_4_5),
]
MESSAGES = [r.message for r in RECORDS]


def engine(pattern: str) -> Callable[[SampleRecord], bool]:
    compiled = compile_pattern(pattern)
    return lambda record: matches(compiled, record.record)


def aws_answer(matched: Callable[[SampleRecord], bool], batch: list[SampleRecord]) -> dict[str, Any]:
    """TestMetricFilter's response: one entry per matching message, numbered in the batch."""
    return {
        "matches": [
            {"eventNumber": i + 1, "eventMessage": r.message, "extractedValues": {}}
            for i, r in enumerate(batch)
            if matched(r)
        ]
    }


def stub_aws(clients: StubbedClients, pattern: str, matched: Callable[[SampleRecord], bool]) -> None:
    logs = clients.stub("logs")
    for start in range(0, len(RECORDS), BATCH):
        batch = RECORDS[start : start + BATCH]
        logs.add_response(
            "test_metric_filter",
            aws_answer(matched, batch),
            {"filterPattern": pattern, "logEventMessages": [r.message for r in batch]},
        )


def test_aws_and_the_engine_agree_on_the_benchmark_pattern() -> None:
    clients = StubbedClients()
    stub_aws(clients, CANONICAL, engine(CANONICAL))
    result = aws_matcher(clients, CANONICAL, CIS_4_5, filter_name="cis-4-5-cloudtrail-changes")
    clients.assert_done()
    assert result.status is Status.PASS
    assert result.proof == MATCHER and result.subject == "cis-4-5-cloudtrail-changes"
    assert result.detail == "AWS's matcher matches all 12 target record(s) of CIS 4.5"
    assert result.evidence["aws"] == {"covers": True, "missed": [], "alsoMatches": []}
    assert result.evidence["disagreements"] == []
    assert result.evidence["records"] == len(RECORDS)


def test_a_target_aws_misses_fails_even_when_the_engine_matches_it() -> None:
    clients = StubbedClients()
    missed = "StopLogging denied (IAM user, us-east-1)"
    canonical = engine(CANONICAL)
    stub_aws(clients, CANONICAL, lambda r: canonical(r) and r.label != missed)
    result = aws_matcher(clients, CANONICAL, CIS_4_5)
    assert result.status is Status.FAIL
    assert f"misses 1 of the control's 12 target record(s) ({missed})" in result.detail
    assert "AWS's verdict counts" in result.detail
    assert f"{missed} (AWS does not match, our engine matches)" in result.detail
    assert result.evidence["disagreements"] == [
        {"label": missed, "mustMatch": True, "aws": False, "engine": True}
    ]


def test_where_aws_matches_what_the_engine_misses_aws_wins_and_the_disagreement_shows() -> None:
    narrow = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) }"
    clients = StubbedClients()
    stub_aws(clients, narrow, engine(CANONICAL))  # AWS (stubbed) sees all five events
    result = aws_matcher(clients, narrow, CIS_4_5)
    assert result.status is Status.PASS
    disagreements = result.evidence["disagreements"]
    assert {d["label"] for d in disagreements} == {
        r.label for r in CIS_4_5.target_samples() if r.event_name in ("StartLogging", "StopLogging")
    }
    assert all(d["aws"] and d["engine"] is False for d in disagreements)
    assert "AWS and our engine disagree on 5 record(s)" in result.detail
    assert "it misses StartLogging, StopLogging" in result.evidence["engine"]


def test_an_unrelated_record_aws_matches_is_reported_as_noise() -> None:
    clients = StubbedClients()
    canonical = engine(CANONICAL)
    noisy = "GetTrailStatus (read-only, assumed role)"
    stub_aws(clients, CANONICAL, lambda r: canonical(r) or r.label == noisy)
    result = aws_matcher(clients, CANONICAL, CIS_4_5)
    assert result.status is Status.PASS
    assert result.evidence["aws"]["alsoMatches"] == [noisy]
    assert f"it also matches 1 record(s) it should not ({noisy}): alert noise" in result.detail


def test_the_engine_cannot_parse_what_aws_judges() -> None:
    broken = "{ $.eventName = CreateTrail"
    clients = StubbedClients()
    stub_aws(clients, broken, lambda r: False)
    result = aws_matcher(clients, broken, CIS_4_5)
    assert result.status is Status.FAIL
    assert all(d["engine"] is None for d in result.evidence["disagreements"])
    assert "our engine cannot parse the pattern" in result.detail


def test_aws_rejecting_the_pattern_is_a_fail_with_its_message() -> None:
    clients = StubbedClients()
    add_error(
        clients.stub("logs"), "test_metric_filter", "InvalidParameterException", "Invalid filter pattern"
    )
    result = aws_matcher(clients, "{ $.eventName = }", CIS_4_5)
    assert result.status is Status.FAIL
    assert result.detail.startswith("AWS rejects the pattern (Invalid filter pattern)")
    assert "not valid filter-pattern syntax" in result.detail  # our engine's verdict beside it


def test_access_denied_is_an_error_the_cli_turns_into_exit_2() -> None:
    clients = StubbedClients()
    add_error(
        clients.stub("logs"),
        "test_metric_filter",
        "AccessDeniedException",
        denied("logs:TestMetricFilter", "*"),
    )
    result = aws_matcher(clients, CANONICAL, CIS_4_5, filter_name="cis-4-5-cloudtrail-changes")
    assert result.status is Status.ERROR
    assert result.access_denied and result.error is not None
    assert result.error.action == "logs:TestMetricFilter" and result.error.operation == "TestMetricFilter"
    assert ROLE in result.detail
    [line] = usage_problems([result])
    assert line.startswith("logs:TestMetricFilter was denied (cis-4-5-cloudtrail-changes)")
    assert "--no-test-metric-filter" in line


def test_throttling_after_retries_is_an_error_but_no_usage_problem() -> None:
    clients = StubbedClients()
    add_error(clients.stub("logs"), "test_metric_filter", "ThrottlingException", "Rate exceeded", retries=9)
    result = aws_matcher(clients, CANONICAL, CIS_4_5)
    assert result.status is Status.ERROR and not result.access_denied
    assert (
        result.detail
        == "ThrottlingException: Rate exceeded (still failing after 9 retries) (TestMetricFilter)"
    )
    assert usage_problems([result]) == []


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("500", 500, Status.NOT_AVAILABLE),  # moto's server: an HTML page, no AWS error body
        ("InternalFailure", 501, Status.NOT_AVAILABLE),  # LocalStack: "not yet implemented"
        ("InternalFailure", 500, Status.ERROR),  # real AWS: a transient failure, not a missing API
        ("ServiceUnavailableException", 503, Status.ERROR),
    ],
)
def test_only_an_emulator_gap_is_not_available(code: str, status: int, expected: Status) -> None:
    clients = StubbedClients()
    add_error(clients.stub("logs"), "test_metric_filter", code, "not implemented or failing", status=status)
    result = aws_matcher(clients, CANONICAL, CIS_4_5)
    assert result.status is expected
    if expected is Status.NOT_AVAILABLE:
        assert result.detail.startswith("not available in this emulator: TestMetricFilter is not implemented")


def test_messages_go_in_batches_of_fifty() -> None:
    clients = StubbedClients()
    logs = clients.stub("logs")
    messages = [f'{{"eventName":"E{i}"}}' for i in range(120)]
    for start in (0, 50, 100):
        batch = messages[start : start + 50]
        logs.add_response(
            "test_metric_filter",
            {"matches": [{"eventNumber": 1, "eventMessage": batch[-1], "extractedValues": {}}]},
            {"filterPattern": "x", "logEventMessages": batch},
        )
    verdicts = aws_matches(clients("logs", None), "x", messages)
    clients.assert_done()
    assert [i for i, v in enumerate(verdicts) if v] == [49, 99, 119]


def test_a_pattern_aws_would_refuse_is_not_sent() -> None:
    clients = StubbedClients()
    result = aws_matcher(clients, "x" * 1025, CIS_4_5)
    assert result.status is Status.FAIL
    assert "CloudWatch Logs takes 1 to 1024" in result.detail
    assert clients.requested == []
