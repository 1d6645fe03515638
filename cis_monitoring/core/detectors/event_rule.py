"""The real-time detector: an EventBridge rule on the control's CloudTrail events, notifying the chain's topic.

Opt-in and additive (the stack's ``realTime`` key): it never replaces the CIS chain (metric filter,
alarm, topic), whose verdict alone decides CIS compliance. What it adds is a message within seconds
that says who did what, where, when and whether it failed (``message``: an input transformer, no
Lambda), which the CIS alarm cannot say.

**Which controls get a rule** (``selection``): a rule must select exactly the control's events, the
same ones the metric filter counts. It is derived from the filter pattern itself, and only when the
filter selects by event name alone (``$.eventName = X || ...``), optionally with the service
(``$.eventSource = S && (...)``): 4.4, 4.5, 4.7 to 4.15 in CIS v3.0.0. Not derived, each with why:

- 4.1 (``errorCode`` matched by ``*UnauthorizedOperation``/``AccessDenied*``): a wildcard at the start
  needs ``suffix``, and the benchmark's text matches almost every record (its all-``||`` form);
- 4.2 (``MFAUsed != "Yes"``): the filter's ``!=`` also counts records without the field; EventBridge
  matches only events that contain every field a pattern names ("Amazon EventBridge event
  patterns"), so an ``anything-but`` would alert on fewer sign-ins than the metric counts;
- 4.3 (root usage: ``invokedBy NOT EXISTS``, ``eventType !=``) and 4.6 (``errorMessage``): they select
  by fields other than the event's name, over sign-in events too; not derived, so not judged.

The rule also names the control's service where every target sample record is that service's
(``detail.eventSource``; ``source`` where the Events Reference states it, ``event_pattern.SOURCES``):
narrower than a filter that tests names only, never missing one of the control's sample events (the
core's tests hold each derived rule to the filter on every sample record).

**What the program registers** (``registrations``): at the account's delivery point (the Region of
the chain's topic) a rule whose target is the topic through ``message``; elsewhere a rule that
forwards the matching events to the delivery point's bus (a cross-Region event-bus target needs a
role; EventBridge User Guide, "Sending and receiving events between AWS Regions"). With
``quiet_roles``, the rule leaves out events whose ``sessionIssuer`` is one of those roles
(``quiet``). The high-risk rule (``HIGH_RISK``, ``high_risk_pattern``) is a second rule at the delivery point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cis_monitoring.core.catalog import Control
from cis_monitoring.core.event_pattern import API_CALL, InputTransformer, source_of
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.filter_pattern import (
    And,
    Compare,
    FilterPatternError,
    Or,
    StringValue,
    compile_pattern,
)
from cis_monitoring.core.judge.event_rule import RuleLookups, RuleVerdict, judge_rules
from cis_monitoring.core.problems import Link

from .kind import Detector

KIND = "event-rule"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ENABLED = "ENABLED"
"""Enough for the controls' events: ENABLED leaves out only read-only management events (botocore's
events model, PutRule ``State``; EventBridge User Guide, "Receiving read-only management events")."""

AWS_READS = {
    # ListRules returns each rule's pattern and state (botocore events model 2015-10-07, ``Rule``), so
    # DescribeRule adds nothing the judgement reads.
    Link.RULE: (AwsRead("events", "ListRules", ("Name", "Arn", "EventPattern", "State", "EventBusName")),),
    Link.TARGET: (
        AwsRead("events", "ListTargetsByRule", ("Id", "Arn", "Input", "InputPath", "InputTransformer")),
    ),
    # The policy is judged for EventBridge's request for this rule: its ARN is the aws:SourceArn.
    Link.TOPIC: (
        AwsRead("sns", "GetTopicAttributes", ("Policy", "KmsMasterKeyId")),
        AwsRead("events", "ListRules", ("Arn",)),
    ),
}
"""The calls each of the kind's links rests on (the subscribers': ``judge.notification.READS``)."""

# ---------------------------------------------------------------- which events


@dataclass(frozen=True)
class Selection:
    """The events a control's rule selects: its names, and its service where the rule may name it."""

    event_names: tuple[str, ...]
    event_source: str | None = None


