"""From a validated config to what the program deploys: its chain sites, and what applies at each.

``coverage_plan`` hands the trail keys to ``cis_monitoring.core.plan``: one chain site per
monitored log group (in its account and Region), and the coverage claims. ``site_contexts``
pairs each site with the account entry that gives it a name, a role and tags, and with the
notification settings that apply there: stack-wide, then the account's, then (for the
organization trail's site) ``organizationTrail.notifications``, each key taken from the
most specific layer that sets it. ``targets`` turns each into a ``DeployTarget``, with the
subscription endpoints resolved (secrets filled in, every endpoint checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cis_monitoring.core.access import Access
from cis_monitoring.core.aws import arns, regions
from cis_monitoring.core.aws.arns import BY_NAME, BY_PREFIX, LogGroupRef
from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.plan import (
    AccountSpec,
    ChainSite,
    CoveragePlan,
    OrganizationTrailSpec,
    account_sites,
    organization_site,
    plan_coverage,
    stated_trail,
)
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.topology import TrailFacts

from .accounts import AccountConfig, OrganizationTrailConfig, TrailConfig
from .fields import ALL
from .model import StackConfig
from .notifications import NotificationConfig, check_endpoint, location_problem, protocol_key_problems
from .problems import ConfigError, ConfigProblem
from .realtime import (
    CentralBus,
    HighRiskSettings,
    MemberForwarding,
    RealTimeSettings,
    controls_with_rules,
    default_regions,
    high_risk_layers,
)

ORGANIZATION_TRAIL_KEY = "organizationTrail"

# ---------------------------------------------------------------- chain sites and their settings


@dataclass(frozen=True)
class NotificationLayers:
    """The notification settings of one site, least specific first, each with its key path."""

    layers: tuple[tuple[str, NotificationConfig], ...]

    def effective(self) -> NotificationConfig:
        result = self.layers[0][1]
        for _path, layer in self.layers[1:]:
            overrides = {name: getattr(layer, name) for name in layer.model_fields_set}
            result = result.model_copy(update=overrides)
        return result

    def origin(self, field: str) -> str:
        """The key path of the notifications object that decides ``field`` here."""
        path = self.layers[0][0]
        for candidate, layer in self.layers[1:]:
            if field in layer.model_fields_set:
                path = candidate
        return path


@dataclass(frozen=True)
class SiteContext:
    """One chain site with the account entry it belongs to and the settings that apply there."""

    site: ChainSite
    account: AccountConfig
    index: int
    """The account's index in ``accounts`` (for key paths)."""
    layers: NotificationLayers
    organization: OrganizationTrailConfig | None = None
    """Set for the organization trail's site: its roleArn and externalId win over the account's."""

    @property
    def role_arn(self) -> str | None:
        if self.organization is not None and self.organization.role_arn is not None:
            return self.organization.role_arn
        return self.account.role_arn

    @property
    def external_id(self) -> str | None:
        if self.organization is not None and self.organization.external_id is not None:
            return self.organization.external_id
        return self.account.external_id


def stated(trail: TrailConfig, owner: str, *, organization: bool = False) -> TrailFacts:
    """A ``trail``/``organizationTrail`` key as the core's trail (its log group by name or by prefix)."""
    if trail.log_group is not None:
        group = LogGroupRef(owner, trail.home_region, trail.log_group, BY_NAME)
    else:
        assert trail.log_group_prefix is not None
        group = LogGroupRef(owner, trail.home_region, trail.log_group_prefix, BY_PREFIX)
    return stated_trail(owner, trail.home_region, group, trail.name, organization=organization)


def account_spec(account: AccountConfig) -> AccountSpec:
    covered = None if account.covered_regions == ALL else tuple(account.covered_regions)
    per_region = tuple(
        stated_trail(account.id, r.region, LogGroupRef(account.id, r.region, r.log_group), multi_region=False)
        for r in account.regions
    )
    return AccountSpec(
        account.id,
        stated(account.trail, account.id) if account.trail is not None else None,
        covered,
        per_region,
    )


def organization_spec(organization: OrganizationTrailConfig) -> OrganizationTrailSpec:
    trail = stated(organization, organization.account_id, organization=True)
    return OrganizationTrailSpec(trail, organization.members)


def coverage_plan(config: StackConfig) -> CoveragePlan:
    organization = config.organization_trail
    return plan_coverage(
        [account_spec(a) for a in config.accounts],
        organization_spec(organization) if organization is not None else None,
    )


