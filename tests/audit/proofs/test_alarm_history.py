"""Alarm history (cloudwatch:DescribeAlarmHistory): an action target whose most recent attempt in N days
failed is a FAIL; an older failure a later success outlived is evidence, not a FAIL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cis_monitoring.audit.proofs import ALARM_HISTORY, alarm_history, usage_problems
from cis_monitoring.core.status import Status
from tests.audit.proofs.stubs import (
    ALARM_ARN,
    ALARM_NAME,
    KMS_DENIED_TO_CLOUDWATCH,
    TOPIC,
    StubbedClients,
    action_item,
    add_error,
    denied,
    pages,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FAILED_AT = datetime(2026, 11, 24, 3, 12, 40, 118000, tzinfo=UTC)


def expected(days: int = 14, token: str | None = None) -> dict[str, object]:
    params: dict[str, object] = {
        "AlarmName": ALARM_NAME,
        "StartDate": NOW - timedelta(days=days),
        "EndDate": NOW,
        "ScanBy": "TimestampAscending",
        "HistoryItemType": "Action",
    }
    if token:
        params["NextToken"] = token
    return params


def stub_history(
    clients: StubbedClients, items: list[dict[str, object]], size: int = 2, days: int = 14
) -> None:
    cloudwatch = clients.stub("cloudwatch")
    previous = None
    for page, token in pages(items, size) if items else iter([([], None)]):
        response: dict[str, object] = {"AlarmHistoryItems": page}
        if token:
            response["NextToken"] = token
        cloudwatch.add_response("describe_alarm_history", response, expected(days, previous))
        previous = token


def test_a_failed_last_attempt_on_a_later_page_fails_with_aws_message_and_time() -> None:
    items = [
        action_item(datetime(2026, 11, 20, 8, 0, tzinfo=UTC), True),
        action_item(datetime(2026, 11, 22, 8, 0, tzinfo=UTC), True),
        action_item(FAILED_AT, False, error=KMS_DENIED_TO_CLOUDWATCH),
    ]
    clients = StubbedClients()
    stub_history(clients, items)
    result = alarm_history(clients, ALARM_NAME, clock=lambda: NOW)
    clients.assert_done()
    assert result.status is Status.FAIL
    assert result.proof == ALARM_HISTORY and result.subject == ALARM_NAME
    assert result.detail.startswith(
        "the most recent attempt of 1 alarm action(s) failed (last 14 days); the last at"
        " 2026-11-24T03:12:40.118000+00:00: Failed to execute action"
        " arn:aws:sns:us-east-1:123456789012:cis-sandbox-alarms."
    )
    assert KMS_DENIED_TO_CLOUDWATCH in result.detail
    [failure] = result.evidence["failed"]
    assert failure["error"] == KMS_DENIED_TO_CLOUDWATCH and failure["at"] == FAILED_AT.isoformat()


def test_a_failure_a_later_success_outlived_passes_and_is_shown_as_evidence() -> None:
    later = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    clients = StubbedClients()
    stub_history(
        clients, [action_item(FAILED_AT, False, error="AuthorizationError"), action_item(later, True)]
    )
    result = alarm_history(clients, ALARM_NAME, clock=lambda: NOW)
    assert result.status is Status.PASS
    assert "1 earlier attempt(s) failed and were followed by a success" in result.detail
    assert FAILED_AT.isoformat() in result.detail
    [earlier] = result.evidence["earlierFailures"]
    assert earlier["at"] == FAILED_AT.isoformat() and earlier["result"] == "failed"
    assert result.evidence["failed"] == []


def test_each_target_is_judged_by_its_own_last_attempt() -> None:
    """A success on another topic does not outlive this topic's failure."""
    other = "arn:aws:sns:us-east-1:123456789012:other-alarms"
    items = [
        action_item(FAILED_AT, False, error=KMS_DENIED_TO_CLOUDWATCH),
        action_item(datetime(2026, 11, 30, 8, 0, tzinfo=UTC), True, topic=other),
    ]
    clients = StubbedClients()
    stub_history(clients, items)
    result = alarm_history(clients, ALARM_NAME, clock=lambda: NOW)
    assert result.status is Status.FAIL
    assert [o["resource"] for o in result.evidence["latest"]] == [TOPIC, other]


def test_only_successes_pass() -> None:
    clients = StubbedClients()
    stub_history(clients, [action_item(datetime(2026, 11, 28, tzinfo=UTC), True)])
    result = alarm_history(clients, ALARM_NAME, clock=lambda: NOW)
    assert result.status is Status.PASS
    assert result.detail.startswith("all 1 alarm action(s) of the last 14 days succeeded")


def test_no_action_passes_but_says_it_proves_nothing() -> None:
    clients = StubbedClients()
    stub_history(clients, [], days=7)
    result = alarm_history(clients, ALARM_NAME, days=7, clock=lambda: NOW)
    clients.assert_done()
    assert result.status is Status.PASS
    assert "no alarm action ran in the last 7 days" in result.detail and "proves nothing" in result.detail


@pytest.mark.parametrize("days", [0, 31])
def test_the_window_must_fit_what_cloudwatch_keeps(days: int) -> None:
    with pytest.raises(ValueError, match="days must be 1 to 30"):
        alarm_history(StubbedClients(), ALARM_NAME, days=days)


def test_access_denied_and_throttling_are_errors() -> None:
    clients = StubbedClients()
    cloudwatch = clients.stub("cloudwatch")
    add_error(
        cloudwatch,
        "describe_alarm_history",
        "AccessDenied",
        denied("cloudwatch:DescribeAlarmHistory", ALARM_ARN),
        403,
    )
    add_error(cloudwatch, "describe_alarm_history", "Throttling", "Rate exceeded", retries=9)
    first = alarm_history(clients, ALARM_NAME, clock=lambda: NOW)
    second = alarm_history(clients, ALARM_NAME, clock=lambda: NOW)
    assert first.status is Status.ERROR and first.access_denied
    assert first.error is not None and first.error.action == "cloudwatch:DescribeAlarmHistory"
    assert usage_problems([first]) == []
    assert second.status is Status.ERROR
    assert second.detail == "Throttling: Rate exceeded (still failing after 9 retries) (DescribeAlarmHistory)"


def test_an_emulator_without_the_api_is_not_available() -> None:
    clients = StubbedClients()
    add_error(clients.stub("cloudwatch"), "describe_alarm_history", "500", "<!doctype html>...", status=500)
    result = alarm_history(clients, ALARM_NAME, clock=lambda: NOW)
    assert result.status is Status.NOT_AVAILABLE
    assert result.detail.startswith("not available in this emulator")
