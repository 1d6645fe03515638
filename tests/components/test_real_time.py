"""The real ``__main__.py`` under Pulumi mocks with the opt-in ``realTime`` key: what it registers, and nothing without it."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest

from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.detectors import event_rule as kind
from cis_monitoring.core.event_pattern import InputTransformer, as_event, render
from cis_monitoring.core.judge.resource_policies import events_topic_grant, judge_grant
from local.program_harness import REPO_ROOT, ProgramRun, run_program

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUS = "aws:cloudwatch/eventBus:EventBus"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
PROVIDER = "pulumi:providers:aws"
CIS_TYPES = ("aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:cloudwatch/metricAlarm:MetricAlarm")
REAL_TIME_TYPES = (RULE, TARGET, ROLE, ROLE_POLICY, BUS, BUS_POLICY)
CONTROL = CONTROLS["4.5"]
SANDBOX, SECURITY = "111111111111", "555555555555"


def _config(real_time: Any = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "accounts": [
            {"id": SANDBOX, "name": "sandbox", "trail": {"homeRegion": "eu-west-1", "logGroup": "trail"}},
            {"id": SECURITY, "name": "security", "trail": {"homeRegion": "us-east-1", "logGroup": "trail"}},
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


def _topic_policy(run: ProgramRun, topic_name: str) -> str:
    [topic] = [t for t in run.of_type(TOPIC) if t.inputs["name"] == topic_name]
    [policy] = [p for p in run.of_type(TOPIC_POLICY) if p.inputs["arn"] == topic.outputs["arn"]]
    return policy.inputs["policy"]


def test_without_the_key_nothing_real_time_is_registered() -> None:
    run = _run(_config())
    assert not [r for r in run.resources if r.type in REAL_TIME_TYPES]
    assert all("events.amazonaws.com" not in r.inputs["policy"] for r in run.of_type(TOPIC_POLICY))
    assert all("events.amazonaws.com" not in r.inputs["policy"] for r in run.of_type(KEY))
    assert all("realTime" not in chain for chain in run.outputs["chains"].values())


def test_the_cis_chain_is_the_same_with_real_time_on() -> None:
    off, on = _run(_config()), _run(_config({"regions": ["eu-west-1", "us-east-1", "ap-south-1"]}))
    for type_ in CIS_TYPES:
        assert sorted((r.urn, json.dumps(r.inputs, sort_keys=True)) for r in off.of_type(type_)) == sorted(
            (r.urn, json.dumps(r.inputs, sort_keys=True)) for r in on.of_type(type_)
        )
    assert {r.urn for r in off.resources} <= {r.urn for r in on.resources}  # nothing renamed or replaced


def test_each_chain_gets_the_cores_rule_and_message_in_its_own_region() -> None:
    run = _run(_config({}))
    rules = run.of_type(RULE)
    assert sorted(run.provider_site(r) for r in rules) == [(SANDBOX, "eu-west-1"), (SECURITY, "us-east-1")]
    for rule in rules:
        assert rule.inputs.get("region") is None  # the provider's own Region
        assert json.loads(rule.inputs["eventPattern"]) == kind.rule_pattern(CONTROL)
        assert rule.inputs["state"] == "ENABLED"
    targets = run.of_type(TARGET)
    assert len(targets) == 2
    message = kind.message(CONTROL)
    for target in targets:
        assert target.inputs["arn"].startswith("arn:aws:sns:")
        transformer = target.inputs["inputTransformer"]
        assert InputTransformer(transformer["inputTemplate"], transformer["inputPaths"]) == message
        assert "roleArn" not in target.inputs


def test_other_regions_forward_through_the_same_provider_with_a_scoped_role() -> None:
    run = _run(_config({"regions": ["eu-west-1", "us-east-1", "ap-south-1"]}))
    assert len(run.of_type(PROVIDER)) == 2  # one per chain, whatever the number of watched Regions
    sandbox = [r for r in run.of_type(RULE) if run.provider_site(r)[0] == SANDBOX]
    assert sorted(r.inputs.get("region") or "home" for r in sandbox) == ["ap-south-1", "home", "us-east-1"]
    forwards = [t for t in run.of_type(TARGET) if t.inputs.get("roleArn")]
    home_bus = f"arn:aws:events:eu-west-1:{SANDBOX}:event-bus/default"
    assert {t.inputs["arn"] for t in forwards if run.provider_site(t)[0] == SANDBOX} == {home_bus}
    assert all("inputTransformer" not in t.inputs for t in forwards)  # the raw event is forwarded
    policies = [json.loads(p.inputs["policy"]) for p in run.of_type(ROLE_POLICY)]
    assert {s["Resource"] for p in policies for s in p["Statement"]} >= {home_bus}
    assert all(s["Action"] == "events:PutEvents" for p in policies for s in p["Statement"])
    trust = json.loads(run.of_type(ROLE)[0].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


def test_the_topic_policy_admits_exactly_the_rules_that_publish_and_the_key_lets_eventbridge_encrypt() -> (
    None
):
    run = _run(_config({"regions": ["eu-west-1", "us-east-1"]}))
    policy = _topic_policy(run, "cis-sandbox-alarms")
    topic = f"arn:aws:sns:eu-west-1:{SANDBOX}:cis-sandbox-alarms"
    home_rule = f"arn:aws:events:eu-west-1:{SANDBOX}:rule/cis-4-5-cloudtrail-changes-realtime"
    assert judge_grant(policy, events_topic_grant(topic, home_rule, SANDBOX)).granted
    registered = {r.outputs["arn"] for r in run.of_type(RULE) if r.inputs.get("region") is None}
    assert home_rule in registered
    for other in (
        f"arn:aws:events:us-east-1:{SANDBOX}:rule/cis-4-5-cloudtrail-changes-realtime",  # forwards, never publishes
        f"arn:aws:events:eu-west-1:{SANDBOX}:rule/someone-elses",
        "arn:aws:events:eu-west-1:999999999999:rule/cis-4-5-cloudtrail-changes-realtime",
    ):
        assert not judge_grant(policy, events_topic_grant(topic, other, other.split(":")[4])).granted
    [key] = [k for k in run.of_type(KEY) if run.provider_site(k)[0] == SANDBOX]
    statements = json.loads(key.inputs["policy"])["Statement"]
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for s in statements)


def test_quiet_roles_narrow_only_the_real_time_rule() -> None:
    role = f"arn:aws:iam::{SANDBOX}:role/deployer"
    quiet = _run(
        _config({"quietRoles": [role], "highRisk": {"topicArn": "arn:aws:sns:{region}:{accountId}:pager"}})
    )
    [rule] = [
        r
        for r in quiet.of_type(RULE)
        if r.name.endswith("home-rule") and quiet.provider_site(r)[0] == SANDBOX
    ]
    assert json.loads(rule.inputs["eventPattern"]) == kind.rule_pattern(CONTROL, [role])
    [high] = [
        r
        for r in quiet.of_type(RULE)
        if r.name.endswith("high-risk-rule") and quiet.provider_site(r)[0] == SANDBOX
    ]
    assert role not in high.inputs["eventPattern"]  # the high-risk channel hears automation too
    assert [r.inputs for r in _run(_config()).of_type(CIS_TYPES[0])] == [
        r.inputs for r in quiet.of_type(CIS_TYPES[0])
    ]


def test_an_existing_high_risk_topic_gets_the_high_risk_rule() -> None:
    run = _run(_config({"highRisk": {"topicArn": "arn:aws:sns:{region}:{accountId}:pager"}}))
    high = [t for t in run.of_type(TARGET) if t.inputs["targetId"] == "high-risk"]
    assert sorted(t.inputs["arn"] for t in high) == [
        f"arn:aws:sns:eu-west-1:{SANDBOX}:pager",
        f"arn:aws:sns:us-east-1:{SECURITY}:pager",
    ]
    assert all(t.inputs["inputTransformer"]["inputTemplate"].startswith('"HIGH RISK') for t in high)


def test_high_risk_subscribers_get_their_own_topic_that_admits_the_high_risk_rule() -> None:
    run = _run(
        _config({"highRisk": {"subscriptions": [{"protocol": "email", "endpoint": "pager@example.com"}]}})
    )
    policy = _topic_policy(run, "cis-sandbox-high-risk")
    topic = f"arn:aws:sns:eu-west-1:{SANDBOX}:cis-sandbox-high-risk"
    high_rule = f"arn:aws:events:eu-west-1:{SANDBOX}:rule/cis-4-5-cloudtrail-changes-high-risk"
    assert judge_grant(policy, events_topic_grant(topic, high_rule, SANDBOX)).granted
    real_time_rule = high_rule.replace("high-risk", "realtime")
    assert not judge_grant(policy, events_topic_grant(topic, real_time_rule, SANDBOX)).granted
    assert (
        Counter(s.inputs["endpoint"] for s in run.of_type("aws:sns/topicSubscription:TopicSubscription"))[
            "pager@example.com"
        ]
        == 2
    )


def test_a_central_bus_takes_every_accounts_events_scoped_to_the_organization() -> None:
    bus = {"accountId": SECURITY, "region": "us-east-1", "organizationId": "o-abcdefghij"}
    run = _run(_config({"centralBus": bus}))
    [event_bus] = run.of_type(BUS)
    assert (
        run.provider_site(event_bus) == (SECURITY, "us-east-1") and event_bus.inputs["name"] == "cis-realtime"
    )
    [bus_policy] = run.of_type(BUS_POLICY)
    statement = json.loads(bus_policy.inputs["policy"])["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    central = f"arn:aws:events:us-east-1:{SECURITY}:event-bus/cis-realtime"
    sandbox_targets = [t for t in run.of_type(TARGET) if run.provider_site(t)[0] == SANDBOX]
    assert [t.inputs["arn"] for t in sandbox_targets] == [central] and sandbox_targets[0].inputs["roleArn"]
    on_bus = [r for r in run.of_type(RULE) if r.inputs.get("eventBusName") == "cis-realtime"]
    assert [run.provider_site(r) for r in on_bus] == [(SECURITY, "us-east-1")]
    policy = _topic_policy(run, "cis-security-alarms")
    topic = f"arn:aws:sns:us-east-1:{SECURITY}:cis-security-alarms"
    bus_rule = f"arn:aws:events:us-east-1:{SECURITY}:rule/cis-realtime/cis-4-5-cloudtrail-changes-realtime"
    assert judge_grant(policy, events_topic_grant(topic, bus_rule, SECURITY)).granted
    assert "events.amazonaws.com" not in _topic_policy(
        run, "cis-sandbox-alarms"
    )  # the member's topic gets nothing


def test_the_outputs_name_the_rules_of_each_chain() -> None:
    run = _run(_config({"regions": ["eu-west-1", "us-east-1"]}))
    sandbox = next(c for c in run.outputs["chains"].values() if c["accountId"] == SANDBOX)
    entry = sandbox["realTime"]["4.5"]
    assert entry["detector"] == kind.KIND and entry["regions"] == ["eu-west-1", "us-east-1"]
    assert len(entry["ruleArns"]) == 2
    assert sandbox["controls"]["4.5"]["detector"] == "metric-filter"


def test_bad_real_time_input_registers_nothing() -> None:
    config = _config({"regions": ["nowhere-1"], "quietRoles": ["arn:aws:iam::1:user/x"]})
    run = run_program(copy.deepcopy(config))
    assert (
        run.error is not None
        and "realTime.regions" in str(run.error)
        and "realTime.quietRoles" in str(run.error)
    )
    assert not [r for r in run.resources if r.custom]


@pytest.mark.parametrize("controls", [["4.5"]])
def test_a_control_without_a_rule_gets_no_real_time_monitor(controls: list[str]) -> None:
    run = _run({**_config({}), "controls": controls})
    assert len(run.of_type("cis-monitoring:aws:RealTimeMonitor")) == 2


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("events:PutRule", f"arn:aws:events:eu-west-1:{SANDBOX}:rule/cis-4-5-cloudtrail-changes-realtime"),
        (
            "events:PutTargets",
            f"arn:aws:events:us-east-1:{SANDBOX}:rule/cis-4-5-cloudtrail-changes-high-risk",
        ),
        (
            "events:PutRule",
            f"arn:aws:events:us-east-1:{SECURITY}:rule/cis-realtime/cis-4-5-cloudtrail-changes-realtime",
        ),
        ("events:CreateEventBus", f"arn:aws:events:us-east-1:{SECURITY}:event-bus/cis-realtime"),
        ("events:PutPermission", f"arn:aws:events:us-east-1:{SECURITY}:event-bus/cis-realtime"),
        ("iam:CreateRole", f"arn:aws:iam::{SANDBOX}:role/cis-4-5-cloudtrail-changes-forward"),
        ("iam:PutRolePolicy", f"arn:aws:iam::{SANDBOX}:role/cis-4-5-cloudtrail-changes-forward"),
    ],
)
def test_the_deployer_may_create_what_real_time_registers_and_nothing_else(
    action: str, resource: str
) -> None:
    from tests.components.test_deployer_policy import granting

    assert granting(action, resource)
    assert not granting(action, resource.replace("cis-", "other-"))


def test_the_deployer_passes_its_roles_only_to_eventbridge() -> None:
    from tests.components.test_deployer_policy import granting

    [statement] = granting("iam:PassRole", f"arn:aws:iam::{SANDBOX}:role/cis-4-5-cloudtrail-changes-forward")
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}}


def _readme_section() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Real-time alerts (opt-in)\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_shows_the_message_the_programs_transformer_renders() -> None:
    """README "Real-time alerts (opt-in)": the message is the one the registered target renders for 4.5's
    first sample record (the core's renderer, as EventBridge documents input transformers)."""
    run = _run(_config({}))
    target = next(t for t in run.of_type(TARGET) if t.inputs.get("inputTransformer"))
    rule = next(r for r in run.of_type(RULE) if r.inputs["name"] == target.inputs["rule"])
    transformer = InputTransformer(
        target.inputs["inputTransformer"]["inputTemplate"], target.inputs["inputTransformer"]["inputPaths"]
    )
    sample = CONTROL.target_samples()[0]
    message = render(transformer, as_event(sample.record), rule_name=rule.inputs["name"])
    assert f"```\n{message}\n```" in _readme_section()


def test_the_readmes_high_risk_table_names_each_controls_events() -> None:
    rows = {
        line.split("|")[1].strip(): line for line in _readme_section().splitlines() if line.startswith("| 4.")
    }
    for control_id, entry in kind.HIGH_RISK.items():
        assert all(f"`{name}`" in rows[control_id] for name in entry.names), control_id
