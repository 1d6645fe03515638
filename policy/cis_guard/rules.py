"""The pack's policies: one stack policy for the whole chain, resource policies for each link.

Every policy copies properties through ``stack_model.plain`` first and never reads
the SDK's proxies directly, so an unknown value during preview cannot turn a
mandatory policy into the SDK's advisory "can't run during preview" note. The copies
become the core's facts (``facts``) and ``cis_monitoring.core.judge`` decides, as it does for the
audit; a violation ends with the core's problem codes, ``[codes: alarm.unit.mismatch]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from cis_monitoring.core.catalog import Control, control_for_metric
from cis_monitoring.core.detectors import REAL_TIME
from cis_monitoring.core.detectors.event_rule import rule_pattern
from cis_monitoring.core.judge.alarm import alarm_problems
from cis_monitoring.core.judge.mute_rules import judge_mute_rules
from cis_monitoring.core.judge.notification import ALLOWED_PROTOCOLS, protocol_problem, topic_problems
from cis_monitoring.core.judge.pattern import judge_pattern
from cis_monitoring.core.problems import Code

from . import pack_config, verdicts
from .analysis import SharedStackPolicy, StackAnalysis, shared_analysis
from .chain import EVALUATORS, StackIndex
from .coverage import Judgement, judge_stack
from .facts import (
    ALARM,
    FILTER,
    MUTE_RULE,
    SUBSCRIPTION,
    TOPIC,
    alarm_facts,
    filter_facts,
    mute_rule_facts,
    subscription_facts,
    topic_facts,
)
from .real_time import EVENT_RULE, RealTimeIndex
from .servicer import DecodedResourceArgs
from .stack_model import Resource, plain
from .verdict_files import RECORDER

CHAIN_POLICY = "cis-monitoring-chain"
FILTER_COVERS = "cis-metric-filter-covers-control"
FILTER_CANONICAL = "cis-filter-canonical-text"
FILTER_NOT_TOO_BROAD = "cis-filter-not-too-broad"
ALARM_FIRES = "cis-alarm-fires-on-one-event"
ALARM_NOT_MUTED = "cis-alarm-not-muted"

NOTES_POLICY = "cis-monitoring-coverage-notes"

REAL_TIME_POLICY = "cis-real-time-alerts"


def to_resource(resource: Any) -> Resource:
    """A plain ``Resource`` from the SDK's PolicyResource (stack) or ResourceValidationArgs (resource).

    The pack's servicer has already decoded them (``servicer``, ``decode``): then that is it.
    """
    if isinstance(resource, Resource):
        return resource
    if isinstance(resource, DecodedResourceArgs):
        return resource.resource
    provider = resource.provider
    return Resource(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        props=plain(resource.props),
        provider_urn=provider.urn if provider is not None else None,
        provider_props=plain(provider.props) if provider is not None else {},
        # Only stack validation sees dependencies; a single resource has none to offer.
        dependencies=tuple(d.urn for d in getattr(resource, "dependencies", None) or ()),
        property_dependencies={
            key: tuple(d.urn for d in deps)
            for key, deps in (getattr(resource, "property_dependencies", None) or {}).items()
        },
    )


def _config(args: Any) -> Mapping[str, Any]:
    return args.get_config() or {}


def _analysis(args: Any, policy: str) -> StackAnalysis:
    """The call's one analysis (the pack's servicer), or one of this policy's own where the SDK ran it."""
    shared = shared_analysis(args)
    if shared is not None:
        return shared
    return StackAnalysis([to_resource(r) for r in args.resources], {policy: _config(args)}, standalone=True)


def _judge_chain(
    analysis: StackAnalysis, raw_config: Mapping[str, Any]
) -> tuple[list[str], Judgement | None]:
    """The chain policy's config problems, or its judgement of the stack (violations and notes)."""
    problems: list[str] = []
    try:
        config = pack_config.load(raw_config)
    except pack_config.ConfigProblems as bad:
        problems = list(bad.problems)
    # The report file is part of the config's promise: a CI job that reads it must not find it missing.
    if RECORDER.problem:
        problems.append(RECORDER.problem)
    if problems:
        return problems, None
    return [], judge_stack(analysis.index, config)


