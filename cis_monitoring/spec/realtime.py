"""Real-time alerts (opt-in): the ``realTime`` key, its checks, and what it resolves to at each chain site.

With ``realTime`` set, the program adds an EventBridge rule per control (``cis_monitoring.core.detectors.
event_rule``) beside each chain: in the chain's own Region the rule notifies the chain's topic with a
message that says who did what; in the other real-time Regions of the account a rule forwards the
events to that Region's bus (or, with ``centralBus``, every rule forwards to one bus in the security
account). The CIS chain is untouched: CIS compliance is judged on the metric filter alone.

Where the events arrive, and so the default Regions (``default_regions``): EventBridge rules see only
their own Region's events ("Rules in EventBridge work only in the Region where they're created":
EventBridge User Guide, "Creating an EventBridge Rule That Triggers on an AWS API Call Using AWS
CloudTrail"). A multi-Region trail's own operations arrive in its home Region, because StartLogging,
StopLogging, UpdateTrail and DeleteTrail "must be called from the Region in which the trail was
created" (CloudTrail API Reference, botocore's cloudtrail model); that is the chain's Region. Global
services' events arrive in us-east-1 (``event_pattern.GLOBAL_SERVICE_REGION``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import Field, field_validator, model_validator

from cis_monitoring.core.access import Access
from cis_monitoring.core.aws import arns, regions
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors.event_rule import high_risk_pattern, rule_pattern, selection
from cis_monitoring.core.event_pattern import GLOBAL_SERVICE_REGION

from . import fields
from .fields import Model
from .notifications import NotificationConfig, SubscriptionConfig
from .problems import ConfigProblem

KEY = "realTime"
_ORGANIZATION_ID_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_BUS_NAME_RE = re.compile(r"^[A-Za-z0-9._\-]{1,256}$")


class HighRiskConfig(Model):
    """A separate, louder channel for the events that blind the organization (the README's high-risk
    table): a second rule in the chain's Region notifies this topic or these subscribers."""

    topic_arn: str | None = Field(
        default=None,
        description="An existing SNS topic for high-risk alerts, `arn:aws:sns:<region>:<account>:<name>` with"
        " the `{region}` and `{accountId}` placeholders filled in per chain. It must be in the chain's Region"
        " and must not be the chain's own (CIS) topic. Its policy must let `events.amazonaws.com` publish"
        " (the README shows the statement). Set exactly one of `topicArn` and `subscriptions`.",
    )
    subscriptions: tuple[SubscriptionConfig, ...] | None = Field(
        default=None,
        examples=[[{"protocol": "https", "endpoint": "https://events.pagerduty.com/integration/x/enqueue"}]],
        description="Subscribers of a new high-risk topic the program creates per chain (with its own KMS key),"
        " as in `notifications.subscriptions`. Set exactly one of `topicArn` and `subscriptions`.",
    )

    @field_validator("topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and arns.parse_sns_topic_arn(value, placeholders=True) is None:
            raise ValueError(
                f"{value!r} is not an SNS topic ARN ({{region}} and {{accountId}} placeholders are allowed)"
            )
        return value

    @model_validator(mode="after")
    def _one(self) -> HighRiskConfig:
        if (self.topic_arn is None) == (self.subscriptions is None):
            raise ValueError(
                "set exactly one of topicArn (an existing topic) and subscriptions (a new topic)"
            )
        return self


class CentralBusConfig(Model):
    """One event bus in the security account that every account's rules forward to, scoped to the
    organization (``aws:PrincipalOrgID``); one rule per control there notifies that account's chain topic."""

    account_id: str = Field(
        description="The security account, quoted; it must be an account of this stack with a chain in `region`"
        " (its topic receives the alerts)."
    )
    region: str = Field(description="The bus's Region; the security account's chain must be in it.")
    organization_id: str = Field(
        description="The organization's id, `o-` and 10 to 32 lowercase letters or digits: the bus accepts"
        " events only from principals of this organization."
    )
    bus_name: str | None = Field(
        default=None,
        description="The bus's name: letters, digits and `._-`. Without it the bus is named `<namePrefix>-realtime`.",
    )

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: object) -> object:
        return fields.account_id(value)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return fields.region(value)

    @field_validator("organization_id")
    @classmethod
    def _organization(cls, value: str) -> str:
        if not _ORGANIZATION_ID_RE.match(value):
            raise ValueError(
                f"{value!r} is not an organization id (o- and 10 to 32 lowercase letters or digits)"
            )
        return value

    @field_validator("bus_name")
    @classmethod
    def _bus(cls, value: str | None) -> str | None:
        if value is not None and (value == "default" or not _BUS_NAME_RE.match(value)):
            raise ValueError(
                f"{value!r} is not a custom event bus name (letters, digits and ._-; not default)"
            )
        return value


