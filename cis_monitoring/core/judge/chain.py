"""The whole chain of one control in one place: filter -> alarm -> topic -> subscription.

``judge_chain`` walks the chain and makes every decision; the adapter only answers
look-ups (which alarms read this metric, which topics this alarm notifies, which
subscriptions a topic has), through ``ChainLookups``. The pack answers from the stack's
indexed resources, the audit from AWS calls, made only when the walk gets there.

A chain works if any metric filter leads to a working alarm, topic and subscription.
If none does, the verdict names the deepest link any attempt reached and every problem
found there: the most useful thing to fix first. A filter that writes another catalog
control's metric is that control's: it counts here only if it covers this control too, and
its failing to is no problem of this control's chain (with every control on one log group,
a missing filter of one is "no filter for it", not "the other filters do not cover it").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from cis_monitoring.core.catalog import Control, control_for_metric
from cis_monitoring.core.problems import Code, Link, Problem, codes, describe
from cis_monitoring.core.unknown import is_unknown

from .alarm import alarm_problems, sns_actions, watches
from .facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from .metric_filter import filter_problems
from .notification import missing_topic_problem, subscription_problems, topic_problems, usable_subscriptions


@dataclass(frozen=True)
class Notified:
    """Where an alarm's SNS actions lead, as the adapter found them."""

    topics: tuple[TopicFacts, ...] = ()
    missing: tuple[str, ...] = ()
    """Topic ARNs the alarm notifies that the adapter found no topic for."""
    missing_why: str = "does not exist"
    """Completes "alarm 'x' notifies <arn>, which ..." for the missing ones."""
    trusted: str | None = None
    """Why the adapter accepts the notification without seeing its topic (an allowed external
    topic; a value that is not known until the update runs); the chain then works from here."""


class ChainLookups(Protocol):
    """What the judge asks the adapter while it walks a chain."""

    def alarms_on(self, metric_filter: MetricFilterFacts) -> Sequence[AlarmFacts]:
        """Alarms that may read the filter's metric (more is fine: the judge checks the metric)."""
        ...

    def notified_topics(self, alarm: AlarmFacts) -> Notified: ...

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]: ...


@dataclass(frozen=True)
class ChainPath:
    """How far one attempt got: the working chain, or the links before the break."""

    metric_filter: MetricFilterFacts | None = None
    alarm: AlarmFacts | None = None
    topic: TopicFacts | None = None
    subscriptions: tuple[SubscriptionFacts, ...] = ()
    trusted: str | None = None


@dataclass(frozen=True)
class ChainVerdict:
    control: Control
    ok: bool
    link: Link | None
    """The deepest broken link (None when the chain works)."""
    problems: tuple[Problem, ...]
    """Every problem found at that link."""
    path: ChainPath = field(default_factory=ChainPath)
    """The working chain, or how far the attempt that broke at ``link`` got."""
    rejected: tuple[Problem, ...] = ()
    """Problems of every attempt, also those that broke earlier (or beside a working chain)."""

    @property
    def codes(self) -> tuple[str, ...]:
        return codes(self.problems)

    @property
    def ref(self) -> str | None:
        """The resource to blame: the first problem's."""
        return next((p.ref for p in self.problems if p.ref), None)

    def summary(self) -> str:
        return describe(self.problems)


@dataclass
class _Walk:
    control: Control
    lookups: ChainLookups
    dead_ends: list[tuple[Link, list[Problem], ChainPath]] = field(default_factory=list)

    def fail(self, problems: Iterable[Problem], path: ChainPath) -> None:
        problems = list(problems)
        self.dead_ends.append((problems[0].link, problems, path))

    def from_filter(self, metric_filter: MetricFilterFacts) -> ChainPath | None:
        path = ChainPath(metric_filter)
        alarms = [a for a in self.lookups.alarms_on(metric_filter) if watches(a, metric_filter) is not False]
        if not alarms:
            self.fail([_no_alarm(metric_filter, self.control)], path)
            return None
        for alarm in alarms:
            problems = alarm_problems(alarm, self.control, metric_filter)
            if problems:
                self.fail(problems, path)
                continue
            found = self.from_alarm(replace(path, alarm=alarm))
            if found is not None:
                return found
        return None

    def from_alarm(self, path: ChainPath) -> ChainPath | None:
        alarm = path.alarm
        assert alarm is not None
        notified = self.lookups.notified_topics(alarm)
        if notified.trusted is not None:
            return replace(path, trusted=notified.trusted)
        for arn in notified.missing:
            self.fail([missing_topic_problem(alarm, arn, notified.missing_why)], path)
        if not notified.topics and not notified.missing:
            shown = ", ".join(str(a) for a in sns_actions(alarm)) or "its alarm actions"
            self.fail([missing_topic_problem(alarm, shown, notified.missing_why)], path)
        for topic in notified.topics:
            at_topic = replace(path, topic=topic)
            problems = topic_problems(topic, alarm)
            if problems:
                self.fail(problems, at_topic)
                continue
            subscriptions = list(self.lookups.subscriptions_of(topic))
            usable = usable_subscriptions(subscriptions, alarm)
            if usable:
                return replace(at_topic, subscriptions=tuple(usable))
            self.fail(subscription_problems(topic, subscriptions, alarm), at_topic)
        return None


