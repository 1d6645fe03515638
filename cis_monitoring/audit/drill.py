"""The opt-in fire drill (``--drill``): set a passing chain's alarm to ALARM and watch AWS run its action.

``cloudwatch:SetAlarmState`` to ALARM runs the alarm's actions as a real breach would, so every
subscriber gets a real notification carrying the drill's state reason (which says it is a drill
and names the run). The drill then polls ``DescribeAlarmHistory`` (bounded by a timeout) for the
result of each SNS action of that very transition, found by its state reason. PASS only on
"Successfully executed action" for every SNS action.

It runs after the chain audit, one alarm after another (it sleeps while it waits), and only for a
control whose chain passed; every other one gets a SKIPPED drill that says at which link its chain
fails. Never drilled: an alarm already in ALARM (no transition would run, and it would hide a real
alarm), an alarm with its actions disabled or without an SNS action. The alarm goes back to its
real state by itself at its next evaluation; its OK actions then run, if it has any. Ctrl-C during
the drill raises ``Interrupted`` naming each alarm this run left in ALARM. Needs
``iam/drill-policy.json`` besides the auditor policy: this is the audit's only write.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from cis_monitoring.audit.aws import Clients, SessionFactory
from cis_monitoring.audit.proof_run import fold
from cis_monitoring.audit.proofs.history import (
    ActionOutcome,
    action_outcomes,
    fetch_history,
    new_state_reason,
    utc_now,
)
from cis_monitoring.audit.proofs.result import (
    DRILL,
    NOT_IN_EMULATOR,
    ClientFor,
    ProofResult,
    error_result,
    guarded,
    is_not_implemented,
)
from cis_monitoring.audit.results import ChainResult, ControlResult
from cis_monitoring.audit.scope import AuditScope
from cis_monitoring.core.aws.arns import parse_arn, parse_sns_topic_arn
from cis_monitoring.core.errors import Interrupted
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status

ALARM = "ALARM"
"""CloudWatch's alarm state (``StateValue``) the drill sets."""
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_SAME_TRANSITION_MS = 1000
"""An action belongs to the drill's transition when its stateUpdateTimestamp is this close to it."""
RETURNS = "returns to its real state by itself at its next evaluation"
PROVES = (
    "CloudWatch ran the alarm's SNS action: it published the alarm to the topic, and the alarm history"
    " holds the action's result"
)
"""What a passing drill proves (SetAlarmState runs the alarm's actions as a breach would)."""
DOES_NOT_PROVE = (
    "that any subscriber received it: the alarm history ends at the publish, and SNS delivers to each"
    " subscriber on its own. A subscriber whose filter policy drops the alarm, or whose endpoint (queue or"
    " function policy, key, URL, mailbox) refuses it, gets nothing, and a drill passes all the same; the"
    " chain's subscription check and the queue and function policy proofs judge those"
)
"""What it does not prove, said in its result and its JSON."""


@dataclass(frozen=True)
class DrillSettings:
    run_id: str
    """Names the run in the state reason (the on-call person sees it)."""
    timeout_seconds: float = 120.0
    interval_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = utc_now
    clock_skew: timedelta = field(default=timedelta(minutes=5))
    """How far back from our clock the history is read (our clock and AWS's may differ)."""

    def __post_init__(self) -> None:
        if not _RUN_ID_RE.match(self.run_id):
            raise ValueError(f"run_id must be 1-64 of A-Z a-z 0-9 . _ : -, not {self.run_id!r}")
        if self.timeout_seconds <= 0 or self.interval_seconds <= 0:
            raise ValueError("timeout_seconds and interval_seconds must be positive")


def drill_reason(run_id: str) -> str:
    return (
        f"DRILL by the {PROJECT} audit, run {run_id}: a test of this alarm's notification path, not a real"
        f" CloudTrail change. The alarm {RETURNS}."
    )


# ---------------------------------------------------------------- what the on-call person receives


@cache
def region_names() -> dict[str, str]:
    """Region code -> long name, from botocore's endpoint data (updated with botocore)."""
    data = botocore.session.get_session().get_data("endpoints")
    return {
        code: str(region.get("description") or code)
        for partition in data.get("partitions", ())
        for code, region in partition.get("regions", {}).items()
    }


