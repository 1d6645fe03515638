"""Stack config from a discovery: ``accounts`` and ``organizationTrail`` entries, merged with a file's.

The entries are in the shape ``cis_monitoring.spec`` takes (issue 10): an account with its own
multi-Region trail ``{id, name, roleArn, trail: {homeRegion, logGroup | logGroupPrefix, name}}``,
a member covered by the organization trail ``{id, name}``, and the organization trail once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cis_monitoring.rollout.discover.model import AccountPlan, Discovery
from cis_monitoring.rollout.discover.names import slug

ACCOUNTS_KEY = "cis-monitoring:accounts"
ORGANIZATION_TRAIL_KEY = "cis-monitoring:organizationTrail"
DISCOVERED_ACCOUNT_KEYS = ("trail", "regions")
"""What discovery decides in an account entry; everything else there is hand-set and kept."""
DISCOVERED_ORGANIZATION_KEYS = ("accountId", "homeRegion", "logGroup", "logGroupPrefix", "name")
AWS_NAME_KEY = "awsName"
"""An account's name as AWS Organizations spells it (``Log Archive``), beside its config ``name``."""


def account_entries(discovery: Discovery, names: Mapping[str, str], role_arn: str) -> list[dict[str, Any]]:
    """``accounts`` entries by id; ``role_arn`` has an ``{id}`` slot (only accounts with a chain get one)."""
    entries = []
    for plan in discovery.accounts:
        if not plan.listed:
            continue
        entry: dict[str, Any] = {"id": plan.account.id, "name": names[plan.account.id]}
        trail = trail_entry(plan)
        if trail is not None:
            entry["roleArn"] = role_arn.format(id=plan.account.id)
            entry["trail"] = trail
        entries.append(entry)
    return entries


def trail_entry(plan: AccountPlan) -> dict[str, Any] | None:
    """The ``trail`` key of an account whose own multi-Region trail gets a chain, else None."""
    if plan.own is None or plan.group is None:
        return None
    return {"homeRegion": plan.group.group.region, **plan.group.config(), "name": plan.own.name}


def organization_trail_entry(discovery: Discovery, role_arn: str) -> dict[str, Any] | None:
    found = discovery.organization_trail
    if found is None:
        return None
    return {
        "accountId": found.trail.owner_account,
        "homeRegion": found.group.group.region,
        **found.group.config(),
        "name": found.trail.name,
        "roleArn": role_arn.format(id=found.trail.owner_account),
    }


def entry_comments(discovery: Discovery) -> dict[str, str]:
    """Per listed account: its organization name, OU and coverage, for the reader of the YAML."""
    comments = {}
    for plan in discovery.accounts:
        if plan.listed:
            note = f" ({plan.group.note})" if plan.group is not None and plan.group.note else ""
            comments[plan.account.id] = f"{plan.account.name}, OU {plan.account.ou}: {plan.summary}{note}"
    return comments


def organization_comment(discovery: Discovery) -> str:
    found = discovery.organization_trail
    if found is None:
        return ""
    note = f"; {found.group.note}" if found.group.note else ""
    return (
        f"{found.trail.describe()} delivers every account's events to {found.group.group.describe()};"
        f" seen by {found.seen_by} account(s){note}"
    )


def skipped_rows(discovery: Discovery, names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Everything left out, with the reason: accounts (``listed`` false) and trails of listed accounts."""
    listed = {p.account.id: p.listed for p in discovery.accounts}
    found = [(p.account, s) for p in discovery.accounts for s in p.skips]
    found += list(discovery.organization_skips)
    rows = []
    for account, skip in sorted(found, key=lambda item: (item[0].id, item[1].trail or "", item[1].kind)):
        row: dict[str, Any] = {
            "id": account.id,
            "name": names.get(account.id, slug(account.name, account.id)),
            AWS_NAME_KEY: account.name,
            "ou": account.ou,
            "listed": listed.get(account.id, False),
            "kind": skip.kind,
            "reason": skip.reason,
        }
        if skip.trail:
            row["trail"] = skip.trail
        if skip.region:
            row["region"] = skip.region
        rows.append(row)
    return rows


# ---- merging with the stack file's entries (--write) ----


def merge_accounts(
    existing: Sequence[Mapping[str, Any]], discovered: Sequence[dict[str, Any]], unread_ids: Iterable[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``accounts`` list to write over ``existing``, and one note per non-obvious decision.

    Discovery decides which accounts are listed and their ``trail`` (an old ``regions`` list is
    replaced). Hand-set fields of an entry already in the file (name, roleArn, externalId,
    sessionName, notifications, tags, coveredRegions) are kept: a new name would replace every
    resource of that account. Entries of accounts discovery could not read are kept as they are;
    the other entries not discovered are dropped.
    """
    by_id = {str(e.get("id")): dict(e) for e in existing if isinstance(e, Mapping)}
    unread = set(unread_ids)
    merged: dict[str, dict[str, Any]] = {}
    notes = []
    for entry in discovered:
        old = by_id.get(entry["id"])
        if old is None:
            merged[entry["id"]] = entry
        elif entry["id"] in unread:
            merged[entry["id"]] = old
            notes.append(f"kept {entry['id']} ({old.get('name')}) unchanged: it could not be read this run")
        else:
            merged[entry["id"]] = _merge_account(old, entry, notes)
    for account_id, old in by_id.items():
        if account_id in merged:
            continue
        if account_id in unread:
            merged[account_id] = old
            notes.append(f"kept {account_id} ({old.get('name')}): it could not be read this run")
        else:
            notes.append(
                f"removed {account_id} ({old.get('name')}): no trail covers it, or not an active account;"
                " `pulumi up` will delete its monitoring"
            )
    return [merged[k] for k in sorted(merged)], notes


def _merge_account(old: dict[str, Any], entry: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    result = {k: v for k, v in old.items() if k not in DISCOVERED_ACCOUNT_KEYS}
    if "regions" in old and "trail" in entry:
        notes.append(
            f"{entry['id']} ({old.get('name')}): per-Region `regions` replaced by its multi-Region `trail`"
        )
    if "trail" in entry:
        result.setdefault("roleArn", entry["roleArn"])
        result["trail"] = entry["trail"]
    elif "coveredRegions" in result:
        del result["coveredRegions"]
        notes.append(
            f"{entry['id']} ({old.get('name')}): dropped coveredRegions (it has no trail of its own now)"
        )
    return result


def merge_organization_trail(
    existing: Mapping[str, Any] | None, discovered: dict[str, Any] | None, known: bool
) -> tuple[dict[str, Any] | None, list[str]]:
    """The ``organizationTrail`` to write (None: none), keeping hand-set fields of the same owner's entry."""
    if discovered is None:
        if existing and not known:
            return dict(existing), ["kept organizationTrail: no account could be read this run"]
        if existing:
            return None, ["removed organizationTrail: no usable organization trail was found"]
        return None, []
    if not existing:
        return discovered, []
    same_owner = str(existing.get("accountId")) == discovered["accountId"]
    kept = {
        k: v
        for k, v in existing.items()
        if k not in DISCOVERED_ORGANIZATION_KEYS and (same_owner or k not in ("roleArn", "externalId"))
    }
    result = {k: discovered[k] for k in DISCOVERED_ORGANIZATION_KEYS if k in discovered}
    result["roleArn"] = kept.pop("roleArn", discovered["roleArn"])
    result.update(kept)
    notes = [] if same_owner else [f"organizationTrail: owner changed to {discovered['accountId']}"]
    return result, notes
