"""The check that a role's credentials are the audited account's, read from AssumeRole's own answer.

STS returns, with the credentials, ``AssumedRoleUser.Arn`` (``arn:aws:sts::<account>:assumed-role/
<role>/<session>``): the audit reads the account from it instead of asking GetCallerIdentity with a
client of its own per account. These tests rewrite moto's real AssumeRole answer (botocore's
``after-call`` event hands handlers the parsed answer) to show that another account in it is
AccountMismatch, and that a missing or malformed one falls back to GetCallerIdentity, whose own
answer is still judged: the check is never skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from cis_monitoring.audit.aws import AccountMismatchError, SessionFactory
from cis_monitoring.core.access import Access
from cis_monitoring.core.aws.arns import parse_assumed_role_arn
from cis_monitoring.core.status import Status
from tests.audit.test_audit_unit import REGION, group_of, new_session, one

MEMBER = "111111111111"
OTHER = "222222222222"
ROLE_ARN = f"arn:aws:iam::{MEMBER}:role/cis-monitoring-auditor"


def _rewrite(session: boto3.Session, operation: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the parsed answer of ``sts:<operation>`` before the audit sees it."""

    def rewrite(parsed: dict[str, Any], **_: Any) -> None:
        change(parsed)

    session.events.register(f"after-call.sts.{operation}", rewrite)


def _sts_calls(session: boto3.Session) -> list[str]:
    calls: list[str] = []
    session.events.register("before-call.sts.*", lambda model, **_: calls.append(model.name))
    return calls


def _audit(session: boto3.Session) -> Any:
    return one(group_of(account=MEMBER), Access(MEMBER, ROLE_ARN), SessionFactory(session))


def test_an_assumed_role_arn_of_another_account_is_a_mismatch_naming_both(aws: None) -> None:
    session = new_session()
    other = f"arn:aws:sts::{OTHER}:assumed-role/cis-monitoring-auditor/cis-monitoring-audit"
    _rewrite(session, "AssumeRole", lambda parsed: parsed["AssumedRoleUser"].update(Arn=other))
    result = _audit(session)
    assert result.status == Status.ERROR
    assert result.error is not None and result.error.code == AccountMismatchError.code
    assert f"account {OTHER} ({other})" in result.reasons[0] and MEMBER in result.reasons[0]


def test_the_members_own_assumed_role_arn_is_accepted_without_another_call(aws: None) -> None:
    session = new_session()
    calls = _sts_calls(session)
    result = _audit(session)
    # The member account is empty: entered as the member, the chain's log group is not found.
    assert result.error is not None and result.error.code == "ResourceNotFoundException"
    assert calls == ["AssumeRole"]


def _drop_user(parsed: dict[str, Any]) -> None:
    del parsed["AssumedRoleUser"]


def _malformed_arn(parsed: dict[str, Any]) -> None:
    parsed["AssumedRoleUser"]["Arn"] = f"arn:aws:iam::{MEMBER}:role/cis-monitoring-auditor"  # no session ARN


@pytest.mark.parametrize("change", [_drop_user, _malformed_arn], ids=["missing", "malformed"])
def test_without_a_session_arn_the_credentials_are_asked_and_still_judged(
    aws: None, change: Callable[[dict[str, Any]], None]
) -> None:
    session = new_session()
    calls = _sts_calls(session)
    _rewrite(session, "AssumeRole", change)
    result = _audit(session)
    assert result.error is not None and result.error.code == "ResourceNotFoundException"  # entered
    assert calls == ["AssumeRole", "GetCallerIdentity"]

    # And GetCallerIdentity's answer is judged: another account there is still a mismatch.
    session = new_session()
    _rewrite(session, "AssumeRole", change)
    _rewrite(session, "GetCallerIdentity", lambda parsed: parsed.update(Account=OTHER))
    result = _audit(session)
    assert result.error is not None and result.error.code == AccountMismatchError.code


@pytest.mark.parametrize(
    "text",
    [
        f"arn:aws:sts::{MEMBER}:assumed-role/auditor/session-1",
        f"arn:aws-cn:sts::{MEMBER}:assumed-role/auditor/a@b.c",
    ],
)
def test_parse_assumed_role_arn_reads_the_account(text: str) -> None:
    arn = parse_assumed_role_arn(text)
    assert arn is not None and arn.account == MEMBER


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        f"arn:aws:iam::{MEMBER}:role/auditor",
        f"arn:aws:sts::{MEMBER}:federated-user/alice",
        f"arn:aws:sts:{REGION}:{MEMBER}:assumed-role/auditor/session",
        "arn:aws:sts::12345:assumed-role/auditor/session",
        f"arn:aws:sts::{MEMBER}:assumed-role/auditor",
        f"arn:aws:sts::{MEMBER}:assumed-role/auditor/session/extra",
    ],
)
def test_parse_assumed_role_arn_refuses_anything_else(text: str | None) -> None:
    assert parse_assumed_role_arn(text) is None