def account_layers(stack: NotificationConfig, account: AccountConfig, index: int) -> NotificationLayers:
    layers = [("notifications", stack)]
    if account.notifications is not None:
        layers.append((f"accounts[{index}].notifications", account.notifications))
    return NotificationLayers(tuple(layers))


def site_contexts(
    stack: NotificationConfig,
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig | None,
) -> list[SiteContext]:
    """Every site of the accounts' own trails, then the organization trail's (when its owner is listed)."""
    contexts = [
        SiteContext(site, account, i, account_layers(stack, account, i))
        for i, account in accounts
        for site in account_sites(account_spec(account))
    ]
    if organization is not None:
        owner = next(((i, a) for i, a in accounts if a.id == organization.account_id), None)
        if owner is not None:
            i, account = owner
            layers = account_layers(stack, account, i).layers
            if organization.notifications is not None:
                layers += ((f"{ORGANIZATION_TRAIL_KEY}.notifications", organization.notifications),)
            contexts.append(
                SiteContext(
                    organization_site(organization_spec(organization)),
                    account,
                    i,
                    NotificationLayers(layers),
                    organization,
                )
            )
    return contexts


# ---------------------------------------------------------------- deploy targets


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    secret: bool
    """True when the endpoint must be handled as a Pulumi secret (it may carry a token)."""
    queue_policy: str | None = None
    """sqs only: "managed" (this program writes the queue's whole policy) or "existing" (the user's grant)."""
    auto_confirms: bool = False
    """https only: the endpoint confirms the subscription by itself (SNS endpoint_auto_confirms)."""


@dataclass(frozen=True)
class NotificationSettings:
    """Effective notification settings of one account (stack settings + account overrides)."""

    topic_arn: str | None
    kms_key_id: str | None
    subscriptions: tuple[Subscription, ...]
    notify_on_ok: bool
    ok_actions: tuple[str, ...]
    insufficient_data_actions: tuple[str, ...]


@dataclass(frozen=True)
class DeployTarget:
    """One chain site to deploy, with what the config says applies there.

    The site (``cis_monitoring.core.plan.ChainSite``: the log group, in the trail owner's account
    and the trail's home Region) is the core's one type for where a chain lives; this adds the
    account's name, how to get in, the effective notification settings and the tags.
    """

    site: ChainSite
    account_name: str
    access: Access
    notifications: NotificationSettings
    tags: Mapping[str, str]
    real_time: RealTimeSettings | None = None
    """The real-time channel at this site (``realTime``); None: off."""

    @property
    def account_id(self) -> str:
        return self.site.account_id

    @property
    def region(self) -> str:
        return self.site.region

    @property
    def log_group(self) -> LogGroupRef:
        """The monitored group: by name, or by prefix (the program looks it up at preview time)."""
        return self.site.log_group

    @property
    def via(self) -> str:
        return self.site.via

    @property
    def trail_name(self) -> str | None:
        return self.site.trail_name

    @property
    def key(self) -> str:
        return self.site.key

    def fill(self, arn: str) -> str:
        """An ARN from config with its {region} and {accountId} placeholders filled in for this target."""
        return arns.fill_placeholders(arn, self.account_id, self.region)

    def topic_arn(self) -> str | None:
        """The reused topic's ARN for this target, if the config names one."""
        return self.fill(self.notifications.topic_arn) if self.notifications.topic_arn else None


def targets(
    config: StackConfig, secrets: Mapping[str, str] | None = None, secret_keys: frozenset[str] = frozenset()
) -> list[DeployTarget]:
    """Every chain site of a validated config, with effective notification settings."""
    result = []
    accounts = list(enumerate(config.accounts))
    indexes = account_indexes(accounts)
    problems: list[ConfigProblem] = []
    contexts = site_contexts(config.notifications, accounts, config.organization_trail)
    real_time, found_real_time = real_time_settings(config, contexts, secrets, secret_keys, indexes)
    problems.extend(found_real_time)
    for context in contexts:
        effective = context.layers.effective()
        site = context.site
        subscriptions, found = resolve_subscriptions(
            context.layers, site.account_id, site.region, secrets, secret_keys, indexes
        )
        problems.extend(found)
        result.append(
            DeployTarget(
                site=site,
                account_name=context.account.name,
                access=Access(
                    site.account_id, context.role_arn, context.external_id, context.account.session_name
                ),
                notifications=NotificationSettings(
                    topic_arn=effective.topic_arn,
                    kms_key_id=effective.kms_key_id,
                    subscriptions=subscriptions,
                    notify_on_ok=bool(effective.notify_on_ok),
                    ok_actions=effective.ok_actions or (),
                    insufficient_data_actions=effective.insufficient_data_actions or (),
                ),
                tags={**config.tags, **context.account.tags},
                real_time=real_time.get(site.key),
            )
        )
    if problems:
        raise ConfigError(problems)
    return result


