"""Member accounts covered only by the organization trail: the real ``__main__.py`` under Pulumi mocks.

Their API calls reach only their own default buses (CloudTrail sends them to the default bus of the account
and Region of the call), so with ``realTime`` a member with a ``roleArn`` gets forwarding rules in each watched
Region, to the delivery bus, with a role that may only put events there; a member without one gets nothing,
and the outputs say so.
"""

from __future__ import annotations

import json
from typing import Any

from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.detectors import event_rule as kind
from cis_monitoring.core.event_pattern import as_event, matches
from cis_monitoring.spec.realtime import NO_ROLE
from local.program_harness import ProgramRun, decode_provider_inputs, run_program

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"
OWNER, PAYMENTS, DATA, SECURITY = "999999999999", "333333333333", "444444444444", "555555555555"
OWNER_BUS = f"arn:aws:events:us-east-1:{OWNER}:event-bus/default"
CENTRAL_BUS = f"arn:aws:events:us-east-1:{SECURITY}:event-bus/cis-realtime"
CONTROL = CONTROLS["4.5"]


def _config(real_time: dict[str, Any] | None, *, payments_role: bool = True) -> dict[str, Any]:
    payments: dict[str, Any] = {"id": PAYMENTS, "name": "payments"}
    if payments_role:
        payments["roleArn"] = f"arn:aws:iam::{PAYMENTS}:role/cis-monitoring-deployer"
    config: dict[str, Any] = {
        "organizationTrail": {
            "accountId": OWNER,
            "homeRegion": "us-east-1",
            "logGroupPrefix": "aws-controltower/CloudTrailLogs",
        },
        "accounts": [
            {
                "id": OWNER,
                "name": "management",
                "roleArn": f"arn:aws:iam::{OWNER}:role/cis-monitoring-deployer",
            },
            payments,
            {"id": DATA, "name": "data"},
            {
                "id": SECURITY,
                "name": "security",
                "roleArn": f"arn:aws:iam::{SECURITY}:role/cis-monitoring-deployer",
                "trail": {"homeRegion": "us-east-1", "logGroup": "trail"},
            },
        ],
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }
    if real_time is not None:
        config["realTime"] = real_time
    return config


def _run(config: dict[str, Any]) -> ProgramRun:
    run = run_program(config)
    assert run.error is None, run.error
    return run


def _in(run: ProgramRun, type_: str, account: str) -> list[Any]:
    return [r for r in run.of_type(type_) if run.provider_site(r)[0] == account]


def test_a_member_with_a_role_forwards_every_watched_region_to_the_owners_default_bus() -> None:
    run = _run(_config({"regions": ["us-east-1", "eu-west-1"]}))
    rules = _in(run, RULE, PAYMENTS)
    assert sorted(r.inputs.get("region") or "provider" for r in rules) == ["eu-west-1", "provider"]
    assert {run.provider_site(r) for r in rules} == {(PAYMENTS, "us-east-1")}  # the bus's Region
    expected = kind.rule_pattern(CONTROL)
    assert all(json.loads(r.inputs["eventPattern"]) == expected for r in rules)
    targets = _in(run, TARGET, PAYMENTS)
    assert {t.inputs["arn"] for t in targets} == {OWNER_BUS} and all(t.inputs["roleArn"] for t in targets)
    assert all("inputTransformer" not in t.inputs for t in targets)  # the raw event, for the owner's rule
    [policy] = _in(run, ROLE_POLICY, PAYMENTS)
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {
            "Sid": "ForwardToTheDeliveryBus",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": OWNER_BUS,
        }
    ]
    [role] = _in(run, ROLE, PAYMENTS)
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "events.amazonaws.com"}]
    provider = decode_provider_inputs(run.provider_for(rules[0]).inputs)  # type: ignore[union-attr]
    assert provider["assumeRoles"][0]["roleArn"] == f"arn:aws:iam::{PAYMENTS}:role/cis-monitoring-deployer"


