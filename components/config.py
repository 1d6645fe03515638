"""Stack configuration models: the one place that validates configuration.

``load_config`` takes the project's config keys (without the ``cis-monitoring:``
namespace) as plain data, validates everything, and returns a ``StackConfig`` or
raises ``ConfigError`` listing every problem, one line each, with its key path.
It knows nothing of Pulumi, so the program, the audit and discovery share it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from cis_core.aws.regions import is_known_region
from cis_core.catalog import (
    CONTROLS,
    DEFAULT_CONTROL_IDS,
    is_aws_managed_sns_key,
)
from cis_core.project import PROJECT

DEFAULT_NAME_PREFIX = "cis"
DEFAULT_SESSION_NAME = PROJECT

ALLOWED_PROTOCOLS = ("email", "https", "sqs", "lambda")
_PARTITION = r"arn:aws(?:-[a-z]+)*"
_ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
_ROLE_ARN_RE = re.compile(rf"^{_PARTITION}:iam::(\d{{12}}):role/[\w+=,.@/-]{{1,512}}$")
_SNS_ARN_RE = re.compile(
    rf"^{_PARTITION}:sns:([a-z0-9-]+|\{{region\}}):(\d{{12}}|\{{accountId\}}):[\w-]{{1,256}}$"
)
_SQS_ARN_RE = re.compile(rf"^{_PARTITION}:sqs:[a-z0-9-]+:\d{{12}}:[\w-]{{1,80}}(\.fifo)?$")
_LAMBDA_ARN_RE = re.compile(
    rf"^{_PARTITION}:lambda:([a-z0-9-]+):(\d{{12}}):function:[\w-]{{1,64}}(:[\w$-]+)?$"
)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOG_GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_ACCOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?$")
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_CONFIG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class Problem(NamedTuple):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(ValueError):
    """Every problem found in a stack's config, reported together."""

    def __init__(self, problems: Iterable[Problem], source: str = "stack config") -> None:
        self.problems = sorted(set(problems), key=_problem_sort_key)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in {source}:\n{lines}")


def _problem_sort_key(problem: Problem) -> tuple[Any, ...]:
    # Numeric order for list indexes, so accounts[10] comes after accounts[2].
    parts = re.split(r"(\d+)", problem.path)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts), problem.message


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False
    )


def check_endpoint(protocol: str, endpoint: str) -> str | None:
    """Why ``endpoint`` is not a valid ``protocol`` subscription endpoint, or None."""
    if protocol == "email":
        return None if _EMAIL_RE.match(endpoint) else f"{endpoint!r} is not an email address"
    if protocol == "https":
        url = urlparse(endpoint)
        if url.scheme != "https" or not url.netloc:
            return "an https endpoint must be a URL starting with https:// and naming a host"
        return None
    if protocol == "sqs":
        if not _SQS_ARN_RE.match(endpoint):
            return f"{endpoint!r} is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<queue>)"
        if endpoint.endswith(".fifo"):
            return "a standard SNS topic cannot deliver to a FIFO queue; use a standard queue"
        return None
    if protocol == "lambda":
        if not _LAMBDA_ARN_RE.match(endpoint):
            return f"{endpoint!r} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)"
        return None
    return f"unsupported protocol {protocol!r}"


class SubscriptionConfig(_Model):
    """One subscriber of the alarm topic."""

    protocol: str
    endpoint: str | None = None
    endpoint_secret_key: str | None = Field(
        default=None, description="Name of a secret config key of this project that holds the endpoint."
    )

    @field_validator("protocol")
    @classmethod
    def _protocol(cls, value: str) -> str:
        if value not in ALLOWED_PROTOCOLS:
            raise ValueError(
                f"protocol {value!r} is not allowed; use one of {', '.join(ALLOWED_PROTOCOLS)}"
                " (http and sms would carry alerts unencrypted or unauthenticated)"
            )
        return value

    @field_validator("endpoint_secret_key")
    @classmethod
    def _secret_key(cls, value: str | None) -> str | None:
        if value is not None and not _CONFIG_KEY_RE.match(value):
            raise ValueError(f"{value!r} is not a config key name")
        return value


