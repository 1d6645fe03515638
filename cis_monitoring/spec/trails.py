"""The trail keys of the stack config: an account's own multi-Region trail, and per-Region trails.

A multi-Region trail delivers the events of EVERY Region to ONE log group, in the trail
owner's account and the trail's home Region; other Regions have no copy of it. So
``trail`` names that one group once, and ``regions`` is only for organizations that really
run one trail per Region, each delivering to a group in its own Region. The organization
trail (``organizationTrail``) is in schema.py, beside the notification settings it takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator, model_validator

from . import fields
from .base import Model

ALL = "all"
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


def covered_regions(value: Any) -> Any:
    """``coveredRegions``: ``all`` or a list of distinct Regions (validated before type coercion)."""
    if value == ALL:
        return value
    if isinstance(value, str):
        raise ValueError(
            f'must be a list, not the string {value!r}; write e.g. coveredRegions: ["us-east-1",'
            ' "eu-west-1"], or coveredRegions: all (the default)'
        )
    if not isinstance(value, list | tuple):
        return value  # pydantic says what is wrong with it
    if not value:
        raise ValueError("list at least one Region, or write coveredRegions: all (the default)")
    seen: set[str] = set()
    for region in value:
        if not isinstance(region, str):
            raise ValueError(f"{region!r} is not a Region name")
        fields.region(region)
        if region in seen:
            raise ValueError(f"{region} is named twice; name each Region once")
        seen.add(region)
    return tuple(value)