def test_the_owners_default_bus_admits_exactly_the_members_that_forward() -> None:
    run = _run(_config({}))
    [permission] = run.of_type(PERMISSION)
    assert run.provider_site(permission) == (OWNER, "us-east-1")
    assert permission.inputs["principal"] == PAYMENTS and permission.inputs["action"] == "events:PutEvents"
    assert permission.inputs["statementId"] == f"cis-realtime-{PAYMENTS}"
    assert not permission.inputs.get("eventBusName")  # the default bus, where the owner's rule delivers


def test_the_delivery_rule_matches_the_forwarded_events_of_any_account() -> None:
    """A forwarded event keeps the member's ``account``; the owner's rule must not pin it."""
    run = _run(_config({}))
    owner_rules = [
        r
        for r in _in(run, RULE, OWNER)
        if r.inputs["name"] == "cis-4-5-cloudtrail-changes-realtime" and not r.inputs.get("eventBusName")
    ]
    [rule] = owner_rules
    pattern = json.loads(rule.inputs["eventPattern"])
    assert "account" not in pattern
    sample = CONTROL.target_samples()[0].record
    event = {**as_event(sample), "account": PAYMENTS}
    assert matches(pattern, event).matched


def test_a_member_without_a_role_gets_nothing_and_the_outputs_say_so() -> None:
    run = _run(_config({}))
    assert not _in(run, RULE, DATA) and not [
        p for p in run.of_type(PERMISSION) if p.inputs["principal"] == DATA
    ]
    members = run.outputs["realTimeMembers"]
    assert members[DATA] == {"accountName": "data", "notDeployed": NO_ROLE}
    assert members[PAYMENTS]["forwardsTo"] == OWNER_BUS
    assert members[PAYMENTS]["realTime"]["4.5"]["ruleName"] == "cis-4-5-cloudtrail-changes-realtime"


def test_with_a_central_bus_members_forward_there_and_its_policy_admits_the_organization() -> None:
    bus = {"accountId": SECURITY, "region": "us-east-1", "organizationId": "o-abcdefghij"}
    run = _run(_config({"centralBus": bus}))
    targets = _in(run, TARGET, PAYMENTS)
    assert targets and {t.inputs["arn"] for t in targets} == {CENTRAL_BUS}
    [policy] = _in(run, ROLE_POLICY, PAYMENTS)
    assert [s["Resource"] for s in json.loads(policy.inputs["policy"])["Statement"]] == [CENTRAL_BUS]
    assert not run.of_type(PERMISSION)  # the organization-wide bus policy admits them
    [bus_policy] = run.of_type(BUS_POLICY)
    statement = json.loads(bus_policy.inputs["policy"])["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}


def test_existing_resources_keep_their_urns_and_inputs_when_a_member_gets_a_role() -> None:
    before = _run(_config({"regions": ["us-east-1", "eu-west-1"]}, payments_role=False))
    after = _run(_config({"regions": ["us-east-1", "eu-west-1"]}))
    old, new = before.by_urn(), after.by_urn()
    assert set(old) < set(new)
    for urn, resource in old.items():
        assert json.dumps(resource.inputs, sort_keys=True) == json.dumps(new[urn].inputs, sort_keys=True), urn
    added = {r.type for urn, r in new.items() if urn not in old}
    assert PERMISSION in added and RULE in added
    assert all(PAYMENTS in urn for urn in set(new) - set(old) if "admit" not in urn)


def test_without_real_time_members_get_nothing() -> None:
    run = _run(_config(None))
    assert not run.of_type(RULE) and not run.of_type(PERMISSION) and "realTimeMembers" not in run.outputs


def test_the_deployer_may_admit_members_on_the_default_bus_and_no_other_bus() -> None:
    from tests.components.test_deployer_policy import granting

    default = f"arn:aws:events:us-east-1:{OWNER}:event-bus/default"
    for action in ("events:PutPermission", "events:RemovePermission", "events:DescribeEventBus"):
        assert granting(action, default)
        assert not granting(action, default.replace("default", "other-bus"))
