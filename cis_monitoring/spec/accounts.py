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
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from cis_monitoring.core.aws import arns
from cis_monitoring.core.plan import MEMBERS_ACCOUNTS, MEMBERS_ALL
from cis_monitoring.core.project import PROJECT

from . import fields
from .fields import ALL, Model
from .notifications import NotificationConfig

DEFAULT_SESSION_NAME = PROJECT
TRAIL_EXAMPLE = {"homeRegion": "us-east-1", "logGroup": "aws-cloudtrail-logs-111111111111"}
REGION_EXAMPLE = [{"region": "us-east-1", "logGroup": "trail-us-east-1/cloudtrail"}]

# The JSON Schema of the keys that take a word or a list (the validators check the same, with messages).
_ACCOUNT_ID = {"type": "string", "pattern": arns.ACCOUNT_ID_RE.pattern}
_ALL_OR_REGIONS = WithJsonSchema(
    {
        "anyOf": [
            {"const": ALL},
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        ]
    }
)
_MEMBERS = WithJsonSchema(
    {
        "anyOf": [
            {"enum": [MEMBERS_ACCOUNTS, MEMBERS_ALL]},
            {"type": "array", "items": _ACCOUNT_ID, "minItems": 1, "uniqueItems": True},
        ]
    }
)


class TrailConfig(Model):
    """A multi-Region trail: the one log group it delivers every Region's events to, in the trail
    owner's account and the trail's home Region. One chain goes on that group and covers every
    Region. Name the group in full (``logGroup``) or by the start of its name (``logGroupPrefix``)."""

    home_region: str = Field(
        description="The trail's home Region (e.g. `us-east-1`): where its one log group is, and where the"
        " chain goes."
    )
    log_group: str | None = Field(
        default=None,
        description="The log group's full name, not its ARN (e.g. `aws-cloudtrail-logs-111111111111`)."
        " Set exactly one of `logGroup` and `logGroupPrefix`.",
    )
    log_group_prefix: str | None = Field(
        default=None,
        description="The start of the log group's name, for a name with a generated suffix: AWS Control"
        " Tower >= 4.0 names it `aws-controltower/CloudTrailLogs-<suffix>`, so write"
        " `aws-controltower/CloudTrailLogs`. A prefix, not a pattern (no wildcards). The program looks the"
        " group up at preview time, and exactly one group must match. Set exactly one of `logGroup` and"
        " `logGroupPrefix`.",
    )
    name: str | None = Field(
        default=None,
        description="The trail's name, shown in the outputs and the audit's evidence (it changes nothing"
        " deployed). Default: none.",
    )

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
    """One per-Region trail: the log group it delivers its Region's events to, in that Region. A chain
    goes on each. Only for organizations that really run one trail per Region: a multi-Region trail is
    ``trail``, whose group exists only in its home Region."""

    region: str = Field(
        description="The Region of this trail and its log group (e.g. `eu-west-1`), each once."
    )
    log_group: str = Field(
        description="The full name (not the ARN) of the CloudWatch Logs group this Region's trail delivers"
        " to, in that Region."
    )
    per_region_trail: bool = Field(
        default=False,
        description="`true` on each entry whose group has the same name as another Region's group, and"
        " really is a different group of a different trail. Default `false`: one group name in several"
        " Regions is refused, because it is how earlier releases listed one multi-Region trail, whose"
        " group exists only in its home Region (write `trail` instead).",
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

    role_arn: str | None = Field(
        default=None,
        description="The IAM role the provider (and the audit) assumes to get into the account,"
        " `arn:aws:iam::<account>:role/<name>`; it must be in that account. An account where a chain goes"
        " needs one, and so does, with `realTime`, a member covered only by the organization trail whose"
        " events should raise real-time alerts: without one it gets no real-time rules (README: Real-time"
        " alerts, members). Default: none, so an account entry uses the caller's own credentials, and"
        " `organizationTrail` uses its owner's entry's role.",
    )
    external_id: str | None = Field(
        default=None,
        description="The external id sent when assuming `roleArn`, if the role's trust policy asks for one:"
        " 2 to 1224 characters of letters, digits and `_+=,.@:/-`. Default: none (for `organizationTrail`:"
        " its owner's entry's).",
    )

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        return None if value is None else fields.role_arn(value)

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return None if value is None else fields.external_id(value)


class AccountConfig(_AssumesRole):
    """One AWS account whose CloudTrail configuration changes are monitored. It says how its events
    reach a log group with one of ``trail`` (its own multi-Region trail), ``regions`` (per-Region
    trails), or neither: then only the organization trail covers it, which is an error when no
    ``organizationTrail`` is configured or its ``members`` list leaves the account out."""

    id: str = Field(
        description='The 12-digit account id, quoted (`"012345678901"`: a YAML number loses leading zeros).'
        " Each account once.",
        json_schema_extra={"pattern": _ACCOUNT_ID["pattern"]},
    )
    name: str = Field(
        description="A short name, unique in the stack, that becomes part of the alarm, topic and key-alias"
        " names: letters, digits and `-`, at most 40 characters, starting and ending with a letter or digit."
        " Changing it replaces those resources (README: Renames).",
    )
    session_name: str = Field(
        default=DEFAULT_SESSION_NAME,
        description="The role session name, which CloudTrail records as who made the changes: 2 to 64"
        " characters of letters, digits and `_+=,.@-`. Default `cis-monitoring`, so the program's own"
        " changes are easy to tell apart.",
    )
    trail: TrailConfig | None = Field(
        default=None,
        examples=[TRAIL_EXAMPLE],
        description="The account's own multi-Region trail: one chain on its log group, in its home Region,"
        " covers every Region of the account. Set at most one of `trail` and `regions`. Default: none.",
    )
    covered_regions: Annotated[str | tuple[str, ...], _ALL_OR_REGIONS] = Field(
        default=ALL,
        examples=[["us-east-1", "eu-west-1"]],
        description="Only with `trail`: the Regions the outputs state as covered through it, `all` or a list"
        " of Regions, each once. Default `all`, since a multi-Region trail records every Region; list"
        " Regions to state less (e.g. only those enabled).",
    )
    regions: tuple[RegionConfig, ...] = Field(
        default=(),
        examples=[REGION_EXAMPLE],
        description="Per-Region trails, each delivering to its own log group in its own Region: one chain"
        " in each Region listed, each Region once. Default `[]`. With neither `regions` nor `trail`,"
        " only `organizationTrail` covers the account.",
    )
    notifications: NotificationConfig | None = Field(
        default=None,
        description="Overrides of the stack-wide `notifications` for this account's chains: each key given"
        " replaces the stack-wide one, and a `subscriptions` list replaces the whole list. Default: none,"
        " the stack-wide settings apply.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"Team": "payments"}],
        description="Extra tags for this account's resources, merged over the stack's `tags`. The same rules"
        " apply (the program's own keys are refused), and the merged set must stay within AWS's 50 per"
        " resource. Default `{}`.",
    )

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
    """The organization trail, configured once: it records the events of every member account in every
    Region and delivers them to one log group in its owner's account and home Region, so one chain
    there covers every member (AWS Control Tower: ``logGroupPrefix: aws-controltower/CloudTrailLogs``,
    ``name: aws-controltower-BaselineCloudTrail``)."""

    account_id: str = Field(
        description="The trail's owner, 12 digits, quoted: the organization's management account, whose id"
        " the trail's ARN names. A CloudTrail delegated administrator may create and manage the trail, but"
        " AWS keeps the management account as the owner of the organization trails it creates, and their"
        ' log group is in that account (AWS CloudTrail User Guide, "Organization delegated'
        ' administrator"); the audit names the owner the ARN shows when another account is given. It must'
        " also be in `accounts` (inline or from the inventory): that entry gives the chain a name, tags"
        " and, by default, its role. Give that entry no `trail` or `regions` entry in the trail's home"
        " Region (one chain per account and Region).",
        json_schema_extra={"pattern": _ACCOUNT_ID["pattern"]},
    )
    members: Annotated[str | tuple[str, ...], _MEMBERS] = Field(
        default=MEMBERS_ACCOUNTS,
        examples=[["222222222222"]],
        description="Whom the outputs state as covered: `accounts` (every account of this stack, inline and"
        " from the inventory), `all` (every account of the organization; the outputs get a `*/*` entry), or"
        " a list of account ids, each once. Default `accounts`. An account with neither `trail` nor"
        " `regions` must be a member.",
    )
    notifications: NotificationConfig | None = Field(
        default=None,
        description="Overrides for the organization chain's topic and subscribers, over its owner entry's"
        " `notifications` and the stack-wide ones (the most specific wins, key by key). Default: none.",
    )

    @field_validator("account_id", mode="before")
    @classmethod
    def _account_id(cls, value: Any) -> Any:
        return fields.account_id(value)

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, value: Any) -> Any:
        return fields.members(value)
