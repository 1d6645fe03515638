"""Alarm mute rules (cloudwatch:ListAlarmMuteRules, GetAlarmMuteRule): a rule that mutes the chain's alarm
now or on a schedule FAILs, naming the rule and when; an expired one does not; no API is "not checked"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cis_monitoring.audit.proofs import MUTE_RULES, alarm_mute_rules
from cis_monitoring.core.judge.mute_rules import MuteRuleFacts, judge_mute_rules
from cis_monitoring.core.status import Status
from tests.audit.proofs.stubs import ACCOUNT, ALARM_NAME, REGION, StubbedClients, add_error

NIGHTLY = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm-mute-rule:nightly-backup"
INCIDENT = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm-mute-rule:incident-42"
OLD = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm-mute-rule:last-year"


def summary(arn: str, status: str, mute_type: str = "RECURRING") -> dict[str, Any]:
    return {
        "AlarmMuteRuleArn": arn,
        "Status": status,
        "MuteType": mute_type,
        "LastUpdatedTimestamp": datetime(2026, 11, 1, tzinfo=UTC),
    }


def rule(
    arn: str, status: str, expression: str, duration: str, targets: list[str], **more: Any
) -> dict[str, Any]:
    """GetAlarmMuteRule's answer (botocore's GetAlarmMuteRuleOutput)."""
    return {
        "Name": arn.rsplit(":", 1)[1],
        "AlarmMuteRuleArn": arn,
        "Description": "mute during backups",
        "Rule": {"Schedule": {"Expression": expression, "Duration": duration, **more}},
        "MuteTargets": {"AlarmNames": targets},
        "Status": status,
        "MuteType": "RECURRING" if expression.startswith("cron") else "ONE_TIME",
        "LastUpdatedTimestamp": datetime(2026, 11, 1, tzinfo=UTC),
    }


def stub(clients: StubbedClients, summaries: list[dict[str, Any]], rules: list[dict[str, Any]]) -> None:
    cloudwatch = clients.stub("cloudwatch")
    cloudwatch.add_response(
        "list_alarm_mute_rules", {"AlarmMuteRuleSummaries": summaries}, {"AlarmName": ALARM_NAME}
    )
    for found in rules:
        cloudwatch.add_response("get_alarm_mute_rule", found, {"AlarmMuteRuleName": found["Name"]})


def test_a_nightly_mute_fails_naming_the_rule_and_when() -> None:
    clients = StubbedClients()
    stub(
        clients,
        [summary(NIGHTLY, "SCHEDULED")],
        [rule(NIGHTLY, "SCHEDULED", "cron(0 23 * * *)", "PT2H", [ALARM_NAME], Timezone="Europe/London")],
    )
    result = alarm_mute_rules(clients, ALARM_NAME)
    clients.assert_done()
    assert result.proof == MUTE_RULES and result.status is Status.FAIL
    assert "rule 'nightly-backup' every time on its schedule cron(0 23 * * *) for PT2H (Europe/London)" in (
        result.detail
    )
    assert "notifies nobody" in result.detail
    assert result.evidence["rules"][0]["arn"] == NIGHTLY and result.evidence["code"] == "alarm.muted"


def test_an_active_mute_fails_as_muting_now() -> None:
    clients = StubbedClients()
    stub(
        clients,
        [summary(INCIDENT, "ACTIVE", "ONE_TIME")],
        [rule(INCIDENT, "ACTIVE", "at(2026-12-01T08:00)", "P2D", ["other", ALARM_NAME])],
    )
    result = alarm_mute_rules(clients, ALARM_NAME)
    assert result.status is Status.FAIL
    assert "rule 'incident-42' now (at(2026-12-01T08:00) for P2D (UTC))" in result.detail


def test_an_expired_rule_is_evidence_and_is_not_read_again() -> None:
    clients = StubbedClients()
    stub(clients, [summary(OLD, "EXPIRED", "ONE_TIME")], [])
    result = alarm_mute_rules(clients, ALARM_NAME)
    clients.assert_done()
    assert result.status is Status.PASS
    assert result.detail == f"no alarm mute rule mutes alarm {ALARM_NAME!r} (1 expired rule(s) targeted it)"
    assert result.evidence == {
        "checked": True,
        "code": None,
        "rules": [],
        "expired": [{"name": "last-year", "arn": OLD}],
    }


def test_no_rule_passes() -> None:
    clients = StubbedClients()
    stub(clients, [], [])
    result = alarm_mute_rules(clients, ALARM_NAME)
    assert result.status is Status.PASS and result.evidence["checked"] is True


def test_a_botocore_without_the_api_says_it_was_not_checked() -> None:
    class OldCloudWatch:
        """A CloudWatch client of a botocore from before alarm mute rules."""

    result = alarm_mute_rules(lambda _service, _region=None: OldCloudWatch(), ALARM_NAME)
    assert result.status is Status.NOT_AVAILABLE
    assert result.detail.startswith("not checked: this botocore") and "was not checked" in result.detail
    assert result.evidence["checked"] is False


def test_an_emulator_without_the_api_is_not_available() -> None:
    clients = StubbedClients()
    add_error(clients.stub("cloudwatch"), "list_alarm_mute_rules", "500", "<!doctype html>...", status=500)
    result = alarm_mute_rules(clients, ALARM_NAME)
    assert result.status is Status.NOT_AVAILABLE


def test_the_core_ignores_rules_on_other_alarms_and_counts_an_unknown_status() -> None:
    other = MuteRuleFacts("theirs", "ACTIVE", ("billing",), "cron(0 1 * * *)", "PT1H")
    odd = MuteRuleFacts("odd", "PAUSED", (ALARM_NAME,), "cron(0 1 * * *)", "PT1H")
    assert judge_mute_rules(ALARM_NAME, [other]).ok
    verdict = judge_mute_rules(ALARM_NAME, [other, odd])
    assert not verdict.ok and [r.name for r, _when in verdict.muting] == ["odd"]
