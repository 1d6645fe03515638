"""The stack config's shape: pydantic models whose field validators check single values.

Checks that span fields or entries (duplicates, a role in another account, a topic in
another Region) are in checks.py; subscription endpoints in endpoints.py. ``examples``
on list and map fields are the accepted forms the error messages show (errors.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from pydantic import Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from cis_monitoring.core.aws import arns
from cis_monitoring.core.catalog import CONTROLS, DEFAULT_CONTROL_IDS, is_aws_managed_sns_key
from cis_monitoring.core.plan import MEMBERS_ACCOUNTS, MEMBERS_ALL
from cis_monitoring.core.project import PROJECT

from . import fields
from .base import Model as _Model
from .trails import (
    ALL,
    REGION_EXAMPLE,
    TRAIL_EXAMPLE,
    RegionConfig,
    TrailConfig,
    covered_regions,
    same_group_problem,
)

DEFAULT_NAME_PREFIX = "cis"
DEFAULT_SESSION_NAME = PROJECT
ALLOWED_PROTOCOLS = ("email", "https", "sqs", "lambda")
QUEUE_POLICY_MODES = ("managed", "existing")

_REGION_EXAMPLE = REGION_EXAMPLE


class SubscriptionConfig(_Model):
    """One subscriber of the alarm topic."""

    protocol: str
    endpoint: str | None = None
    endpoint_secret_key: str | None = Field(
        default=None, description="Name of a secret config key of this project that holds the endpoint."
    )
    queue_policy: str | None = Field(
        default=None,
        description="sqs only, required: 'managed' (this program writes the queue's whole policy)"
        " or 'existing' (the queue's policy already lets the topic send).",
    )
    auto_confirms: bool | None = Field(
        default=None, description="https only: the endpoint confirms the subscription by itself."
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

    @field_validator("queue_policy")
    @classmethod
    def _queue_policy(cls, value: str | None) -> str | None:
        if value is not None and value not in QUEUE_POLICY_MODES:
            raise ValueError(
                f"{value!r} is not a queuePolicy; use 'managed' (this program writes the queue's whole"
                " policy) or 'existing' (the queue's policy already lets the alarm topic send)"
            )
        return value

    @field_validator("endpoint_secret_key")
    @classmethod
    def _secret_key(cls, value: str | None) -> str | None:
        return None if value is None else fields.config_key_name(value)


class NotificationConfig(_Model):
    """Where alarms notify. Every field may be overridden per account."""

    topic_arn: str | None = None
    kms_key_id: str | None = None
    subscriptions: tuple[SubscriptionConfig, ...] | None = Field(
        default=None, examples=[[{"protocol": "email", "endpoint": "soc@example.com"}]]
    )
    notify_on_ok: bool | None = None
    ok_actions: tuple[str, ...] | None = Field(
        default=None, examples=[["arn:aws:sns:{region}:{accountId}:ops"]]
    )
    insufficient_data_actions: tuple[str, ...] | None = Field(
        default=None, examples=[["arn:aws:sns:{region}:{accountId}:ops"]]
    )

    @field_validator("topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and arns.parse_sns_topic_arn(value, placeholders=True) is None:
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
            if arns.parse_sns_topic_arn(arn, placeholders=True) is None:
                raise ValueError(f"{arn!r} is not an SNS topic ARN")
        return value


class _AssumesRole(_Model):
    """The role (and its external id) a provider or the audit assumes in an account."""

    role_arn: str | None = None
    external_id: str | None = None

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        return None if value is None else fields.role_arn(value)

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return None if value is None else fields.external_id(value)


class AccountConfig(_AssumesRole):
    id: str
    name: str
    session_name: str = DEFAULT_SESSION_NAME
    trail: TrailConfig | None = Field(default=None, examples=[TRAIL_EXAMPLE])
    """The account's own multi-Region trail (its one log group, in the home Region)."""
    covered_regions: str | tuple[str, ...] = Field(default=ALL, examples=[["us-east-1", "eu-west-1"]])
    """The Regions ``trail`` is stated to cover (outputs): ``all`` or a list."""
    regions: tuple[RegionConfig, ...] = Field(default=(), examples=[_REGION_EXAMPLE])
    """Per-Region trails, one log group per Region. Neither this nor ``trail``: covered by organizationTrail."""
    notifications: NotificationConfig | None = None
    tags: dict[str, str] = Field(default_factory=dict, examples=[{"Team": "payments"}])

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return fields.account_id(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return fields.account_name(value)

    @field_validator("session_name")
    @classmethod
    def _session(cls, value: str) -> str:
        return fields.session_name(value)

    @field_validator("covered_regions", mode="before")
    @classmethod
    def _covered_regions(cls, value: Any) -> Any:
        return covered_regions(value)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: tuple[RegionConfig, ...]) -> tuple[RegionConfig, ...]:
        problem = same_group_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class OrganizationTrailConfig(TrailConfig, _AssumesRole):
    """The organization trail: one log group in its owner's account and home Region covers every member."""

    account_id: str
    members: str | tuple[str, ...] = Field(default=MEMBERS_ACCOUNTS, examples=[["222222222222"]])
    """``accounts`` (the stack's accounts, inline and inventory), ``all`` (every account), or account ids."""
    notifications: NotificationConfig | None = None

    @field_validator("account_id", mode="before")
    @classmethod
    def _account_id(cls, value: Any) -> Any:
        return fields.account_id(value)

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, value: Any) -> Any:
        if value in (MEMBERS_ALL, MEMBERS_ACCOUNTS):
            return value
        if isinstance(value, str):
            raise ValueError(
                f'must be a list, not the string {value!r}; write e.g. members: ["222222222222"],'
                f" or members: {MEMBERS_ACCOUNTS} (this stack's accounts, the default), or members: {MEMBERS_ALL}"
            )
        if not isinstance(value, list | tuple):
            return value
        if not value:
            raise ValueError(f"list at least one account id, or write members: {MEMBERS_ACCOUNTS}")
        seen: set[str] = set()
        for member in value:
            fields.account_id(member)
            if member in seen:
                raise ValueError(f"account {member} is listed twice; list each member once")
            seen.add(member)
        return tuple(value)


