"""The audit's reading of the real-time kind (``event-rule``): EventBridge's answers judged by the core.

Opt-in, like the program's rules: only a stack with ``realTime`` gets these reads (``real_time_sites``
says where the program put rules, from the same resolution the program uses), and their verdicts are
the real-time channel's own (``ChainResult.real_time``): they never change a chain's CIS status, the
pairs' verdicts or the run's exit code. CIS compliance is judged on the metric filter alone.

Per chain site, in the chain's Region (the delivery point) and in each Region whose rules forward
there, per bus the program uses: ``ListRules`` (name, ARN, pattern, state), then for the rules that
select the control's events ``ListTargetsByRule`` (ARN, ``Input``, ``InputPath``, ``InputTransformer``),
the topic's ``GetTopicAttributes`` (policy, key) and its subscribers, as for the CIS chain. Shapes:
botocore's events model (2015-10-07): ``ListRulesResponse.Rules`` of ``Rule`` {Name, Arn, EventPattern,
State, EventBusName, ...}; ``ListTargetsByRuleResponse.Targets`` of ``Target`` {Id, Arn, Input,
InputPath, InputTransformer {InputPathsMap, InputTemplate}, ...}; both paginated by ``NextToken``.
``DescribeRule`` is not called: ``ListRules`` already returns every field the judgement reads.

Every judgement is the core's (``detectors.event_rule.judge`` -> ``judge.event_rule.judge_rules``), the
one the pack makes from a stack's resources. A target that is an event bus forwards the events to the
delivery point: the forwarding Region's verdict rests on its rule and target, and says the rest is
judged where that bus's rule delivers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from cis_monitoring.audit.aws import AWS_ERRORS, AwsError, Clients, Memo, aws_error, error_code
from cis_monitoring.audit.chain import TOPIC_NOT_FOUND, subscription_facts, topic_facts
from cis_monitoring.audit.results import ControlResult, Finding
from cis_monitoring.core.aws.arns import LogGroupRef, parse_arn, parse_sns_topic_arn
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import event_rule
from cis_monitoring.core.event_pattern import InputTransformer
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.judge.event_rule import Reached, RuleFacts, RuleVerdict, TargetFacts
from cis_monitoring.core.judge.facts import SubscriptionFacts, TopicFacts
from cis_monitoring.core.judge.notification import READS as NOTIFICATION_READS
from cis_monitoring.core.problems import Link
from cis_monitoring.core.status import Status
from cis_monitoring.spec import StackConfig
from cis_monitoring.spec.resolve import account_indexes, member_forwardings, real_time_settings, site_contexts

DEFAULT_BUS = "default"
NOT_CHECKED = "not checked (an earlier link failed)"


class RuleCheck(StrEnum):
    """The audit's checks of a real-time chain, in the order an event travels them."""

    RULE = "real-time rule"
    TARGET = "real-time target"
    TOPIC = "real-time topic policy"
    SUBSCRIPTION = "real-time subscription"


RULE_CHECKS = {
    Link.RULE: RuleCheck.RULE,
    Link.TARGET: RuleCheck.TARGET,
    Link.TOPIC: RuleCheck.TOPIC,
    Link.SUBSCRIPTION: RuleCheck.SUBSCRIPTION,
}


def rule_basis(link: Link) -> tuple[AwsRead, ...]:
    """The AWS calls and fields the check of ``link`` rests on."""
    return event_rule.AWS_READS.get(link) or NOTIFICATION_READS.get(link, ())


@dataclass(frozen=True)
class RulePlace:
    """Where the program puts a control's rules: a Region and a bus (the delivery point or a forwarder)."""

    region: str
    bus: str = DEFAULT_BUS
    delivers: bool = True

    @property
    def label(self) -> str:
        return self.region if self.bus == DEFAULT_BUS else f"{self.region} bus {self.bus}"


def real_time_sites(config: StackConfig) -> dict[tuple[str, str], tuple[RulePlace, ...]]:
    """(account, chain Region) -> the places the program registers real-time rules for that chain.

    Empty without ``realTime``. The same resolution as the program's (``spec.resolve.real_time_settings``);
    its problems (the high-risk subscribers') are the program's to report, not the audit's.
    """
    if config.real_time is None:
        return {}
    accounts = list(enumerate(config.accounts))
    contexts = site_contexts(config.notifications, accounts, config.organization_trail)
    settings, _problems = real_time_settings(config, contexts, None, frozenset(), account_indexes(accounts))
    sites: dict[tuple[str, str], tuple[RulePlace, ...]] = {}
    for context in contexts:
        site = context.site
        found = settings.get(site.key)
        if found is None:
            continue
        delivers = found.delivers(site.account_id, site.region)
        places = [RulePlace(site.region, DEFAULT_BUS, delivers)]
        bus = found.central_bus
        if bus is not None and delivers:
            places.append(RulePlace(site.region, bus.bus_name, True))
        places += [RulePlace(region, DEFAULT_BUS, False) for region in found.forward_regions]
        sites[(site.account_id, site.region)] = tuple(places)
    return sites


