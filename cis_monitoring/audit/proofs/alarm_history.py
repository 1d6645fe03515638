"""Alarm history: did any of the alarm's actions fail in the last N days?

A topic whose key, policy or subscriber silently rejects CloudWatch leaves one trace:
an ``Action`` item "Failed to execute action" in the alarm's history. Any such item in
the window is a FAIL, with AWS's own message and its time. No failure is a PASS, but an
alarm that ran no action in the window proves nothing about delivery, and the detail
says so (``--drill`` gives that proof). CloudWatch keeps alarm history for 30 days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cis_monitoring.audit.proofs.guard import guarded
from cis_monitoring.audit.proofs.history import action_outcomes, fetch_history
from cis_monitoring.audit.proofs.result import ALARM_HISTORY, ClientFor, ProofResult, ProofStatus

DEFAULT_DAYS = 14
MAX_DAYS = 30
"""CloudWatch keeps alarm history for 30 days; a longer window would only look complete."""


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        evidence = {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "days": days,
            "actions": len(outcomes),
            "failed": [o.to_dict() for o in failed],
            "lastSuccess": succeeded[-1].to_dict() if succeeded else None,
        }
        if failed:
            last = failed[-1]
            later = [o for o in succeeded if o.at > last.at]
            since = (
                f"; it succeeded {len(later)} time(s) since, last at {later[-1].at.isoformat()}"
                if later
                else ""
            )
            return ProofResult(
                ALARM_HISTORY,
                alarm_name,
                ProofStatus.FAIL,
                f"{len(failed)} alarm action(s) failed in the last {days} days; the last at"
                f" {last.at.isoformat()}: {last.summary}{since}",
                evidence,
            )
        if not outcomes:
            detail = (
                f"no alarm action ran in the last {days} days, so none failed; this proves nothing about"
                " delivery (a drill does)"
            )
        else:
            detail = (
                f"all {len(outcomes)} alarm action(s) of the last {days} days succeeded, the last at"
                f" {succeeded[-1].at.isoformat()}"
            )
        return ProofResult(ALARM_HISTORY, alarm_name, ProofStatus.PASS, detail, evidence)

    return guarded(ALARM_HISTORY, alarm_name, body)
