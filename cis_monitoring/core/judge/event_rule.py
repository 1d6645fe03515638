"""The real-time chain of one control in one place: rule -> target (its message) -> topic -> subscription.

``judge_rules`` walks it as ``judge.chain`` walks the metric filter's, deciding everything; the adapter
answers look-ups (``RuleLookups``): the pack from the stack's resources, the audit from EventBridge's
and SNS's answers. Its verdict is the real-time channel's own (opt-in, additive): it never decides a
CIS control's PASS or FAIL.

- the rule: its pattern must match every target sample record of the control, each wrapped as the
  EventBridge event that carries it (``event_pattern.as_event``), judged by ``event_pattern.matches``;
  a rule that matches none of them is another control's (or not ours), not a problem; one that misses
  some, cannot be judged, or is disabled is;
- the target: an SNS topic, reached with a message that says who, what, where, when and whether it
  failed (``detectors.event_rule.REQUIRED_PATHS``): the whole event (no ``Input``/``InputPath``), its
  ``detail``, or an input transformer that puts each of those fields in (rendered against every target
  sample, as EventBridge documents it: ``event_pattern.render``). A bus target (forwarding to the
  delivery point) is the adapter's to follow (``Reached.trusted``);
- the topic: a customer-managed key, and an access policy that lets ``events.amazonaws.com`` publish
  for this rule (``resource_policies.events_topic_grant``, decided by the IAM evaluator);
- the subscriptions: as for the alarm (``notification.usable_subscriptions``), with no alarm message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from cis_monitoring.core.aws.arns import parse_arn
from cis_monitoring.core.catalog import Control, is_aws_managed_sns_key
from cis_monitoring.core.event_pattern import (
    EventPatternError,
    InputTransformer,
    Outcome,
    TemplateError,
    as_event,
    matches,
    render,
)
from cis_monitoring.core.judge.chain import ChainVerdict
from cis_monitoring.core.problems import Code, Link, Problem
from cis_monitoring.core.unknown import is_unknown

from .facts import SubscriptionFacts, TopicFacts
from .notification import subscription_problems, usable_subscriptions
from .resource_policies import EVENTS, events_topic_grant, judge_grant

ORDER = (Link.RULE, Link.TARGET, Link.TOPIC, Link.SUBSCRIPTION)
"""The real-time chain's links, in the order an event travels them (the deepest break is reported)."""
ENABLED_STATES = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
WHOLE_EVENT_PATHS = ("$", "$.detail")
"""``InputPath`` values that pass every field the message needs (the event, or the CloudTrail record)."""
_FIELD_WORDS = {
    "$.detail.userIdentity.arn": "who (userIdentity.arn)",
    "$.detail.eventName": "what (eventName)",
    "$.detail.recipientAccountId": "which account (recipientAccountId)",
    "$.detail.awsRegion": "which Region (awsRegion)",
    "$.detail.sourceIPAddress": "from where (sourceIPAddress)",
    "$.detail.errorCode": "whether it failed (errorCode)",
    "$.detail.eventTime": "when (eventTime)",
}
REQUIRED_PATHS = tuple(_FIELD_WORDS)
"""What every real-time message must carry (``detectors.event_rule.MESSAGE_PATHS`` puts each in)."""


@dataclass(frozen=True)
class RuleFacts:
    """An EventBridge rule."""

    name: str
    pattern: Any
    """The event pattern (JSON text or object); None for a rule without one (a schedule)."""
    state: Any = "ENABLED"
    arn: Any = None
    """Its ARN: EventBridge's request to publish carries it as ``aws:SourceArn``."""
    ref: str | None = None


@dataclass(frozen=True)
class TargetFacts:
    """One target of a rule."""

    name: str
    arn: Any
    input: Any = None
    """A constant ``Input``: the target gets it instead of the event."""
    input_path: Any = None
    transformer: Any = None
    """An ``InputTransformer``, None, or UNKNOWN (preview)."""
    ref: str | None = None


