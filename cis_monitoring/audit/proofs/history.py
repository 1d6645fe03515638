"""Alarm history: reading ``cloudwatch:DescribeAlarmHistory``, and the proof that no alarm action failed.

A topic whose key, policy or subscriber silently rejects CloudWatch leaves one trace: an
``Action`` item "Failed to execute action" in the alarm's history. ``alarm_history`` judges each
action target (an SNS topic) by its most recent attempt in the window: FAIL when that one failed,
with AWS's own message and its time. An older failure that a later attempt on the same target
outlived is shown as evidence (``earlierFailures``), not held against the chain: the fix it called
for was made, and the next attempt proved it. No failure is a PASS, but an alarm
that ran no action in the window proves nothing about delivery, and the detail says so (``--drill``
gives that proof; it reads the same history, ``cis_monitoring.audit.drill``). CloudWatch keeps
alarm history for 30 days.

An ``Action`` item records one attempt to run an alarm action::

    {"AlarmName": "...", "AlarmType": "MetricAlarm", "Timestamp": datetime,
     "HistoryItemType": "Action",
     "HistorySummary": "Failed to execute action arn:aws:sns:...:topic. Received error: \\"...\\"",
     "HistoryData": "{\\"actionState\\":\\"Failed\\",\\"notificationResource\\":\\"arn:aws:sns:...\\",
                      \\"stateUpdateTimestamp\\":1733040000000,\\"error\\":\\"...\\"}"}

A ``StateUpdate`` item's HistoryData holds ``oldState`` and ``newState``, each with its
``stateValue`` and ``stateReason``: that is how a drill finds its own transition. Only
the summary's leading words are relied on ("Successfully executed action", "Failed to
execute action"); the HistoryData fields are read when present.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cis_monitoring.audit.proofs.result import ALARM_HISTORY, ClientFor, ProofResult, guarded
from cis_monitoring.core.status import Status

SUCCEEDED = "Successfully executed action"
FAILED = "Failed to execute action"
DEFAULT_DAYS = 14
MAX_DAYS = 30
"""CloudWatch keeps alarm history for 30 days; a longer window would only look complete."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ActionOutcome:
    at: datetime
    succeeded: bool
    resource: str | None
    """The action's target (an SNS topic ARN), when AWS names it."""
    summary: str
    error: str | None
    message_id: str | None
    state_update_ms: int | None
    """HistoryData's stateUpdateTimestamp: the transition this action ran for (epoch ms)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "result": "succeeded" if self.succeeded else "failed",
            "resource": self.resource,
            "summary": self.summary,
            "error": self.error,
            "messageId": self.message_id,
        }


def history_data(item: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(item.get("HistoryData") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _find_message_id(value: Any, depth: int = 0) -> str | None:
    """A ``messageId`` anywhere in HistoryData (AWS documents no place for it; nested JSON included)."""
    if depth > 4:
        return None
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() == "messageid" and isinstance(item, str):
                return item
            found = _find_message_id(item, depth + 1)
            if found:
                return found
    return None


def _resource_from_summary(summary: str) -> str | None:
    rest = summary.removeprefix(SUCCEEDED).removeprefix(FAILED).strip()
    word = rest.split(" ", 1)[0].rstrip(".") if rest else ""
    return word if word.startswith("arn:") else None


def action_outcome(item: Mapping[str, Any]) -> ActionOutcome | None:
    """The outcome an ``Action`` item records, or None for any other item."""
    summary = str(item.get("HistorySummary") or "")
    if item.get("HistoryItemType") != "Action" or not summary.startswith((SUCCEEDED, FAILED)):
        return None
    data = history_data(item)
    stamp = data.get("stateUpdateTimestamp")
    return ActionOutcome(
        at=item["Timestamp"],
        succeeded=summary.startswith(SUCCEEDED),
        resource=str(data.get("notificationResource") or _resource_from_summary(summary) or "") or None,
        summary=summary,
        error=str(data["error"]) if data.get("error") else None,
        message_id=_find_message_id(data),
        state_update_ms=stamp if isinstance(stamp, int) else None,
    )


def action_outcomes(items: Iterable[Mapping[str, Any]]) -> list[ActionOutcome]:
    return [o for o in (action_outcome(i) for i in items) if o is not None]


def latest_attempts(outcomes: Iterable[ActionOutcome]) -> dict[str | None, ActionOutcome]:
    """Each action target's most recent attempt (target None: AWS named none), oldest first."""
    latest: dict[str | None, ActionOutcome] = {}
    for outcome in sorted(outcomes, key=lambda o: o.at):
        latest.pop(outcome.resource, None)
        latest[outcome.resource] = outcome
    return latest


