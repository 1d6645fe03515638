"""Decide, from what each account showed, the stack config to write and what to leave out (pure).

The rules, in the core's words (``cis_monitoring.core.topology``):

- an organization trail (seen by its owner, or by any member as a shadow) that is multi-Region
  and delivers to an existing group in its owner's account becomes ``organizationTrail``: one
  chain there covers every account of the organization. If there are several, one is chosen
  (the management account's first, then by name) and the others are listed as skipped;
- an account's own multi-Region trail delivering to a group in its own account becomes its
  ``trail`` (one per account, by name); its other trails are listed as skipped with the reason
  (single-Region: CIS 4.x needs a multi-Region trail; no CloudWatch Logs; group missing ...);
- the owner of the organization trail is covered directly by it: a plain entry, no second chain;
- with an organization trail, every other account is listed, as a plain ``{id, name}`` member
  when it has no usable trail of its own (even when it could not be read: the organization
  trail records it regardless); without one, such an account is left out, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from cis_monitoring.core.topology import TrailFacts
from cis_monitoring.rollout.discover.model import (
    ANOTHER_TRAIL_CHOSEN,
    CONTROL_TOWER_PREFIX,
    KIND_ORDER,
    LOG_GROUP_ELSEWHERE,
    LOG_GROUP_MISSING,
    NO_CLOUDWATCH_LOGS,
    NO_TRAIL,
    SINGLE_REGION_ONLY,
    AccountPlan,
    AccountResult,
    Discovery,
    GroupCheck,
    GroupChoice,
    OrgAccount,
    OrganizationTrailPlan,
    Skip,
)


def is_control_tower_suffixed(name: str) -> bool:
    """``aws-controltower/CloudTrailLogs-<suffix>``: Control Tower's group since landing zone 4.0."""
    suffix = name.removeprefix(CONTROL_TOWER_PREFIX + "-")
    return name.startswith(CONTROL_TOWER_PREFIX + "-") and bool(suffix)


def trail_problem(trail: TrailFacts, check: GroupCheck | None) -> Skip | None:
    """Why this trail's group cannot be monitored for CIS 4.x, or None when it can."""
    who = trail.describe()
    if not trail.multi_region:
        return Skip(
            SINGLE_REGION_ONLY,
            f"{who} records only {trail.home_region}: CIS 4.x needs a multi-Region trail",
            trail.name,
            trail.home_region,
        )
    group = trail.log_group
    if group is None:
        return Skip(
            NO_CLOUDWATCH_LOGS,
            f"{who} does not deliver to CloudWatch Logs (set its CloudWatchLogsLogGroupArn, then run"
            " discover again)",
            trail.name,
            trail.home_region,
        )
    if group.account_id != trail.owner_account:
        return Skip(
            LOG_GROUP_ELSEWHERE,
            f"{who} delivers to {group.describe()}, outside its own account; monitor it in that account",
            trail.name,
            trail.home_region,
        )
    if check is not None and check.exists is False:
        return Skip(
            LOG_GROUP_MISSING,
            f"{who} names {group.describe()}, which does not exist",
            trail.name,
            trail.home_region,
        )
    return None


def choose_group(trail: TrailFacts, check: GroupCheck | None) -> GroupChoice:
    """Name the group exactly, or by Control Tower's prefix when that finds exactly this group."""
    group = trail.log_group
    assert group is not None
    if not is_control_tower_suffixed(group.name):
        return GroupChoice(group)
    matched = check.prefix_matches if check is not None else None
    by_prefix = f"Control Tower's group, found by prefix {CONTROL_TOWER_PREFIX!r} (its suffix can change)"
    if matched is None:
        return GroupChoice(group, CONTROL_TOWER_PREFIX, f"{by_prefix}; not verified: account not read")
    if matched == (group.name,):
        return GroupChoice(group, CONTROL_TOWER_PREFIX, by_prefix)
    return GroupChoice(
        group,
        None,
        f"prefix {CONTROL_TOWER_PREFIX!r} matches {len(matched)} groups ({', '.join(matched)}),"
        " so the exact name is written; update it if Control Tower renames the group",
    )


def _check_for(trail: TrailFacts, by_id: dict[str, AccountResult]) -> GroupCheck | None:
    owner = by_id.get(trail.owner_account)
    if owner is None or trail.log_group is None:
        return None
    return owner.groups.get(trail.log_group)


def plan(results: Sequence[AccountResult], management_account: str) -> Discovery:
    by_id = {r.account.id: r for r in results}
    organization, org_skips = _organization_trail(results, by_id, management_account)
    accounts = tuple(
        _plan_account(r, organization, by_id) for r in sorted(results, key=lambda r: r.account.id)
    )
    return Discovery(
        accounts=accounts,
        organization_trail=organization,
        organization_skips=tuple(org_skips),
        organization_trail_known=any(r.inspected for r in results),
    )