class ShardConfig(_Model):
    """This stack's share of the selection: accounts whose id modulo ``count`` is ``index``."""

    # count before index: the index validator compares with the already validated count.
    count: int = Field(ge=1)
    index: int = Field(ge=0)

    @field_validator("index")
    @classmethod
    def _index(cls, value: int, info: ValidationInfo) -> int:
        count = info.data.get("count")
        if count is not None and value >= count:
            raise ValueError(f"shard index {value} must be below the shard count {count} (0 to {count - 1})")
        return value


class SelectorConfig(_Model):
    """Which inventory accounts this stack manages. Every given criterion must hold."""

    ous: tuple[str, ...] = Field(default=(), examples=[["Root/Workloads/Prod"]])
    """OU paths (``Root/Workloads/Prod``); an account matches an OU or any OU below it."""
    tags: dict[str, str] = Field(default_factory=dict, examples=[{"Environment": "prod"}])
    accounts: tuple[str, ...] = Field(default=(), examples=[["111111111111"]])
    """Only these account ids (when given)."""
    exclude_accounts: tuple[str, ...] = Field(default=(), examples=[["111111111111"]])


class OrganizationConfig(_Model):
    stack: str
    output: str = "accounts"
    role_name: str | None = None
    default_trail: TrailConfig | None = Field(default=None, examples=[TRAIL_EXAMPLE])
    """For inventory entries with neither ``trail`` nor ``regions``: the trail each account has."""
    default_regions: tuple[RegionConfig, ...] = Field(default=(), examples=[_REGION_EXAMPLE])
    """For inventory entries with neither ``trail`` nor ``regions`` (and no defaultTrail): per-Region trails."""
    select: SelectorConfig = SelectorConfig()
    shard: ShardConfig | None = Field(default=None, examples=[{"index": 0, "count": 2}])

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        return fields.stack_name(value)

    @field_validator("default_regions")
    @classmethod
    def _default_regions(cls, value: tuple[RegionConfig, ...]) -> tuple[RegionConfig, ...]:
        problem = same_group_problem(value)
        if problem:
            raise ValueError(
                problem.replace("instead of `regions`", "as defaultTrail instead of defaultRegions")
            )
        return value


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

    accounts: tuple[AccountConfig, ...] = Field(
        default=(),
        examples=[[{"id": "111111111111", "name": "sandbox", "trail": TRAIL_EXAMPLE}]],
    )
    organization: OrganizationConfig | None = Field(
        default=None, examples=[{"stack": "acme/landing-zone/prod"}]
    )
    organization_trail: OrganizationTrailConfig | None = Field(
        default=None,
        examples=[
            {
                "accountId": "999999999999",
                "homeRegion": "us-east-1",
                "logGroupPrefix": "aws-controltower/CloudTrailLogs",
            }
        ],
    )
    promote_after: str | None = None
    """A stack that must have deployed this catalog version and these patterns first (waves)."""
    controls: tuple[str, ...] = Field(default=DEFAULT_CONTROL_IDS, examples=[list(DEFAULT_CONTROL_IDS)])
    name_prefix: str = DEFAULT_NAME_PREFIX
    notifications: NotificationConfig = NotificationConfig()
    tags: dict[str, str] = Field(default_factory=dict, examples=[{"Owner": "cloud-security"}])
    emulator: EmulatorConfig | None = Field(default=None, examples=[{"endpoint": "http://127.0.0.1:5000"}])

    @field_validator("name_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return fields.name_prefix(value)

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
        return None if value is None else fields.stack_name(value)


KNOWN_KEYS = tuple(to_camel(name) for name in StackConfig.model_fields)
