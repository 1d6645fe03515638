"""Proof results the CLI must answer with exit 2: an opt-in call that AWS refused for lack of permission.

A denied TestMetricFilter or SetAlarmState is no finding about the account: the audit
was asked for something its role cannot do. ``usage_problems`` says, one line per denied
action, what to attach or which option turns the proof off.
"""

from __future__ import annotations

from collections.abc import Iterable

from cis_monitoring.audit.proofs.result import ProofResult

OPT_IN_ACTIONS = {
    "logs:TestMetricFilter": (
        "add logs:TestMetricFilter to the auditor's policy (iam/auditor-policy.json has it),"
        " or pass --no-test-metric-filter"
    ),
    "cloudwatch:SetAlarmState": (
        "--drill needs cloudwatch:SetAlarmState on the alarm: attach iam/drill-policy.json to the"
        " auditor's role, or leave out --drill"
    ),
}


def usage_problems(results: Iterable[ProofResult]) -> list[str]:
    """One line per opt-in action AWS denied, naming where (first few subjects) and what to do."""
    denied: dict[str, list[str]] = {}
    for result in results:
        action = result.error.action if result.error else None
        if result.access_denied and action in OPT_IN_ACTIONS:
            denied.setdefault(action, []).append(result.subject)
    lines = []
    for action, subjects in denied.items():
        shown = ", ".join(subjects[:3]) + (f" and {len(subjects) - 3} more" if len(subjects) > 3 else "")
        lines.append(f"{action} was denied ({shown}): {OPT_IN_ACTIONS[action]}")
    return lines
