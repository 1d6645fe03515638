"""Where a chain audit looks: one AuditLocation per monitored log group, from a stack file or from flags.

An audit location is not a deploy target: it has no notification settings or tags,
because the audit reads what is deployed instead of what the config asks for. From a
stack file the locations are the stack's chain sites that name their log group
(validated as the program does, by rollout/stack_file.py; a site found by prefix is
audited through the coverage audit, which follows the trail to the group). From the
command line each flag is checked with the same value checks as the config's keys
(components/config/fields.py), and every problem names its flag (``flag_problems``,
shared with the coverage audit's flags in verify/scope.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cis_core.aws import arns
from components.config import DEFAULT_SESSION_NAME, Problem, StackConfig, coverage_plan
from components.config import fields as check
from rollout.stack_file import read_stack_file


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
        if site.log_group is None or account is None:
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
                log_group=site.log_group,
                role_arn=role_arn,
                external_id=external_id,
                session_name=account.session_name,
            )
        )
    return found


def stack_locations(path_or_stack: str, repo_root: Path | str | None = None) -> list[AuditLocation]:
    """The locations of ``Pulumi.<stack>.yaml`` (StackFileError if the file is missing or invalid)."""
    return locations_of(read_stack_file(path_or_stack, repo_root).config)


def with_role(location: AuditLocation, role_name: str) -> AuditLocation:
    """The same location, entered through role ``role_name`` in its own account (``--role-name``)."""
    role_arn = arns.role_arn(location.account_id, role_name)
    if arns.parse_role_arn(role_arn) is None:
        raise FlagError(
            [Problem("--role-name", f"{role_name!r} is not an IAM role name (letters, digits and _+=,.@-)")]
        )
    return replace(location, role_arn=role_arn)


def flag_problems(
    *,
    account: str,
    regions: Sequence[str],
    log_group: str | None,
    role_arn: str | None = None,
    external_id: str | None = None,
    session_name: str | None = None,
    account_name: str | None = None,
) -> list[Problem]:
    """Every problem of the location flags, each naming its flag (``log_group`` None: not given)."""
    problems: list[Problem] = []

    def checked(flag: str, value: str, value_check: Callable[[str], object]) -> None:
        try:
            value_check(value)
        except ValueError as error:
            problems.append(Problem(flag, str(error)))

    checked("--account", account, check.account_id)
    for region in regions:
        checked("--region", region, check.region)
    seen = [r for i, r in enumerate(regions) if r in regions[:i]]
    problems.extend(Problem("--region", f"{r} is given twice") for r in dict.fromkeys(seen))
    if log_group is not None:
        checked("--log-group", log_group, check.log_group)
    if role_arn is not None:
        checked("--role-arn", role_arn, check.role_arn)
        role = arns.parse_role_arn(role_arn)
        if role is not None and arns.is_account_id(account) and role.account != account:
            problems.append(
                Problem("--role-arn", f"the role is in account {role.account}, not in account {account}")
            )
    if external_id is not None:
        checked("--external-id", external_id, check.external_id)
        if role_arn is None:
            problems.append(
                Problem("--external-id", "goes with --role-arn (it is sent when assuming that role)")
            )
    if session_name is not None:
        checked("--session-name", session_name, check.session_name)
    if account_name is not None:
        checked("--account-name", account_name, check.account_name)
    return problems


def flag_locations(
    *,
    account: str,
    regions: Sequence[str],
    log_group: str,
    role_arn: str | None = None,
    external_id: str | None = None,
    session_name: str | None = None,
    account_name: str | None = None,
) -> list[AuditLocation]:
    """One location per ``--region`` of ``--account``; FlagError lists every bad flag at once."""
    problems = flag_problems(
        account=account,
        regions=regions,
        log_group=log_group,
        role_arn=role_arn,
        external_id=external_id,
        session_name=session_name,
        account_name=account_name,
    )
    if problems:
        raise FlagError(problems)
    return [
        AuditLocation(
            account_id=account,
            account_name=account_name or account,
            region=region,
            log_group=log_group,
            role_arn=role_arn,
            external_id=external_id,
            session_name=session_name or DEFAULT_SESSION_NAME,
        )
        for region in regions
    ]
