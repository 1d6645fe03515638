"""The pack's function for the real-time kind: a stack's EventBridge rules and targets judged by the core.

``evaluate_rules`` (in ``chain.EVALUATORS``) answers the core's look-ups (``judge.event_rule.RuleLookups``)
from the stack's indexed resources for one (account, Region): the rules there (in the provider's Region,
or naming it with pulumi-aws's per-resource ``region``), their targets (by rule name and bus, or by the
engine's property dependency on the rule), and the topics they reach with their access policies and
subscriptions. A target that is an event bus forwards to the delivery point, judged where it delivers.

The verdict is the real-time channel's own (policy ``cis-real-time-alerts``, advisory): it never changes
the CIS chain's. Only places where the stack registers a rule that selects one of its controls' events
are judged (the stack opted in there).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cis_monitoring.core.aws.arns import LogGroupRef, parse_arn
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import event_rule
from cis_monitoring.core.event_pattern import InputTransformer
from cis_monitoring.core.judge.event_rule import Reached, RuleFacts, TargetFacts, rule_problems
from cis_monitoring.core.judge.facts import SubscriptionFacts, TopicFacts
from cis_monitoring.core.unknown import UNKNOWN, is_unknown

from .facts import subscription_facts
from .stack_model import Resource, Target
from .target_verdict import TargetVerdict

EVENT_RULE = event_rule.EVENT_RULE
EVENT_TARGET = event_rule.EVENT_TARGET
DEFAULT_BUS = "default"


def rule_facts(resource: Resource) -> RuleFacts:
    """pulumi-aws's EventRule: ``eventPattern`` (JSON text), ``state`` (or the older ``isEnabled``), ``arn``."""
    state = resource.get("state")
    if state is None:
        enabled = resource.get("isEnabled")
        state = UNKNOWN if is_unknown(enabled) else ("DISABLED" if enabled is False else "ENABLED")
    return RuleFacts(
        name=_text(resource.get("name"), resource.name),
        pattern=resource.get("eventPattern"),
        state=state,
        arn=resource.get("arn", UNKNOWN),
        ref=resource.urn,
    )


def target_facts(resource: Resource) -> TargetFacts:
    """pulumi-aws's EventTarget: ``arn``, ``input``, ``inputPath``, ``inputTransformer`` {inputPaths, inputTemplate}."""
    transformer = resource.get("inputTransformer")
    if isinstance(transformer, dict):
        template, paths = transformer.get("inputTemplate"), transformer.get("inputPaths")
        if is_unknown(template) or is_unknown(paths):
            transformer = UNKNOWN
        else:
            transformer = InputTransformer(
                _text(template, ""), dict(paths) if isinstance(paths, dict) else {}
            )
    return TargetFacts(
        name=_text(resource.get("targetId"), resource.name),
        arn=resource.get("arn"),
        input=resource.get("input"),
        input_path=resource.get("inputPath"),
        transformer=transformer,
        ref=resource.urn,
    )


def _text(value: Any, fallback: str) -> str:
    """A name or template as text: the value when it is one (a preview may not know it yet), else ``fallback``."""
    return value if isinstance(value, str) and value else fallback


def _bus(resource: Resource) -> Any:
    bus = resource.get("eventBusName")
    return DEFAULT_BUS if bus is None or bus == "" else bus


