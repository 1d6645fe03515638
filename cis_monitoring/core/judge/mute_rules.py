"""Whether an alarm mute rule silences a chain's alarm: now, or on a schedule.

CloudWatch's service model (``PutAlarmMuteRule``): "When a mute rule is active, targeted alarms
continue to evaluate metrics and transition between states, but their configured actions (such
as Amazon SNS notifications ...) are muted." So a muted alarm still goes to ALARM, and nobody is
told: a nightly mute passes every other check, and a daytime drill too.

A rule targets alarms by name (``MuteTargets.AlarmNames``) and has a ``Status``: ``SCHEDULED``
("will become active in the future"), ``ACTIVE`` ("currently muting alarm actions") or
``EXPIRED`` ("will no longer become active"; ``GetAlarmMuteRule``'s documentation). Its
``Rule.Schedule`` says when: a ``cron(...)`` expression (``MuteType`` RECURRING) or ``at(...)``
(ONE_TIME), a ``Duration`` (ISO 8601) and a ``Timezone`` (UTC when unset).

Any rule that targets the alarm and has not expired mutes it, now or later: that is a problem.
A rule without a status (declared in a stack, not deployed yet) mutes on its schedule.
An expired one is only evidence. A status this module does not know is a problem too (it cannot
tell that the rule will never mute).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cis_monitoring.core.unknown import is_unknown

ACTIVE = "ACTIVE"
SCHEDULED = "SCHEDULED"
EXPIRED = "EXPIRED"
UTC_DEFAULT = "UTC"
"""The time zone of a schedule that names none (service model, ``Schedule.Timezone``)."""


@dataclass(frozen=True)
class MuteRuleFacts:
    """An alarm mute rule (``GetAlarmMuteRule``'s answer)."""

    name: str
    status: Any
    alarm_names: Any = ()
    expression: Any = None
    duration: Any = None
    timezone: Any = None
    mute_type: Any = None
    start_date: Any = None
    expire_date: Any = None
    ref: str | None = None

    def when(self) -> str:
        """When it mutes, in its own words: ``cron(0 2 * * *) for PT4H (UTC)``."""
        zone = self.timezone or UTC_DEFAULT
        window = f"{self.expression} for {self.duration} ({zone})"
        start = f", from {_shown(self.start_date)}" if self.start_date else ""
        until = f", until {_shown(self.expire_date)}" if self.expire_date else ""
        return f"{window}{start}{until}"


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@dataclass(frozen=True)
class MuteVerdict:
    muting: tuple[tuple[MuteRuleFacts, str], ...]
    """Each rule that mutes the alarm, with when."""
    expired: tuple[MuteRuleFacts, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.muting

    def describe(self, alarm_name: str) -> str:
        if self.ok:
            gone = f" ({len(self.expired)} expired rule(s) targeted it)" if self.expired else ""
            return f"no alarm mute rule mutes alarm {alarm_name!r}{gone}"
        rules = "; ".join(f"rule {rule.name!r} {when}" for rule, when in self.muting)
        return (
            f"alarm {alarm_name!r} is muted by {rules}: while muted it still goes to ALARM but notifies nobody."
            " Delete the rule, or take the alarm out of its MuteTargets"
        )


def targets(rule: MuteRuleFacts, alarm_name: str) -> bool | None:
    """Whether ``rule`` names ``alarm_name`` among its targets (None: its targets are not known)."""
    names = rule.alarm_names
    if is_unknown(names) or names is None:
        return None
    return alarm_name in tuple(names)


def judge_mute_rules(alarm_name: str, rules: Iterable[MuteRuleFacts]) -> MuteVerdict:
    """The rules that mute ``alarm_name`` now (ACTIVE) or later (SCHEDULED, or a status not known)."""
    muting: list[tuple[MuteRuleFacts, str]] = []
    expired: list[MuteRuleFacts] = []
    for rule in rules:
        aimed = targets(rule, alarm_name)
        if aimed is False:
            continue
        if rule.status == EXPIRED:
            expired.append(rule)
            continue
        if rule.status == ACTIVE:
            when = f"now ({rule.when()})"
        elif rule.status == SCHEDULED or rule.status is None or is_unknown(rule.status):
            # None: a rule not deployed yet (the pack) mutes as its schedule says.
            kind = "every time" if rule.mute_type == "RECURRING" else "once"
            when = f"{kind} on its schedule {rule.when()}"
        else:
            when = f"with status {rule.status!r}, which is not known to never mute ({rule.when()})"
        if aimed is None:
            when += "; its targets could not be read, so it may mute this alarm"
        muting.append((rule, when))
    return MuteVerdict(tuple(muting), tuple(expired))