class NotificationConfig(_Model):
    """Where alarms notify. Every field may be overridden per account."""

    topic_arn: str | None = None
    kms_key_id: str | None = None
    subscriptions: tuple[SubscriptionConfig, ...] | None = None
    notify_on_ok: bool | None = None
    ok_actions: tuple[str, ...] | None = None
    insufficient_data_actions: tuple[str, ...] | None = None

    @field_validator("topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and not _SNS_ARN_RE.match(value):
            raise ValueError(
                f"{value!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>;"
                " {region} and {accountId} placeholders are allowed)"
            )
        return value

    @field_validator("kms_key_id")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        if value is not None and is_aws_managed_sns_key(value):
            raise ValueError(
                "alias/aws/sns cannot be used: CloudWatch alarms cannot publish to a topic encrypted with"
                " the AWS-managed SNS key; omit kmsKeyId to get a customer-managed key"
            )
        return value

    @field_validator("ok_actions", "insufficient_data_actions")
    @classmethod
    def _actions(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for arn in value or ():
            if not _SNS_ARN_RE.match(arn):
                raise ValueError(f"{arn!r} is not an SNS topic ARN")
        return value


class RegionConfig(_Model):
    region: str
    log_group: str = Field(
        description="Name of the CloudWatch Logs group the multi-region trail delivers to."
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not is_known_region(value):
            raise ValueError(f"{value!r} is not an AWS region")
        return value

    @field_validator("log_group")
    @classmethod
    def _log_group(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the log group name is empty")
        if value.startswith("arn:"):
            raise ValueError("give the log group's name, not its ARN")
        if not _LOG_GROUP_RE.match(value):
            raise ValueError(f"{value!r} is not a valid log group name")
        return value


class AccountConfig(_Model):
    id: str
    name: str
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    regions: tuple[RegionConfig, ...] = Field(min_length=1)
    notifications: NotificationConfig | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError("write the account id as a quoted string: a YAML number loses leading zeros")
        if isinstance(value, str) and not _ACCOUNT_ID_RE.match(value):
            raise ValueError(f"{value!r} is not an AWS account id (12 digits)")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _ACCOUNT_NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a usable account name (letters, digits and '-', at most 40 characters);"
                " it becomes part of every resource name"
            )
        return value

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN_RE.match(value):
            raise ValueError(f"{value!r} is not an IAM role ARN")
        return value

    @field_validator("session_name")
    @classmethod
    def _session(cls, value: str) -> str:
        if not re.match(r"^[\w+=,.@-]{2,64}$", value):
            raise ValueError(f"{value!r} is not a valid role session name")
        return value


class ShardConfig(_Model):
    index: int = Field(ge=0)
    count: int = Field(ge=1)


class SelectorConfig(_Model):
    """Which inventory accounts this stack manages. Every given criterion must hold."""

    ous: tuple[str, ...] = ()
    """OU paths (``Root/Workloads/Prod``); an account matches an OU or any OU below it."""
    tags: dict[str, str] = Field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    """Only these account ids (when given)."""
    exclude_accounts: tuple[str, ...] = ()


class OrganizationConfig(_Model):
    stack: str
    output: str = "accounts"
    role_name: str | None = None
    default_regions: tuple[RegionConfig, ...] = ()
    select: SelectorConfig = SelectorConfig()
    shard: ShardConfig | None = None

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        parts = value.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{value!r} is not a fully qualified stack name (<org>/<project>/<stack>)")
        return value

    @field_validator("shard")
    @classmethod
    def _shard(cls, value: ShardConfig | None) -> ShardConfig | None:
        if value is not None and value.index >= value.count:
            raise ValueError(f"shard index {value.index} must be below the shard count {value.count}")
        return value


_STACK_NAME_RE = re.compile(r"^[^/\s]+/[^/\s]+/[^/\s]+$")


class EmulatorConfig(_Model):
    """Point every AWS provider at a local AWS emulator (moto, LocalStack): the ``local`` stack."""

    endpoint: str
    access_key: str = "testing"
    secret_key: str = "testing"

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL such as http://127.0.0.1:5000")
        return value.rstrip("/")


class StackConfig(_Model):
    """The whole stack config of the ``cis-monitoring`` project."""

    accounts: tuple[AccountConfig, ...] = ()
    organization: OrganizationConfig | None = None
    promote_after: str | None = None
    """A stack that must have deployed this catalog version and these patterns first (waves)."""
    controls: tuple[str, ...] = DEFAULT_CONTROL_IDS
    name_prefix: str = DEFAULT_NAME_PREFIX
    notifications: NotificationConfig = NotificationConfig()
    tags: dict[str, str] = Field(default_factory=dict)
    emulator: EmulatorConfig | None = None

    @field_validator("controls")
    @classmethod
    def _controls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in CONTROLS]
        if unknown:
            raise ValueError(
                f"unknown control(s) {', '.join(unknown)}; the catalog has {', '.join(CONTROLS)}"
            )
        if not value:
            raise ValueError("list at least one control")
        if len(set(value)) != len(value):
            raise ValueError("a control is listed twice")
        return value

    @field_validator("promote_after")
    @classmethod
    def _promote_after(cls, value: str | None) -> str | None:
        if value is not None and not _STACK_NAME_RE.match(value):
            raise ValueError(f"{value!r} is not a fully qualified stack name (<org>/<project>/<stack>)")
        return value

    @field_validator("name_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX_RE.match(value):
            raise ValueError(f"{value!r} must be lowercase letters, digits and '-', starting with a letter")
        return value


KNOWN_KEYS = tuple(to_camel(name) for name in StackConfig.model_fields)


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
class Target:
    """One (account, region): gets one provider, one topic and one monitor per control."""

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
        return arn.replace("{region}", self.region).replace("{accountId}", self.account_id)

    def topic_arn(self) -> str | None:
        """The reused topic's ARN for this target, if the config names one."""
        return self.fill(self.notifications.topic_arn) if self.notifications.topic_arn else None


def _format_loc(loc: tuple[str | int, ...], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _problems_from(error: ValidationError, prefix: str = "") -> list[Problem]:
    problems = []
    items = error.errors()
    failed_locs = {tuple(item["loc"]) for item in items}
    for item in items:
        loc = tuple(item["loc"])
        kind = item["type"]
        if kind == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in failed_locs
        ):
            continue  # pydantic's "too short" after its entries failed only repeats those failures
        if kind == "extra_forbidden":
            message = "unknown key (typos are not ignored)"
            siblings = _siblings_of(loc)
            if siblings:
                close = difflib.get_close_matches(str(loc[-1]), siblings, n=1)
                if close:
                    message += f"; did you mean {close[0]!r}?"
        elif kind == "missing":
            message = "is required"
        elif kind == "too_short" and item.get("ctx", {}).get("min_length") == 1:
            message = "must list at least one entry"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(Problem(_format_loc(loc, prefix), message))
    return problems


def _siblings_of(loc: tuple[str | int, ...]) -> list[str]:
    """The valid key names at the level of ``loc`` (for 'did you mean')."""
    model: type[BaseModel] = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if to_camel(n) == part or n == part), None)
        if field is None:
            return []
        nested = _model_in(field.annotation)
        if nested is None:
            return []
        model = nested
    return [to_camel(n) for n in model.model_fields]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _cross_checks(stack: NotificationConfig, accounts: list[tuple[int, AccountConfig]]) -> list[Problem]:
    """Checks that span fields or entries, which pydantic's per-field validators cannot see."""
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, account in accounts:
        where = f"accounts[{i}]"
        if account.id in seen_ids:
            problems.append(
                Problem(
                    f"{where}.id",
                    f"account {account.id} is already listed at accounts[{seen_ids[account.id]}]",
                )
            )
        seen_ids.setdefault(account.id, i)
        if account.name in seen_names:
            problems.append(
                Problem(
                    f"{where}.name",
                    f"name {account.name!r} is already used by accounts[{seen_names[account.name]}]",
                )
            )
        seen_names.setdefault(account.name, i)
        if account.role_arn:
            role_account = _ROLE_ARN_RE.match(account.role_arn)
            if role_account and role_account.group(1) != account.id:
                problems.append(
                    Problem(
                        f"{where}.roleArn",
                        f"the role is in account {role_account.group(1)}, not in account {account.id}",
                    )
                )
        seen_regions: dict[str, int] = {}
        for k, region in enumerate(account.regions):
            if region.region in seen_regions:
                problems.append(
                    Problem(
                        f"{where}.regions[{k}].region",
                        f"{region.region} is already listed for account {account.id} at regions[{seen_regions[region.region]}]",
                    )
                )
            seen_regions.setdefault(region.region, k)
            problems.extend(_notification_checks(stack, account, i, region.region))
    return problems


def _notification_checks(
    stack: NotificationConfig, account: AccountConfig, index: int, region: str
) -> list[Problem]:
    effective = _merge(stack, account.notifications)
    origin = {
        name: (
            f"accounts[{index}].notifications"
            if account.notifications and name in account.notifications.model_fields_set
            else "notifications"
        )
        for name in NotificationConfig.model_fields
    }
    problems = []
    if effective.topic_arn is None and not effective.subscriptions:
        problems.append(
            Problem(
                f"{origin['subscriptions']}.subscriptions",
                f"account {account.id} has no subscriber: list at least one subscription"
                " (or reuse an existing topic with topicArn)",
            )
        )
    if effective.topic_arn is not None:
        if effective.kms_key_id is not None:
            problems.append(
                Problem(
                    f"{origin['kms_key_id']}.kmsKeyId",
                    "kmsKeyId applies only to a topic this program creates; it is set together with topicArn",
                )
            )
        match = _SNS_ARN_RE.match(effective.topic_arn)
        if match and match.group(1) not in ("{region}", region):
            problems.append(
                Problem(
                    f"{origin['topic_arn']}.topicArn",
                    f"the topic is in {match.group(1)}, but alarms in account {account.id} region {region}"
                    " can only notify a topic in their own region; use the {region} placeholder",
                )
            )
    return problems


def _merge(stack: NotificationConfig, account: NotificationConfig | None) -> NotificationConfig:
    if account is None:
        return stack
    overrides = {name: getattr(account, name) for name in account.model_fields_set}
    return stack.model_copy(update=overrides)


def load_config(
    raw: Mapping[str, Any],
    *,
    secrets: Mapping[str, str] | None = None,
    secret_keys: frozenset[str] = frozenset(),
    source: str = "stack config",
) -> StackConfig:
    """Validate the project's config (keys without namespace) or raise ConfigError with every problem.

    ``secrets`` maps config key names to values, for subscriptions that name an
    ``endpointSecretKey``; ``secret_keys`` names the keys that were set as secrets.
    Without ``secrets`` (the audit, discovery) those subscriptions are not resolved.
    """
    problems: list[Problem] = []
    referenced = _referenced_secret_keys(raw)
    for key in raw:
        if key not in KNOWN_KEYS and key not in referenced:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(KNOWN_KEYS)}"
            problems.append(Problem(key, "unknown config key (typos are not ignored)" + hint))
    known = {k: v for k, v in raw.items() if k in KNOWN_KEYS}
    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate(known)
        stack_notifications, accounts = config.notifications, list(enumerate(config.accounts))
    except ValidationError as error:
        problems.extend(_problems_from(error))
        # Entries that validate on their own are still cross-checked, so one run shows everything.
        stack_notifications, accounts = _partial(known)
    if config is not None and not config.accounts and config.organization is None:
        problems.append(
            Problem(
                "accounts",
                "must list at least one entry (or read accounts from an organization stack with 'organization')",
            )
        )
    problems.extend(_cross_checks(stack_notifications, accounts))
    for i, account in accounts:
        _resolve_subscriptions(stack_notifications, account, i, secrets, secret_keys, problems)
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config