def selection(control: Control) -> Selection | str:
    """What ``control``'s rule selects, or why no rule can select exactly the filter's events."""
    try:
        # The cached parse: the program asks this of every control at every site and Region (at 100 targets
        # with ``controls: all`` and two real-time Regions, 63 times per target), always of the same patterns.
        body = compile_pattern(control.filter_pattern).body
    except FilterPatternError as error:
        return f"its filter pattern does not parse ({error})"
    found = _names_and_source(body)
    if isinstance(found, str):
        return found
    names, source = found
    if set(names) != set(control.event_names):
        return f"its filter selects {', '.join(names)}, which differ from the catalog's eventNames"
    targets = control.target_samples()
    if any(t.record.get("eventType", "AwsApiCall") != "AwsApiCall" for t in targets):
        return "its events are not all API calls (AWS API Call via CloudTrail)"
    if (
        source is None
        and control.event_source
        and all(t.record.get("eventSource") == control.event_source for t in targets)
    ):
        source = control.event_source
    return Selection(tuple(names), source)


def _names_and_source(body: Any) -> tuple[list[str], str | None] | str:
    not_derived = "its filter selects by more than event names and the service, which no rule here derives"
    if isinstance(body, And) and len(body.items) == 2:
        sources = [i for i in body.items if _equals(i, "eventSource") is not None]
        rest = [i for i in body.items if i not in sources]
        if len(sources) != 1:
            return not_derived
        names = _names(rest[0])
        return (names, _equals(sources[0], "eventSource")) if names is not None else not_derived
    names = _names(body)
    return (names, None) if names is not None else not_derived


def _names(node: Any) -> list[str] | None:
    items = node.items if isinstance(node, Or) else (node,)
    names = [_equals(item, "eventName") for item in items]
    return [n for n in names if n is not None] if all(n is not None for n in names) else None


def _equals(node: Any, field: str) -> str | None:
    """``X`` of ``$.<field> = X`` (no wildcard), else None."""
    if not (isinstance(node, Compare) and node.op == "=" and isinstance(node.value, StringValue)):
        return None
    steps = node.selector.steps
    if len(steps) != 1 or getattr(steps[0], "name", None) != field or "*" in node.value.text:
        return None
    return node.value.text


def detail_pattern(chosen: Selection) -> dict[str, Any]:
    """The ``detail`` part of a rule: the service, then the names (EventBridge's own examples' order)."""
    detail: dict[str, Any] = {}
    if chosen.event_source:
        detail["eventSource"] = [chosen.event_source]
    detail["eventName"] = list(chosen.event_names)
    return detail


def envelope(chosen: Selection, detail: Mapping[str, Any]) -> dict[str, Any]:
    """A whole rule pattern around ``detail``: ``source`` where known, and the API-call detail type."""
    pattern: dict[str, Any] = {}
    source = source_of(chosen.event_source)
    if source:
        pattern["source"] = [source]
    pattern["detail-type"] = [API_CALL]
    pattern["detail"] = dict(detail)
    return pattern


def quiet(detail: Mapping[str, Any], quiet_roles: Sequence[str]) -> dict[str, Any]:
    """``detail`` leaving out events of sessions of ``quiet_roles`` (IAM role ARNs).

    ``anything-but`` alone would also drop every event without a ``sessionIssuer`` (IAM users,
    root): EventBridge matches only events that contain the fields a pattern names. So the rule
    takes either no ``sessionIssuer.arn`` or one that is not listed (``$or``, eb-create-pattern-operators.html).
    """
    if not quiet_roles:
        return dict(detail)
    issuer = ("userIdentity", "sessionContext", "sessionIssuer")
    return {
        **detail,
        "$or": [
            _nested(issuer, {"arn": [{"exists": False}]}),
            _nested(issuer, {"arn": [{"anything-but": sorted(set(quiet_roles))}]}),
        ],
    }