def _organization_trail(
    results: Sequence[AccountResult], by_id: dict[str, AccountResult], management_account: str
) -> tuple[OrganizationTrailPlan | None, list[tuple[OrgAccount, Skip]]]:
    seen: dict[str, TrailFacts] = {}
    seen_by: dict[str, int] = {}
    for result in results:
        for trail in result.trails:
            if trail.organization:
                seen.setdefault(trail.arn, trail)
                seen_by[trail.arn] = seen_by.get(trail.arn, 0) + 1
    usable, skips = [], []
    for _arn, trail in sorted(seen.items()):
        problem = trail_problem(trail, _check_for(trail, by_id))
        if problem is None:
            usable.append(trail)
        else:
            skips.append((_owner_account(trail, by_id), problem))
    if not usable:
        return None, skips
    usable.sort(key=lambda t: (t.owner_account != management_account, t.name, t.arn))
    chosen = usable[0]
    for other in usable[1:]:
        reason = (
            f"{other.describe()} is not monitored: one organizationTrail is configured, and"
            f" {chosen.describe()} was chosen"
        )
        skips.append(
            (_owner_account(other, by_id), Skip(ANOTHER_TRAIL_CHOSEN, reason, other.name, other.home_region))
        )
    group = choose_group(chosen, _check_for(chosen, by_id))
    return OrganizationTrailPlan(chosen, group, seen_by[chosen.arn]), skips


def _owner_account(trail: TrailFacts, by_id: dict[str, AccountResult]) -> OrgAccount:
    owner = by_id.get(trail.owner_account)
    return owner.account if owner else OrgAccount(trail.owner_account, trail.owner_account, "")


def _organization_words(organization: OrganizationTrailPlan) -> str:
    trail = organization.trail
    return f"covered by organization trail {trail.name!r} of account {trail.owner_account}"


def _plan_account(
    result: AccountResult, organization: OrganizationTrailPlan | None, by_id: dict[str, AccountResult]
) -> AccountPlan:
    account = result.account
    if result.error is not None:
        if organization is None:
            return AccountPlan(
                account,
                False,
                skips=(result.error,),
                summary=f"skipped: {result.error.reason}",
                inspected=False,
            )
        error = Skip(result.error.kind, f"{result.error.reason}; its own trails were not read")
        return AccountPlan(
            account,
            True,
            skips=(error,),
            summary=f"{_organization_words(organization)} (not read)",
            inspected=False,
        )
    own = sorted(
        (t for t in result.trails if t.owner_account == account.id and not t.organization),
        key=lambda t: (t.name, t.arn),
    )
    usable, skips = [], []
    for trail in own:
        problem = trail_problem(trail, result.groups.get(trail.log_group) if trail.log_group else None)
        if problem is None:
            usable.append(trail)
        else:
            skips.append(problem)
    owns_organization_trail = organization is not None and organization.trail.owner_account == account.id
    if organization is not None and owns_organization_trail:
        chosen_words = (
            f"organization trail {organization.trail.name!r} of this account already covers it directly"
        )
        skips += [_not_chosen(t, chosen_words) for t in usable]
        summary = f"owner of organization trail {organization.trail.name!r}: covered directly by it"
        return AccountPlan(account, True, skips=tuple(skips), summary=summary)
    if usable:
        chosen = usable[0]
        skips += [
            _not_chosen(t, f"one trail per account is monitored, and {chosen.name!r} was chosen")
            for t in usable[1:]
        ]
        group = choose_group(chosen, result.groups.get(chosen.log_group) if chosen.log_group else None)
        summary = f"covered directly: {chosen.describe()} delivers to {group.group.describe()}"
        if organization is not None:
            summary += f"; also {_organization_words(organization)}"
        return AccountPlan(account, True, chosen, group, tuple(skips), summary)
    if organization is not None:
        return AccountPlan(account, True, skips=tuple(skips), summary=_organization_words(organization))
    for trail in (t for t in result.trails if t.organization):
        problem = trail_problem(trail, _check_for(trail, by_id))
        if problem is not None:
            skips.append(problem)
    if not skips:
        skips.append(
            Skip(
                NO_TRAIL,
                "no trail records this account's events (no trail of its own, no organization trail)",
            )
        )
    kind = min((s.kind for s in skips), key=KIND_ORDER.index)
    reason = "; ".join(s.reason for s in skips)
    return AccountPlan(account, False, skips=(Skip(kind, reason),), summary=f"skipped: {reason}")


def _not_chosen(trail: TrailFacts, why: str) -> Skip:
    return Skip(
        ANOTHER_TRAIL_CHOSEN, f"{trail.describe()} is not monitored: {why}", trail.name, trail.home_region
    )
