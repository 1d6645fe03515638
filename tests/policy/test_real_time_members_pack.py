"""The pack on a member account's forwarding (``cis-real-time-alerts``): each link the stack shows is checked.

In process, on stacks the real program registers (as ``test_real_time_pack.py``): the member's rule, its
role, the receiving bus's permission or policy for the member, and the receiving bus's rule. A broken one
fails the member's verdict, naming it; none passes unchecked.
"""

from __future__ import annotations

import json
from typing import Any

from local.analyzer_client import POLICY_SOURCE_DIR
from local.program_harness import run_program, stack_config
from policy.cis_guard import pack_config
from policy.cis_guard.chain import StackIndex
from policy.cis_guard.coverage import judge_stack
from policy.cis_guard.rules import real_time_verdicts
from tests.components.test_real_time_members import OWNER, PAYMENTS, _config
from tests.conftest import PAGER_URL
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


def test_the_prod_stack_with_member_roles_passes_the_whole_pack_with_its_shipped_config() -> None:
    """``Pulumi.prod.yaml`` with a deployer role in each member: no CIS violation, and every member passes."""
    config = stack_config("prod")[0]
    config["pagerEndpoint"] = PAGER_URL
    members = [a for a in config["accounts"] if "trail" not in a and "roleArn" not in a]
    assert [a["id"] for a in members] == [PAYMENTS, "444444444444"]
    for account in members:
        account["roleArn"] = f"arn:aws:iam::{account['id']}:role/cis-monitoring-deployer"
    run = run_program(config, stack="prod", secret_keys=["pagerEndpoint"])
    assert run.error is None, run.error
    shipped = json.loads((POLICY_SOURCE_DIR / "config" / "prod.json").read_text())
    settings = pack_config.load(shipped["cis-monitoring-chain"])
    index = StackIndex.build(_resources(run))
    assert judge_stack(index, settings).violations == []
    verdicts = [
        v for v in real_time_verdicts(index, settings) if v.target.account in (PAYMENTS, "444444444444")
    ]
    assert {(v.target.account, v.target.region) for v in verdicts} == {
        (a, r) for a in (PAYMENTS, "444444444444") for r in ("us-east-1", "us-west-2", "eu-west-1")
    }
    assert all(v.ok for v in verdicts), " ".join(v.message for v in verdicts)


def test_a_forwarding_only_member_without_a_declared_trail_is_still_a_chain_site() -> None:
    """The pack cannot see trails: a member it is not told the organization trail records keeps needing a chain."""
    run = run_program(_config({}))
    assert run.error is None, run.error
    violations = judge_stack(StackIndex.build(_resources(run)), pack_config.load({})).violations
    assert any(v.target is not None and v.target.account == PAYMENTS for v in violations)