@dataclass(frozen=True)
class Reached:
    """Where a target leads, as the adapter found it."""

    topic: TopicFacts | None = None
    missing: str | None = None
    """Why a target ARN that names a topic leads nowhere (it does not exist, not in the stack)."""
    trusted: str | None = None
    """Why the adapter accepts it without seeing the rest (a bus the delivery point is judged at, a
    value not known until the update runs)."""


class RuleLookups(Protocol):
    def targets_of(self, rule: RuleFacts) -> Sequence[TargetFacts]: ...

    def reached(self, target: TargetFacts) -> Reached: ...

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]: ...


@dataclass(frozen=True)
class RulePath:
    rule: RuleFacts | None = None
    target: TargetFacts | None = None
    topic: TopicFacts | None = None
    subscriptions: tuple[SubscriptionFacts, ...] = ()
    trusted: str | None = None


@dataclass(frozen=True)
class RuleVerdict(ChainVerdict):
    """A chain verdict whose path is the rule's (rule -> target -> topic -> subscriptions)."""

    path: RulePath = field(default_factory=RulePath)  # type: ignore[assignment]


# ---------------------------------------------------------------- the rule


def _lead(rule: RuleFacts, control: Control) -> str:
    return f"EventBridge rule {rule.name!r} does not alert on every CIS {control.control_id} event"


def sample_verdicts(pattern: Any, control: Control) -> list[tuple[str, Outcome, str]]:
    """(label, outcome, why) of ``pattern`` on each of ``control``'s target sample records (as events)."""
    return [
        (sample.label, verdict.outcome, verdict.why)
        for sample in control.target_samples()
        for verdict in (matches(pattern, as_event(sample.record)),)
    ]


def rule_problems(rule: RuleFacts, control: Control) -> list[Problem] | None:
    """Why ``rule`` does not select each of the control's events; None: it is not this control's rule."""
    pattern = rule.pattern
    if is_unknown(pattern):
        return []
    if pattern is None or pattern == "":
        return None
    lead = _lead(rule, control)
    try:
        verdicts = sample_verdicts(pattern, control)
    except EventPatternError as error:
        return [
            Problem(
                Code.RULE_PATTERN_INVALID,
                Link.RULE,
                f"its pattern is not an event pattern: {error}",
                lead,
                rule.ref,
            )
        ]
    missed = [(label, why) for label, outcome, why in verdicts if outcome == Outcome.NO_MATCH]
    unjudged = [(label, why) for label, outcome, why in verdicts if outcome == Outcome.CANNOT]
    if len(missed) == len(verdicts):
        return None
    if unjudged:
        label, why = unjudged[0]
        return [
            Problem(
                Code.RULE_PATTERN_UNJUDGED,
                Link.RULE,
                f"its pattern cannot be judged on {len(unjudged)} of the control's sample records ({label}: {why});"
                " it is not counted as alerting",
                lead,
                rule.ref,
            )
        ]
    if missed:
        shown = "; ".join(f"{label} ({why})" for label, why in missed[:3])
        return [
            Problem(
                Code.RULE_PATTERN_MISSES,
                Link.RULE,
                f"its pattern misses {len(missed)} of the control's sample records: {shown}",
                lead,
                rule.ref,
            )
        ]
    state = rule.state
    if not is_unknown(state) and state not in ENABLED_STATES:
        return [Problem(Code.RULE_DISABLED, Link.RULE, f"it is {state}; enable it", lead, rule.ref)]
    return []


# ---------------------------------------------------------------- the target's message


