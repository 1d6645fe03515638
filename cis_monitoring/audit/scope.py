"""What the audit reports on: which (account, Region) pairs, and how to get into each account.

From a stack file (``stack_scope``), the pairs are the stack's coverage claims
(``cis_monitoring.spec.coverage_plan``): an account whose trail or organization trail is stated to
cover every Region (``coveredRegions: all``, the default, and every member of the organization
trail) is reported in the stack's Regions: every Region a chain site or a claim names, or the
``--region`` flags instead. A multi-Region trail covers every Region alike, so these stand for
"all Regions". Accounts with a Region list (``coveredRegions: [...]``, per-Region ``regions``) are
reported in those Regions. From flags (``flag_scope``): ``--account`` in each ``--region``.

Getting in (a ``cis_monitoring.core.access.Access`` per account): each account's ``roleArn``
(``externalId``, ``sessionName``); for the organization trail's owner ``organizationTrail.roleArn``/
``externalId`` first; ``--role-name`` replaces them with that role in every account, and
``--owner-role-arn`` names the role for the log group's account (the organization trail owner). An
account nobody names a role for is read with the caller's own credentials, which the session
factory verifies are that account's.

A stack account with no way in of its own (no ``roleArn``, no ``--role-name``) and no trail of its
own in the stack, that the organization trail is stated to cover, is judged from the organization
trail as its owner sees it (``access`` None), by default: only the organization trail can cover it
(the config's own rule), so its owner's view is the whole story, where entering it with the
caller's credentials would fail (AccountMismatch) for every member. ``--members-from-organization``
also reports the organization's other ACTIVE accounts (organizations:ListAccounts in the owner's
account), judged the same way. An account with a role is entered and read itself.

Every flag is checked before any AWS call, with the same value checks as the config's keys
(``cis_monitoring.spec.fields``); Regions against the core's list of each partition's Regions.
Every problem names its flag, and all of them are reported together (``UsageError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from cis_monitoring.audit.real_time import RulePlace, member_notes, real_time_sites
from cis_monitoring.core.access import DEFAULT_SESSION_NAME, Access
from cis_monitoring.core.aws import arns
from cis_monitoring.core.aws.regions import partition_of
from cis_monitoring.core.errors import UsageError
from cis_monitoring.core.plan import ALL_ACCOUNTS, MEMBERS_ALL, CoverageClaim
from cis_monitoring.core.topology import ALL_REGIONS, ORGANIZATION
from cis_monitoring.flags import one_error, region_problems
from cis_monitoring.spec import StackConfig, coverage_plan
from cis_monitoring.spec import fields as check

__all__ = [
    "EVERY_ENABLED_REGION",
    "AccountFlags",
    "AccountScope",
    "AuditScope",
    "flag_scope",
    "one_error",
    "owner_access",
    "region_problems",
    "stack_scope",
    "with_members",
]

EVERY_ENABLED_REGION = "all"
"""``--region all``: every Region enabled for the caller's account (``cis_monitoring.audit.aws.enabled_regions``)."""


@dataclass(frozen=True)
class AccountScope:
    """One account to report on, in which Regions, and how to read the trails it sees."""

    account_id: str
    account_name: str
    regions: tuple[str, ...]
    all_regions: bool
    """The config states every Region covered: ``regions`` stand for all of them."""
    access: Access | None
    """None: not entered; judged from the organization trail as its owner sees it."""
    log_group: str | None = None
    """``--log-group``: the group the account's events must reach (checked, else not required)."""
    claims: tuple[CoverageClaim, ...] = ()
    """What the stack states covers this account (compared with what AWS shows)."""


@dataclass(frozen=True)
class OrganizationSource:
    """Where ``--members-from-organization`` lists the members and finds the organization trail."""

    owner: str
    home_region: str | None
    """The trail's home Region, when the config names it (else the first Region audited)."""
    trail_name: str | None = None