def alarm_subject(alarm_name: str, region: str, state: str = ALARM) -> str:
    """CloudWatch's subject: ``ALARM: "<name>" in <long Region name>`` (emulators use the code)."""
    return f'{state}: "{alarm_name}" in {region_names().get(region, region)}'


def notification_preview(alarm_name: str, region: str, reason: str) -> dict[str, str]:
    """The parts of the SNS message a person reads first."""
    return {"subject": alarm_subject(alarm_name, region), "reason": reason}


# ---------------------------------------------------------------- one alarm's drill


def _sns_actions(alarm: Mapping[str, Any]) -> list[str]:
    return [a for a in alarm.get("AlarmActions") or () if parse_sns_topic_arn(a) is not None]


def _current(cloudwatch: Any, name: str) -> Mapping[str, Any] | None:
    """The alarm as CloudWatch has it now (DescribeAlarms, which the audit itself calls)."""
    found = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"]).get("MetricAlarms", [])
    return next((a for a in found if a.get("AlarmName") == name), None)


def _returns_within(alarm: Mapping[str, Any]) -> int | None:
    period, periods = alarm.get("Period"), alarm.get("EvaluationPeriods")
    return int(period * periods) if isinstance(period, int) and isinstance(periods, int) else None


@dataclass
class _Watch:
    """What the history shows about the drill's transition so far."""

    changed_at: datetime | None = None
    outcomes: dict[str, ActionOutcome] = field(default_factory=dict)

    def read(self, items: list[dict[str, Any]], reason: str, topics: list[str]) -> None:
        state = next((i for i in items if new_state_reason(i) == reason), None)
        if state is None:
            return
        self.changed_at = state["Timestamp"]
        changed_ms = int(self.changed_at.timestamp() * 1000)
        for outcome in action_outcomes(items):
            same = (
                abs(outcome.state_update_ms - changed_ms) <= _SAME_TRANSITION_MS
                if outcome.state_update_ms is not None
                else outcome.at >= self.changed_at
            )
            if same and outcome.resource in topics and outcome.resource not in self.outcomes:
                self.outcomes[outcome.resource] = outcome

    def done(self, topics: list[str]) -> bool:
        return all(t in self.outcomes for t in topics)


def _refusal(alarm: Mapping[str, Any], topics: list[str]) -> tuple[Status, str] | None:
    name = alarm.get("AlarmName")
    if alarm.get("StateValue") == ALARM:
        since = alarm.get("StateUpdatedTimestamp")
        when = f" since {since.isoformat()}" if isinstance(since, datetime) else ""
        return (
            Status.SKIPPED,
            f"not drilled: alarm {name!r} is already in ALARM{when} ({alarm.get('StateReason', 'no reason')}):"
            " a drill would run no action and would hide a real alarm; look at why it is in ALARM",
        )
    if alarm.get("ActionsEnabled") is False:
        return Status.FAIL, f"not drilled: alarm {name!r} has its actions disabled, so it notifies nobody"
    if not topics:
        return Status.FAIL, f"not drilled: alarm {name!r} has no SNS topic among its alarm actions"
    return None


def _verdict(watch: _Watch, topics: list[str], settings: DrillSettings) -> tuple[Status, str]:
    failed = [o for o in watch.outcomes.values() if not o.succeeded]
    if failed:
        texts = "; ".join(f"{o.summary} (at {o.at.isoformat()})" for o in failed)
        return Status.FAIL, f"CloudWatch could not notify: {texts}"
    if watch.done(topics):
        texts = "; ".join(
            f"{o.resource} at {o.at.isoformat()}" + (f" (message id {o.message_id})" if o.message_id else "")
            for o in watch.outcomes.values()
        )
        return Status.PASS, f"CloudWatch executed the alarm's action: {texts}"
    pending = ", ".join(t for t in topics if t not in watch.outcomes)
    seen = "saw the transition to ALARM but " if watch.changed_at else "saw no transition to ALARM and "
    return (
        Status.FAIL,
        f"the history {seen}no result for {pending} within {settings.timeout_seconds:g} s; check the alarm's"
        " history later, and that its actions are enabled",
    )