@dataclass
class RealTimeIndex:
    """The stack's rules by (account, Region), and targets by rule (built once per stack index)."""

    rules: dict[Target, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    targets_by_rule_urn: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list))
    targets_by_name: dict[tuple[Target, Any, Any], list[Resource]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def of(cls, index: Any) -> RealTimeIndex:
        found = index.extras.get(event_rule.KIND)
        if found is None:
            found = index.extras[event_rule.KIND] = cls._build(index)
        return found

    @classmethod
    def _build(cls, index: Any) -> RealTimeIndex:
        built = cls()
        for resource in index.by_type.get(EVENT_RULE, ()):
            built.rules[_place(index, resource)].append(resource)
        for resource in index.by_type.get(EVENT_TARGET, ()):
            for urn in resource.property_dependencies.get("rule", ()):
                built.targets_by_rule_urn[urn].append(resource)
            key = (_place(index, resource), resource.get("rule"), _bus(resource))
            built.targets_by_name[key].append(resource)
        return built

    def places(self, controls: Sequence[Control]) -> list[Target]:
        """Where the stack opted in: each (account, Region) with a rule that selects one of ``controls``' events."""
        return [
            place
            for place, rules in self.rules.items()
            if any(rule_problems(rule_facts(r), c) is not None for r in rules for c in controls)
        ]


def _place(index: Any, resource: Resource) -> Target:
    """The (account, Region) a rule or target is in: its provider's, or the Region it names itself."""
    target = index.target_of(resource)
    region = resource.get("region")
    return Target(target.account, region) if isinstance(region, str) and region else target


@dataclass
class StackRuleLookups:
    index: Any
    real_time: RealTimeIndex
    place: Target

    def targets_of(self, rule: RuleFacts) -> Sequence[TargetFacts]:
        resource = self.index.resources[str(rule.ref)]
        found = list(self.real_time.targets_by_rule_urn.get(resource.urn, ()))
        found += self.real_time.targets_by_name.get((self.place, resource.get("name"), _bus(resource)), [])
        return [target_facts(t) for t in {t.urn: t for t in found}.values()]

    def reached(self, target: TargetFacts) -> Reached:
        arn = target.arn
        if is_unknown(arn):
            # Follow the engine's dependency (a preview); into anything else we cannot see.
            resource = self.index.resources[str(target.ref)]
            depends = resource.property_dependencies.get("arn", ())
            topics = [self.index.topics_by_urn[u] for u in depends if u in self.index.topics_by_urn]
            if topics:
                return Reached(topic=topics[0])
            return Reached(trusted="its target is not known until the update runs")
        if isinstance(arn, str) and arn in self.index.topics_by_arn:
            return Reached(topic=self.index.topics_by_arn[arn])
        parsed = parse_arn(arn)
        if parsed is not None and parsed.service == "events" and parsed.resource.startswith("event-bus/"):
            if parsed.account != self.place.account:
                return self._cross_account(target, arn, parsed.account, parsed.region, parsed.resource)
            return Reached(trusted=f"it forwards to event bus {arn}, judged where that bus's rule delivers")
        return Reached(missing="is no SNS topic in this stack")

    def _cross_account(
        self, target: TargetFacts, arn: str, account: str, region: str, resource: str
    ) -> Reached:
        """A member's forwarding to another account's bus: the links this stack shows, each checked.

        The rule needs a role ("the sending event bus must have IAM roles attached"), the receiving bus a
        policy that admits the sender, and that bus a rule that selects the forwarded events (EventBridge
        User Guide, "Sending and receiving events between AWS accounts in Amazon EventBridge"). What the bus
        then delivers is judged at its own place; a link this stack does not hold is reported missing, never
        passed.
        """
        bus = resource.split("/", 1)[1]
        sender = self.place.account
        if not self.index.resources[str(target.ref)].get("roleArn"):
            return Reached(
                missing=f"is event bus {arn} in another account, and the target has no role to send with"
            )
        admitted = _bus_admits(self.index, Target(account, region), bus, sender)
        if admitted is False:
            return Reached(
                missing=f"is event bus {arn}, and no bus policy or permission in this stack lets account {sender}"
                " put events on it"
            )
        names = {
            r.get("name") for r in self.real_time.rules.get(Target(account, region), ()) if _bus(r) == bus
        }
        rule_name = self.index.resources[str(target.ref)].get("rule")
        if not is_unknown(rule_name) and rule_name not in names:
            return Reached(
                missing=f"is event bus {arn}, where this stack has no rule {rule_name} for the forwarded events"
            )
        how = "admits it" if admitted else "is not known until the update runs"
        return Reached(
            trusted=f"it forwards to event bus {arn} (its policy for account {sender} {how}; the bus's rule"
            " is judged where it delivers)"
        )

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]:
        found = self.index.subscriptions_by_topic_urn.get(str(topic.ref), []) + (
            self.index.subscriptions_by_topic_arn.get(topic.arn, []) if isinstance(topic.arn, str) else []
        )
        return [subscription_facts(s) for s in {s.urn: s for s in found}.values()]