def _referenced_secret_keys(raw: Any) -> set[str]:
    """Config keys named by some subscription's endpointSecretKey (they are not typos)."""
    if isinstance(raw, Mapping):
        found = {raw["endpointSecretKey"]} if isinstance(raw.get("endpointSecretKey"), str) else set()
        for value in raw.values():
            found |= _referenced_secret_keys(value)
        return found
    if isinstance(raw, list):
        return set().union(*(_referenced_secret_keys(v) for v in raw)) if raw else set()
    return set()


def _partial(raw: Mapping[str, Any]) -> tuple[NotificationConfig, list[tuple[int, AccountConfig]]]:
    """The stack notifications and the accounts that validate by themselves, with their indexes."""
    try:
        stack = NotificationConfig.model_validate(raw.get("notifications", {}))
    except ValidationError:
        stack = NotificationConfig()
    accounts = raw.get("accounts")
    good = []
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        try:
            good.append((i, AccountConfig.model_validate(account)))
        except ValidationError:
            continue
    return stack, good


def targets(
    config: StackConfig, secrets: Mapping[str, str] | None = None, secret_keys: frozenset[str] = frozenset()
) -> list[Target]:
    """Every (account, region) of a validated config, with effective notification settings."""
    result = []
    for i, account in enumerate(config.accounts):
        effective = _merge(config.notifications, account.notifications)
        problems: list[Problem] = []
        subscriptions = _resolve_subscriptions(
            config.notifications, account, i, secrets, secret_keys, problems
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
            Target(
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


def _resolve_subscriptions(
    stack: NotificationConfig,
    account: AccountConfig,
    index: int,
    secrets: Mapping[str, str] | None,
    secret_keys: frozenset[str],
    problems: list[Problem],
) -> tuple[Subscription, ...]:
    """The account's effective subscriptions with endpoints checked (and secrets filled in)."""
    overridden = (
        account.notifications is not None and "subscriptions" in account.notifications.model_fields_set
    )
    effective = _merge(stack, account.notifications)
    base = f"accounts[{index}].notifications.subscriptions" if overridden else "notifications.subscriptions"
    holder = "accounts" if overridden else "notifications"
    resolved = []
    for k, sub in enumerate(effective.subscriptions or ()):
        path = f"{base}[{k}]"
        if (sub.endpoint is None) == (sub.endpoint_secret_key is None):
            problems.append(Problem(path, "set exactly one of endpoint and endpointSecretKey"))
            continue
        if sub.endpoint_secret_key is not None:
            key = sub.endpoint_secret_key
            if secrets is None:
                continue  # a reader without the stack's secrets (audit) cannot resolve it
            if key not in secrets:
                problems.append(
                    Problem(
                        f"{path}.endpointSecretKey",
                        f"config key '{PROJECT}:{key}' is not set; run: pulumi config set --secret {key} <endpoint>",
                    )
                )
                continue
            if key not in secret_keys:
                problems.append(
                    Problem(
                        f"{path}.endpointSecretKey",
                        f"config key '{PROJECT}:{key}' is stored in plain text; set it again with --secret",
                    )
                )
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
        resolved.append(Subscription(sub.protocol, endpoint, secret))
    return tuple(resolved)
