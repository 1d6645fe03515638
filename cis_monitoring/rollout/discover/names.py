"""Account names for stack config: derived from the organization's names, unique, stable."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

NAME_MAX = 40
_NON_NAME = re.compile(r"[^a-z0-9-]+")


def slug(name: str, account_id: str) -> str:
    """A config account name: lowercase, other characters -> '-', at most 40, alphanumeric at both ends."""
    text = re.sub(r"-{2,}", "-", _NON_NAME.sub("-", name.lower()))[:NAME_MAX].strip("-")
    return text or f"account-{account_id}"


def unique_names(
    accounts: Sequence[tuple[str, str]], reserved: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Account id -> unique name; ``reserved`` (id -> name) keeps names already in a stack file.

    A new name would rename, so replace, every resource of that account. A clash gets
    ``-<last 4 digits of the id>`` (then the whole id): stable whatever the order.
    """
    reserved = dict(reserved or {})
    taken = set(reserved.values())
    result: dict[str, str] = {}
    for account_id, name in sorted(accounts):
        if account_id in reserved:
            result[account_id] = reserved[account_id]
            continue
        base = slug(name, account_id)
        chosen = base
        for suffix in (account_id[-4:], account_id):
            if chosen not in taken:
                break
            chosen = f"{base[: NAME_MAX - len(suffix) - 1].rstrip('-')}-{suffix}"
        taken.add(chosen)
        result[account_id] = chosen
    return result