def message_problem(target: TargetFacts, rule: RuleFacts, control: Control) -> Problem | None:
    """Why the message ``target`` gets does not say who, what, where, when and whether it failed."""
    lead = f"the target {target.name!r} of rule {rule.name!r} does not tell who did what"
    if any(is_unknown(v) for v in (target.input, target.input_path, target.transformer)):
        return None
    if target.input:
        return Problem(
            Code.TARGET_MESSAGE_INCOMPLETE,
            Link.TARGET,
            "it sends a constant Input, nothing of the event; use an input transformer",
            lead,
            target.ref,
        )
    if target.input_path and target.input_path not in WHOLE_EVENT_PATHS:
        return Problem(
            Code.TARGET_MESSAGE_INCOMPLETE,
            Link.TARGET,
            f"its InputPath {target.input_path!r} passes only part of the event",
            lead,
            target.ref,
        )
    transformer = target.transformer
    if not isinstance(transformer, InputTransformer):
        return None  # the whole event (or its detail): every field is in it
    missing = [_FIELD_WORDS[p] for p in REQUIRED_PATHS if p not in transformer.used_paths()]
    if missing:
        return Problem(
            Code.TARGET_MESSAGE_INCOMPLETE,
            Link.TARGET,
            f"its input transformer leaves out {', '.join(missing)}",
            lead,
            target.ref,
        )
    for sample in control.target_samples():
        try:
            render(
                transformer,
                as_event(sample.record),
                rule_arn=rule.arn if isinstance(rule.arn, str) else "",
                rule_name=rule.name,
            )
        except TemplateError as error:
            return Problem(
                Code.TARGET_MESSAGE_UNJUDGED,
                Link.TARGET,
                f"its input transformer cannot be rendered for {sample.label!r}: {error}",
                lead,
                target.ref,
            )
    return None


# ---------------------------------------------------------------- the topic


def events_topic_problems(topic: TopicFacts, rule: RuleFacts) -> list[Problem]:
    """Why EventBridge could not publish ``rule``'s alert to ``topic`` (its key, its access policy)."""
    lead = f"topic {topic.name} that rule {rule.name!r} notifies cannot receive its alert"
    if is_aws_managed_sns_key(topic.kms_master_key_id):
        return [
            Problem(
                Code.TOPIC_AWS_MANAGED_KEY,
                Link.TOPIC,
                "it is encrypted with alias/aws/sns, which EventBridge cannot use; use a customer-managed key"
                f" that allows {EVENTS} kms:GenerateDataKey* and kms:Decrypt",
                lead,
                topic.ref,
            )
        ]
    if is_unknown(topic.policy) or is_unknown(rule.arn) or not isinstance(topic.arn, str):
        return []
    source = parse_arn(rule.arn)
    rule_arn = str(rule.arn) if source is not None else None
    account = source.account if source is not None and source.account else None
    if not topic.policy:
        return [
            Problem(Code.TOPIC_POLICY_NONE, Link.TOPIC, "the topic has no access policy", lead, topic.ref)
        ]
    verdict = judge_grant(topic.policy, events_topic_grant(topic.arn, rule_arn, account))
    if verdict.granted:
        return []
    if not verdict.decisions:
        return [Problem(Code.TOPIC_POLICY_INVALID, Link.TOPIC, "; ".join(verdict.problems), lead, topic.ref)]
    outcome = verdict.decisions[0].outcome
    code = {
        "denied": Code.TOPIC_POLICY_DENIES_EVENTS,
        "undecided": Code.TOPIC_POLICY_EVENTS_UNDECIDED,
    }.get(outcome, Code.TOPIC_POLICY_NO_EVENTS_ALLOW)
    return [Problem(code, Link.TOPIC, verdict.explain().split(": ", 1)[-1], lead, topic.ref)]


# ---------------------------------------------------------------- the walk


