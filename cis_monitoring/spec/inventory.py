"""Accounts from an organization stack: the ``organization`` key (with ``select`` and ``shard``), and the
account inventory it reads (schema, selection, sharding, merging).

The organization (landing-zone) stack exports, under one output, an inventory of
version ``INVENTORY_SCHEMA_VERSION``::

    {"schemaVersion": 1,
     "accounts": [{"id": "111111111111", "name": "payments-prod", "ou": "Root/Workloads/Prod",
                   "tags": {"Environment": "prod"},
                   "awsName": "Payments Prod",                                             # optional
                   "roleArn": "arn:aws:iam::111111111111:role/cis-monitoring-deployer",   # optional
                   "trail": {"homeRegion": "us-east-1", "logGroup": "aws-controltower/CloudTrailLogs"}}]}
                   # optional, or "regions": [{"region": ..., "logGroup": ...}] (per-Region trails)

``tags`` are the account's own tags, used only for selection; ``awsName`` is the account's
name as AWS Organizations spells it, for people (``name`` is its config name, which resource
names are made of; ``cis-monitoring discover --inventory`` writes both). An entry without
``roleArn`` takes ``organization.roleName``; one with neither ``trail`` nor ``regions``
takes ``organization.defaultTrail``, else ``organization.defaultRegions``, else nothing:
then only ``organizationTrail`` can cover it (the usual case in an AWS Control Tower
landing zone >= 3.0). Everything here is pure, so the program, the shard check and the
tests share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from cis_monitoring.core.aws import arns
from cis_monitoring.core.errors import InputError

from . import fields
from .accounts import (
    REGION_EXAMPLE,
    TRAIL_EXAMPLE,
    AccountConfig,
    RegionConfig,
    TrailConfig,
    same_group_problem,
)
from .fields import Model
from .problems import ConfigProblem, problems_from

INVENTORY_SCHEMA_VERSION = 1
INVENTORY_ONLY_KEYS = ("ou", "tags", "awsName")
"""Keys of an inventory entry that are about the account, not its stack config (selection, people)."""


class ShardConfig(Model):
    """This stack's share of the selection: the accounts whose id modulo ``count`` is ``index``. Stacks
    with the same ``count`` and each ``index`` from 0 are disjoint and, together, complete."""

    # count before index: the index validator compares with the already validated count.
    count: int = Field(ge=1, description="How many shards the selection is split into, at least 1.")
    index: int = Field(ge=0, description="This stack's shard, from 0 to `count` - 1.")

    @field_validator("index")
    @classmethod
    def _index(cls, value: int, info: ValidationInfo) -> int:
        count = info.data.get("count")
        if count is not None and value >= count:
            raise ValueError(f"shard index {value} must be below the shard count {count} (0 to {count - 1})")
        return value


class SelectorConfig(Model):
    """Which inventory accounts this stack manages: every criterion given must hold."""

    ous: tuple[str, ...] = Field(
        default=(),
        examples=[["Root/Workloads/Prod"]],
        description="OU paths such as `Root/Workloads/Prod`; an account matches an OU or any OU below it."
        " Default `[]`: any OU.",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"Environment": "prod"}],
        description="Account tags (the inventory's) that must all match. Default `{}`: any tags.",
    )
    accounts: tuple[str, ...] = Field(
        default=(),
        examples=[["111111111111"]],
        description="Only these account ids, when given. Default `[]`: any account.",
    )
    exclude_accounts: tuple[str, ...] = Field(
        default=(),
        examples=[["111111111111"]],
        description="Never these account ids. Default `[]`: none excluded.",
    )


class OrganizationConfig(Model):
    """Read accounts from an organization (landing-zone) stack's account inventory instead of, or
    besides, listing them under ``accounts``. Selected entries are validated like inline accounts, and
    an inline account overrides the inventory's entry with the same id. The inventory's shape:
    README, "Roll out"."""

    stack: str = Field(
        description="The organization stack, fully qualified: `<org>/<project>/<stack>`.",
    )
    output: str = Field(
        default="accounts",
        description="The output of that stack that holds the inventory (schema version 1). Default"
        " `accounts`.",
    )
    role_name: str | None = Field(
        default=None,
        description="For inventory entries without `roleArn`: the role to assume in each account, as"
        " `arn:aws:iam::<id>:role/<roleName>`. Default: none, such entries use the caller's credentials.",
    )
    default_trail: TrailConfig | None = Field(
        default=None,
        examples=[TRAIL_EXAMPLE],
        description="For inventory entries with neither `trail` nor `regions`: the multi-Region trail each"
        " such account has. Default: none.",
    )
    default_regions: tuple[RegionConfig, ...] = Field(
        default=(),
        examples=[REGION_EXAMPLE],
        description="For inventory entries with neither `trail` nor `regions`, when there is no"
        " `defaultTrail`: their per-Region trails, checked as `regions` is. Default `[]`: such entries are"
        " covered only by `organizationTrail`.",
    )
    select: SelectorConfig = Field(
        default=SelectorConfig(),
        description="Which inventory accounts this stack manages. Default: every account.",
    )
    shard: ShardConfig | None = Field(
        default=None,
        examples=[{"index": 0, "count": 2}],
        description="This stack's share of the selection, for splitting an organization across stacks that"
        " run in parallel. Default: none, the whole selection.",
    )

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


class InventoryError(InputError, ValueError):
    """The organization stack's inventory cannot be used; ``problems`` say why, with their key paths."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__([f"  - {p}" for p in self.problems])


