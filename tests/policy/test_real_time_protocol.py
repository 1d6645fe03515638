"""The built pack over gRPC on a stack with real-time rules: its advisory verdict, and the CIS chain's unchanged."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from local.analyzer_client import (
    LEVEL_NAMES,
    PolicyPackServer,
    Violation,
    stack_resources,
    without_no_trail_notes,
)
from local.program_harness import ProgramRun, run_program

pytestmark = pytest.mark.protocol

REAL_TIME_POLICY = "cis-real-time-alerts"
CONFIG = {
    "accounts": [
        {"id": "111111111111", "name": "sandbox", "trail": {"homeRegion": "eu-west-1", "logGroup": "trail"}}
    ],
    "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    "realTime": {"regions": ["eu-west-1", "us-east-1"]},
}


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    found = run_program(CONFIG)
    assert found.error is None, found.error
    return found


def test_the_pack_describes_the_real_time_policy_as_advisory(pack: PolicyPackServer) -> None:
    levels = {p.name: LEVEL_NAMES[p.enforcementLevel] for p in pack.info().policies}
    assert levels[REAL_TIME_POLICY] == "advisory"
    assert levels["cis-monitoring-chain"] == "mandatory"


def test_the_programs_real_time_stack_passes(run: ProgramRun, pack: PolicyPackServer) -> None:
    assert without_no_trail_notes(pack.analyze_stack(stack_resources(run))) == []


def test_a_rule_without_a_target_is_an_advisory_real_time_violation_only(
    run: ProgramRun, pack: PolicyPackServer
) -> None:
    broken = copy.deepcopy(run)
    broken.resources = [r for r in broken.resources if r.type != "aws:cloudwatch/eventTarget:EventTarget"]
    violations = without_no_trail_notes(pack.analyze_stack(stack_resources(broken)))
    # the chain's Region and the forwarding one: each rule notifies nobody now
    assert [(v.policy, v.level) for v in violations] == [(REAL_TIME_POLICY, "advisory")] * 2
    assert all("target.none" in v.message and "not part of the CIS verdict" in v.message for v in violations)


def test_preview_unknowns_in_the_rules_are_not_held_against_them(
    run: ProgramRun, pack: PolicyPackServer
) -> None:
    unknown = {
        "aws:cloudwatch/eventRule:EventRule": ["arn"],
        "aws:cloudwatch/eventTarget:EventTarget": ["arn"],
        "aws:sns/topic:Topic": ["arn"],
        "aws:sns/topicPolicy:TopicPolicy": ["arn", "policy"],
    }
    violations = pack.analyze_stack(stack_resources(run, unknown=unknown))
    assert not [v for v in violations if v.policy == REAL_TIME_POLICY], violations


PREVIEW = {
    "aws:cloudwatch/eventRule:EventRule": ["arn", "eventPattern"],
    "aws:cloudwatch/eventTarget:EventTarget": ["arn", "inputTransformer"],
    "aws:sns/topic:Topic": ["arn"],
    "aws:sns/topicPolicy:TopicPolicy": ["arn", "policy"],
}
"""What a first preview does not know yet (everything computed from another resource's output)."""


def _during_preview(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if "during preview" in v.message]


def test_made_mandatory_it_still_runs_during_preview_and_passes(
    run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({REAL_TIME_POLICY: "mandatory"})
    try:
        violations = pack.analyze_stack(stack_resources(run, unknown=PREVIEW))
    finally:
        pack.configure({})
    assert _during_preview(violations) == []
    assert not [v for v in violations if v.policy == REAL_TIME_POLICY], violations


def test_made_mandatory_a_broken_rule_still_blocks_during_preview(
    run: ProgramRun, pack: PolicyPackServer
) -> None:
    broken = copy.deepcopy(run)
    broken.resources = [r for r in broken.resources if r.type != "aws:cloudwatch/eventTarget:EventTarget"]
    pack.configure({REAL_TIME_POLICY: "mandatory"})
    try:
        violations = pack.analyze_stack(stack_resources(broken, unknown=PREVIEW))
    finally:
        pack.configure({})
    assert _during_preview(violations) == []
    assert [(v.policy, v.level) for v in violations if v.policy == REAL_TIME_POLICY] == [
        (REAL_TIME_POLICY, "mandatory")
    ] * 2