class RealTimeConfig(Model):
    """Opt-in real-time alerts beside the CIS chain: an EventBridge rule per control whose message says who
    did what, where, when and whether it failed (README: Real-time alerts). CIS compliance is judged on the
    metric filter alone; nothing here changes it."""

    regions: tuple[str, ...] | None = Field(
        default=None,
        examples=[["us-east-1", "eu-west-1"]],
        description="The Regions to watch in every account of the stack, each once. In the chain's Region the"
        " rule notifies the chain's topic; in each other Region a rule forwards the events there. Default: the"
        " Regions of the account's chains (a multi-Region trail's own operations arrive in its home Region),"
        " plus us-east-1 where a control's service is global (IAM, Organizations).",
    )
    enabled_regions: tuple[str, ...] | None = Field(
        default=None,
        examples=[["us-east-1", "us-east-2", "eu-west-1"]],
        description="The Regions your accounts have enabled (opt-in Regions included). When set, a real-time"
        " Region outside it is refused, since a rule cannot be created in a Region the account has not"
        " enabled. Default: not checked.",
    )
    quiet_roles: tuple[str, ...] = Field(
        default=(),
        examples=[["arn:aws:iam::111111111111:role/github-deployer"]],
        description="IAM role ARNs whose sessions (`userIdentity.sessionContext.sessionIssuer.arn`) the"
        " real-time rule leaves out: known automation. Only the real-time channel is narrowed; the CIS metric"
        " filter and alarm still count these events, and the high-risk rule still alerts on them. Default `[]`.",
    )
    high_risk: HighRiskConfig | None = Field(
        default=None,
        description="A separate channel for the high-risk events (README: the high-risk table). Default: none.",
    )
    central_bus: CentralBusConfig | None = Field(
        default=None,
        description="Forward every account's matching events to one bus in the security account instead of"
        " each account's own chain topic. Default: none, each account alerts its own topic.",
    )

    @field_validator("regions", "enabled_regions")
    @classmethod
    def _regions(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        _all_valid(value, fields.region)
        if not value:
            raise ValueError("list at least one Region (omit the key for the default)")
        if len(set(value)) != len(value):
            raise ValueError("a Region is listed twice")
        return value

    @field_validator("quiet_roles")
    @classmethod
    def _quiet(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _all_valid(value, _quiet_role)
        return value


def _quiet_role(arn: str) -> str:
    if arns.parse_role_arn(arn) is None:
        raise ValueError(
            f"{arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<path/name>, no wildcard): CloudTrail"
            " names a session's role so in sessionIssuer.arn, and the rule compares it exactly"
        )
    return arn


def _all_valid(values: Sequence[str], check: Callable[[str], str]) -> None:
    """Every entry checked, and one error naming each bad one with its index."""
    bad = []
    for k, value in enumerate(values):
        try:
            check(value)
        except ValueError as error:
            bad.append(f"[{k}] {error}")
    if bad:
        raise ValueError("; ".join(bad))


# ---------------------------------------------------------------- what it resolves to


def default_regions(site_regions: Sequence[str], controls: Sequence[Control]) -> tuple[str, ...]:
    """The Regions watched by default for an account with chains in ``site_regions``."""
    found = list(site_regions)
    partition = regions.partition_of(site_regions[0]) if site_regions else None
    for control in controls:
        chosen = selection(control)
        if isinstance(chosen, str) or chosen.event_source is None:
            continue
        home = GLOBAL_SERVICE_REGION.get((partition or "aws", chosen.event_source))
        if home is not None:
            found.append(home)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class HighRiskSettings:
    topic_arn: str | None
    """The existing high-risk topic at this site (placeholders filled in), or None: the program creates one."""
    subscriptions: tuple[object, ...] = ()
    """The new topic's subscribers (``resolve.Subscription``), when it creates one."""


@dataclass(frozen=True)
class CentralBus:
    account_id: str
    region: str
    organization_id: str
    bus_name: str


@dataclass(frozen=True)
class RealTimeSettings:
    """What the real-time channel registers at one chain site."""

    forward_regions: tuple[str, ...]
    """Regions whose rules forward to this site's Region (the account's first chain takes them)."""
    quiet_roles: tuple[str, ...] = ()
    high_risk: HighRiskSettings | None = None
    central_bus: CentralBus | None = None
    """Set: this site's rules forward to the central bus (or, in its account and Region, read it)."""

    def delivers(self, account_id: str, region: str) -> bool:
        """Whether the rules of this site's Region notify a topic here (else they forward)."""
        bus = self.central_bus
        return bus is None or (bus.account_id, bus.region) == (account_id, region)


@dataclass(frozen=True)
class MemberForwarding:
    """A member account covered only by the organization trail, and where its real-time rules forward.

    CloudTrail sends a member's API calls to the default bus of that member's account, in the Region of
    the call ("AWS service events delivered via AWS CloudTrail": "CloudTrail sends the following types of
    events to the default EventBridge event bus"), never to the trail owner's bus: without rules in the
    member, nobody is alerted in real time. Each watched Region of the member gets the control's rule,
    forwarding to ``bus_arn`` (the central bus, or the organization trail site's default bus) through a
    role that may only ``events:PutEvents`` there. A cross-account event-bus target needs that role and a
    receiving bus policy that admits the sender ("Sending and receiving events between AWS accounts in
    Amazon EventBridge": "On the receiver account, edit the permissions on an event bus to allow specified
    AWS accounts, an organization, or all AWS accounts"; "the sending event bus must have IAM roles
    attached"); it works across Regions where the destination is a supported cross-Region destination.
    """

    account_id: str
    account_name: str
    access: Access | None
    """None: the account entry has no ``roleArn``, so the program has no way in and registers nothing there
    (the caller's own credentials are another account's); the outputs and the README say so."""
    region: str
    """The member provider's Region: the delivery bus's Region when watched, else the first watched one."""
    regions: tuple[str, ...]
    """Every watched Region of the member (each forwards; none delivers)."""
    bus_arn: str
    bus_account_id: str
    bus_region: str
    quiet_roles: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def deploys(self) -> bool:
        return self.access is not None

    @property
    def forward_regions(self) -> tuple[str, ...]:
        """The watched Regions other than the provider's (their rules name their own Region)."""
        return tuple(r for r in self.regions if r != self.region)

    def settings(self) -> RealTimeSettings:
        """What ``RealTimeMonitor`` registers here: forwarding rules only, with the stack's quiet roles."""
        return RealTimeSettings(forward_regions=self.forward_regions, quiet_roles=self.quiet_roles)


NO_ROLE = (
    "no rules: the account entry has no roleArn, so the program cannot deploy into it; give it a roleArn"
    " (README: Real-time alerts, members) to forward its events"
)


def real_time_option(control: Control) -> str:
    """The README's real-time cell of ``control``: its rule (and high-risk rule), or why it has none."""
    chosen = selection(control)
    if isinstance(chosen, str):
        return f"no: {chosen}"
    return "rule; high-risk rule" if high_risk_pattern(control) is not None else "rule"


def controls_with_rules(controls: Sequence[Control]) -> list[Control]:
    return [c for c in controls if rule_pattern(c) is not None]


def cis_topic_name(prefix: str, account_name: str) -> str:
    """The chain topic's name the program gives (``program.naming.topic_name``; a test holds them equal)."""
    return f"{prefix}-{account_name}-alarms"


def high_risk_topic_problems(
    config: RealTimeConfig, sites: Sequence[tuple[str, str, str | None, str]], prefix: str
) -> list[ConfigProblem]:
    """``realTime.highRisk.topicArn`` must not be a chain's own topic, and must be in the chain's Region.

    ``sites``: (account id, Region, its existing topic ARN or None, account name) per chain.
    """
    risk = config.high_risk
    if risk is None or risk.topic_arn is None:
        return []
    path = f"{KEY}.highRisk.topicArn"
    problems = []
    for account_id, region, topic_arn, account_name in sites:
        high = arns.fill_placeholders(risk.topic_arn, account_id, region)
        partition = regions.partition_of(region) or "aws"
        cis = topic_arn or arns.sns_topic_arn(
            account_id, region, cis_topic_name(prefix, account_name), partition
        )
        if high == cis:
            problems.append(
                ConfigProblem(
                    path,
                    f"{high} is the CIS alarm topic of the chain in account {account_id} {region}: the high-risk"
                    " channel must be another topic (or give subscriptions for a new one)",
                )
            )
        topic = arns.parse_sns_topic_arn(high)
        if topic is not None and topic.region != region:
            problems.append(
                ConfigProblem(
                    path,
                    f"for the chain in account {account_id} {region} it is in {topic.region}: a rule notifies only"
                    " a topic in its own Region; use the {region} placeholder",
                )
            )
    return list(dict.fromkeys(problems))


def region_problems(
    config: RealTimeConfig, accounts: Mapping[str, Sequence[str]], controls: Sequence[Control]
) -> list[ConfigProblem]:
    """Real-time Regions the accounts have not enabled (when ``enabledRegions`` says which they have).

    ``accounts``: account id -> the Regions of its chains.
    """
    enabled = config.enabled_regions
    if enabled is None:
        return []
    problems = []
    if config.regions is not None:
        for k, region in enumerate(config.regions):
            if region not in enabled:
                problems.append(
                    ConfigProblem(
                        f"{KEY}.regions[{k}]",
                        f"{region} is not among realTime.enabledRegions ({', '.join(enabled)}): a rule cannot"
                        " be created in a Region the account has not enabled",
                    )
                )
        return problems
    for account_id, site_regions in accounts.items():
        for region in default_regions(site_regions, controls):
            if region not in enabled:
                problems.append(
                    ConfigProblem(
                        f"{KEY}.enabledRegions",
                        f"the default real-time Region {region} of account {account_id} is not listed; enable it,"
                        " or list the Regions to watch in realTime.regions",
                    )
                )
    return problems


def central_bus_problems(config: RealTimeConfig, sites: Sequence[tuple[str, str]]) -> list[ConfigProblem]:
    """The central bus's account must have a chain in its Region (its topic receives the alerts)."""
    bus = config.central_bus
    if bus is None or (bus.account_id, bus.region) in set(sites):
        return []
    return [
        ConfigProblem(
            f"{KEY}.centralBus",
            f"account {bus.account_id} has no chain in {bus.region} in this stack, so no topic there would"
            " receive the forwarded alerts; name an account and Region with a chain",
        )
    ]


def high_risk_layers(config: RealTimeConfig) -> tuple[tuple[str, NotificationConfig], ...]:
    """The high-risk subscribers as a notification layer (resolved and checked like the chain's)."""
    risk = config.high_risk
    subscriptions = risk.subscriptions if risk is not None else None
    return ((f"{KEY}.highRisk", NotificationConfig(subscriptions=subscriptions)),)