def judge_chain(
    filters: Sequence[MetricFilterFacts],
    lookups: ChainLookups,
    control: Control,
    *,
    strict_canonical_text: bool = False,
    place: str = "the trail's log group",
) -> ChainVerdict:
    """Whether one of ``filters`` starts a working chain for ``control``; the deepest break if not.

    ``place`` names where the filters were looked for (for the message when there is none).
    """
    if not filters:
        return ChainVerdict(control, False, Link.FILTER, (_no_filter(control, place),))
    walk = _Walk(control, lookups)
    usable = []
    for metric_filter in filters:  # all of them: a pure judgement, and the audit shows the others' problems
        problems = filter_problems(metric_filter, control, strict_canonical_text=strict_canonical_text)
        if not problems:
            usable.append(metric_filter)
        elif not _another_controls(metric_filter, control):
            walk.fail(problems, ChainPath(metric_filter))
    for metric_filter in usable:
        path = walk.from_filter(metric_filter)
        if path is not None:
            rejected = tuple(p for _link, problems, _path in walk.dead_ends for p in problems)
            return ChainVerdict(control, True, None, (), path, rejected)
    if not walk.dead_ends:  # only other controls' filters, none of which counts this one's events
        return ChainVerdict(control, False, Link.FILTER, (_no_filter(control, place),))
    return _deepest(control, walk.dead_ends)


def _another_controls(metric_filter: MetricFilterFacts, control: Control) -> bool:
    """Whether the filter writes the metric of another catalog control (it is that control's filter)."""
    namespace, metric = metric_filter.namespace, metric_filter.metric_name
    if not isinstance(namespace, str) or not isinstance(metric, str):
        return False  # no metric, or not known yet (preview): judged as a candidate
    owner = control_for_metric(namespace, metric)
    return owner is not None and owner.control_id != control.control_id


def _deepest(control: Control, dead_ends: list[tuple[Link, list[Problem], ChainPath]]) -> ChainVerdict:
    link = max(end[0] for end in dead_ends)
    at_link = [end for end in dead_ends if end[0] == link]
    problems = tuple(dict.fromkeys(p for _link, found, _path in at_link for p in found))
    rejected = tuple(p for _link, found, _path in dead_ends for p in found)
    return ChainVerdict(control, False, link, problems, at_link[0][2], rejected)


def _no_filter(control: Control, place: str) -> Problem:
    return Problem(
        Code.FILTER_NONE,
        Link.FILTER,
        f"no CloudWatch Logs metric filter for CIS {control.control_id} on {place}. Add one with the pattern "
        f"{control.filter_pattern!r} (namespace {control.namespace}, metric {control.metric_name}, "
        f"value {control.metric_value})",
    )


def _no_alarm(metric_filter: MetricFilterFacts, control: Control) -> Problem:
    namespace, metric = metric_filter.namespace, metric_filter.metric_name
    settings = control.alarm
    if is_unknown(namespace) or is_unknown(metric):
        what = f"the metric written by metric filter {metric_filter.name!r}"
        add = "Add a MetricAlarm on it"
    else:
        what = f"metric {namespace}/{metric} written by metric filter {metric_filter.name!r}"
        add = f"Add a MetricAlarm with metricName {metric!r} and namespace {namespace!r}"
    return Problem(
        Code.ALARM_NONE,
        Link.ALARM,
        f"no CloudWatch alarm on {what}. {add} ({settings.describe()})",
        ref=metric_filter.ref,
    )


@dataclass
class StaticLookups:
    """Look-ups over facts gathered beforehand (tests, and adapters that read everything at once)."""

    alarms: Sequence[AlarmFacts] = ()
    topics: Sequence[TopicFacts] = ()
    subscriptions: dict[str, Sequence[SubscriptionFacts]] = field(default_factory=dict)
    """Topic ARN -> its subscriptions."""

    def alarms_on(self, metric_filter: MetricFilterFacts) -> Sequence[AlarmFacts]:
        return self.alarms

    def notified_topics(self, alarm: AlarmFacts) -> Notified:
        if is_unknown(alarm.alarm_actions) or any(is_unknown(a) for a in alarm.alarm_actions):
            return Notified(trusted="its alarm actions are not known yet")
        by_arn = {t.arn: t for t in self.topics}
        actions = sns_actions(alarm)
        return Notified(
            topics=tuple(by_arn[a] for a in actions if a in by_arn),
            missing=tuple(a for a in actions if a not in by_arn),
        )

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]:
        return self.subscriptions.get(topic.arn, ()) if isinstance(topic.arn, str) else ()