def member_notes(config: StackConfig) -> list[str]:
    """What the audit says, and does not judge, about the accounts covered only by the organization trail.

    The program forwards a member's events from its own default buses (``spec.MemberForwarding``); this
    audit reads real-time rules at chain sites only, so a member's forwarding rules, its role and the
    receiving bus's permission for it are not read here: each note says so, and no verdict passes them (the
    pack's ``cis-real-time-alerts`` judges them in the stack). A member without ``roleArn`` got no rules.
    """
    notes = []
    for member in member_forwardings(config):
        if member.deploys:
            notes.append(
                f"real-time: account {member.account_id} ({member.account_name}) forwards its events from"
                f" {', '.join(member.regions)} to {member.bus_arn}; this audit does not read those forwarding rules,"
                " their role or the bus's permission for the account (not judged here; the policy pack judges them)"
            )
        else:
            notes.append(
                f"real-time: account {member.account_id} ({member.account_name}) has no roleArn, so no real-time rules"
                " were deployed there: its API calls reach only its own event buses and raise no real-time alert"
                " (its CIS coverage by the organization trail is unaffected)"
            )
    return notes


# ---------------------------------------------------------------- EventBridge's answers as the core's facts


def rule_facts(rule: Mapping[str, Any]) -> RuleFacts:
    """A ``ListRules`` entry (``Rule``)."""
    name = str(rule.get("Name", "?"))
    return RuleFacts(
        name, rule.get("EventPattern"), rule.get("State"), rule.get("Arn"), rule.get("Arn") or name
    )


def target_facts(target: Mapping[str, Any]) -> TargetFacts:
    """A ``ListTargetsByRule`` entry (``Target``); its ``InputTransformer`` as the core's."""
    raw = target.get("InputTransformer")
    transformer = None
    if isinstance(raw, Mapping):
        transformer = InputTransformer(
            str(raw.get("InputTemplate") or ""), dict(raw.get("InputPathsMap") or {})
        )
    return TargetFacts(
        name=str(target.get("Id", "?")),
        arn=target.get("Arn"),
        input=target.get("Input"),
        input_path=target.get("InputPath"),
        transformer=transformer,
        ref=str(target.get("Arn") or target.get("Id") or ""),
    )


