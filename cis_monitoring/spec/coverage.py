"""Cross-checks of the trail keys: each account says how its events reach a log group, once, and the
organization trail has an owner this stack knows.

Every account has one of: ``trail`` (its own multi-Region trail), ``regions`` (per-Region
trails), or neither (only the organization trail covers it, so one must be configured and
must count it among its members). No two chain sites may share an account and Region: the
program derives a site's logical names from them (naming.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from cis_monitoring.core.aws import arns

from .errors import Problem
from .schema import AccountConfig, OrganizationTrailConfig
from .sites import ORGANIZATION_TRAIL_KEY as ORG

_TRAIL_FORM = "trail: {homeRegion: <its trail's home Region>, logGroup: <the group it delivers to>}"


def trail_problems(
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig | None,
    *,
    organization_given: bool,
    listed_ids: Collection[str],
) -> list[Problem]:
    """``organization_given``: the key is set (when it is invalid, ``organization`` is None and its
    own problems are reported; accounts that rely on it are not blamed too). ``listed_ids``: every
    account id in ``accounts``, valid entries or not."""
    problems: list[Problem] = []
    for i, account in accounts:
        problems.extend(_account_problems(i, account, organization, organization_given))
    if organization is not None:
        problems.extend(_organization_problems(accounts, organization, listed_ids))
    return problems


def _account_problems(
    i: int, account: AccountConfig, organization: OrganizationTrailConfig | None, organization_given: bool
) -> list[Problem]:
    where = f"accounts[{i}]"
    given = account.model_fields_set
    problems = []
    if account.trail is not None and account.regions:
        problems.append(
            Problem(
                where,
                "set at most one of trail (the account's multi-Region trail: one log group, in its home Region)"
                " and regions (per-Region trails, one log group in each Region)",
            )
        )
    if "regions" in given and not account.regions:
        problems.append(
            Problem(
                f"{where}.regions",
                "must list at least one entry; remove the key if the account has no per-Region trails",
            )
        )
    if "covered_regions" in given and account.trail is None:
        problems.append(
            Problem(
                f"{where}.coveredRegions",
                "applies only to an account with a trail (the Regions its multi-Region trail is stated to"
                f" cover); add {_TRAIL_FORM}, or remove coveredRegions",
            )
        )
    owner = organization is not None and organization.account_id == account.id
    if account.trail is not None or account.regions or owner:
        return problems
    if not organization_given:
        problems.append(
            Problem(
                where,
                f"account {account.id} has no trail and no regions, so only an organization trail can cover it,"
                f" and no {ORG} is configured. Write {_TRAIL_FORM} if the account has a multi-Region"
                f" trail of its own, or configure {ORG} (the trail that records every member account)",
            )
        )
    elif organization is not None and _left_out(organization, account.id):
        problems.append(
            Problem(
                where,
                f"account {account.id} has no trail and no regions, so only the organization trail can"
                f' cover it, but {ORG}.members lists account ids without it: add "{account.id}" to'
                f" {ORG}.members (or write members: accounts), or give the account a trail",
            )
        )
    return problems


def _left_out(organization: OrganizationTrailConfig, account_id: str) -> bool:
    """Whether ``members`` is a list of ids without this account (``all``/``accounts`` leave none out)."""
    return isinstance(organization.members, tuple) and account_id not in organization.members


def _organization_problems(
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig,
    listed_ids: Collection[str],
) -> list[Problem]:
    owner_id, home = organization.account_id, organization.home_region
    problems = []
    if owner_id not in listed_ids:
        problems.append(
            Problem(
                f"{ORG}.accountId",
                f"account {owner_id} owns the organization trail but is not in accounts (nor among the"
                " accounts this stack selects from its organization inventory): list it under accounts"
                " with its name (and roleArn), so its chain has a name and a way in",
            )
        )
    role = arns.parse_role_arn(organization.role_arn) if organization.role_arn else None
    if role is not None and role.account != owner_id:
        problems.append(
            Problem(f"{ORG}.roleArn", f"the role is in account {role.account}, not in account {owner_id}")
        )
    clash = (
        f"account {owner_id} owns the organization trail, whose chain is in {owner_id} {home}; a second"
        " log group there cannot get a chain of its own (one chain per account and Region), and the"
        " organization trail records this account's events already."
    )
    for i, account in accounts:
        if account.id != owner_id:
            continue
        if account.trail is not None and account.trail.home_region == home:
            problems.append(
                Problem(
                    f"accounts[{i}].trail",
                    f"{clash} Remove accounts[{i}].trail (if it is the same trail, {ORG} says it all)",
                )
            )
        problems.extend(
            Problem(f"accounts[{i}].regions[{k}]", f"{clash} Remove this entry")
            for k, region in enumerate(account.regions)
            if region.region == home
        )
    return problems
