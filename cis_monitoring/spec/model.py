"""The stack config: ``StackConfig``, the project's top-level keys, and the ``emulator`` key.

Each key's object has its model beside the rules it follows: ``accounts[]``, ``trail``,
``regions[]`` and ``organizationTrail`` in accounts.py; ``notifications`` and
``subscriptions[]`` in notifications.py; ``organization`` (``select``, ``shard``) in
inventory.py. Checks that span fields or entries are in checks.py. ``examples`` on list
and map fields are the accepted forms the error messages show (problems.py).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import Field, WithJsonSchema, field_validator
from pydantic.alias_generators import to_camel

from cis_monitoring.core.catalog import ALL_CONTROLS, DEFAULT_CONTROL_IDS, select_controls
from cis_monitoring.core.project import PROJECT

from . import fields
from .accounts import TRAIL_EXAMPLE, AccountConfig, OrganizationTrailConfig
from .fields import Model
from .inventory import OrganizationConfig
from .notifications import NotificationConfig
from .realtime import RealTimeConfig

DEFAULT_NAME_PREFIX = "cis"
BASE_TAGS = {"ManagedBy": "pulumi", "Project": PROJECT}
"""Tags the program puts on every resource (each provider's default_tags), besides the config's."""
CONTROL_TAG = "cis-control"
"""The tag naming the control on each alarm: the most-tagged resource carries BASE_TAGS plus this."""
OWN_TAG_KEYS = (*BASE_TAGS, CONTROL_TAG)
_CONTROLS = WithJsonSchema(
    {
        "anyOf": [
            {"const": ALL_CONTROLS},
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        ]
    }
)
_OWN_TAGS = ", ".join(f"`{key}`" for key in OWN_TAG_KEYS[:-1]) + f" and `{OWN_TAG_KEYS[-1]}`"


class EmulatorConfig(Model):
    """Points every AWS provider at a local AWS emulator (moto, LocalStack) instead of AWS: only for the
    ``local`` stack (``Pulumi.local.yaml``, ``make demo``)."""

    endpoint: str = Field(description="The emulator's http(s) URL, e.g. `http://127.0.0.1:5000`.")
    access_key: str = Field(
        default="testing",
        description="The access key the providers send. Default `testing`, which emulators accept.",
    )
    secret_key: str = Field(
        default="testing",
        description="The secret key the providers send. Default `testing`, which emulators accept.",
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        url = urlparse(value)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL such as http://127.0.0.1:5000")
        return value.rstrip("/")


class StackConfig(Model):
    """The project's keys, each written ``cis-monitoring:<key>`` in ``Pulumi.<stack>.yaml``."""

    accounts: tuple[AccountConfig, ...] = Field(
        default=(),
        examples=[[{"id": "111111111111", "name": "sandbox", "trail": TRAIL_EXAMPLE}]],
        description="The accounts whose CloudTrail configuration changes this stack monitors, each id and"
        " each name once. Default `[]`, for a stack that reads its accounts from `organization`; without"
        " it at least one entry is needed. An inline entry overrides the inventory's with the same id.",
    )
    organization: OrganizationConfig | None = Field(
        default=None,
        examples=[{"stack": "acme/landing-zone/prod"}],
        description="Read (more) accounts from an organization stack's account inventory. Default: none,"
        " only `accounts`.",
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
        description="The organization trail, configured once: one chain on its log group covers every"
        " member account. Default: none, and then every account needs its own `trail` or `regions`.",
    )
    promote_after: str | None = Field(
        default=None,
        description="A stack, `<org>/<project>/<stack>`, that must have deployed this catalog version and"
        " these filter patterns first (waves: e.g. prod after dev); this stack refuses to deploy what that"
        " stack has not exported yet. Default: none, no wave to wait for.",
    )
    controls: Annotated[tuple[str, ...], _CONTROLS] = Field(
        default=DEFAULT_CONTROL_IDS,
        examples=[list(DEFAULT_CONTROL_IDS), ALL_CONTROLS],
        description=f"The catalog controls to provision on every chain: `{ALL_CONTROLS}` (every control of the"
        " catalog: CIS 4.1 to 4.15, and an organization's own controls if any), or a list of ids, each in the"
        ' catalog and each once, quoted (`"4.5"`: a YAML number is not an id); a list also for one control.'
        " Default: the catalog's default controls. Adding or removing a control renames nothing else"
        " (README: Renames).",
    )
    name_prefix: str = Field(
        default=DEFAULT_NAME_PREFIX,
        description="Starts every physical name: lowercase letters, digits and `-`, starting with a letter,"
        f" at most {fields.NAME_PREFIX_MAX} characters (AWS limits the names it starts). Default `cis`,"
        " which `iam/deployer-policy.json` scopes the deployer to (`cis-*`): change both together. A new"
        " prefix renames the resources (README: Renames).",
        json_schema_extra={"pattern": "^[a-z][a-z0-9-]*$", "maxLength": fields.NAME_PREFIX_MAX},
    )
    notifications: NotificationConfig = Field(
        default=NotificationConfig(),
        description="Where every chain's alarm notifies, stack-wide; an account and the organization trail"
        " may override any key. Default `{}`: then every chain needs a subscriber or a `topicArn` from an"
        " override.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"Owner": "cloud-security"}],
        description="Tags on every resource (through each provider's `default_tags`), besides the program's"
        f" own `ManagedBy: pulumi` and `Project: {PROJECT}`; those keys and `{CONTROL_TAG}` are refused here"
        f" (the deployer policy changes only resources tagged `Project={PROJECT}`). Keys of 1 to"
        f" {fields.TAG_KEY_MAX} characters, not starting with `aws:`; values of at most {fields.TAG_VALUE_MAX}. AWS allows {fields.TAGS_MAX} tags"
        f" per resource, counting {_OWN_TAGS}, so at most {fields.TAGS_MAX - len(OWN_TAG_KEYS)} of yours."
        " Default `{}`.",
    )
    real_time: RealTimeConfig | None = Field(
        default=None,
        examples=[
            {"regions": ["us-east-1", "eu-west-1"], "quietRoles": ["arn:aws:iam::111111111111:role/deployer"]}
        ],
        description="Opt-in real-time alerts: an EventBridge rule per control beside each chain, whose message"
        " says who did what, where, when and whether it failed (README: Real-time alerts). `{}` turns them on"
        " with the defaults. CIS compliance is still judged on the metric filter alone. Default: none, off.",
    )
    legacy_aliases: bool = Field(
        default=True,
        description="Give every resource an alias to its logical name in the releases that built names from"
        " the account's name, so that a stack those releases deployed upgrades without replacing anything"
        " (README: Upgrading). An alias only matches while the stack's state still holds the old name, and"
        " one successful `pulumi up` with this release replaces the old names in the state, so `false` is"
        " safe for a stack created by a release with stable names (its outputs have `resultsSchemaVersion`"
        " 2 or later) or after that update; it makes the program's evaluation a little faster (BENCHMARKS.md)."
        " Default `true`.",
    )
    emulator: EmulatorConfig | None = Field(
        default=None,
        examples=[{"endpoint": "http://127.0.0.1:5000"}],
        description="Only in `Pulumi.local.yaml`: every AWS provider talks to a local AWS emulator. Default:"
        " none, real AWS.",
    )

    @field_validator("name_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return fields.name_prefix(value)

    @field_validator("controls", mode="before")
    @classmethod
    def _all_controls(cls, value: Any) -> Any:
        # `all` becomes the ids here, so every reader of the config sees the controls themselves.
        return fields.controls(value)

    @field_validator("controls")
    @classmethod
    def _controls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return select_controls(value)

    @field_validator("promote_after")
    @classmethod
    def _promote_after(cls, value: str | None) -> str | None:
        return None if value is None else fields.stack_name(value)


KNOWN_KEYS = tuple(to_camel(name) for name in StackConfig.model_fields)