def _chain_outcome(analysis: StackAnalysis) -> tuple[list[str], Judgement | None] | None:
    """The chain's judgement, made once per call for both policies that report it; None when the
    chain policy is disabled (its notes are not made either)."""
    raw_config = analysis.config_of(CHAIN_POLICY)
    if raw_config is None:
        return None
    return analysis.once(CHAIN_POLICY, lambda: _judge_chain(analysis, raw_config))


def validate_chain(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    outcome = _chain_outcome(_analysis(args, CHAIN_POLICY))
    assert outcome is not None  # the policy runs, so it is enabled, and its own config is there
    problems, judgement = outcome
    if judgement is None:
        report_violation(
            f"The {CHAIN_POLICY} config is not valid, so this stack was not judged. Fix:\n"
            + "\n".join(f"- {problem}" for problem in problems),
            None,
        )
        return
    for finding in judgement.violations:
        target = finding.target
        verdicts.detail(
            CHAIN_POLICY,
            finding.message,
            finding.urn,
            account=target.account if target else None,
            region=target.region if target else None,
            control=finding.control,
        )
        report_violation(finding.message, finding.urn)


NOTES_WITHOUT_CHAIN_CONFIG = (
    "The coverage notes were not made: pulumi-policy ran this policy itself, and a policy it runs sees"
    " only its own config, not the {chain} policy's. Use pulumi-policy >= 1.20, < 2 (the pack's"
    " requirements.txt)."
)


def validate_coverage_notes(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """The chain policy's advisory notes for this stack, from the same judgement (``analysis``)."""
    analysis = _analysis(args, NOTES_POLICY)
    if analysis.standalone:
        report_violation(NOTES_WITHOUT_CHAIN_CONFIG.format(chain=CHAIN_POLICY), None)
        return
    outcome = _chain_outcome(analysis)
    judgement = outcome[1] if outcome is not None else None
    for note in judgement.notes if judgement is not None else ():
        report_violation(note, None)


def validate_filter_covers(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for resource, control, pattern in _catalog_filters(args):
        coverage = judge_pattern(pattern, control)
        if not coverage.covers:
            _report(
                report_violation,
                FILTER_COVERS,
                control,
                f"Metric filter {resource.name!r} writes the CIS {control.control_id} metric "
                f"{control.namespace}/{control.metric_name}, but {coverage.explain()}. "
                f"Use the benchmark pattern: {control.filter_pattern}",
            )


def validate_filter_canonical(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for resource, control, pattern in _catalog_filters(args):
        coverage = judge_pattern(pattern, control)
        if coverage.covers and not coverage.canonical:
            _report(
                report_violation,
                FILTER_CANONICAL,
                control,
                f"Metric filter {resource.name!r} covers CIS {control.control_id}, but its text differs from the "
                "benchmark's; audit tools that compare strings (Security Hub CloudWatch.5, many scanners) will "
                f"flag it. Use exactly: {control.filter_pattern}",
            )


def validate_filter_not_too_broad(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for resource, control, pattern in _catalog_filters(args):
        coverage = judge_pattern(pattern, control)
        if coverage.covers and coverage.too_broad:
            _report(
                report_violation,
                FILTER_NOT_TOO_BROAD,
                control,
                f"Metric filter {resource.name!r} for CIS {control.control_id} is too broad: {coverage.explain()}. "
                "Every such event raises the alarm (alert noise).",
            )


def _report(report_violation: ReportViolation, policy: str, control: Control, message: str) -> None:
    """Report a resource policy's violation, stating its control for the pack's report."""
    verdicts.detail(policy, message, control=control.control_id)
    report_violation(message)


def _catalog_filters(args: ResourceValidationArgs) -> list[tuple[Resource, Control, str]]:
    if args.resource_type != FILTER:
        return []
    resource = to_resource(args)
    facts = filter_facts(resource)
    namespace, metric, pattern = facts.namespace, facts.metric_name, facts.pattern
    if not isinstance(namespace, str) or not isinstance(metric, str) or not isinstance(pattern, str):
        return []
    control = control_for_metric(namespace, metric)
    return [(resource, control, pattern)] if control else []


def _alarm_control(namespaces_and_names: Iterable[tuple[object, object]]) -> tuple[Control, str] | None:
    for namespace, metric in namespaces_and_names:
        if isinstance(namespace, str) and isinstance(metric, str):
            control = control_for_metric(namespace, metric)
            if control is not None:
                return control, f"{namespace}/{metric}"
    return None


def validate_alarm_fires(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ALARM:
        return
    resource = to_resource(args)
    facts = alarm_facts(resource)
    found = _alarm_control([(facts.namespace, facts.metric_name), *facts.math_metrics])
    if found is None:
        return
    control, metric = found
    # Alone, an alarm is judged against the catalog's metric value; the chain policy adds its filter.
    problems = alarm_problems(facts, control)
    if problems:
        _report(
            report_violation,
            ALARM_FIRES,
            control,
            f"Alarm {resource.name!r} on the CIS {control.control_id} metric {metric} cannot alert on a "
            f"single event: {'; '.join(p.detail for p in problems)}. Use {control.alarm.describe()}, actions"
            f" enabled, and an SNS alarm action. [codes: {', '.join(p.code for p in problems)}]",
        )


def validate_alarm_not_muted(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """No alarm mute rule of the stack mutes an alarm on a catalog control's metric (same provider target).

    The core's judgement (``cis_monitoring.core.judge.mute_rules``), the one the audit makes from
    ListAlarmMuteRules: a muted alarm still goes to ALARM and notifies nobody.
    """
    analysis = _analysis(args, ALARM_NOT_MUTED)
    resources = analysis.resources
    rules = [r for r in resources if r.type == MUTE_RULE]
    if not rules:
        return
    index = analysis.index
    for resource in (r for r in resources if r.type == ALARM):
        facts = alarm_facts(resource)
        name = resource.get("name")
        found = _alarm_control([(facts.namespace, facts.metric_name)])
        if not isinstance(name, str) or found is None:
            continue
        target = index.target_of(resource)
        mine = [mute_rule_facts(r) for r in rules if index.target_of(r) == target]
        verdict = judge_mute_rules(name, mine)
        if not verdict.ok:
            message = f"{verdict.describe(name)}. [codes: {Code.ALARM_MUTED}]"
            verdicts.detail(
                ALARM_NOT_MUTED,
                message,
                resource.urn,
                account=target.account,
                region=target.region,
                control=found[0].control_id,
            )
            report_violation(message, resource.urn)


def validate_real_time(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """The stack's real-time rules, where it registers them, alert on every event of each control with a
    rule, through a message that says who did what, to a topic EventBridge may publish to and someone hears.

    Opt-in: a stack without a rule that selects a control's events is not judged. The verdict is the
    real-time channel's own; the CIS chain policy alone judges CIS compliance.
    """
    analysis = _analysis(args, REAL_TIME_POLICY)
    if not any(r.type == EVENT_RULE for r in analysis.resources):
        return
    try:
        config = pack_config.load(_config(args))
    except pack_config.ConfigProblems as bad:
        report_violation(f"The {REAL_TIME_POLICY} config is not valid: {'; '.join(bad.problems)}", None)
        return
    for verdict in real_time_verdicts(analysis.index, config):
        if not verdict.ok:
            target, control = verdict.target, verdict.verdict.control.control_id
            verdicts.detail(
                REAL_TIME_POLICY,
                verdict.message,
                verdict.urn,
                account=target.account,
                region=target.region,
                control=control,
            )
            report_violation(verdict.message, verdict.urn)


def real_time_verdicts(index: StackIndex, config: pack_config.PackConfig) -> list[Any]:
    """Each control's real-time verdict at each place where the stack registers a rule for its controls."""
    controls = [c for c in config.controls if rule_pattern(c) is not None]
    return [
        EVALUATORS[REAL_TIME](index, place, control, config.settings)
        for place in RealTimeIndex.of(index).places(controls)
        for control in controls
    ]


def validate_subscription_protocol(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SUBSCRIPTION:
        return
    resource = to_resource(args)
    problem = protocol_problem(subscription_facts(resource))
    if problem:
        report_violation(f"Subscription {resource.name!r}: {problem.detail}. [codes: {problem.code}]")


def validate_topic_key_usable(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != TOPIC:
        return
    resource = to_resource(args)
    for problem in topic_problems(topic_facts(resource, None)):
        report_violation(
            f"Topic {resource.name!r}: {problem.detail}. The AWS-managed key's policy cannot be changed. "
            f"[codes: {problem.code}]"
        )


def validate_topic_customer_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != TOPIC:
        return
    key = to_resource(args).get("kmsMasterKeyId")
    if key is None or key == "":
        report_violation(
            f"Topic {args.name!r} is not encrypted. Alarm notifications name accounts and resources; encrypt the "
            "topic with a customer-managed KMS key that CloudWatch may use."
        )


def policies() -> list[Any]:
    """Every policy of the pack, with its default enforcement level."""
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        SharedStackPolicy(
            name=CHAIN_POLICY,
            description=(
                "Every AWS account and region of the stack has a complete CIS monitoring chain: a metric filter "
                "whose pattern covers the control, an alarm on its metric that fires on one event, and an SNS topic "
                "with a subscriber. Every required account and region is covered: by such a chain there, or by the "
                "chain on the log group of a declared account or organization trail that records it."
            ),
            enforcement_level=mandatory,
            validate=validate_chain,
            config_schema=pack_config.CHAIN_CONFIG_SCHEMA,
        ),
        # The chain policy's judgement, reported at its own level (``analysis``: made once per call).
        SharedStackPolicy(
            name=NOTES_POLICY,
            description=(
                "Required accounts covered by an organization trail whose chain this stack does not hold: "
                "that chain is judged in the trail owner's stack. Keep this advisory."
            ),
            enforcement_level=advisory,
            validate=validate_coverage_notes,
        ),
        SharedStackPolicy(
            name=ALARM_NOT_MUTED,
            description=(
                "No alarm mute rule of the stack mutes an alarm on a CIS control's metric, now or on a schedule:"
                " a muted alarm still changes state and notifies nobody."
            ),
            enforcement_level=mandatory,
            validate=validate_alarm_not_muted,
        ),
        SharedStackPolicy(
            name=REAL_TIME_POLICY,
            description=(
                "Opt-in real-time alerts (where the stack registers EventBridge rules for CIS controls): each"
                " control's rule selects all its events, its message says who did what, and EventBridge may publish"
                " to a topic with a subscriber. Not part of the CIS verdict; advisory by default."
            ),
            enforcement_level=advisory,
            validate=validate_real_time,
            config_schema=pack_config.CHAIN_CONFIG_SCHEMA,
        ),
        ResourceValidationPolicy(
            name=FILTER_COVERS,
            description="A metric filter that writes a catalog control's metric matches every event of that control.",
            enforcement_level=mandatory,
            validate=validate_filter_covers,
        ),
        ResourceValidationPolicy(
            name=ALARM_FIRES,
            description="An alarm on a catalog control's metric fires on a single matching event and notifies.",
            enforcement_level=mandatory,
            validate=validate_alarm_fires,
        ),
        ResourceValidationPolicy(
            name="cis-subscription-protocol-allowed",
            description=f"Alarm topic subscriptions use {', '.join(ALLOWED_PROTOCOLS)} only.",
            enforcement_level=mandatory,
            validate=validate_subscription_protocol,
        ),
        ResourceValidationPolicy(
            name="cis-topic-not-aws-managed-key",
            description="No SNS topic is encrypted with alias/aws/sns, which CloudWatch alarms cannot publish to.",
            enforcement_level=mandatory,
            validate=validate_topic_key_usable,
        ),
        ResourceValidationPolicy(
            name=FILTER_CANONICAL,
            description="A covering metric filter uses the benchmark's exact text (string-comparing audit tools).",
            enforcement_level=advisory,
            validate=validate_filter_canonical,
        ),
        ResourceValidationPolicy(
            name=FILTER_NOT_TOO_BROAD,
            description="A covering metric filter does not also match unrelated events (alert noise).",
            enforcement_level=advisory,
            validate=validate_filter_not_too_broad,
        ),
        ResourceValidationPolicy(
            name="cis-topic-customer-managed-key",
            description="SNS topics are encrypted with a customer-managed KMS key.",
            enforcement_level=advisory,
            validate=validate_topic_customer_key,
        ),
    ]
