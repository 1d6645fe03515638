"""The pack's cis-alarm-not-muted: an AlarmMuteRule of the stack that targets a CIS alarm is a violation,
judged by the same core code as the audit's mute-rules proof (``cis_monitoring.core.judge.mute_rules``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.analyzer_client import PolicyPackServer, to_analyzer_resource
from tests.test_one_judgement import ALARM_NAME, GOOD, _registration, pack_registrations, urn

pytestmark = pytest.mark.protocol

MUTE_RULE = "aws:cloudwatch/alarmMuteRule:AlarmMuteRule"


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        server.configure({})
        yield server
    finally:
        server.close()


def muted(pack: PolicyPackServer, targets: list[str], **more: Any) -> list[str]:
    rule = _registration(
        MUTE_RULE,
        urn(MUTE_RULE, "nightly"),
        {
            "name": "nightly",
            "muteTargets": {"alarmNames": targets},
            "rule": {"schedule": {"expression": "cron(0 22 * * *)", "duration": "PT8H"}},
            **more,
        },
    )
    registrations = [*pack_registrations(GOOD), rule]
    by_urn = {r.urn: r for r in registrations}
    violations = pack.analyze_stack(to_analyzer_resource(r, by_urn, set()) for r in registrations)
    return [v.message for v in violations if v.policy == "cis-alarm-not-muted" and v.level == "mandatory"]


def test_a_nightly_mute_of_the_cis_alarm_is_blocked(pack: PolicyPackServer) -> None:
    [message] = muted(pack, [ALARM_NAME])
    assert f"alarm {ALARM_NAME!r} is muted by rule 'nightly'" in message
    assert "cron(0 22 * * *) for PT8H (UTC)" in message and message.endswith("[codes: alarm.muted]")


def test_a_mute_of_other_alarms_or_an_expired_one_is_not(pack: PolicyPackServer) -> None:
    assert muted(pack, ["billing"]) == []
    assert muted(pack, [ALARM_NAME], status="EXPIRED") == []
