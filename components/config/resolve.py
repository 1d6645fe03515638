"""From a validated config to what the program deploys: one DeployTarget per (account, Region),
with the effective notification settings (stack-wide merged with the account's overrides)
and subscription endpoints resolved (secrets filled in, every endpoint checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cis_core.aws import arns
from cis_core.project import PROJECT

from .endpoints import check_endpoint, location_problem, protocol_key_problems
from .errors import ConfigError, Problem
from .schema import AccountConfig, NotificationConfig, StackConfig


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
    """One (account, Region) to deploy: gets one provider, one topic and one monitor per control.

    The audit has its own type for where it looks (verify/locations.py: AuditLocation).
    """

    account_id: str
    account_name: str
    region: str
    log_group: str
    role_arn: str | None
    external_id: str | None
    session_name: str
    notifications: NotificationSettings
    tags: Mapping[str, str]

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"

    def fill(self, arn: str) -> str:
        """An ARN from config with its {region} and {accountId} placeholders filled in for this target."""
        return arns.fill_placeholders(arn, self.account_id, self.region)

    def topic_arn(self) -> str | None:
        """The reused topic's ARN for this target, if the config names one."""
        return self.fill(self.notifications.topic_arn) if self.notifications.topic_arn else None


def merge(stack: NotificationConfig, account: NotificationConfig | None) -> NotificationConfig:
    """The stack-wide settings with the fields the account sets replaced."""
    if account is None:
        return stack
    overrides = {name: getattr(account, name) for name in account.model_fields_set}
    return stack.model_copy(update=overrides)


def origin_of(account: AccountConfig, index: int, field: str) -> str:
    """The key path of the notifications object that decides ``field`` for this account."""
    overridden = account.notifications is not None and field in account.notifications.model_fields_set
    return f"accounts[{index}].notifications" if overridden else "notifications"


def targets(
    config: StackConfig, secrets: Mapping[str, str] | None = None, secret_keys: frozenset[str] = frozenset()
) -> list[DeployTarget]:
    """Every (account, Region) of a validated config, with effective notification settings."""
    result = []
    indexes = account_indexes(enumerate(config.accounts))
    for i, account in enumerate(config.accounts):
        effective = merge(config.notifications, account.notifications)
        subscriptions, problems = resolve_subscriptions(
            config.notifications, account, i, secrets, secret_keys, indexes
        )
        if problems:
            raise ConfigError(problems)
        settings = NotificationSettings(
            topic_arn=effective.topic_arn,
            kms_key_id=effective.kms_key_id,
            subscriptions=subscriptions,
            notify_on_ok=bool(effective.notify_on_ok),
            ok_actions=effective.ok_actions or (),
            insufficient_data_actions=effective.insufficient_data_actions or (),
        )
        tags = {**config.tags, **account.tags}
        result.extend(
            DeployTarget(
                account_id=account.id,
                account_name=account.name,
                region=region.region,
                log_group=region.log_group,
                role_arn=account.role_arn,
                external_id=account.external_id,
                session_name=account.session_name,
                notifications=settings,
                tags=tags,
            )
            for region in account.regions
        )
    return result


def account_indexes(accounts: Iterable[tuple[int, AccountConfig]]) -> dict[str, int]:
    """Account id -> index of its first entry in ``accounts`` (for paths in advice)."""
    indexes: dict[str, int] = {}
    for i, account in accounts:
        indexes.setdefault(account.id, i)
    return indexes


def resolve_subscriptions(
    stack: NotificationConfig,
    account: AccountConfig,
    index: int,
    secrets: Mapping[str, str] | None,
    secret_keys: frozenset[str],
    indexes: Mapping[str, int] | None = None,
) -> tuple[tuple[Subscription, ...], list[Problem]]:
    """The account's effective subscriptions with endpoints checked (and secrets filled in).

    ``indexes`` (account id -> entry index) lets advice name another account's entry.
    """
    base = f"{origin_of(account, index, 'subscriptions')}.subscriptions"
    stack_wide = base == "notifications.subscriptions"
    holder = "notifications" if stack_wide else "accounts"
    resolved = []
    problems: list[Problem] = []
    for k, sub in enumerate(merge(stack, account.notifications).subscriptions or ()):
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
        elsewhere = [
            location_problem(
                sub.protocol, endpoint, account.id, r.region, stack_wide=stack_wide, owner_path=owner
            )
            for r in account.regions
        ]
        problems.extend(Problem(f"{path}.{field}", why) for why in elsewhere if why)
        if key_problems or any(elsewhere):
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