def evaluate_rules(
    index: Any, target: Target, control: Control, settings: Any = None, log_group: LogGroupRef | None = None
) -> TargetVerdict:
    """The core's verdict on ``control``'s real-time rules at ``target`` (an account and Region).

    ``settings`` and ``log_group`` (the metric filter's) do not apply: a rule does not read a log group.
    """
    real_time = RealTimeIndex.of(index)
    rules = [rule_facts(r) for r in real_time.rules.get(target, ())]
    verdict = event_rule.DETECTOR.judge(rules, StackRuleLookups(index, real_time, target), control)
    lead = f"real-time alerts for CIS {control.control_id} (not part of the CIS verdict): "
    return TargetVerdict(target, verdict, lead)


EVENT_PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"
EVENT_BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"


def _bus_admits(index: Any, place: Target, bus: str, sender: str | None) -> bool | None:
    """Whether a permission or bus policy at ``place`` lets ``sender``'s account put events on ``bus``.

    None: a policy there is not known until the update runs. An organization-wide statement
    (``aws:PrincipalOrgID``) admits every member; the stack holds no organization membership to check it
    against, and the program writes it only with the stack's own ``organizationId``.
    """
    unknown = False
    for resource in index.by_type.get(EVENT_PERMISSION, ()):
        if index.target_of(resource) != place or _bus(resource) != bus:
            continue
        principal, action = resource.get("principal"), resource.get("action", "events:PutEvents")
        if is_unknown(principal):
            unknown = True
        elif principal == sender and action in ("events:PutEvents", None):
            return True
    for resource in index.by_type.get(EVENT_BUS_POLICY, ()):
        if index.target_of(resource) != place or _bus(resource) != bus:
            continue
        policy = resource.get("policy")
        if is_unknown(policy) or not isinstance(policy, str):
            unknown = True
            continue
        if any(_statement_admits(s, sender) for s in _statements(policy)):
            return True
    return None if unknown else False


def _statements(policy: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(policy)
    except ValueError:
        return []
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def _statement_admits(statement: dict[str, Any], sender: str | None) -> bool:
    actions = statement.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    if statement.get("Effect") != "Allow" or not ({"events:PutEvents", "events:*"} & set(actions)):
        return False
    principal = statement.get("Principal")
    if principal == "*" or principal == {"AWS": "*"}:
        condition = statement.get("Condition", {})
        return isinstance(condition, dict) and "aws:PrincipalOrgID" in condition.get("StringEquals", {})
    named = principal.get("AWS") if isinstance(principal, dict) else None
    named = named if isinstance(named, list) else [named]
    return any(isinstance(n, str) and (n == sender or n == f"arn:aws:iam::{sender}:root") for n in named)


FORWARDING_TYPES = frozenset({EVENT_RULE, EVENT_TARGET, "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"})
"""What the program registers in a member account covered only by the organization trail (no chain)."""


def forwarding_only_targets(index: Any) -> set[Target]:
    """The targets where the stack registers nothing but real-time forwarding to another account's bus.

    The program's member accounts (``spec.MemberForwarding``): no chain is deployed there, because the
    organization trail's chain covers them; the coverage judgement counts them as members, not as chain sites.
    """
    kinds: dict[Target, set[str]] = defaultdict(set)
    crosses: set[Target] = set()
    for resource in index.resources.values():
        if not resource.type.startswith("aws:"):
            continue  # components, providers, the stack itself
        target = index.target_of(resource)
        kinds[target].add(resource.type)
        if resource.type == EVENT_TARGET:
            parsed = parse_arn(resource.get("arn"))
            if (
                parsed is not None
                and parsed.resource.startswith("event-bus/")
                and parsed.account != target.account
            ):
                crosses.add(target)
    return {t for t, found in kinds.items() if t in crosses and found <= FORWARDING_TYPES}
