"""The stack config: ``StackConfig``, the project's top-level keys, and the ``emulator`` key.

Each key's object has its model beside the rules it follows: ``accounts[]``, ``trail``,
``regions[]`` and ``organizationTrail`` in accounts.py; ``notifications`` and
``subscriptions[]`` in notifications.py; ``organization`` (``select``, ``shard``) in
inventory.py. Checks that span fields or entries are in checks.py. ``examples`` on list
and map fields are the accepted forms the error messages show (problems.py).
"""

from __future__ import annotations

from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic.alias_generators import to_camel

from cis_monitoring.core.catalog import CONTROLS, DEFAULT_CONTROL_IDS

from . import fields
from .accounts import TRAIL_EXAMPLE, AccountConfig, OrganizationTrailConfig
from .fields import Model
from .inventory import OrganizationConfig
from .notifications import NotificationConfig

DEFAULT_NAME_PREFIX = "cis"


class EmulatorConfig(Model):
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


class StackConfig(Model):
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
