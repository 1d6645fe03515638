"""RealTimeMonitor: the real-time detector of one catalog control at one chain site (opt-in, ``realTime``).

What it registers is the core's (``cis_monitoring.core.detectors.event_rule.registrations``: plain specs,
judged in the core's tests by the same judgement the pack and the audit make); this component copies
them into resources, in every Region of the site's account the stack watches:

- at the delivery point (the chain's Region, or with ``centralBus`` the security account's): an
  EventBridge rule per control whose target is the chain's topic through an input transformer (the
  message says who did what), and, with ``highRisk``, the high-risk rule and its target;
- in every other watched Region: the same rule, forwarding the raw events to the delivery point's bus
  (a cross-Region or cross-account event-bus target needs a role: this control's forwarding role may
  only ``events:PutEvents`` on that one bus);
- in a member account covered only by the organization trail, with a ``roleArn`` (``forward_members``,
  ``spec.MemberForwarding``): the same forwarding rules in each watched Region, to the central bus or the
  organization trail site's default bus, which then admits the member (``admit_member``).

One provider per account and chain Region serves every watched Region: each rule outside the
provider's Region names its own (pulumi-aws v7's per-resource ``region``), so no provider is added per
Region (``benchmarks/real_time_bench.py`` measures what that saves). Nothing here is retained on
delete: turning ``realTime`` off removes the rules; the CIS chain is another component, untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from cis_monitoring.core.aws import arns, regions
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import event_rule as detector
from cis_monitoring.program import naming
from cis_monitoring.program.aliases import child_options, own_options
from cis_monitoring.program.policies import forward_role_policy, forward_role_trust
from cis_monitoring.spec import CONTROL_TAG
from cis_monitoring.spec.realtime import NO_ROLE, MemberForwarding, RealTimeSettings

from .monitor import MonitorArgs

TYPE = "cis-monitoring:aws:RealTimeMonitor"
DEFAULT_BUS = "default"


@dataclass(frozen=True)
class RealTimeMonitorArgs:
    control: Control
    account_id: str
    region: str
    """The chain's Region: the provider's."""
    settings: RealTimeSettings
    topic_arn: pulumi.Input[str]
    name_prefix: str
    high_risk_topic_arn: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    forward_bus_arn: str | None = None
    """Set for a member account covered only by the organization trail (``spec.MemberForwarding``): every
    rule here forwards to this bus in another account, and nothing here notifies a topic."""


@dataclass(frozen=True)
class _Place:
    """Where one copy of the control's rules goes: a Region (None: the provider's) and a bus."""

    region: str | None
    bus: str
    delivers: bool

    @property
    def key(self) -> str:
        where = self.region or "home"
        return where if self.bus == DEFAULT_BUS else f"{where}-bus"


class RealTimeMonitor(pulumi.ComponentResource):
    rule_arns: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: RealTimeMonitorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, own_options(opts, TYPE, None))
        self.control = control = args.control
        self._name, self._args = name, args
        settings = args.settings
        prefix = args.name_prefix
        rule_name = naming.real_time_rule_name(prefix, control)
        high_risk_name = (
            naming.high_risk_rule_name(prefix, control) if args.high_risk_topic_arn is not None else None
        )
        self._role: aws.iam.Role | None = None
        tags = {**args.tags, CONTROL_TAG: control.control_id}
        rules: list[pulumi.Output[str]] = []
        regions_watched: list[str] = []
        for place in self._places(settings):
            specs = detector.registrations(
                control,
                rule_name=rule_name,
                delivers=place.delivers,
                quiet_roles=settings.quiet_roles,
                high_risk_rule_name=high_risk_name,
            )
            made: dict[str, aws.cloudwatch.EventRule] = {}
            for spec in specs:
                if isinstance(spec, detector.RuleSpec):
                    made[spec.name] = self._rule(place, spec, tags)
                    rules.append(made[spec.name].arn)
                else:
                    self._target(place, spec, made[spec.rule])
            if specs:
                regions_watched.append(place.region or args.region)
        self.rule_arns = pulumi.Output.all(*rules)
        self.regions = list(dict.fromkeys(regions_watched))
        self.register_outputs({"ruleArns": self.rule_arns})

    def _places(self, settings: RealTimeSettings) -> list[_Place]:
        args = self._args
        delivers = args.forward_bus_arn is None and settings.delivers(args.account_id, args.region)
        places = [_Place(None, DEFAULT_BUS, delivers)]
        places += [_Place(region, DEFAULT_BUS, False) for region in settings.forward_regions]
        bus = settings.central_bus
        if bus is not None and delivers:
            places.append(_Place(None, bus.bus_name, True))  # the forwarded events arrive on the central bus
        return places

    def _forward_to(self) -> str:
        """The bus this site's forwarding rules send to: the central bus, or the chain Region's default bus."""
        args, bus = self._args, self._args.settings.central_bus
        if args.forward_bus_arn is not None:
            return args.forward_bus_arn
        if bus is not None:
            return arns.event_bus_arn(bus.account_id, bus.region, bus.bus_name, _partition(bus.region))
        return arns.event_bus_arn(args.account_id, args.region, DEFAULT_BUS, _partition(args.region))

    def _rule(
        self, place: _Place, spec: detector.RuleSpec, tags: Mapping[str, str]
    ) -> aws.cloudwatch.EventRule:
        kind = "high-risk-rule" if spec.high_risk else "rule"
        return aws.cloudwatch.EventRule(
            f"{self._name}-{place.key}-{kind}",
            name=spec.name,
            description=spec.description,
            event_pattern=json.dumps(spec.pattern, separators=(",", ":")),
            state=spec.state,
            event_bus_name=None if place.bus == DEFAULT_BUS else place.bus,
            region=place.region,
            tags=dict(tags),
            opts=self._child(),
        )

    def _target(self, place: _Place, spec: detector.TargetSpec, rule: aws.cloudwatch.EventRule) -> None:
        args = self._args
        arn: pulumi.Input[str]
        if spec.to == detector.TOPIC:
            arn = args.topic_arn
        elif spec.to == detector.HIGH_RISK_TOPIC:
            assert args.high_risk_topic_arn is not None
            arn = args.high_risk_topic_arn
        else:
            arn = self._forward_to()
        transformer = spec.transformer
        aws.cloudwatch.EventTarget(
            f"{self._name}-{place.key}-{spec.target_id}-target",
            rule=rule.name,
            target_id=spec.target_id,
            arn=arn,
            event_bus_name=None if place.bus == DEFAULT_BUS else place.bus,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=dict(transformer.paths), input_template=transformer.template
            )
            if transformer is not None
            else None,
            role_arn=self._forward_role().arn if spec.needs_role else None,
            region=place.region,
            opts=self._child(),
        )

    def _forward_role(self) -> aws.iam.Role:
        if self._role is None:
            args = self._args
            self._role = aws.iam.Role(
                f"{self._name}-forward-role",
                name=naming.forward_role_name(args.name_prefix, self.control),
                assume_role_policy=forward_role_trust(),
                tags={**args.tags, CONTROL_TAG: self.control.control_id},
                opts=self._child(),
            )
            aws.iam.RolePolicy(
                f"{self._name}-forward-policy",
                role=self._role.id,
                policy=forward_role_policy(self._forward_to()),
                opts=self._child(),
            )
        return self._role

    def result(self) -> dict[str, Any]:
        """This control's real-time entry in the chain's ``realTime`` output."""
        control, prefix = self.control, self._args.name_prefix
        return {
            "controlId": control.control_id,
            "detector": detector.KIND,
            "ruleName": naming.real_time_rule_name(prefix, control),
            "ruleArns": self.rule_arns,
            "regions": self.regions,
            "eventPattern": detector.rule_pattern(control, self._args.settings.quiet_roles),
        }

    @classmethod
    def for_site(
        cls,
        name: str,
        args: MonitorArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        legacy_name: str | None = None,
    ) -> RealTimeMonitor:
        """The control's real-time rules at a chain site (new in this release: no earlier name)."""
        target = args.target
        if target.real_time is None:
            raise ValueError(f"{name}: the real-time detector needs the stack's realTime settings")
        return cls(
            name,
            RealTimeMonitorArgs(
                control=args.control,
                account_id=target.account_id,
                region=target.region,
                settings=target.real_time,
                topic_arn=args.alarm_actions[0],
                name_prefix=args.name_prefix,
                high_risk_topic_arn=args.high_risk_topic_arn,
                tags=target.tags,
            ),
            opts,
        )

    @classmethod
    def for_member(
        cls,
        name: str,
        member: MemberForwarding,
        control: Control,
        name_prefix: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> RealTimeMonitor:
        """The control's forwarding rules in a member account that has no chain of its own.

        Same rule name and pattern (``detector.registrations`` with the stack's quiet roles) as at a chain
        site, so the delivery point's rule, whose pattern never names ``account``, matches the forwarded
        events too; the high-risk rule lives only at the delivery point and sees them there.
        """
        return cls(
            name,
            RealTimeMonitorArgs(
                control=control,
                account_id=member.account_id,
                region=member.region,
                settings=member.settings(),
                topic_arn="",
                name_prefix=name_prefix,
                tags=member.tags,
                forward_bus_arn=member.bus_arn,
            ),
            opts,
        )

    def _child(self) -> pulumi.ResourceOptions:
        return child_options(self, TYPE, TYPE, None, None)  # new resources: no earlier names


def _partition(region: str) -> str:
    return regions.partition_of(region) or "aws"


def admit_member(
    name: str, member: MemberForwarding, statement_id: str, opts: pulumi.ResourceOptions
) -> aws.cloudwatch.EventPermission:
    """One statement on the delivery point's default bus that lets ``member``'s account put events there.

    Only without a central bus (whose policy admits the organization by ``aws:PrincipalOrgID``): the default
    bus takes another account's events only when its resource policy admits that account ("Sending and
    receiving events between AWS accounts in Amazon EventBridge": "edit the permissions on an event bus to
    allow specified AWS accounts"). ``PutPermission`` adds one statement by its id, so the bus's other
    statements (another tool's) are kept, which a whole ``EventBusPolicy`` would replace (botocore events
    model 2015-10-07, ``PutPermission``: ``StatementId``, ``Principal``).
    """
    return aws.cloudwatch.EventPermission(
        name,
        principal=member.account_id,
        statement_id=statement_id,
        action="events:PutEvents",
        opts=opts,
    )


def forward_members(
    members: Sequence[MemberForwarding],
    controls: Sequence[Control],
    name_prefix: str,
    provider_of: Callable[[MemberForwarding], pulumi.ProviderResource],
    delivery_provider: Callable[[str, str], pulumi.ProviderResource | None],
) -> dict[str, dict[str, Any]]:
    """Each member's forwarding rules (where the stack gives a way in), and the output entry per member.

    ``provider_of``: the member account's provider; ``delivery_provider``: the provider of the chain site at
    (account, Region), which admits the members on its default bus when there is no central bus.
    """
    results: dict[str, dict[str, Any]] = {}
    with_rules = [c for c in controls if detector.rule_pattern(c) is not None]
    for member in members:
        entry: dict[str, Any] = {"accountName": member.account_name, "forwardsTo": member.bus_arn}
        if not member.deploys or not with_rules:
            results[member.account_id] = {
                "accountName": member.account_name,
                "notDeployed": NO_ROLE if not member.deploys else "no selected control has a real-time rule",
            }
            continue
        in_member = pulumi.ResourceOptions(providers=[provider_of(member)])
        monitors = {}
        for control in with_rules:
            name = naming.member_monitor_name(member.account_id, control)
            monitor = RealTimeMonitor.for_member(name, member, control, name_prefix, in_member)
            monitors[control.control_id] = monitor.result()
        if member.bus_arn.endswith(f":event-bus/{DEFAULT_BUS}"):
            owner = delivery_provider(member.bus_account_id, member.bus_region)
            assert owner is not None, f"no chain site holds {member.bus_arn}"
            admit_member(
                naming.member_admission_name(member.bus_account_id, member.bus_region, member.account_id),
                member,
                naming.member_statement_id(name_prefix, member.account_id),
                pulumi.ResourceOptions(providers=[owner]),
            )
        results[member.account_id] = {**entry, "regions": list(member.regions), "realTime": monitors}
    return results
