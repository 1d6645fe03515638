"""From a validated config to what the program deploys: one DeployTarget per chain site (a monitored
log group, in its account and Region), with the effective notification settings (stack-wide,
then the account's, then the organization trail's overrides) and subscription endpoints
resolved (secrets filled in, every endpoint checked). Which sites exist: sites.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cis_monitoring.core.access import Access
from cis_monitoring.core.aws import arns
from cis_monitoring.core.aws.arns import LogGroupRef
from cis_monitoring.core.plan import ChainSite
from cis_monitoring.core.project import PROJECT

from .endpoints import check_endpoint, location_problem, protocol_key_problems
from .errors import ConfigError, Problem
from .schema import AccountConfig, StackConfig
from .sites import NotificationLayers, site_contexts


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
    problems: list[Problem] = []
    for context in site_contexts(config.notifications, accounts, config.organization_trail):
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
            )
        )
    if problems:
        raise ConfigError(problems)
    return result


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
) -> tuple[tuple[Subscription, ...], list[Problem]]:
    """A site's effective subscriptions with endpoints checked (and secrets filled in).

    ``indexes`` (account id -> entry index) lets advice name another account's entry.
    """
    origin = layers.origin("subscriptions")
    base = f"{origin}.subscriptions"
    stack_wide = origin == "notifications"
    holder = origin.split(".")[0].split("[")[0]  # the top-level key, which may be a secret as a whole
    resolved = []
    problems: list[Problem] = []
    for k, sub in enumerate(layers.effective().subscriptions or ()):
        path = f"{base}[{k}]"
        key_problems = [Problem(f"{path}.{key}", why) for key, why in protocol_key_problems(sub)]
        problems.extend(key_problems)
        if (sub.endpoint is None) == (sub.endpoint_secret_key is None):
            problems.append(Problem(path, "set exactly one of endpoint and endpointSecretKey"))
            continue
        if sub.endpoint_secret_key is not None:
            key = sub.endpoint_secret_key
            if secrets is None:
                continue  # a reader without the stack's secrets (audit) cannot resolve it
            why_not = _secret_problem(key, secrets, secret_keys)
            if why_not:
                problems.append(Problem(f"{path}.endpointSecretKey", why_not))
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
            problems.append(Problem(f"{path}.{field}", why))
            continue
        owner = _owner_path(endpoint, indexes or {})
        elsewhere = location_problem(
            sub.protocol, endpoint, account_id, region, stack_wide=stack_wide, owner_path=owner
        )
        if elsewhere:
            problems.append(Problem(f"{path}.{field}", elsewhere))
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