def _ou_matches(ou: str, wanted: Sequence[str]) -> bool:
    return any(ou == w or ou.startswith(w.rstrip("/") + "/") for w in wanted)


def is_selected(entry: Mapping[str, Any], select: SelectorConfig, shard: ShardConfig | None) -> bool:
    account_id = str(entry.get("id", ""))
    if select.ous and not _ou_matches(str(entry.get("ou", "")), select.ous):
        return False
    tags = entry.get("tags") or {}
    if any(tags.get(k) != v for k, v in select.tags.items()):
        return False
    if select.accounts and account_id not in select.accounts:
        return False
    if account_id in select.exclude_accounts:
        return False
    # Sharding by account id modulo count makes shards disjoint and, together, complete.
    return not (shard and account_id.isdigit() and int(account_id) % shard.count != shard.index)


def inventory_accounts(value: Any, organization: OrganizationConfig) -> list[dict[str, Any]]:
    """The selected inventory accounts as ``accounts`` entries, or InventoryError naming the stack and key."""
    where = f"{organization.stack} output {organization.output!r}"
    if value is None:
        raise InventoryError(
            [
                ConfigProblem(
                    "organization.output",
                    f"stack {organization.stack!r} has no output {organization.output!r}",
                )
            ]
        )
    if not isinstance(value, Mapping) or not isinstance(value.get("accounts"), list):
        raise InventoryError(
            [
                ConfigProblem(
                    "organization.output",
                    f"{where} is not an account inventory (an object with 'schemaVersion' and an 'accounts' list)",
                )
            ]
        )
    version = value.get("schemaVersion")
    if version != INVENTORY_SCHEMA_VERSION:
        # Stack outputs travel as JSON numbers, so 1 may arrive as 1.0.
        shown = int(version) if isinstance(version, float) and version.is_integer() else version
        raise InventoryError(
            [
                ConfigProblem(
                    "organization.output",
                    f"{where} has schemaVersion {shown!r}; this program reads version {INVENTORY_SCHEMA_VERSION}",
                )
            ]
        )
    problems: list[ConfigProblem] = []
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    selected: list[dict[str, Any]] = []
    for i, entry in enumerate(value["accounts"]):
        path = f"{where}.accounts[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(ConfigProblem(path, "is not an object"))
            continue
        account = _as_account(entry, organization)
        account_id = str(entry.get("id"))
        if account_id in seen:
            first_index, first = seen[account_id]
            if first != account:
                problems.append(
                    ConfigProblem(
                        f"{path}.id",
                        f"account {account_id} appears again with different settings (first at accounts[{first_index}])",
                    )
                )
            continue
        seen[account_id] = (i, account)
        if not is_selected(entry, organization.select, organization.shard):
            continue
        try:
            AccountConfig.model_validate(account)
        except ValidationError as error:
            problems.extend(problems_from(error, AccountConfig, prefix=path))
            continue
        selected.append(account)
    if problems:
        raise InventoryError(problems)
    if not selected:
        raise InventoryError(
            [ConfigProblem("organization.select", f"selects no account of the {len(seen)} in {where}")]
        )
    return selected


def _as_account(entry: Mapping[str, Any], organization: OrganizationConfig) -> dict[str, Any]:
    account = {k: v for k, v in entry.items() if k not in INVENTORY_ONLY_KEYS}
    if "roleArn" not in account and organization.role_name:
        account["roleArn"] = arns.role_arn(str(entry.get("id")), organization.role_name)
    if "trail" not in account and "regions" not in account:
        if organization.default_trail is not None:
            account["trail"] = organization.default_trail.model_dump(by_alias=True, exclude_none=True)
        elif organization.default_regions:
            account["regions"] = [
                r.model_dump(by_alias=True, exclude_defaults=True) for r in organization.default_regions
            ]
    return account


def merge_accounts(
    inline: Sequence[Mapping[str, Any]], from_inventory: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Inline accounts first (their config paths stay exact), then inventory accounts they do not override."""
    inline_ids = {str(a.get("id")) for a in inline if isinstance(a, Mapping)}
    return [dict(a) for a in inline] + [dict(a) for a in from_inventory if str(a.get("id")) not in inline_ids]
