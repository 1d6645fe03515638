"""Where a chain audit looks: one AuditLocation per monitored log group, from a stack file or from flags.

An audit location is not a deploy target: it has no notification settings or tags,
because the audit reads what is deployed instead of what the config asks for. From a
stack file the locations are the stack's chain sites that name their log group
(validated as the program does, by rollout/stack_file.py; a site found by prefix is
audited through the coverage audit, which follows the trail to the group). From the
command line each flag is checked with the same value checks as the config's keys
(cis_monitoring/spec/fields.py), and every problem names its flag (``AccountFlags.problems``,
shared with the coverage audit's flags in verify/scope.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cis_monitoring.core.aws import arns
from cis_monitoring.core.aws.arns import BY_NAME
from cis_monitoring.spec import DEFAULT_SESSION_NAME, StackConfig, coverage_plan
from cis_monitoring.spec import ConfigProblem as Problem
from cis_monitoring.spec import fields as check
from cis_monitoring.spec.load import read_stack_file


@dataclass(frozen=True)
class AuditLocation:
    """One (account, Region) to audit, and how to get into the account."""

    account_id: str
    account_name: str
    region: str
    log_group: str
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"


class FlagError(ValueError):
    """Bad flags: every problem, each naming its flag (``Problem.path`` is the flag)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def locations_of(config: StackConfig) -> list[AuditLocation]:
    """Every chain site of a validated stack config that names its log group."""
    accounts = {account.id: account for account in config.accounts}
    organization = config.organization_trail
    found = []
    for site in coverage_plan(config).sites:
        account = accounts.get(site.account_id)
        if site.log_group.match != BY_NAME or account is None:
            continue
        role_arn, external_id = account.role_arn, account.external_id
        if organization is not None and site.account_id == organization.account_id:
            role_arn = organization.role_arn or role_arn
            external_id = organization.external_id or external_id
        found.append(
            AuditLocation(
                account_id=site.account_id,
                account_name=account.name,
                region=site.region,
                log_group=site.log_group.name,
                role_arn=role_arn,
                external_id=external_id,
                session_name=account.session_name,
            )
        )
    return found


def stack_locations(path_or_stack: str, repo_root: Path | str | None = None) -> list[AuditLocation]:
    """The locations of ``Pulumi.<stack>.yaml`` (StackFileError if the file is missing or invalid)."""
    return locations_of(read_stack_file(path_or_stack, repo_root).config)


def role_named(account_id: str, role_name: str) -> str:
    """``--role-name``: the ARN of role ``role_name`` in ``account_id`` (FlagError if it is no role name)."""
    role_arn = arns.role_arn(account_id, role_name)
    if arns.parse_role_arn(role_arn) is None:
        raise FlagError(
            [Problem("--role-name", f"{role_name!r} is not an IAM role name (letters, digits and _+=,.@-)")]
        )
    return role_arn


def with_role(location: AuditLocation, role_name: str) -> AuditLocation:
    """The same location, entered through role ``role_name`` in its own account (``--role-name``)."""
    return replace(location, role_arn=role_named(location.account_id, role_name))


@dataclass(frozen=True)
class AccountFlags:
    """The location flags: ``--account`` and what goes with it (``log_group`` None: not given)."""

    account: str
    regions: Sequence[str]
    log_group: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str | None = None
    account_name: str | None = None

    def problems(self) -> list[Problem]:
        """Every problem of these flags, each naming its flag."""
        problems: list[Problem] = []

        def checked(flag: str, value: str | None, value_check: Callable[[str], object]) -> None:
            if value is None:
                return
            try:
                value_check(value)
            except ValueError as error:
                problems.append(Problem(flag, str(error)))

        checked("--account", self.account, check.account_id)
        for region in self.regions:
            checked("--region", region, check.region)
        seen = [r for i, r in enumerate(self.regions) if r in self.regions[:i]]
        problems.extend(Problem("--region", f"{r} is given twice") for r in dict.fromkeys(seen))
        checked("--log-group", self.log_group, check.log_group)
        checked("--role-arn", self.role_arn, check.role_arn)
        role = arns.parse_role_arn(self.role_arn)
        if role is not None and arns.is_account_id(self.account) and role.account != self.account:
            problems.append(
                Problem("--role-arn", f"the role is in account {role.account}, not in account {self.account}")
            )
        checked("--external-id", self.external_id, check.external_id)
        if self.external_id is not None and self.role_arn is None:
            problems.append(
                Problem("--external-id", "goes with --role-arn (it is sent when assuming that role)")
            )
        checked("--session-name", self.session_name, check.session_name)
        checked("--account-name", self.account_name, check.account_name)
        return problems

    def check(self) -> None:
        """FlagError listing every problem at once, if there is any."""
        problems = self.problems()
        if problems:
            raise FlagError(problems)


def flag_locations(flags: AccountFlags) -> list[AuditLocation]:
    """One location per ``--region`` of ``--account`` and its ``--log-group``; FlagError lists every bad flag."""
    problems = flags.problems()
    if flags.log_group is None:
        problems.append(Problem("--log-group", "is needed: it names the log group whose chain is audited"))
    if problems:
        raise FlagError(problems)
    assert flags.log_group is not None
    return [
        AuditLocation(
            account_id=flags.account,
            account_name=flags.account_name or flags.account,
            region=region,
            log_group=flags.log_group,
            role_arn=flags.role_arn,
            external_id=flags.external_id,
            session_name=flags.session_name or DEFAULT_SESSION_NAME,
        )
        for region in flags.regions
    ]
