"""What the audit reports on: scopes from flags (each problem naming its flag) and from stack files."""

from __future__ import annotations

import pytest

from cis_monitoring import cli as top
from cis_monitoring.audit.scope import AccountFlags, flag_scope, owner_access, stack_scope
from cis_monitoring.core.access import Access
from cis_monitoring.core.errors import UsageError
from cis_monitoring.spec import read_stack_file
from local.program_harness import REPO_ROOT

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/cis-monitoring-auditor"


def _error_lines(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert top.run("audit", argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    return captured.err.splitlines()


def test_every_bad_flag_is_named_in_one_error(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--account", "12", "--region", "mars-1", "--region", "us-east-1", "--region", "us-east-1"]
    argv += ["--log-group", "arn:aws:logs:us-east-1:111111111111:log-group:x", "--role-arn", "deployer"]
    argv += ["--external-id", "my id", "--session-name", "x", "--account-name", "sand box"]
    lines = _error_lines(argv, capsys)
    assert lines == [
        "error: 8 problems in the command line:",
        "  - --account: '12' is not an AWS account id (12 digits)",
        "  - --region: 'mars-1' is not an AWS Region (e.g. us-east-1), nor 'all'",
        "  - --region: us-east-1 is given twice",
        "  - --log-group: give the log group's name, not its ARN",
        "  - --role-arn: 'deployer' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
        "  - --external-id: 'my id' contains a space: an external id may use only letters, digits and _+=,.@:/-",
        "  - --session-name: 'x' is not a valid role session name (2-64 characters of letters, digits and _+=,.@-)",
        "  - --account-name: 'sand box' is not a usable account name (letters, digits and '-', at most 40"
        " characters); it becomes part of every resource name",
    ]


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (["--role-arn", ROLE, "--external-id", "x"], "error: --external-id: 'x' is 1 character(s)"),
        (["--external-id", "cis-audit"], "error: --external-id: goes with --role-arn"),
        (
            ["--role-arn", "arn:aws:iam::999999999999:role/auditor"],
            "error: --role-arn: the role is in account 999999999999, not in account 111111111111",
        ),
    ],
)
def test_flag_checks_are_the_config_checks(
    extra: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [found] = _error_lines(
        ["--account", ACCOUNT, "--region", "us-east-1", "--log-group", "g", *extra], capsys
    )
    assert found.startswith(line)


def test_flags_make_one_account_in_each_region_and_nothing_about_notifications() -> None:
    flags = AccountFlags(
        ACCOUNT,
        ["us-east-1", "eu-west-1"],
        log_group="org-trail/cloudtrail",
        role_arn=ROLE,
        external_id="cis-audit",
    )
    scope = flag_scope(flags)
    [account] = scope.accounts
    entered = Access(ACCOUNT, ROLE, "cis-audit", "cis-monitoring")
    assert (account.account_id, account.account_name, account.regions, account.all_regions) == (
        ACCOUNT,
        ACCOUNT,
        ("us-east-1", "eu-west-1"),
        False,
    )
    assert account.access == entered and scope.access_for(ACCOUNT) == entered
    assert account.log_group == "org-trail/cloudtrail" and scope.pairs == 2
    assert not hasattr(account, "notifications") and not hasattr(scope, "notifications")


def test_a_flag_error_keeps_every_problem() -> None:
    with pytest.raises(UsageError) as raised:
        flag_scope(AccountFlags("x", ["nowhere-1"], log_group=""))
    assert [line.removeprefix("  - ").split(":")[0] for line in raised.value.lines[1:]] == [
        "--account",
        "--region",
        "--log-group",
    ]
    assert flag_scope(AccountFlags(ACCOUNT, ["us-east-1"])).accounts[0].log_group is None  # optional


def test_stack_scope_reports_every_account_in_the_stacks_regions_and_enters_each_its_way() -> None:
    config = read_stack_file("prod", REPO_ROOT).config
    scope = stack_scope(config)
    assert [(a.account_id, a.regions, a.all_regions) for a in scope.accounts] == [
        ("999999999999", ("us-east-1",), True),
        ("333333333333", ("us-east-1",), True),
        ("444444444444", ("us-east-1",), True),
        ("555555555555", ("us-east-1",), True),
    ]
    owner = scope.accounts[0].access
    assert owner == Access(
        "999999999999",
        "arn:aws:iam::999999999999:role/cis-monitoring-deployer",
        "cis-monitoring-prod",
        "cis-monitoring",
    )
    # A member without a role, only the organization trail can cover it: judged from that trail as its
    # owner sees it (not entered with the caller's credentials, which are not that account's).
    assert scope.accounts[1].access is None
    assert scope.organization is not None and scope.organization.owner == "999999999999"
    assert not scope.list_members
    assert [c.kind for c in scope.accounts[1].claims] == ["organization"]
    assert scope.access_for("999999999999") == owner

    wider = stack_scope(config, regions=["eu-west-1", "ap-southeast-2"], role_name="cis-monitoring-auditor")
    assert {a.regions for a in wider.accounts} == {("eu-west-1", "ap-southeast-2")}
    assert {a.access.role_arn for a in wider.accounts if a.access} == {
        f"arn:aws:iam::{a.account_id}:role/cis-monitoring-auditor" for a in wider.accounts
    }
    assert (
        wider.access_for("123456789012").role_arn == "arn:aws:iam::123456789012:role/cis-monitoring-auditor"
    )

    members = stack_scope(config, members_from_organization=True)
    assert [a.account_id for a in members.accounts if a.access is None] == ["333333333333", "444444444444"]
    assert members.organization is not None and members.organization.owner == "999999999999"
    owner_role = owner_access("arn:aws:iam::999999999999:role/auditor")
    assert stack_scope(config, owner=owner_role).access_for("999999999999") == owner_role


def test_the_account_with_its_own_named_log_group_is_entered_with_the_role_name() -> None:
    """prod's own chain site (555555555555, security-tooling/cloudtrail) is read through --role-name's role."""
    config = read_stack_file("prod", REPO_ROOT).config
    [own] = [a for a in stack_scope(config).accounts if a.account_id == "555555555555"]
    assert own.regions == ("us-east-1",) and {c.kind for c in own.claims} == {"direct"}
    audited = stack_scope(config, role_name="cis-monitoring-auditor").access_for("555555555555")
    assert audited.role_arn == "arn:aws:iam::555555555555:role/cis-monitoring-auditor"


def test_regions_are_checked_in_both_modes() -> None:
    config = read_stack_file("prod", REPO_ROOT).config
    with pytest.raises(UsageError) as raised:
        stack_scope(config, regions=["us-east-9"])
    assert raised.value.lines == ["--region: 'us-east-9' is not an AWS Region (e.g. us-east-1), nor 'all'"]
    with pytest.raises(UsageError) as raised:
        flag_scope(AccountFlags(ACCOUNT, ["us-gov-west-1", "us-east-1"]))
    assert raised.value.lines == [
        "--region: 'us-east-1' is in partition aws, not aws-us-gov; give Regions of one partition per run"
    ]


def test_members_from_organization_needs_an_organization_trail(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _error_lines(
        ["--stack", "dev", "--repo-root", str(REPO_ROOT), "--members-from-organization"], capsys
    )
    assert lines == [
        "error: --members-from-organization: the stack has no organizationTrail to list members from"
    ]


def test_a_bad_role_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _error_lines(
        ["--stack", "dev", "--repo-root", str(REPO_ROOT), "--role-name", "no spaces"], capsys
    )
    assert lines == ["error: --role-name: 'no spaces' is not an IAM role name (letters, digits and _+=,.@-)"]
