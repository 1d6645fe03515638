"""The organization as an account inventory: the one document discover, shards, the program and the rollup read.

Schema version ``INVENTORY_SCHEMA_VERSION`` (``cis_monitoring/spec/inventory.py``)::

    {"schemaVersion": 1,
     "accounts": [{"id": "111111111111", "name": "log-archive", "awsName": "Log Archive",
                   "ou": "Root/Security", "tags": {"Environment": "prod"},
                   "trail": {"homeRegion": "us-east-1", "logGroup": "...", "name": "..."}}]}

Every ACTIVE account is listed. ``name`` is its name in stack config, usable in resource names:
``names.unique_names`` derives it, the one place that does, unique over the organization and kept
from the stack file when one is given. ``awsName`` is its name as AWS Organizations spells it.
``trail`` is the account's own multi-Region trail when discover found one to monitor (the
program deploys its chain there; ``organization.roleName`` says how to get in). An account
without one is covered by the organization trail, or by nothing (discover lists it as skipped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cis_monitoring.rollout.command import INVENTORY_SCHEMA_VERSION
from cis_monitoring.rollout.discover.entries import AWS_NAME_KEY, trail_entry
from cis_monitoring.rollout.discover.model import Discovery, OrgAccount


def inventory_document(
    accounts: Sequence[OrgAccount], names: Mapping[str, str], discovery: Discovery
) -> dict[str, Any]:
    plans = {plan.account.id: plan for plan in discovery.accounts}
    entries = []
    for account in sorted(accounts, key=lambda a: a.id):
        entry: dict[str, Any] = {
            "id": account.id,
            "name": names[account.id],
            AWS_NAME_KEY: account.name,
            "ou": account.ou,
            "tags": dict(account.tags),
        }
        trail = trail_entry(plans[account.id]) if account.id in plans else None
        if trail is not None:
            entry["trail"] = trail
        entries.append(entry)
    return {"schemaVersion": INVENTORY_SCHEMA_VERSION, "accounts": entries}
