"""The stack-config shape of issue 10 (``accounts[].trail``, plain members, ``organizationTrail``), checked by hand.

Until ``cis_monitoring.spec`` accepts the new keys, the tests of discover and of the emulator
worlds check written config with this; ``validate`` also runs the real loader once it knows
``organizationTrail`` (``loader_knows_new_keys``). Rules: /tmp/cis/issue10-design.md "Stack config".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cis_monitoring.core.aws.regions import is_known_region

ACCOUNT_ID = re.compile(r"^\d{12}$")
ACCOUNT_KEYS = {
    "id",
    "name",
    "roleArn",
    "externalId",
    "sessionName",
    "trail",
    "regions",
    "coveredRegions",
    "notifications",
    "tags",
}
TRAIL_KEYS = {"homeRegion", "logGroup", "logGroupPrefix", "name"}
ORGANIZATION_KEYS = {
    "accountId",
    "homeRegion",
    "logGroup",
    "logGroupPrefix",
    "name",
    "roleArn",
    "externalId",
    "members",
    "notifications",
}


def _group_problems(where: str, value: Mapping[str, Any]) -> list[str]:
    named = [k for k in ("logGroup", "logGroupPrefix") if k in value]
    if len(named) != 1:
        return [f"{where}: exactly one of logGroup / logGroupPrefix, not {named or 'neither'}"]
    if not isinstance(value[named[0]], str) or not value[named[0]]:
        return [f"{where}.{named[0]}: a non-empty string"]
    return []


def _region_problems(where: str, value: object) -> list[str]:
    return [] if isinstance(value, str) and is_known_region(value) else [f"{where}: not a Region: {value!r}"]


def _role_problems(where: str, value: object, account_id: object) -> list[str]:
    if not isinstance(value, str) or not re.fullmatch(rf"arn:aws:iam::{account_id}:role/[\w+=,.@/-]+", value):
        return [f"{where}: not a role ARN in account {account_id}: {value!r}"]
    return []


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Every problem of ``config`` (project keys, no namespace) against the new shape; [] when fine."""
    problems: list[str] = []
    accounts = config.get("accounts")
    organization = config.get("organizationTrail")
    if not isinstance(accounts, list) or not accounts:
        return ["accounts: a non-empty list"]
    ids, names = set(), set()
    for index, entry in enumerate(accounts):
        where = f"accounts[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: a mapping")
            continue
        problems += [f"{where}.{k}: unknown key" for k in sorted(set(entry) - ACCOUNT_KEYS)]
        account_id = entry.get("id")
        if not isinstance(account_id, str) or not ACCOUNT_ID.match(account_id):
            problems.append(f"{where}.id: a 12-digit string, not {account_id!r}")
        if account_id in ids:
            problems.append(f"{where}.id: {account_id} listed twice")
        ids.add(account_id)
        if not isinstance(entry.get("name"), str) or entry.get("name") in names:
            problems.append(f"{where}.name: a unique string, not {entry.get('name')!r}")
        names.add(entry.get("name"))
        if "roleArn" in entry:
            problems += _role_problems(f"{where}.roleArn", entry["roleArn"], account_id)
        if "trail" in entry and "regions" in entry:
            problems.append(f"{where}: at most one of trail / regions")
        trail = entry.get("trail")
        if trail is not None:
            if not isinstance(trail, Mapping):
                problems.append(f"{where}.trail: a mapping")
            else:
                problems += [f"{where}.trail.{k}: unknown key" for k in sorted(set(trail) - TRAIL_KEYS)]
                problems += _region_problems(f"{where}.trail.homeRegion", trail.get("homeRegion"))
                problems += _group_problems(f"{where}.trail", trail)
        if "trail" not in entry and "regions" not in entry and not organization:
            problems.append(f"{where}: no trail and no regions, so organizationTrail is needed")
    if organization is not None:
        if not isinstance(organization, Mapping):
            return [*problems, "organizationTrail: a mapping"]
        problems += [
            f"organizationTrail.{k}: unknown key" for k in sorted(set(organization) - ORGANIZATION_KEYS)
        ]
        owner = organization.get("accountId")
        if not isinstance(owner, str) or not ACCOUNT_ID.match(owner):
            problems.append(f"organizationTrail.accountId: a 12-digit string, not {owner!r}")
        problems += _region_problems("organizationTrail.homeRegion", organization.get("homeRegion"))
        problems += _group_problems("organizationTrail", organization)
        if "roleArn" in organization:
            problems += _role_problems("organizationTrail.roleArn", organization["roleArn"], owner)
    return problems


def loader_knows_new_keys() -> bool:
    """Whether ``cis_monitoring.spec`` has landed ``organizationTrail`` (and so ``accounts[].trail``)."""
    from cis_monitoring.spec import StackConfig

    fields = StackConfig.model_fields
    return "organization_trail" in fields or any(
        getattr(f, "alias", None) == "organizationTrail" for f in fields.values()
    )


NOTIFICATIONS = {"subscriptions": [{"protocol": "email", "endpoint": "cloud-security@example.com"}]}


def validate(config: Mapping[str, Any]) -> str:
    """Raise AssertionError for a bad shape; also load it with the real loader when that knows the keys.

    Returns which check ran ("shape" or "shape+loader"), for the test's own assertion message.
    """
    problems = config_problems(config)
    assert not problems, "\n".join(problems)
    if not loader_knows_new_keys():
        return "shape"
    from cis_monitoring.spec import load_config

    load_config({**config, "notifications": NOTIFICATIONS})
    return "shape+loader"