def fire_drill(
    clients: ClientFor,
    alarm: Mapping[str, Any],
    settings: DrillSettings,
    on_set: Callable[[Mapping[str, Any]], None] | None = None,
) -> ProofResult:
    """Drill ``alarm`` (a MetricAlarm as DescribeAlarms returns it; its state is read again first).

    ``on_set(evidence)`` is called just before the alarm is set to ALARM, so that an interrupted
    run can read it again (``run_drills``): whether the call got through then shows in its state.
    """
    name = str(alarm.get("AlarmName"))
    arn = parse_arn(alarm.get("AlarmArn"))
    region = arn.region if arn is not None else None
    reason = drill_reason(settings.run_id)

    def body() -> ProofResult:
        cloudwatch = clients("cloudwatch", region)
        current = _current(cloudwatch, name)
        if current is None:
            return ProofResult(DRILL, name, Status.FAIL, f"not drilled: alarm {name!r} no longer exists")
        topics = _sns_actions(current)
        shown_region = region or str(getattr(cloudwatch.meta, "region_name", "") or "?")
        evidence: dict[str, Any] = {
            "runId": settings.run_id,
            "alarmName": name,
            "alarmArn": alarm.get("AlarmArn"),
            "region": shown_region,
            "previousState": current.get("StateValue"),
            "topics": topics,
            "notification": notification_preview(name, shown_region, reason),
            "returnsWithinSeconds": _returns_within(current),
            "proves": PROVES,
            "doesNotProve": DOES_NOT_PROVE,
        }
        refusal = _refusal(current, topics)
        if refusal is not None:
            return ProofResult(DRILL, name, refusal[0], refusal[1], evidence)
        if on_set is not None:
            on_set(evidence)
        cloudwatch.set_alarm_state(
            AlarmName=name,
            StateValue=ALARM,
            StateReason=reason,
            StateReasonData=json.dumps({"drill": True, "runId": settings.run_id, "by": PROJECT}),
        )
        requested = settings.clock()
        evidence["requestedAt"] = requested.isoformat()
        watch = _Watch()
        deadline = requested + timedelta(seconds=settings.timeout_seconds)
        # Bounded twice: by the clock, and by a number of polls (should a clock stand still).
        for _poll in range(math.ceil(settings.timeout_seconds / settings.interval_seconds) + 1):
            remaining = (deadline - settings.clock()).total_seconds()
            settings.sleep(max(0.0, min(settings.interval_seconds, remaining)))
            try:
                items = fetch_history(cloudwatch, name, requested - settings.clock_skew)
            except (ClientError, BotoCoreError, NotImplementedError) as error:
                return _history_failed(error, name, evidence)
            watch.read(items, reason, topics)
            if watch.done(topics) or settings.clock() >= deadline:
                break
        status, what = _verdict(watch, topics, settings)
        evidence["stateChangedAt"] = watch.changed_at.isoformat() if watch.changed_at else None
        evidence["actions"] = [o.to_dict() for o in watch.outcomes.values()]
        evidence["pending"] = [t for t in topics if t not in watch.outcomes]
        return ProofResult(DRILL, name, status, _detail(what, evidence), evidence)

    return guarded(DRILL, name, body)


def _within(evidence: Mapping[str, Any]) -> str:
    within = evidence.get("returnsWithinSeconds")
    return f" (within about {within} s)" if within else ""


def _detail(what: str, evidence: Mapping[str, Any]) -> str:
    preview = evidence["notification"]
    return (
        f"drill {evidence['runId']}: set to ALARM at {evidence['requestedAt']}; {what}. This proves that"
        f" {PROVES}; it does not prove {DOES_NOT_PROVE}. Each subscriber who receives it gets"
        f" {preview['subject']!r} with the reason {preview['reason']!r}. The alarm {RETURNS}"
        f"{_within(evidence)}; its OK actions, if any, run then"
    )


