"""The pack's judgement of a stack's real-time rules (``cis-real-time-alerts``), on stacks the real program registers.

In process: the program runs under mocks, its registrations become the pack's resources, and the
pack's evaluator for the kind (``chain.EVALUATORS["event-rule"]``) judges them with the core.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from cis_monitoring.core.problems import Code
from local.program_harness import ProgramRun, run_program
from policy.cis_guard import pack_config
from policy.cis_guard.chain import StackIndex
from policy.cis_guard.coverage import judge_stack
from policy.cis_guard.rules import real_time_verdicts
from policy.cis_guard.stack_model import Resource

SANDBOX = "111111111111"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def _config(real_time: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "accounts": [
            {"id": SANDBOX, "name": "sandbox", "trail": {"homeRegion": "eu-west-1", "logGroup": "trail"}}
        ],
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }
    if real_time is not None:
        config["realTime"] = real_time
    return config


def _resources(run: ProgramRun) -> list[Resource]:
    by_urn = run.by_urn()
    found = []
    for r in run.resources:
        provider = by_urn.get(r.provider.rsplit("::", 1)[0]) if r.provider else None
        found.append(
            Resource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                props=json.loads(json.dumps({**r.outputs, **r.inputs})),
                provider_urn=provider.urn if provider else None,
                provider_props=dict(provider.inputs) if provider else {},
                property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
            )
        )
    return found


def _run(real_time: Any) -> ProgramRun:
    run = run_program(_config(real_time))
    assert run.error is None, run.error
    return run


def _verdicts(resources: list[Resource]) -> list[Any]:
    return real_time_verdicts(StackIndex.build(resources), pack_config.load({}))


def _failing(resources: list[Resource]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(v.target.account, v.target.region, v.codes) for v in _verdicts(resources) if not v.ok]


def _edit(run: ProgramRun, type_: str, pick: Any, **values: Any) -> list[Resource]:
    resources = _resources(copy.deepcopy(run))
    hit = [r for r in resources if r.type == type_ and pick(r)]
    assert hit
    for r in hit:
        r.props.update(values)
    return resources


def test_without_rules_the_stack_is_not_judged() -> None:
    assert _verdicts(_resources(_run(None))) == []


def test_the_programs_rules_pass_in_every_region_they_watch() -> None:
    run = _run(
        {"regions": ["eu-west-1", "us-east-1"], "quietRoles": [f"arn:aws:iam::{SANDBOX}:role/deployer"]}
    )
    verdicts = _verdicts(_resources(run))
    assert sorted((v.target.region, v.ok) for v in verdicts) == [("eu-west-1", True), ("us-east-1", True)]
    forwarding = next(v for v in verdicts if v.target.region == "us-east-1")
    assert "forwards to event bus" in str(forwarding.verdict.path.trusted)


def test_the_real_time_verdict_never_changes_the_cis_chains() -> None:
    run = _run({})
    broken = _edit(run, TARGET, lambda r: True, input='{"alert": "changed"}')
    assert _failing(broken) == [(SANDBOX, "eu-west-1", (Code.TARGET_MESSAGE_INCOMPLETE,))]
    assert judge_stack(StackIndex.build(broken), pack_config.load({})).violations == []


@pytest.mark.parametrize(
    ("type_", "values", "code"),
    [
        (RULE, {"state": "DISABLED"}, Code.RULE_DISABLED),
        (
            RULE,
            {"eventPattern": json.dumps({"detail": {"eventName": ["StopLogging", "DeleteTrail"]}})},
            Code.RULE_PATTERN_MISSES,
        ),
        (
            RULE,
            {
                "eventPattern": json.dumps(
                    {"detail": {"eventName": [{"wildcard": "*Trail"}, {"suffix": "Logging"}]}}
                )
            },
            Code.RULE_PATTERN_UNJUDGED,
        ),
        (
            TARGET,
            {"inputTransformer": {"inputPaths": {"e": "$.detail.eventName"}, "inputTemplate": '"<e>"'}},
            Code.TARGET_MESSAGE_INCOMPLETE,
        ),
        (TARGET, {"arn": f"arn:aws:sns:eu-west-1:{SANDBOX}:not-in-the-stack"}, Code.TARGET_NONE),
    ],
    ids=["disabled", "misses", "cannot-judge", "message", "other-topic"],
)
def test_each_broken_link_is_named(type_: str, values: dict[str, Any], code: Code) -> None:
    assert _failing(_edit(_run({}), type_, lambda r: True, **values)) == [(SANDBOX, "eu-west-1", (code,))]


def test_a_topic_policy_without_the_rule_is_named() -> None:
    run = _run({})
    resources = _resources(copy.deepcopy(run))
    [policy] = [r for r in resources if r.type == "aws:sns/topicPolicy:TopicPolicy"]
    document = json.loads(policy.props["policy"])
    document["Statement"] = [
        s for s in document["Statement"] if s.get("Sid") != "AllowTheRealTimeRulesOfThisStack"
    ]
    policy.props["policy"] = json.dumps(document)
    assert _failing(resources) == [(SANDBOX, "eu-west-1", (Code.TOPIC_POLICY_NO_EVENTS_ALLOW,))]


def test_a_rule_without_its_target_notifies_nobody() -> None:
    resources = [r for r in _resources(_run({})) if r.type != TARGET]
    assert _failing(resources) == [(SANDBOX, "eu-west-1", (Code.TARGET_NONE,))]


def test_unrelated_rules_do_not_opt_a_stack_in(monkeypatch: pytest.MonkeyPatch) -> None:
    resources = _resources(_run(None))
    provider = next(r for r in resources if r.type == "pulumi:providers:aws")
    resources.append(
        Resource(
            "urn:pulumi:test::p::aws:cloudwatch/eventRule:EventRule::nightly",
            RULE,
            "nightly",
            {"name": "nightly", "scheduleExpression": "rate(1 day)"},
            provider.urn,
            provider.props,
        )
    )
    resources.append(
        Resource(
            "urn:pulumi:test::p::aws:cloudwatch/eventRule:EventRule::ec2",
            RULE,
            "ec2",
            {"name": "ec2", "eventPattern": json.dumps({"source": ["aws.ec2"]})},
            provider.urn,
            provider.props,
        )
    )
    assert _verdicts(resources) == []
