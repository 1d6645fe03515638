"""Account inventory from an organization stack: schema, selection, sharding and merging.

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

from pydantic import ValidationError

from cis_monitoring.core.aws import arns
from cis_monitoring.spec import (
    AccountConfig,
    OrganizationConfig,
    Problem,
    SelectorConfig,
    ShardConfig,
    problems_from,
)

INVENTORY_SCHEMA_VERSION = 1
INVENTORY_ONLY_KEYS = ("ou", "tags", "awsName")
"""Keys of an inventory entry that are about the account, not its stack config (selection, people)."""


class InventoryError(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"  - {p}" for p in self.problems))


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
                Problem(
                    "organization.output",
                    f"stack {organization.stack!r} has no output {organization.output!r}",
                )
            ]
        )
    if not isinstance(value, Mapping) or not isinstance(value.get("accounts"), list):
        raise InventoryError(
            [
                Problem(
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
                Problem(
                    "organization.output",
                    f"{where} has schemaVersion {shown!r}; this program reads version {INVENTORY_SCHEMA_VERSION}",
                )
            ]
        )
    problems: list[Problem] = []
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    selected: list[dict[str, Any]] = []
    for i, entry in enumerate(value["accounts"]):
        path = f"{where}.accounts[{i}]"
        if not isinstance(entry, Mapping):
            problems.append(Problem(path, "is not an object"))
            continue
        account = _as_account(entry, organization)
        account_id = str(entry.get("id"))
        if account_id in seen:
            first_index, first = seen[account_id]
            if first != account:
                problems.append(
                    Problem(
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
            [Problem("organization.select", f"selects no account of the {len(seen)} in {where}")]
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