def real_time_settings(
    config: StackConfig,
    contexts: Sequence[SiteContext],
    secrets: Mapping[str, str] | None,
    secret_keys: frozenset[str],
    indexes: Mapping[str, int],
) -> tuple[dict[str, RealTimeSettings], list[ConfigProblem]]:
    """Site key -> its real-time settings (empty when ``realTime`` is off), and the high-risk subscribers' problems.

    An account's real-time Regions without a chain of its own forward to its first chain's Region.
    """
    real_time = config.real_time
    if real_time is None:
        return {}, []
    controls = [CONTROLS[c] for c in config.controls if c in CONTROLS]
    by_account: dict[str, list[str]] = {}
    for context in contexts:
        by_account.setdefault(context.site.account_id, []).append(context.site.region)
    bus = real_time.central_bus
    central = (
        CentralBus(
            bus.account_id, bus.region, bus.organization_id, bus.bus_name or f"{config.name_prefix}-realtime"
        )
        if bus is not None
        else None
    )
    settings: dict[str, RealTimeSettings] = {}
    problems: list[ConfigProblem] = []
    risk_layers = NotificationLayers(high_risk_layers(real_time))
    first_site: set[str] = set()
    for context in contexts:
        site = context.site
        chain_regions = by_account[site.account_id]
        watched = real_time.regions or default_regions(chain_regions, controls_with_rules(controls))
        first = site.account_id not in first_site
        first_site.add(site.account_id)
        high_risk = None
        if real_time.high_risk is not None:
            if real_time.high_risk.topic_arn is not None:
                high_risk = HighRiskSettings(
                    arns.fill_placeholders(real_time.high_risk.topic_arn, site.account_id, site.region)
                )
            else:
                subscribers, found = resolve_subscriptions(
                    risk_layers, site.account_id, site.region, secrets, secret_keys, indexes
                )
                problems.extend(found)
                if not real_time.high_risk.subscriptions:
                    problems.append(
                        ConfigProblem("realTime.highRisk.subscriptions", "list at least one subscriber")
                    )
                high_risk = HighRiskSettings(None, subscribers)
        settings[site.key] = RealTimeSettings(
            forward_regions=tuple(r for r in watched if r not in chain_regions) if first else (),
            quiet_roles=real_time.quiet_roles,
            high_risk=high_risk,
            central_bus=central,
        )
    return settings, list(dict.fromkeys(problems))


def member_forwardings(config: StackConfig) -> list[MemberForwarding]:
    """The stack's accounts covered only by the organization trail, with where their real-time rules forward.

    Only with ``realTime`` and an ``organizationTrail`` whose owner is listed (its site is the default
    delivery point). The bus: ``realTime.centralBus`` when set, else the default bus of the organization
    trail's site (its account and home Region), where the chain's own rule notifies the topic. The Regions:
    ``realTime.regions``, else the defaults of an account whose chain is at the delivery point (that Region,
    plus us-east-1 for global services). An account with a chain site of its own is not a member here: its
    chain's settings already place its rules (``real_time_settings``).
    """
    real_time, organization = config.real_time, config.organization_trail
    if real_time is None or organization is None:
        return []
    accounts = list(enumerate(config.accounts))
    contexts = site_contexts(config.notifications, accounts, organization)
    delivery = next((c.site for c in contexts if c.organization is not None), None)
    if delivery is None:
        return []
    with_sites = {c.site.account_id for c in contexts}
    bus = real_time.central_bus
    if bus is not None:
        bus_account, bus_region = bus.account_id, bus.region
        bus_name = bus.bus_name or f"{config.name_prefix}-realtime"
    else:
        bus_account, bus_region, bus_name = delivery.account_id, delivery.region, "default"
    controls = controls_with_rules([CONTROLS[c] for c in config.controls if c in CONTROLS])
    watched = real_time.regions or default_regions([bus_region], controls)
    members = organization.members
    found: dict[str, MemberForwarding] = {}
    for _, account in accounts:
        if account.id in with_sites or account.id in found:
            continue
        if isinstance(members, tuple) and account.id not in members:
            continue
        access = (
            Access(account.id, account.role_arn, account.external_id, account.session_name)
            if account.role_arn
            else None
        )
        found[account.id] = MemberForwarding(
            account_id=account.id,
            account_name=account.name,
            access=access,
            region=bus_region if bus_region in watched else watched[0],
            regions=tuple(watched),
            bus_arn=arns.event_bus_arn(bus_account, bus_region, bus_name, _partition(bus_region)),
            bus_account_id=bus_account,
            bus_region=bus_region,
            quiet_roles=real_time.quiet_roles,
            tags={**config.tags, **account.tags},
        )
    return list(found.values())