@dataclass(frozen=True)
class AuditScope:
    accounts: tuple[AccountScope, ...]
    regions: tuple[str, ...]
    """The Regions that stand for "all Regions" (for members found in the organization)."""
    access: Mapping[str, Access] = field(default_factory=dict)
    """How to read chains in an account (the log group's owner) when it is no audited account."""
    role_name: str | None = None
    organization: OrganizationSource | None = None
    """Where the organization trail is read for the accounts judged from it (``access`` None)."""
    notes: tuple[str, ...] = ()
    stated_organization: OrganizationSource | None = None
    """The organization trail as the stack states it (its owner, home and name), to hold against AWS."""
    list_members: bool = False
    """``--members-from-organization``: also report the organization's ACTIVE accounts the scope lacks."""
    real_time: Mapping[tuple[str, str], tuple[RulePlace, ...]] = field(default_factory=dict)
    """(account, chain Region) -> where the stack's ``realTime`` puts that chain's rules (empty: none)."""

    def access_for(self, account_id: str) -> Access:
        """How to enter ``account_id`` to read a log group's chain there."""
        if account_id in self.access:
            return self.access[account_id]
        if self.role_name is not None:
            return Access(account_id, arns.role_arn(account_id, self.role_name))
        return Access(account_id)

    def name_of(self, account_id: str) -> str:
        return next((a.account_name for a in self.accounts if a.account_id == account_id), account_id)

    @property
    def pairs(self) -> int:
        return sum(len(a.regions) for a in self.accounts)


def role_named(account_id: str, role_name: str) -> str:
    """``--role-name``: the ARN of role ``role_name`` in ``account_id`` (UsageError if it is no role name)."""
    role_arn = arns.role_arn(account_id, role_name)
    if arns.parse_role_arn(role_arn) is None:
        raise UsageError(f"--role-name: {role_name!r} is not an IAM role name (letters, digits and _+=,.@-)")
    return role_arn