def _history_failed(error: BaseException, name: str, evidence: dict[str, Any]) -> ProofResult:
    """The alarm was set to ALARM but its history cannot be read: say so, never PASS."""
    if is_not_implemented(error):
        return ProofResult(
            DRILL,
            name,
            Status.NOT_AVAILABLE,
            f"{NOT_IN_EMULATOR}: the alarm was set to ALARM (drill {evidence['runId']}), but the emulator"
            " does not implement DescribeAlarmHistory, so whether the action ran cannot be seen",
            evidence,
        )
    result = error_result(DRILL, name, error)
    return ProofResult(
        DRILL,
        name,
        result.status,
        f"the alarm was set to ALARM, then {result.detail}",
        evidence,
        result.error,
    )


# ---------------------------------------------------------------- the drill of a run


@dataclass(frozen=True)
class DrillPlan:
    settings: DrillSettings
    announce: Callable[[Sequence[str]], None] | None = None
    """Called with the alarms about to be drilled (their subscribers will be notified), before the first."""


def with_proof(result: ControlResult, proof: ProofResult) -> ControlResult:
    status, reasons = fold(result.status, result.reasons, [proof])
    return replace(result, status=status, reasons=reasons, proofs=(*result.proofs, proof))


def not_drilled(result: ControlResult) -> ProofResult:
    """Why a control whose chain did not pass is not drilled."""
    failed = next((f.check for f in result.findings if f.ok is False), None)
    if result.status == Status.ERROR:
        why = "not drilled: the chain could not be checked (an AWS error)"
    elif failed is not None:
        why = f"not drilled: the chain already fails at {failed}"
    elif result.status == Status.FAIL:
        proof = next((p.proof for p in result.proofs if p.status == Status.FAIL), "a proof")
        why = f"not drilled: the chain already fails ({proof})"
    else:
        why = "not drilled: no alarm to drill"
    return ProofResult(DRILL, str(result.control), Status.SKIPPED, why)


def run_drills(
    chains: Sequence[ChainResult], sessions: SessionFactory, scope: AuditScope, plan: DrillPlan
) -> None:
    """Drill every passing control's alarm of ``chains`` (their results gain the drill's proof).

    Ctrl-C raises ``Interrupted``, whose lines name the alarms this run left in ALARM.
    """
    chosen: list[tuple[ChainResult, int]] = []
    for chain in chains:
        for index, result in enumerate(chain.controls):
            if result.status == Status.PASS and result.alarm is not None:
                chosen.append((chain, index))
            else:
                chain.controls[index] = with_proof(result, not_drilled(result))
    if plan.announce is not None:
        plan.announce([str((chain.controls[i].alarm or {}).get("AlarmName")) for chain, i in chosen])
    set_to_alarm: list[tuple[Clients, Mapping[str, Any]]] = []  # asked to go to ALARM, in order
    try:
        for chain, index in chosen:
            result = chain.controls[index]
            assert result.alarm is not None
            clients = Clients(sessions, scope.access_for(chain.group.account_id), chain.group.region)
            proof = fire_drill(
                clients, result.alarm, plan.settings, lambda done, c=clients: set_to_alarm.append((c, done))
            )
            chain.controls[index] = with_proof(result, proof)
    except KeyboardInterrupt:
        raise Interrupted(_left_in_alarm(set_to_alarm, plan.settings.run_id)) from None


def _left_in_alarm(set_to_alarm: Sequence[tuple[Clients, Mapping[str, Any]]], run_id: str) -> list[str]:
    """The interrupted drill's lines: each alarm still in the ALARM state the drill set (read again).

    An alarm that evaluated since, or that a real breach put in ALARM (another state reason), is
    not the drill's to report: it is in its real state.
    """
    still = []
    for clients, evidence in set_to_alarm:
        name, region = str(evidence["alarmName"]), str(evidence["region"])
        try:
            current = _current(clients("cloudwatch", region), name)
        except Exception:  # cannot tell: name it anyway, a person can look
            still.append(
                f"  - {name} ({region}; its state could not be read again): it {RETURNS}{_within(evidence)}"
            )
            continue
        if (
            current is not None
            and current.get("StateValue") == ALARM
            and run_id in str(current.get("StateReason"))
        ):
            still.append(f"  - {name} ({region}): it {RETURNS}{_within(evidence)}")
    if not still:
        return [f"drill {run_id} interrupted: no alarm is still in the ALARM state it set"]
    return [f"drill {run_id} interrupted: {len(still)} alarm(s) it set to ALARM are still in ALARM:", *still]