def _partition(region: str) -> str:
    return regions.partition_of(region) or "aws"


def account_indexes(accounts: Iterable[tuple[int, AccountConfig]]) -> dict[str, int]:
    """Account id -> index of its first entry in ``accounts`` (for paths in advice)."""
    indexes: dict[str, int] = {}
    for i, account in accounts:
        indexes.setdefault(account.id, i)
    return indexes


def resolve_subscriptions(
    layers: NotificationLayers,
    account_id: str,
    region: str,
    secrets: Mapping[str, str] | None,
    secret_keys: frozenset[str],
    indexes: Mapping[str, int] | None = None,
) -> tuple[tuple[Subscription, ...], list[ConfigProblem]]:
    """A site's effective subscriptions with endpoints checked (and secrets filled in).

    ``indexes`` (account id -> entry index) lets advice name another account's entry.
    """
    origin = layers.origin("subscriptions")
    base = f"{origin}.subscriptions"
    stack_wide = origin == "notifications"
    holder = origin.split(".")[0].split("[")[0]  # the top-level key, which may be a secret as a whole
    resolved = []
    problems: list[ConfigProblem] = []
    for k, sub in enumerate(layers.effective().subscriptions or ()):
        path = f"{base}[{k}]"
        key_problems = [ConfigProblem(f"{path}.{key}", why) for key, why in protocol_key_problems(sub)]
        problems.extend(key_problems)
        if (sub.endpoint is None) == (sub.endpoint_secret_key is None):
            problems.append(ConfigProblem(path, "set exactly one of endpoint and endpointSecretKey"))
            continue
        if sub.endpoint_secret_key is not None:
            key = sub.endpoint_secret_key
            if secrets is None:
                continue  # a reader without the stack's secrets (audit) cannot resolve it
            why_not = _secret_problem(key, secrets, secret_keys)
            if why_not:
                problems.append(ConfigProblem(f"{path}.endpointSecretKey", why_not))
                continue
            endpoint, secret, field = secrets[key], True, "endpointSecretKey"
        else:
            assert sub.endpoint is not None
            # https endpoints usually embed an integration token, so they are always secret.
            endpoint, secret, field = (
                sub.endpoint,
                sub.protocol == "https" or holder in secret_keys,
                "endpoint",
            )
        why = check_endpoint(sub.protocol, endpoint)
        if why:
            problems.append(ConfigProblem(f"{path}.{field}", why))
            continue
        owner = _owner_path(endpoint, indexes or {})
        elsewhere = location_problem(
            sub.protocol, endpoint, account_id, region, stack_wide=stack_wide, owner_path=owner
        )
        if elsewhere:
            problems.append(ConfigProblem(f"{path}.{field}", elsewhere))
        if key_problems or elsewhere:
            continue
        resolved.append(
            Subscription(sub.protocol, endpoint, secret, sub.queue_policy, bool(sub.auto_confirms))
        )
    return tuple(resolved), problems


def _owner_path(endpoint: str, indexes: Mapping[str, int]) -> str | None:
    arn = arns.parse_arn(endpoint)
    return f"accounts[{indexes[arn.account]}]" if arn is not None and arn.account in indexes else None


def _secret_problem(key: str, secrets: Mapping[str, str], secret_keys: frozenset[str]) -> str | None:
    if key not in secrets:
        return f"config key '{PROJECT}:{key}' is not set; run: pulumi config set --secret {key} <endpoint>"
    if key not in secret_keys:
        return f"config key '{PROJECT}:{key}' is stored in plain text; set it again with --secret"
    return None