def owner_access(owner_role_arn: str, session_name: str | None = None) -> Access:
    """``--owner-role-arn``: the role and the account it is in (UsageError if it is no role ARN)."""
    role = arns.parse_role_arn(owner_role_arn)
    if role is None or not role.account:
        raise UsageError(
            f"--owner-role-arn: {owner_role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        )
    return Access(role.account, owner_role_arn, None, session_name or DEFAULT_SESSION_NAME)


def _ordered(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def stack_scope(
    config: StackConfig,
    *,
    role_name: str | None = None,
    owner: Access | None = None,
    regions: Sequence[str] = (),
    members_from_organization: bool = False,
) -> AuditScope:
    """The pairs of a validated stack config (see the module docstring); UsageError for bad flags."""
    plan = coverage_plan(config)
    organization = config.organization_trail
    if members_from_organization and organization is None:
        raise UsageError(
            "--members-from-organization: the stack has no organizationTrail to list members from"
        )
    stated = _ordered(
        [site.region for site in plan.sites] + [c.region for c in plan.claims if c.region != ALL_REGIONS]
    )
    partition = partition_of(stated[0]) if stated else None
    problems = region_problems(regions, partition, " (the partition of the stack's Regions)")
    if problems:
        raise one_error(problems)
    everywhere = tuple(regions) or stated
    entries = {account.id: account for account in config.accounts}
    access: dict[str, Access] = {}
    for account in config.accounts:
        role_arn = role_named(account.id, role_name) if role_name else account.role_arn
        external_id = None if role_name else account.external_id
        access[account.id] = Access(account.id, role_arn, external_id, account.session_name)
    if organization is not None:
        listed = access.get(organization.account_id, Access(organization.account_id))
        if not role_name and organization.role_arn:
            listed = listed._replace(role_arn=organization.role_arn, external_id=organization.external_id)
        access[organization.account_id] = listed
    if owner is not None:
        access[owner.account_id] = owner
    # The stack's order of accounts, then an organization trail owner it does not list.
    by_account: dict[str, list[CoverageClaim]] = {account_id: [] for account_id in entries}
    for claim in plan.claims:
        if claim.account_id != ALL_ACCOUNTS:
            by_account.setdefault(claim.account_id, []).append(claim)
    own_trail = {a.id for a in config.accounts if a.trail is not None or a.regions}
    if organization is not None:
        own_trail.add(organization.account_id)
    accounts = []
    for account_id, claims in by_account.items():
        every = not claims or any(c.region == ALL_REGIONS for c in claims)
        listed_regions = [c.region for c in claims if c.region != ALL_REGIONS]
        entry = entries.get(account_id)
        has_role = role_name is not None or (entry is not None and entry.role_arn is not None)
        by_organization = any(c.kind == ORGANIZATION for c in claims)
        reads_itself = account_id in own_trail or has_role or not by_organization
        accounts.append(
            AccountScope(
                account_id=account_id,
                account_name=entry.name if entry is not None else account_id,
                regions=_ordered([*listed_regions, *(everywhere if every else ())]),
                all_regions=every,
                access=access.get(account_id, Access(account_id)) if reads_itself else None,
                claims=tuple(claims),
            )
        )
    notes = []
    if organization is not None and organization.members == MEMBERS_ALL and not members_from_organization:
        notes.append(
            "organizationTrail.members is 'all': only the stack's accounts are reported; pass"
            " --members-from-organization to report every ACTIVE account of the organization"
        )
    notes += member_notes(config)
    stated = None
    if organization is not None:
        stated = OrganizationSource(organization.account_id, organization.home_region, organization.name)
    judged_from_organization = any(a.access is None for a in accounts)
    source = stated if members_from_organization or judged_from_organization else None
    return AuditScope(
        tuple(accounts),
        everywhere,
        access,
        role_name,
        source,
        tuple(notes),
        stated,
        list_members=members_from_organization,
        real_time=real_time_sites(config),
    )


@dataclass(frozen=True)
class AccountFlags:
    """``--account`` and what goes with it (``log_group`` None: not given)."""

    account: str
    regions: Sequence[str]
    log_group: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str | None = None
    account_name: str | None = None

    def problems(self) -> list[str]:
        """Every problem of these flags, each naming its flag."""
        problems: list[str] = []

        def checked(flag: str, value: str | None, value_check: Callable[[str], object]) -> None:
            if value is None:
                return
            try:
                value_check(value)
            except ValueError as error:
                problems.append(f"{flag}: {error}")

        checked("--account", self.account, check.account_id)
        problems += region_problems(self.regions)
        checked("--log-group", self.log_group, check.log_group)
        checked("--role-arn", self.role_arn, check.role_arn)
        role = arns.parse_role_arn(self.role_arn)
        if role is not None and arns.is_account_id(self.account) and role.account != self.account:
            problems.append(
                f"--role-arn: the role is in account {role.account}, not in account {self.account}"
            )
        checked("--external-id", self.external_id, check.external_id)
        if self.external_id is not None and self.role_arn is None:
            problems.append("--external-id: goes with --role-arn (it is sent when assuming that role)")
        checked("--session-name", self.session_name, check.session_name)
        checked("--account-name", self.account_name, check.account_name)
        return problems

    @property
    def access(self) -> Access:
        return Access(
            self.account, self.role_arn, self.external_id, self.session_name or DEFAULT_SESSION_NAME
        )


def flag_scope(
    flags: AccountFlags, *, owner: Access | None = None, members_from_organization: bool = False
) -> AuditScope:
    """``--account`` in each ``--region`` (UsageError lists every bad flag at once).

    With ``members_from_organization`` the account is the organization trail's owner, and the
    members it lists are reported in the same Regions.
    """
    problems = flags.problems()
    if problems:
        raise one_error(problems)
    account = AccountScope(
        flags.account,
        flags.account_name or flags.account,
        tuple(flags.regions),
        all_regions=False,
        access=flags.access,
        log_group=flags.log_group,
    )
    access = {flags.account: flags.access}
    if owner is not None:
        access[owner.account_id] = owner
    source = OrganizationSource(flags.account, None) if members_from_organization else None
    return AuditScope(
        (account,), tuple(flags.regions), access, None, source, list_members=members_from_organization
    )


def with_members(scope: AuditScope, members: Mapping[str, str]) -> AuditScope:
    """The scope with the organization's ACTIVE accounts (id -> name) it does not report yet, unentered."""
    known = {a.account_id for a in scope.accounts}
    added = tuple(
        AccountScope(account_id, name, scope.regions, all_regions=True, access=None)
        for account_id, name in members.items()
        if account_id not in known
    )
    named = tuple(
        replace(a, account_name=members[a.account_id])
        if a.account_name == a.account_id and a.account_id in members
        else a
        for a in scope.accounts
    )
    return replace(scope, accounts=named + added)
