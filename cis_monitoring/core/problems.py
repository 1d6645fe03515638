"""Problems: a stable code from one registry, the chain link it breaks, and a message for people.

Callers decide by ``code`` (and ``link``), never by matching message text: the text is for
people and may be reworded, the codes are an interface. The program, the pack (it prints
them after its message), the audit (its JSON) and the reports all take them from ``Code``;
none retypes one. ``CODES`` describes each, and the README's reference table is generated
from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Link(IntEnum):
    """The links of a detector's chain. The metric filter's, in the order a notification travels them:
    FILTER, ALARM, TOPIC, SUBSCRIPTION. The real-time rule's (``detectors.event_rule``): RULE, TARGET,
    then the same TOPIC and SUBSCRIPTION (its walk orders them itself: ``judge.event_rule.ORDER``)."""

    # From 1: a link is never falsy.
    FILTER = 1
    ALARM = 2
    TOPIC = 3
    SUBSCRIPTION = 4
    RULE = 5
    TARGET = 6

    @property
    def label(self) -> str:
        return self.name.lower()


class Code(StrEnum):
    """Every problem and coverage code the product gives (a ``StrEnum``: equal to its dotted text)."""

    FILTER_NONE = "filter.none"
    FILTER_PATTERN_NONE = "filter.pattern.none"
    FILTER_PATTERN_INVALID = "filter.pattern.invalid"
    FILTER_PATTERN_NOT_COVERING = "filter.pattern.not_covering"
    FILTER_PATTERN_NOT_CANONICAL = "filter.pattern.not_canonical"
    FILTER_METRIC_NONE = "filter.metric.none"
    FILTER_VALUE_NONE = "filter.value.none"
    FILTER_VALUE_INVALID = "filter.value.invalid"
    FILTER_VALUE_FIELD_MISSING = "filter.value.field_missing"
    FILTER_VALUE_ZERO = "filter.value.zero"
    FILTER_VALUE_BELOW_ONE = "filter.value.below_one"
    FILTER_SELECTION_CRITERIA = "filter.selection_criteria"
    FILTER_TRANSFORMED_LOGS = "filter.transformed_logs"

    ALARM_NONE = "alarm.none"
    ALARM_METRIC_MATH = "alarm.metric_math"
    ALARM_STATISTIC = "alarm.statistic"
    ALARM_PERIOD_TOO_LONG = "alarm.period.too_long"
    ALARM_DIMENSIONS_MISMATCH = "alarm.dimensions.mismatch"
    ALARM_DIMENSIONS_SYSTEM_FIELD = "alarm.dimensions.system_field"
    ALARM_UNIT_MISMATCH = "alarm.unit.mismatch"
    ALARM_COMPARISON_UNSUPPORTED = "alarm.comparison.unsupported"
    ALARM_THRESHOLD_NEVER_FIRES = "alarm.threshold.never_fires"
    ALARM_THRESHOLD_FIRES_ON_ZERO = "alarm.threshold.fires_on_zero"
    ALARM_THRESHOLD_FIRES_ON_DEFAULT_VALUE = "alarm.threshold.fires_on_default_value"
    ALARM_EVALUATION_MULTIPLE_PERIODS = "alarm.evaluation.multiple_periods"
    ALARM_TREAT_MISSING_DATA = "alarm.treat_missing_data"
    ALARM_ACTIONS_DISABLED = "alarm.actions.disabled"
    ALARM_ACTIONS_NONE = "alarm.actions.none"
    ALARM_ACTIONS_NO_SNS = "alarm.actions.no_sns"
    ALARM_MUTED = "alarm.muted"

    TOPIC_NOT_FOUND = "topic.not_found"
    TOPIC_AWS_MANAGED_KEY = "topic.aws_managed_key"
    TOPIC_POLICY_NONE = "topic.policy.none"
    TOPIC_POLICY_INVALID = "topic.policy.invalid"
    TOPIC_POLICY_DENIES_CLOUDWATCH = "topic.policy.denies_cloudwatch"
    TOPIC_POLICY_NO_CLOUDWATCH_ALLOW = "topic.policy.no_cloudwatch_allow"
    TOPIC_POLICY_UNDECIDED = "topic.policy.undecided"
    TOPIC_POLICY_NO_EVENTS_ALLOW = "topic.policy.no_events_allow"
    TOPIC_POLICY_DENIES_EVENTS = "topic.policy.denies_events"
    TOPIC_POLICY_EVENTS_UNDECIDED = "topic.policy.events_undecided"

    SUBSCRIPTION_NONE = "subscription.none"
    SUBSCRIPTION_PROTOCOL_NOT_ALLOWED = "subscription.protocol.not_allowed"
    SUBSCRIPTION_NONE_CONFIRMED = "subscription.none_confirmed"
    SUBSCRIPTION_FILTER_POLICY_DROPS = "subscription.filter_policy.drops_alarm"
    SUBSCRIPTION_FILTER_POLICY_UNJUDGED = "subscription.filter_policy.cannot_judge"

    RULE_NONE = "rule.none"
    RULE_DISABLED = "rule.disabled"
    RULE_PATTERN_INVALID = "rule.pattern.invalid"
    RULE_PATTERN_MISSES = "rule.pattern.misses"
    RULE_PATTERN_UNJUDGED = "rule.pattern.cannot_judge"
    TARGET_NONE = "target.none"
    TARGET_MESSAGE_INCOMPLETE = "target.message.incomplete"
    TARGET_MESSAGE_UNJUDGED = "target.message.cannot_judge"

    COVERAGE_DIRECT = "coverage.direct"
    COVERAGE_ORGANIZATION = "coverage.organization"
    COVERAGE_NO_TRAIL = "coverage.none.no_trail"
    COVERAGE_SINGLE_REGION = "coverage.none.single_region"
    COVERAGE_NO_CLOUDWATCH = "coverage.none.no_cloudwatch"
    COVERAGE_NOT_LOGGING = "coverage.none.not_logging"
    COVERAGE_DELIVERY_ERROR = "coverage.none.delivery_error"
    COVERAGE_NEVER_DELIVERED = "coverage.none.never_delivered"
    COVERAGE_DELIVERY_STALE = "coverage.none.delivery_stale"
    COVERAGE_SELECTORS = "coverage.none.selectors"
    COVERAGE_CHAIN_BROKEN = "coverage.none.chain_broken"

    @property
    def link(self) -> Link | None:
        """The chain link a problem with this code breaks (None for coverage codes)."""
        return _LINKS.get(self.value.split(".")[0])


_LINKS = {
    "filter": Link.FILTER,
    "alarm": Link.ALARM,
    "topic": Link.TOPIC,
    "subscription": Link.SUBSCRIPTION,
    "rule": Link.RULE,
    "target": Link.TARGET,
}

CODES: Mapping[Code, str] = {
    Code.FILTER_NONE: "No metric filter on the log group for the control.",
    Code.FILTER_PATTERN_NONE: "The metric filter has no pattern.",
    Code.FILTER_PATTERN_INVALID: "The pattern is not valid filter-pattern syntax.",
    Code.FILTER_PATTERN_NOT_COVERING: "The pattern misses some of the control's events (judged on its sample records).",
    Code.FILTER_PATTERN_NOT_CANONICAL: "Strict mode: the pattern covers the control but is not the benchmark's exact text.",
    Code.FILTER_METRIC_NONE: "The filter has no metric transformation, so it writes no metric.",
    Code.FILTER_VALUE_NONE: "The filter's metric transformation has no value.",
    Code.FILTER_VALUE_INVALID: "The metric value is neither a number nor a field reference.",
    Code.FILTER_VALUE_FIELD_MISSING: "The value is a field that CloudTrail records do not have as a number.",
    Code.FILTER_VALUE_ZERO: "A match adds 0 (or less) to the metric.",
    Code.FILTER_VALUE_BELOW_ONE: "A match adds less than 1 to the metric.",
    Code.FILTER_SELECTION_CRITERIA: "fieldSelectionCriteria limits the events by system fields the control's records do not carry: not judged.",
    Code.FILTER_TRANSFORMED_LOGS: "applyOnTransformedLogs runs the pattern on transformed events the core cannot see: not judged.",
    Code.ALARM_NONE: "No alarm reads the filter's metric.",
    Code.ALARM_METRIC_MATH: "The alarm uses metric math instead of the filter's metric.",
    Code.ALARM_STATISTIC: "The alarm's statistic is not the benchmark's (Sum).",
    Code.ALARM_PERIOD_TOO_LONG: "The alarm's period is longer than the benchmark's.",
    Code.ALARM_DIMENSIONS_MISMATCH: "The alarm watches another series than the one the filter writes.",
    Code.ALARM_DIMENSIONS_SYSTEM_FIELD: "The alarm watches one value of a system-field dimension (emitSystemFieldDimensions): not judged.",
    Code.ALARM_UNIT_MISMATCH: "The alarm's unit is not the unit the filter publishes.",
    Code.ALARM_COMPARISON_UNSUPPORTED: "The alarm does not compare with a static threshold.",
    Code.ALARM_THRESHOLD_NEVER_FIRES: "One event does not breach the threshold.",
    Code.ALARM_THRESHOLD_FIRES_ON_ZERO: "A period without events breaches the threshold: the alarm sits in ALARM.",
    Code.ALARM_THRESHOLD_FIRES_ON_DEFAULT_VALUE: "The filter's default value breaches the threshold in quiet periods.",
    Code.ALARM_EVALUATION_MULTIPLE_PERIODS: "The alarm needs more than one breaching period; one event breaches one.",
    Code.ALARM_TREAT_MISSING_DATA: "treatMissingData is breaching or ignore, so the next event may change nothing.",
    Code.ALARM_ACTIONS_DISABLED: "The alarm's actions are disabled.",
    Code.ALARM_ACTIONS_NONE: "The alarm has no alarm action.",
    Code.ALARM_ACTIONS_NO_SNS: "None of the alarm's actions is an SNS topic.",
    Code.ALARM_MUTED: "An alarm mute rule mutes the alarm's actions now or on a schedule (the audit's mute-rules proof; the pack's cis-alarm-not-muted).",
    Code.TOPIC_NOT_FOUND: "The alarm notifies a topic that does not exist.",
    Code.TOPIC_AWS_MANAGED_KEY: "The topic is encrypted with alias/aws/sns, which CloudWatch cannot use.",
    Code.TOPIC_POLICY_NONE: "The topic has no access policy.",
    Code.TOPIC_POLICY_INVALID: "The topic's access policy is not a valid IAM policy document.",
    Code.TOPIC_POLICY_DENIES_CLOUDWATCH: "The topic's access policy denies the alarm's sns:Publish to CloudWatch.",
    Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW: "No statement of the topic's access policy lets CloudWatch publish the alarm.",
    Code.TOPIC_POLICY_UNDECIDED: (
        "Whether the topic's access policy lets CloudWatch publish rests on a condition that cannot be judged: "
        "a FAIL until it is rewritten, never a PASS."
    ),
    Code.TOPIC_POLICY_NO_EVENTS_ALLOW: "Real-time: no statement of the topic's access policy lets EventBridge publish for the rule.",
    Code.TOPIC_POLICY_DENIES_EVENTS: "Real-time: the topic's access policy denies the rule's sns:Publish to EventBridge.",
    Code.TOPIC_POLICY_EVENTS_UNDECIDED: (
        "Real-time: whether the topic's access policy lets EventBridge publish for the rule rests on a condition "
        "that cannot be judged: not counted as granted."
    ),
    Code.SUBSCRIPTION_NONE: "The topic has no subscription.",
    Code.SUBSCRIPTION_PROTOCOL_NOT_ALLOWED: "No subscription uses a protocol that delivers alarms to a person or a system (ALLOWED_PROTOCOLS).",
    Code.SUBSCRIPTION_NONE_CONFIRMED: "No subscription is confirmed.",
    Code.SUBSCRIPTION_FILTER_POLICY_DROPS: "The subscription's filter policy drops the notification CloudWatch sends; it receives nothing.",
    Code.SUBSCRIPTION_FILTER_POLICY_UNJUDGED: "The subscription's filter policy cannot be judged against CloudWatch's notification, so it does not count.",
    Code.RULE_NONE: "Real-time: no enabled EventBridge rule selects the control's events (judged on its sample records).",
    Code.RULE_DISABLED: "Real-time: the rule that selects the control's events is disabled.",
    Code.RULE_PATTERN_INVALID: "Real-time: the rule's event pattern is not a valid event pattern.",
    Code.RULE_PATTERN_MISSES: "Real-time: the rule misses some of the control's events (judged on its sample records).",
    Code.RULE_PATTERN_UNJUDGED: "Real-time: the rule's pattern uses operators the evaluator does not judge, so it does not count.",
    Code.TARGET_NONE: "Real-time: the rule has no target that reaches an SNS topic with a subscriber.",
    Code.TARGET_MESSAGE_INCOMPLETE: "Real-time: the message the target gets does not say who, what, where, when and whether it failed.",
    Code.TARGET_MESSAGE_UNJUDGED: "Real-time: the target's input transformer cannot be rendered as documented, so its message is not judged.",
    Code.COVERAGE_DIRECT: "Covered directly: the account's own multi-Region trail delivers to an intact chain.",
    Code.COVERAGE_ORGANIZATION: "Covered by an organization trail whose owner's chain is intact.",
    Code.COVERAGE_NO_TRAIL: "No multi-Region trail records the account's events in the Region.",
    Code.COVERAGE_SINGLE_REGION: "Only a single-Region trail delivers the Region's events; CIS needs multi-Region.",
    Code.COVERAGE_NO_CLOUDWATCH: "The trail does not deliver to CloudWatch Logs.",
    Code.COVERAGE_NOT_LOGGING: "The trail is not logging.",
    Code.COVERAGE_DELIVERY_ERROR: "The trail is logging, but AWS reports a CloudWatch Logs delivery error: no event reaches the filter.",
    Code.COVERAGE_NEVER_DELIVERED: "The trail has never delivered to its CloudWatch Logs group (AWS gives no delivery time).",
    Code.COVERAGE_DELIVERY_STALE: "The trail's last delivery to CloudWatch Logs is older than the delivery window (24 h by default).",
    Code.COVERAGE_SELECTORS: "The trail's event selectors do not record all management events.",
    Code.COVERAGE_CHAIN_BROKEN: "The trail delivers to a log group whose chain is broken.",
}
"""What each code means, in one sentence (a test holds it complete)."""


@dataclass(frozen=True)
class Problem:
    """One reason a link cannot do its job, and what to do about it."""

    code: Code
    link: Link
    detail: str
    """What is wrong and what to do, as a clause that follows ``lead``."""
    lead: str = ""
    """Whom the detail is about ("alarm 'x' on the filter's metric cannot notify on one event");
    problems with the same lead are told in one sentence."""
    ref: str | None = None
    """The adapter's handle of the resource to blame (a URN in the pack, an ARN in the audit)."""

    @property
    def message(self) -> str:
        return f"{self.lead}: {self.detail}" if self.lead else self.detail


def describe(problems: Iterable[Problem]) -> str:
    """The problems as one text: details that share a lead are joined after it once."""
    groups: dict[str, list[str]] = {}
    for problem in problems:
        details = groups.setdefault(problem.lead, [])
        if problem.detail not in details:
            details.append(problem.detail)
    return "; ".join(
        f"{lead}: {'; '.join(details)}" if lead else "; ".join(details) for lead, details in groups.items()
    )


def codes(problems: Iterable[Problem]) -> tuple[Code, ...]:
    """The distinct codes, in order of first appearance."""
    return tuple(dict.fromkeys(p.code for p in problems))
