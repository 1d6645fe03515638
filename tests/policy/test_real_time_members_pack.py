"""The pack on a member account's forwarding (``cis-real-time-alerts``): each link the stack shows is checked.

In process, on stacks the real program registers (as ``test_real_time_pack.py``): the member's rule, its
role, the receiving bus's permission or policy for the member, and the receiving bus's rule. A broken one
fails the member's verdict, naming it; none passes unchecked.
"""

from __future__ import annotations

from typing import Any

from local.program_harness import run_program
from tests.components.test_real_time_members import OWNER, PAYMENTS, _config
from tests.policy.test_real_time_pack import _resources, _verdicts

PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
RULE = "aws:cloudwatch/eventRule:EventRule"


def _member_verdicts(real_time: dict[str, Any], drop: Any = None, edit: Any = None) -> list[Any]:
    run = run_program(_config(real_time))
    assert run.error is None, run.error
    resources = [r for r in _resources(run) if drop is None or not drop(r)]
    if edit is not None:
        resources = [edit(r) for r in resources]
    return [v for v in _verdicts(resources) if v.target.account == PAYMENTS]


def _summary(verdicts: list[Any]) -> str:
    return " ".join(v.message for v in verdicts)


def test_the_programs_member_forwarding_passes_with_what_was_checked_said() -> None:
    verdicts = _member_verdicts({"regions": ["us-east-1", "eu-west-1"]})
    assert {v.target.region for v in verdicts} == {"us-east-1", "eu-west-1"}
    assert all(v.ok for v in verdicts), _summary(verdicts)
    assert all(
        f"its policy for account {PAYMENTS} admits it" in (v.verdict.path.trusted or "") for v in verdicts
    )


def test_without_the_owners_permission_for_the_member_it_fails() -> None:
    verdicts = _member_verdicts({}, drop=lambda r: r.type == PERMISSION)
    assert verdicts and not any(v.ok for v in verdicts)
    assert f"lets account {PAYMENTS} put events" in _summary(verdicts)


def test_a_forwarding_target_without_a_role_fails() -> None:
    def no_role(r: Any) -> Any:
        if r.type == TARGET and PAYMENTS in str(r.provider_props):
            r.props.pop("roleArn", None)
        return r

    verdicts = _member_verdicts({}, edit=no_role)
    assert verdicts and not any(v.ok for v in verdicts) and "no role" in _summary(verdicts)


def test_without_the_delivery_rule_on_the_owners_bus_it_fails() -> None:
    def owners_rule(r: Any) -> bool:
        return (
            r.type == RULE
            and OWNER in str(r.provider_props)
            and r.props.get("name") == "cis-4-5-cloudtrail-changes-realtime"
        )

    verdicts = _member_verdicts({}, drop=owners_rule)
    assert verdicts and not any(v.ok for v in verdicts) and "has no rule" in _summary(verdicts)


def test_with_a_central_bus_the_organization_policy_admits_the_member() -> None:
    bus = {"accountId": "555555555555", "region": "us-east-1", "organizationId": "o-abcdefghij"}
    verdicts = _member_verdicts({"centralBus": bus})
    assert verdicts and all(v.ok for v in verdicts), _summary(verdicts)
    failing = _member_verdicts({"centralBus": bus}, drop=lambda r: r.type == BUS_POLICY)
    assert failing and not any(v.ok for v in failing)
