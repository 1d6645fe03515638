"""The fire drill: SetAlarmState to ALARM, then the action's result from DescribeAlarmHistory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cis_monitoring.audit.drill import DrillSettings, drill_reason, fire_drill
from cis_monitoring.audit.proofs import DRILL, usage_problems
from cis_monitoring.core.status import Status
from tests.audit.proofs.stubs import (
    ALARM_ARN,
    ALARM_NAME,
    KMS_DENIED_TO_CLOUDWATCH,
    TOPIC,
    FakeTime,
    StubbedClients,
    action_item,
    add_error,
    denied,
    state_item,
)

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RUN = "drill-20261201T090000Z-3f9a1c"
REASON = drill_reason(RUN)
CHANGED = START + timedelta(seconds=1, milliseconds=230)
PAGER = TOPIC.replace("cis-sandbox-alarms", "pager")


def metric_alarm(**overrides: Any) -> dict[str, Any]:
    """A MetricAlarm as DescribeAlarms returns it."""
    alarm: dict[str, Any] = {
        "AlarmName": ALARM_NAME,
        "AlarmArn": ALARM_ARN,
        "AlarmDescription": "CIS AWS Foundations Benchmark v3.0.0 4.5: Ensure CloudTrail configuration changes are monitored",
        "AlarmConfigurationUpdatedTimestamp": datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        "ActionsEnabled": True,
        "OKActions": [],
        "AlarmActions": [TOPIC],
        "InsufficientDataActions": [],
        "StateValue": "OK",
        "StateReason": "Threshold Crossed: 1 datapoint [0.0 (01/12/26 08:50:00)] was not greater than or equal to the threshold (1.0).",
        "StateUpdatedTimestamp": datetime(2026, 11, 30, 8, 55, tzinfo=UTC),
        "MetricName": "CloudTrailConfigChanges",
        "Namespace": "CISBenchmark",
        "Statistic": "Sum",
        "Dimensions": [],
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }
    return {**alarm, **overrides}


def settings(time: FakeTime, timeout: float = 60.0) -> DrillSettings:
    return DrillSettings(
        RUN, timeout_seconds=timeout, interval_seconds=5.0, sleep=time.sleep, clock=time.clock
    )


def stub_drill(clients: StubbedClients, alarm: dict[str, Any], polls: list[list[dict[str, Any]]]) -> None:
    cloudwatch = clients.stub("cloudwatch")
    cloudwatch.add_response(
        "describe_alarms",
        {"MetricAlarms": [alarm], "CompositeAlarms": []},
        {"AlarmNames": [ALARM_NAME], "AlarmTypes": ["MetricAlarm"]},
    )
    cloudwatch.add_response(
        "set_alarm_state",
        {},
        {
            "AlarmName": ALARM_NAME,
            "StateValue": "ALARM",
            "StateReason": REASON,
            "StateReasonData": '{"drill": true, "runId": "' + RUN + '", "by": "cis-monitoring"}',
        },
    )
    for items in polls:
        cloudwatch.add_response(
            "describe_alarm_history",
            {"AlarmHistoryItems": items},
            {
                "AlarmName": ALARM_NAME,
                "StartDate": START - timedelta(minutes=5),
                "ScanBy": "TimestampAscending",
            },
        )


def test_a_drill_passes_on_successfully_executed_action_and_says_what_on_call_receives() -> None:
    time, clients = FakeTime(START), StubbedClients()
    stub_drill(
        clients,
        metric_alarm(),
        [
            [],  # the transition is not in the history yet
            [
                state_item(CHANGED, "OK", "ALARM", REASON),
                action_item(CHANGED + timedelta(milliseconds=80), True, transition_at=CHANGED),
            ],
        ],
    )
    result = fire_drill(clients, metric_alarm(), settings(time))
    clients.assert_done()
    assert result.status is Status.PASS, result.detail
    assert result.proof == DRILL and result.subject == ALARM_NAME
    assert time.slept == [5.0, 5.0]
    evidence = result.evidence
    assert evidence["runId"] == RUN and evidence["previousState"] == "OK"
    assert evidence["requestedAt"] == START.isoformat() and evidence["stateChangedAt"] == CHANGED.isoformat()
    assert [a["result"] for a in evidence["actions"]] == ["succeeded"] and evidence["pending"] == []
    assert evidence["notification"] == {
        "subject": f'ALARM: "{ALARM_NAME}" in US East (N. Virginia)',
        "reason": REASON,
    }
    assert RUN in REASON and "DRILL" in REASON
    assert f"CloudWatch executed the alarm's action: {TOPIC} at" in result.detail
    assert "returns to its real state by itself at its next evaluation (within about 300 s)" in result.detail


def test_a_passing_drill_says_what_it_proves_and_what_it_does_not() -> None:
    """SetAlarmState proves CloudWatch -> SNS; a subscriber that filters the alarm out or cannot be
    reached gets nothing, and the drill cannot see that: its result and JSON say so."""
    time, clients = FakeTime(START), StubbedClients()
    transition = [
        state_item(CHANGED, "OK", "ALARM", REASON),
        action_item(CHANGED + timedelta(milliseconds=80), True, transition_at=CHANGED),
    ]
    stub_drill(clients, metric_alarm(), [transition])
    result = fire_drill(clients, metric_alarm(), settings(time))
    assert result.status is Status.PASS, result.detail
    assert "published the alarm to the topic" in result.evidence["proves"]
    assert "that any subscriber received it" in result.evidence["doesNotProve"]
    assert "filter policy" in result.evidence["doesNotProve"]
    assert "it does not prove that any subscriber received it" in result.detail
    assert result.to_dict()["evidence"]["doesNotProve"] == result.evidence["doesNotProve"]


def test_a_failed_action_fails_the_drill_with_aws_message() -> None:
    time, clients = FakeTime(START), StubbedClients()
    failed = action_item(CHANGED, False, error=KMS_DENIED_TO_CLOUDWATCH, transition_at=CHANGED)
    stub_drill(clients, metric_alarm(), [[state_item(CHANGED, "OK", "ALARM", REASON), failed]])
    result = fire_drill(clients, metric_alarm(), settings(time))
    assert result.status is Status.FAIL
    assert KMS_DENIED_TO_CLOUDWATCH in result.detail
    assert result.evidence["actions"][0]["error"] == KMS_DENIED_TO_CLOUDWATCH


def test_an_earlier_success_of_a_real_alarm_does_not_count() -> None:
    earlier = START - timedelta(minutes=3)
    real = [
        state_item(earlier, "OK", "ALARM", "Threshold Crossed: 1 datapoint [1.0]"),
        action_item(earlier, True),
    ]
    time, clients = FakeTime(START), StubbedClients()
    stub_drill(clients, metric_alarm(), [real, real, real])
    result = fire_drill(clients, metric_alarm(), settings(time, timeout=15))
    clients.assert_done()
    assert result.status is Status.FAIL
    assert "saw no transition to ALARM and no result for" in result.detail and "within 15 s" in result.detail


def test_only_actions_of_the_drills_own_transition_count() -> None:
    earlier = START - timedelta(minutes=3)
    items = [
        state_item(earlier, "OK", "ALARM", "Threshold Crossed: 1 datapoint [1.0]"),
        action_item(earlier, True),  # a real alarm's success, before the drill
        state_item(CHANGED, "OK", "ALARM", REASON),  # the drill's transition, whose action has not run yet
    ]
    time, clients = FakeTime(START), StubbedClients()
    stub_drill(clients, metric_alarm(), [items, items])
    result = fire_drill(clients, metric_alarm(), settings(time, timeout=10))
    clients.assert_done()
    assert result.status is Status.FAIL
    assert "saw the transition to ALARM but no result for" in result.detail


def test_every_sns_action_must_succeed() -> None:
    alarm = metric_alarm(AlarmActions=[TOPIC, PAGER])
    items = [
        state_item(CHANGED, "OK", "ALARM", REASON),
        action_item(CHANGED, True, topic=TOPIC, transition_at=CHANGED),
        action_item(CHANGED, False, topic=PAGER, error="AuthorizationError", transition_at=CHANGED),
    ]
    time, clients = FakeTime(START), StubbedClients()
    stub_drill(clients, alarm, [items])
    result = fire_drill(clients, alarm, settings(time))
    assert result.status is Status.FAIL
    assert f"Failed to execute action {PAGER}" in result.detail


def test_the_wait_is_bounded() -> None:
    time, clients = FakeTime(START), StubbedClients()
    stub_drill(clients, metric_alarm(), [[state_item(CHANGED, "OK", "ALARM", REASON)]] * 4)
    result = fire_drill(clients, metric_alarm(), settings(time, timeout=20))
    clients.assert_done()
    assert result.status is Status.FAIL
    assert "saw the transition to ALARM but no result for" in result.detail
    assert sum(time.slept) == 20 and result.evidence["pending"] == [TOPIC]


def test_a_clock_that_stands_still_cannot_make_it_wait_forever() -> None:
    clients = StubbedClients()
    stub_drill(clients, metric_alarm(), [[]] * 3)
    frozen = DrillSettings(
        RUN, timeout_seconds=10, interval_seconds=5, sleep=lambda _: None, clock=lambda: START
    )
    assert fire_drill(clients, metric_alarm(), frozen).status is Status.FAIL
    clients.assert_done()


def test_an_alarm_already_in_alarm_is_never_drilled() -> None:
    alarm = metric_alarm(StateValue="ALARM", StateReason="Threshold Crossed: 1 datapoint [1.0]")
    clients = StubbedClients()
    clients.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": [alarm]})
    # The caller's copy says OK: the drill reads the state again right before it acts.
    result = fire_drill(clients, metric_alarm(), settings(FakeTime(START)))
    clients.assert_done()  # no SetAlarmState was queued, and none was made
    assert result.status is Status.SKIPPED
    assert "already in ALARM" in result.detail and "would hide a real alarm" in result.detail


@pytest.mark.parametrize(
    ("overrides", "why"),
    [({"ActionsEnabled": False}, "has its actions disabled"), ({"AlarmActions": []}, "has no SNS topic")],
)
def test_an_alarm_that_notifies_nobody_fails_without_a_drill(overrides: dict[str, Any], why: str) -> None:
    alarm = metric_alarm(**overrides)
    clients = StubbedClients()
    clients.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": [alarm]})
    result = fire_drill(clients, alarm, settings(FakeTime(START)))
    clients.assert_done()
    assert result.status is Status.FAIL and why in result.detail


def test_set_alarm_state_denied_is_an_error_the_cli_turns_into_exit_2() -> None:
    clients = StubbedClients()
    cloudwatch = clients.stub("cloudwatch")
    cloudwatch.add_response("describe_alarms", {"MetricAlarms": [metric_alarm()]})
    add_error(
        cloudwatch, "set_alarm_state", "AccessDenied", denied("cloudwatch:SetAlarmState", ALARM_ARN), 403
    )
    result = fire_drill(clients, metric_alarm(), settings(FakeTime(START)))
    assert result.status is Status.ERROR and result.access_denied
    [line] = usage_problems([result])
    assert line.startswith(f"cloudwatch:SetAlarmState was denied ({ALARM_NAME})")
    assert "iam/drill-policy.json" in line


def test_history_not_implemented_after_the_state_change_is_not_available() -> None:
    clients = StubbedClients()
    cloudwatch = clients.stub("cloudwatch")
    cloudwatch.add_response("describe_alarms", {"MetricAlarms": [metric_alarm()]})
    cloudwatch.add_response("set_alarm_state", {})
    add_error(cloudwatch, "describe_alarm_history", "500", "<!doctype html>", status=500)
    result = fire_drill(clients, metric_alarm(), settings(FakeTime(START)))
    assert result.status is Status.NOT_AVAILABLE
    assert "the alarm was set to ALARM" in result.detail
    assert result.evidence["requestedAt"] == START.isoformat()


def test_history_throttled_after_the_state_change_is_an_error_that_says_the_alarm_was_set() -> None:
    clients = StubbedClients()
    cloudwatch = clients.stub("cloudwatch")
    cloudwatch.add_response("describe_alarms", {"MetricAlarms": [metric_alarm()]})
    cloudwatch.add_response("set_alarm_state", {})
    add_error(cloudwatch, "describe_alarm_history", "Throttling", "Rate exceeded", retries=9)
    result = fire_drill(clients, metric_alarm(), settings(FakeTime(START)))
    assert result.status is Status.ERROR
    assert result.detail.startswith("the alarm was set to ALARM, then Throttling: Rate exceeded")


def test_a_deleted_alarm_is_not_drilled() -> None:
    clients = StubbedClients()
    clients.stub("cloudwatch").add_response("describe_alarms", {"MetricAlarms": []})
    result = fire_drill(clients, metric_alarm(), settings(FakeTime(START)))
    assert result.status is Status.FAIL and "no longer exists" in result.detail


@pytest.mark.parametrize("run_id", ["", "has space", "x" * 65])
def test_the_run_id_must_be_short_and_plain(run_id: str) -> None:
    with pytest.raises(ValueError, match="run_id"):
        DrillSettings(run_id)