def new_state_reason(item: Mapping[str, Any]) -> str | None:
    """The reason of the state a ``StateUpdate`` item moved to."""
    if item.get("HistoryItemType") != "StateUpdate":
        return None
    new_state = history_data(item).get("newState")
    return str(new_state.get("stateReason")) if isinstance(new_state, dict) else None


def fetch_history(cloudwatch: Any, alarm_name: str, start: datetime, **filters: Any) -> list[dict[str, Any]]:
    """Every history item of ``alarm_name`` since ``start`` (all pages), oldest first.

    ``filters`` go to DescribeAlarmHistory as they are (``EndDate``, ``HistoryItemType``).
    """
    paginator = cloudwatch.get_paginator("describe_alarm_history")
    pages = paginator.paginate(AlarmName=alarm_name, StartDate=start, ScanBy="TimestampAscending", **filters)
    return [item for page in pages for item in page.get("AlarmHistoryItems", [])]


def alarm_history(
    clients: ClientFor,
    alarm_name: str,
    region: str | None = None,
    days: int = DEFAULT_DAYS,
    clock: Callable[[], datetime] = utc_now,
) -> ProofResult:
    """Judge the ``Action`` items of ``alarm_name``'s history over the last ``days`` days."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS} (CloudWatch keeps {MAX_DAYS} days), not {days}")

    def body() -> ProofResult:
        end = clock()
        start = end - timedelta(days=days)
        items = fetch_history(
            clients("cloudwatch", region), alarm_name, start, EndDate=end, HistoryItemType="Action"
        )
        outcomes = action_outcomes(items)
        failed = [o for o in outcomes if not o.succeeded]
        succeeded = [o for o in outcomes if o.succeeded]
        latest = latest_attempts(outcomes)
        failing = [o for o in latest.values() if not o.succeeded]
        outlived = [o for o in failed if o not in failing]
        evidence = {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "days": days,
            "actions": len(outcomes),
            "failed": [o.to_dict() for o in failing],
            "earlierFailures": [o.to_dict() for o in outlived],
            "latest": [o.to_dict() for o in latest.values()],
            "lastSuccess": succeeded[-1].to_dict() if succeeded else None,
        }
        if failing:
            last = failing[-1]
            earlier = f"; {len(outlived)} earlier failure(s) were followed by a success" if outlived else ""
            return ProofResult(
                ALARM_HISTORY,
                alarm_name,
                Status.FAIL,
                f"the most recent attempt of {len(failing)} alarm action(s) failed (last {days} days); the last at"
                f" {last.at.isoformat()}: {last.summary}{earlier}",
                evidence,
            )
        if not outcomes:
            detail = (
                f"no alarm action ran in the last {days} days, so none failed; this proves nothing about"
                " delivery (a drill does)"
            )
        elif outlived:
            shown = "; ".join(f"{o.at.isoformat()}: {o.summary}" for o in outlived[-3:])
            detail = (
                f"the most recent attempt of each alarm action of the last {days} days succeeded, the last at"
                f" {succeeded[-1].at.isoformat()}; {len(outlived)} earlier attempt(s) failed and were followed by"
                f" a success (evidence: {shown})"
            )
        else:
            detail = (
                f"all {len(outcomes)} alarm action(s) of the last {days} days succeeded, the last at"
                f" {succeeded[-1].at.isoformat()}"
            )
        return ProofResult(ALARM_HISTORY, alarm_name, Status.PASS, detail, evidence)

    return guarded(ALARM_HISTORY, alarm_name, body)