def _nested(keys: Sequence[str], leaf: Mapping[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = dict(leaf)
    for key in reversed(keys):
        node = {key: node}
    return node


def rule_pattern(control: Control, quiet_roles: Sequence[str] = ()) -> dict[str, Any] | None:
    """The real-time rule's pattern for ``control`` (None: no rule, ``selection`` says why)."""
    chosen = selection(control)
    if isinstance(chosen, str):
        return None
    return envelope(chosen, quiet(detail_pattern(chosen), quiet_roles))


# ---------------------------------------------------------------- the high-risk split
#
# Opt-in (``realTime.highRisk``): a second rule at the delivery point notifies a separate topic for the
# events after which nothing, or less, is recorded or enforced. The real-time rule and the CIS chain keep
# every event; this only adds a louder channel for some. The quiet-roles exclusion does not apply here:
# an automation role that stops logging still blinds the organization. ``HIGH_RISK`` is the per-control
# choice (the README's table). Each entry names events always high-risk, and events high-risk only with
# a request parameter a pattern can test in the record (``requestParameters`` holds "only keys the caller
# sent", as JSON values: CloudTrail User Guide, "CloudTrail record contents"), and what no pattern on the
# control's events can tell.


@dataclass(frozen=True)
class HighRisk:
    """The high-risk events of one control."""

    control_id: str
    why: str
    event_names: tuple[str, ...] = ()
    """Always high-risk."""
    when: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    """(event name, ``requestParameters`` sub-pattern): high-risk only when the request says so."""
    not_told: str = ""
    """What is high-risk but cannot be told from this control's events."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.event_names, *(name for name, _ in self.when))))


HIGH_RISK: Mapping[str, HighRisk] = {
    h.control_id: h
    for h in (
        HighRisk(
            "4.5",
            "a stopped or deleted trail records nothing afterwards; a trail made single-Region records"
            " only its home Region; a trail without CloudWatch Logs delivery feeds no CIS metric filter",
            event_names=("StopLogging", "DeleteTrail"),
            when=(
                # UpdateTrail IsMultiRegionTrail=false (CloudTrail API Reference, UpdateTrail).
                ("UpdateTrail", {"isMultiRegionTrail": [False]}),
                # Removing delivery sends an empty CloudWatchLogsLogGroupArn (INFERRED from the API: the
                # parameter takes the group's ARN; no AWS example of the removal's record was found).
                ("UpdateTrail", {"cloudWatchLogsLogGroupArn": [""]}),
            ),
            not_told=(
                "turning management events off is PutEventSelectors or PutAdvancedEventSelectors, which are"
                " not 4.5 events; a trail's delivery that fails (deleted role, disabled key) records no event"
                " at all (the audit's delivery check finds it)"
            ),
        ),
        HighRisk(
            "4.7",
            "a disabled or deleted key can no longer decrypt what it protects, a trail's logs included",
            event_names=("DisableKey", "ScheduleKeyDeletion"),
            not_told="which key it is (a trail's or any other) is not in the pattern",
        ),
        HighRisk(
            "4.9",
            "a stopped recorder or deleted delivery channel leaves AWS Config blind",
            event_names=("StopConfigurationRecorder", "DeleteDeliveryChannel"),
        ),
        HighRisk(
            "4.15",
            "an account that leaves the organization leaves its organization trail and its controls",
            event_names=("LeaveOrganization", "RemoveAccountFromOrganization", "DeleteOrganization"),
        ),
    )
}
"""Controls with a high-risk rule. Every other control has none: 4.4, 4.8 and 4.10 to 4.14 are
routine changes (policies, buckets, networks) that blind nothing by themselves; 4.1, 4.2, 4.3 and 4.6
have no real-time rule at all (``event_rule.selection``)."""


def high_risk_pattern(control: Control) -> dict[str, Any] | None:
    """The high-risk rule's pattern for ``control`` (None: the control has no high-risk rule)."""
    entry = HIGH_RISK.get(control.control_id)
    chosen = selection(control)
    if entry is None or isinstance(chosen, str):
        return None
    names = [n for n in entry.event_names if n in chosen.event_names]
    branches: list[dict[str, Any]] = [{"eventName": names}] if names else []
    for name, parameters in entry.when:
        if name in chosen.event_names:
            branches.append({"eventName": [name], "requestParameters": dict(parameters)})
    if not branches:
        return None
    base = {"eventSource": [chosen.event_source]} if chosen.event_source else {}
    detail = {**base, **branches[0]} if len(branches) == 1 else {**base, "$or": branches}
    return envelope(chosen, detail)


# ---------------------------------------------------------------- the message

MESSAGE_PATHS: Mapping[str, str] = {
    "who": "$.detail.userIdentity.arn",
    "what": "$.detail.eventName",
    "name": "$.detail.requestParameters.name",
    "account": "$.detail.recipientAccountId",
    "region": "$.detail.awsRegion",
    "ip": "$.detail.sourceIPAddress",
    "error": "$.detail.errorCode",
    "when": "$.detail.eventTime",
}
"""Who, what, on what, where, from where, whether it failed, when: each a field of the CloudTrail record."""
REQUIRED_PATHS = tuple(path for name, path in MESSAGE_PATHS.items() if name != "name")
"""What a message must carry to tell the reader who did what, where, when and whether it failed
(``requestParameters.name`` only where the call has one)."""


def message(control: Control, *, high_risk: bool = False) -> InputTransformer:
    """The input transformer that turns a matching event into the alert a person reads.

    A string template (eb-transform-target-input.html): each value goes in as its text; a field the
    event lacks (``errorCode`` of a call that succeeded, ``requestParameters.name`` of most calls) leaves
    nothing, so the template says what an empty value means.
    """
    label = "HIGH RISK " if high_risk else ""
    template = (
        f'"{label}CIS {control.control_id} real-time alert ({control.title}): <what> on \\"<name>\\"'
        " by <who> in account <account>, Region <region>, from <ip> at <when>."
        ' Error code (empty if the call succeeded): \\"<error>\\". Rule <aws.events.rule-name>."'
    )
    return InputTransformer(template, dict(MESSAGE_PATHS))


# ---------------------------------------------------------------- what the program registers


@dataclass(frozen=True)
class RuleSpec:
    """A ``PutRule`` on the default bus."""

    name: str
    description: str
    pattern: Mapping[str, Any]
    state: str = ENABLED
    high_risk: bool = False


@dataclass(frozen=True)
class TargetSpec:
    """A ``PutTargets`` entry of ``rule``: the topic through ``transformer``, or a bus (forwarding)."""

    rule: str
    target_id: str
    to: str
    """``topic``, ``high-risk topic`` or ``bus``: which of the site's ARNs the component fills in."""
    transformer: InputTransformer | None = None
    needs_role: bool = False


TOPIC, HIGH_RISK_TOPIC, BUS = "topic", "high-risk topic", "bus"


def registrations(
    control: Control,
    *,
    rule_name: str,
    delivers: bool,
    quiet_roles: Sequence[str] = (),
    high_risk_rule_name: str | None = None,
) -> tuple[RuleSpec | TargetSpec, ...]:
    """The rules and targets for ``control`` in one Region (empty: the control gets no rule).

    ``delivers``: this Region is the delivery point (the topic is here); elsewhere the rule forwards
    to the delivery point's bus, raw (a forwarded event is matched again there, by the same rule).
    """
    pattern = rule_pattern(control, quiet_roles)
    if pattern is None:
        return ()
    what = f"CIS {control.control_id} real-time: {control.title}"
    specs: list[RuleSpec | TargetSpec] = [RuleSpec(rule_name, what, pattern)]
    if not delivers:
        return (*specs, TargetSpec(rule_name, "forward", BUS, needs_role=True))
    specs.append(TargetSpec(rule_name, "topic", TOPIC, message(control)))
    risky = high_risk_pattern(control) if high_risk_rule_name else None
    if risky is not None and high_risk_rule_name:
        specs.append(RuleSpec(high_risk_rule_name, f"{what} (high risk)", risky, high_risk=True))
        specs.append(
            TargetSpec(high_risk_rule_name, "high-risk", HIGH_RISK_TOPIC, message(control, high_risk=True))
        )
    return tuple(specs)


def judge(rules: Sequence[Any], lookups: RuleLookups, control: Control) -> RuleVerdict:
    """The core's judgement of ``control``'s real-time rules, suggesting the kind's own pattern as the fix."""
    return judge_rules(rules, lookups, control, suggested=rule_pattern(control))


DETECTOR = Detector(
    kind=KIND,
    title="EventBridge rule (real-time, opt-in; never part of the CIS verdict)",
    pulumi_types=(EVENT_RULE, EVENT_TARGET),
    aws_reads=AWS_READS,
    registrations=registrations,
    judge=judge,
)