@dataclass
class _Walk:
    control: Control
    lookups: RuleLookups
    dead_ends: list[tuple[Link, list[Problem], RulePath]] = field(default_factory=list)

    def fail(self, problems: Iterable[Problem], path: RulePath) -> None:
        problems = list(problems)
        self.dead_ends.append((problems[0].link, problems, path))

    def from_rule(self, rule: RuleFacts) -> RulePath | None:
        path = RulePath(rule)
        targets = list(self.lookups.targets_of(rule))
        if not targets:
            self.fail([_no_target(rule, self.control)], path)
            return None
        for target in targets:
            at_target = replace(path, target=target)
            reached = self.lookups.reached(target)
            if reached.trusted is not None:
                return replace(at_target, trusted=reached.trusted)
            if reached.topic is None:
                why = reached.missing or "is not an SNS topic"
                self.fail([_no_target(rule, self.control, f"its target {target.arn} {why}")], at_target)
                continue
            problem = message_problem(target, rule, self.control)
            if problem is not None:
                self.fail([problem], at_target)
                continue
            at_topic = replace(at_target, topic=reached.topic)
            problems = events_topic_problems(reached.topic, rule)
            if problems:
                self.fail(problems, at_topic)
                continue
            subscriptions = list(self.lookups.subscriptions_of(reached.topic))
            usable = usable_subscriptions(subscriptions)
            if usable:
                return replace(at_topic, subscriptions=tuple(usable))
            self.fail(subscription_problems(reached.topic, subscriptions), at_topic)
        return None


def judge_rules(
    rules: Sequence[RuleFacts],
    lookups: RuleLookups,
    control: Control,
    *,
    suggested: Mapping[str, Any] | None = None,
) -> RuleVerdict:
    """Whether one of ``rules`` alerts on every event of ``control`` through a working path; the deepest
    break if not. ``suggested``: the pattern to name as the fix when no rule selects the events."""
    walk = _Walk(control, lookups)
    candidates = []
    for rule in rules:
        problems = rule_problems(rule, control)
        if problems is None:
            continue  # another control's rule, or not a pattern rule
        if problems:
            walk.fail(problems, RulePath(rule))
        else:
            candidates.append(rule)
    for rule in candidates:
        path = walk.from_rule(rule)
        if path is not None:
            rejected = tuple(p for _link, found, _path in walk.dead_ends for p in found)
            return RuleVerdict(control, True, None, (), path, rejected)
    if not walk.dead_ends:
        return RuleVerdict(control, False, Link.RULE, (_no_rule(control, suggested),))
    link = max((end[0] for end in walk.dead_ends), key=ORDER.index)
    at_link = [end for end in walk.dead_ends if end[0] == link]
    problems = tuple(dict.fromkeys(p for _link, found, _path in at_link for p in found))
    rejected = tuple(p for _link, found, _path in walk.dead_ends for p in found)
    return RuleVerdict(control, False, link, problems, at_link[0][2], rejected)


def _no_rule(control: Control, suggested: Mapping[str, Any] | None) -> Problem:
    fix = f"; add one with the pattern {json.dumps(suggested, separators=(',', ':'))}" if suggested else ""
    return Problem(
        Code.RULE_NONE,
        Link.RULE,
        f"no enabled EventBridge rule selects the CIS {control.control_id} events (none of the rules matches"
        f" one of its sample records){fix}",
    )


def _no_target(rule: RuleFacts, control: Control, why: str = "it has no target") -> Problem:
    return Problem(
        Code.TARGET_NONE,
        Link.TARGET,
        f"{why}; add the alarm topic as its target, through an input transformer",
        f"EventBridge rule {rule.name!r} for CIS {control.control_id} notifies nobody",
        rule.ref,
    )


@dataclass
class StaticRuleLookups:
    """Look-ups over facts gathered beforehand (tests, and adapters that read everything at once)."""

    targets: dict[str, Sequence[TargetFacts]] = field(default_factory=dict)
    """Rule name -> its targets."""
    topics: Sequence[TopicFacts] = ()
    subscriptions: dict[str, Sequence[SubscriptionFacts]] = field(default_factory=dict)

    def targets_of(self, rule: RuleFacts) -> Sequence[TargetFacts]:
        return self.targets.get(rule.name, ())

    def reached(self, target: TargetFacts) -> Reached:
        if is_unknown(target.arn):
            return Reached(trusted="its target is not known until the update runs")
        topic = next((t for t in self.topics if t.arn == target.arn), None)
        return Reached(topic=topic, missing=None if topic else "does not exist")

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]:
        return self.subscriptions.get(topic.arn, ()) if isinstance(topic.arn, str) else ()
