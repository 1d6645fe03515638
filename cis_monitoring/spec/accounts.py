"""Which accounts, and how each one's events reach a log group: ``accounts[]``, ``trail``,
``regions[]`` and ``organizationTrail``.

A multi-Region trail delivers the events of EVERY Region to ONE log group, in the trail
owner's account and the trail's home Region; other Regions have no copy of it. So
``trail`` names that one group once, and ``regions`` is only for organizations that really
run one trail per Region, each delivering to a group in its own Region. The organization
trail (``organizationTrail``) is one such group in its owner's account that covers every
member. Cross-checks of these keys (each account covered once, the owner listed) are in
checks.py; the chain sites they make, in resolve.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator, model_validator

from cis_monitoring.core.plan import MEMBERS_ACCOUNTS
from cis_monitoring.core.project import PROJECT

from . import fields
from .fields import ALL, Model
from .notifications import NotificationConfig

DEFAULT_SESSION_NAME = PROJECT
TRAIL_EXAMPLE = {"homeRegion": "us-east-1", "logGroup": "aws-cloudtrail-logs-111111111111"}
REGION_EXAMPLE = [{"region": "us-east-1", "logGroup": "trail-us-east-1/cloudtrail"}]


class TrailConfig(Model):
    """A multi-Region trail's log group: by name, or by prefix (Control Tower >= 4.0 adds a random suffix)."""

    home_region: str
    log_group: str | None = Field(default=None, description="The log group's full name.")
    log_group_prefix: str | None = Field(
        default=None,
        description="The start of the log group's name; the program looks the group up at preview time"
        " and needs exactly one match (e.g. aws-controltower/CloudTrailLogs).",
    )
    name: str | None = Field(default=None, description="The trail's name (evidence in outputs only).")

    @field_validator("home_region")
    @classmethod
    def _home_region(cls, value: str) -> str:
        return fields.region(value)

    @field_validator("log_group")
    @classmethod
    def _log_group(cls, value: str | None) -> str | None:
        return None if value is None else fields.log_group(value)

    @field_validator("log_group_prefix")
    @classmethod
    def _log_group_prefix(cls, value: str | None) -> str | None:
        return None if value is None else fields.log_group_prefix(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the trail name is empty; omit the key instead")
        return value

    @model_validator(mode="after")
    def _one_group(self) -> TrailConfig:
        if (self.log_group is None) == (self.log_group_prefix is None):
            raise ValueError(
                "set exactly one of logGroup (the log group's full name) and logGroupPrefix (the start of"
                " its name, for AWS Control Tower's suffixed aws-controltower/CloudTrailLogs-<suffix>)"
            )
        return self


class RegionConfig(Model):
    """One per-Region trail: the log group it delivers to, in that Region."""

    region: str
    log_group: str = Field(description="Name of the CloudWatch Logs group this Region's trail delivers to.")
    per_region_trail: bool = Field(
        default=False,
        description="This Region's group has the same name as another Region's, and really is a"
        " different group of a different trail (not one multi-Region trail's group).",
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return fields.region(value)

    @field_validator("log_group")
    @classmethod
    def _log_group(cls, value: str) -> str:
        return fields.log_group(value)


def same_group_problem(regions: Sequence[RegionConfig]) -> str | None:
    """Why ``regions`` looks like one multi-Region trail listed per Region (the shape of earlier releases)."""
    by_group: dict[str, list[RegionConfig]] = {}
    for entry in regions:
        by_group.setdefault(entry.log_group, []).append(entry)
    for group, entries in by_group.items():
        named_in = list(dict.fromkeys(e.region for e in entries))
        if len(named_in) < 2 or all(e.per_region_trail for e in entries):
            continue
        return (
            f"log group {group!r} is named in {', '.join(named_in)}. A multi-Region trail delivers every"
            " Region's events to ONE log group in its home Region; other Regions have no copy, so the"
            " lookup would fail there, and no chain is needed there. Write"
            f" `trail: {{homeRegion: <the trail's home Region, e.g. {named_in[0]}>, logGroup: {group}}}`"
            " instead of `regions` (it covers every Region). If these really are per-Region trails, each"
            " delivering to its own group of the same name in its own Region, set `perRegionTrail: true`"
            " on each of these entries"
        )
    return None


class _AssumesRole(Model):
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
    regions: tuple[RegionConfig, ...] = Field(default=(), examples=[REGION_EXAMPLE])
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
        return fields.covered_regions(value)

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
        return fields.members(value)