class AwsRuleLookups:
    """The core's look-ups for one place, from AWS; ``link`` says how far the walk got (for an error)."""

    def __init__(self, aws: Clients, memo: Memo, place: RulePlace) -> None:
        self.aws, self.memo, self.place = aws, memo, place
        self.link = Link.RULE

    def rules(self) -> list[RuleFacts]:
        self.link = Link.RULE
        found = self.memo.paginate(
            self.aws("events", self.place.region), "list_rules", "Rules", EventBusName=self.place.bus
        )
        return [rule_facts(r) for r in found]

    def targets_of(self, rule: RuleFacts) -> Sequence[TargetFacts]:
        self.link = Link.TARGET
        found = self.memo.paginate(
            self.aws("events", self.place.region),
            "list_targets_by_rule",
            "Targets",
            Rule=rule.name,
            EventBusName=self.place.bus,
        )
        return [target_facts(t) for t in found]

    def reached(self, target: TargetFacts) -> Reached:
        arn = target.arn
        parsed = parse_arn(arn)
        if parsed is not None and parsed.service == "events" and parsed.resource.startswith("event-bus/"):
            return Reached(trusted=f"it forwards to event bus {arn}, judged where that bus's rule delivers")
        topic = parse_sns_topic_arn(arn) if isinstance(arn, str) else None
        if topic is None:
            return Reached(missing="is not an SNS topic")
        self.link = Link.TOPIC
        try:
            answer = self.memo.call(self.aws("sns", topic.region), "get_topic_attributes", TopicArn=arn)
        except ClientError as error:
            if error_code(error) not in TOPIC_NOT_FOUND:
                raise
            return Reached(missing="does not exist (SNS says NotFound)")
        return Reached(topic=topic_facts(str(arn), answer.get("Attributes", {})))

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]:
        self.link = Link.SUBSCRIPTION
        arn = str(topic.arn)
        where = parse_sns_topic_arn(arn)
        client = self.aws("sns", where.region if where is not None else None)
        found = self.memo.paginate(client, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
        facts = []
        for subscription in found:
            attributes = None
            subscription_arn = str(subscription.get("SubscriptionArn", ""))
            if subscription_arn.startswith("arn:"):
                answer = self.memo.call(
                    client, "get_subscription_attributes", SubscriptionArn=subscription_arn
                )
                attributes = answer.get("Attributes", {})
            facts.append(subscription_facts(subscription, attributes))
        return facts


# ---------------------------------------------------------------- the control's verdict at one place


def audit_event_rules(
    group: LogGroupRef, aws: Clients, memo: Memo, control: Control, place: RulePlace
) -> ControlResult:
    """``control``'s real-time rules at ``place`` of ``group``'s chain (the audit's function for the kind).

    Never raises for an AWS error: the result says ERROR, with the check whose read failed.
    """
    lookups = AwsRuleLookups(aws, memo, place)
    try:
        verdict = event_rule.judge(lookups.rules(), lookups, control)
    except AWS_ERRORS as failure:
        return _error(control, place, lookups.link, aws_error(failure))
    return _result(control, place, verdict)


ORDER = tuple(RULE_CHECKS)


def _error(control: Control, place: RulePlace, failed: Link, error: AwsError) -> ControlResult:
    """ERROR at the check whose read failed; the links before it passed for the rule being followed."""
    findings = []
    for link, check in RULE_CHECKS.items():
        if ORDER.index(link) < ORDER.index(failed):
            detail = "passed for the rule being followed when a later read failed"
            findings.append(Finding(check, True, detail, basis=rule_basis(link)))
        elif link == failed:
            detail = f"error: {error.code}: {error.message}"
            findings.append(Finding(check, False, detail, basis=rule_basis(link)))
        else:
            findings.append(Finding(check, None, NOT_CHECKED))
    where = f" ({error.operation})" if error.operation else ""
    reasons = [f"{place.label}: {RULE_CHECKS[failed]}: {error.code}: {error.message}{where}"]
    return ControlResult(control.control_id, Status.ERROR, reasons, findings, error)


def _result(control: Control, place: RulePlace, verdict: RuleVerdict) -> ControlResult:
    findings = []
    for link, check in RULE_CHECKS.items():
        if verdict.link is not None and ORDER.index(link) > ORDER.index(verdict.link):
            findings.append(Finding(check, None, NOT_CHECKED))
        elif verdict.link == link:
            findings.append(Finding(check, False, verdict.summary(), verdict.codes, rule_basis(link)))
        elif verdict.path.trusted is not None and link in (Link.TOPIC, Link.SUBSCRIPTION):
            findings.append(Finding(check, None, f"not checked here: {verdict.path.trusted}"))
        else:
            findings.append(Finding(check, True, _passed(link, verdict), basis=rule_basis(link)))
    if verdict.ok:
        return ControlResult(control.control_id, Status.PASS, [], findings)
    reasons = [f"{place.label}: {RULE_CHECKS[verdict.link or Link.RULE]}: {verdict.summary()}"]
    return ControlResult(control.control_id, Status.FAIL, reasons, findings, codes=verdict.codes)


def _passed(link: Link, verdict: RuleVerdict) -> str:
    path = verdict.path
    if link == Link.RULE and path.rule is not None:
        return f"rule {path.rule.name!r} selects every CIS {verdict.control.control_id} sample event and is enabled"
    if link == Link.TARGET and path.target is not None:
        if path.trusted is not None:
            return f"target {path.target.name!r}: {path.trusted}"
        return f"target {path.target.name!r} sends a message that says who did what, where, when and whether it failed"
    if link == Link.TOPIC and path.topic is not None:
        return f"topic {path.topic.name} lets EventBridge publish for rule {path.rule.name if path.rule else '?'!r}"
    if link == Link.SUBSCRIPTION and path.topic is not None:
        protocols = ", ".join(sorted({str(s.protocol) for s in path.subscriptions}))
        return (
            f"topic {path.topic.name} has {len(path.subscriptions)} confirmed subscription(s) ({protocols})"
        )
    return "passed"
