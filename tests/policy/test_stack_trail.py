"""A trail the stack itself manages decides which log group must be monitored (over the pack's gRPC protocol).

When a stack registers ``aws:cloudtrail/trail:Trail``, its ``cloudWatchLogsGroupArn`` is the strongest
evidence of where its events go: a working chain on any other group of the target covers nothing.
The pack judges the target as the audit judges the pair, with the core's ``coverage_of`` over the
trail's facts (pulumi-aws's names: ``isMultiRegionTrail``, ``enableLogging``, ``eventSelectors``,
``advancedEventSelectors``), the chain on the trail's group being the chain state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.analyzer_client import PolicyPackServer, Violation
from local.program_harness import Registration
from tests.policy.hand_stacks import PREVIEW_UNKNOWNS, PROVIDER, Stack, _registration, chain, urn

pytestmark = pytest.mark.protocol

CHAIN = "cis-monitoring-chain"
ACCOUNT, REGION = "111111111111", "us-east-1"
WATCHED, ELSEWHERE = "team-trail/cloudtrail", "app/payments"
TRAIL = "aws:cloudtrail/trail:Trail"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CODES = re.compile(r"\[codes: ([a-z_.]+(?:, [a-z_.]+)*)\]$")
PROVIDER_URN = urn(PROVIDER, f"{ACCOUNT}-{REGION}")


def group_arn(name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"


def trail(log_group: str | None = WATCHED, **inputs: Any) -> list[Registration]:
    """The stack's own trail (and the log group it makes for it), delivering to ``log_group``."""
    made = []
    deps: dict[str, list[str]] = {}
    values: dict[str, Any] = {
        "name": "team-trail",
        "s3BucketName": "team-trail-logs",
        "isMultiRegionTrail": True,
    }
    if log_group is not None:
        group = _registration(
            LOG_GROUP, "trail-group", {"name": log_group}, PROVIDER_URN, {"arn": group_arn(log_group)}
        )
        made.append(group)
        values["cloudWatchLogsGroupArn"] = group_arn(log_group)
        values["cloudWatchLogsRoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role"
        deps["cloudWatchLogsGroupArn"] = [group.urn]
    values.update(inputs)
    return [*made, _registration(TRAIL, "team-trail", values, PROVIDER_URN, **deps)]


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        server.configure({})
        yield server
    finally:
        server.close()


def judged(pack: PolicyPackServer, stack: Stack, preview: bool = False) -> list[Violation]:
    unknown: dict[str, set[str]] = {**PREVIEW_UNKNOWNS, TRAIL: {"cloudWatchLogsGroupArn"}, LOG_GROUP: {"arn"}}
    violations = pack.analyze_stack(stack.resources(unknown if preview else None))
    assert not [v for v in violations if "during preview" in v.message], violations
    found = [v for v in violations if v.policy == CHAIN]
    assert all(v.level == "mandatory" for v in found), found
    return found


def codes(violation: Violation) -> list[str]:
    match = CODES.search(violation.message)
    assert match, violation.message
    return match.group(1).split(", ")


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_a_chain_on_the_trails_own_group_passes(pack: PolicyPackServer, preview: bool) -> None:
    stack = Stack.of(chain(ACCOUNT, REGION, WATCHED), trail())
    assert judged(pack, stack, preview) == []


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_a_filter_on_another_group_than_the_trail_delivers_to_fails(
    pack: PolicyPackServer, preview: bool
) -> None:
    """The chain works, but on ``app/payments``: the stack's trail delivers to ``team-trail/cloudtrail``."""
    stack = Stack.of(chain(ACCOUNT, REGION, ELSEWHERE), trail())
    [violation] = judged(pack, stack, preview)
    assert codes(violation) == ["filter.none", "coverage.none.chain_broken"]
    assert f"log group {WATCHED!r} in account {ACCOUNT} {REGION}" in violation.message
    assert "The stack's own trail delivers there" in violation.message


@pytest.mark.parametrize(
    ("inputs", "code", "says"),
    [
        ({"isMultiRegionTrail": False}, "coverage.none.single_region", "CIS 4.x needs a multi-Region trail"),
        ({"enableLogging": False}, "coverage.none.not_logging", "is not logging"),
        (
            {"eventSelectors": [{"readWriteType": "WriteOnly", "includeManagementEvents": True}]},
            "coverage.none.selectors",
            "does not record all management events",
        ),
        (
            {
                "advancedEventSelectors": [
                    {
                        "name": "no trail events",
                        "fieldSelectors": [
                            {"field": "eventCategory", "equals": ["Management"]},
                            {"field": "eventSource", "notEquals": ["cloudtrail.amazonaws.com"]},
                        ],
                    }
                ]
            },
            "coverage.none.selectors",
            "does not record all management events",
        ),
    ],
    ids=["single-Region", "logging off", "write-only selectors", "advanced selector leaves out CloudTrail"],
)
def test_the_stacks_trail_is_judged_as_the_audit_judges_it(
    pack: PolicyPackServer, inputs: dict[str, Any], code: str, says: str
) -> None:
    stack = Stack.of(chain(ACCOUNT, REGION, WATCHED), trail(**inputs))
    [violation] = judged(pack, stack)
    assert codes(violation) == [code]
    assert (
        f"account {ACCOUNT} region {REGION}: not covered: " in violation.message and says in violation.message
    )


def test_a_stack_trail_without_cloudwatch_logs_covers_nothing(pack: PolicyPackServer) -> None:
    stack = Stack.of(chain(ACCOUNT, REGION, WATCHED), trail(log_group=None))
    [violation] = judged(pack, stack)
    assert codes(violation) == ["coverage.none.no_cloudwatch"]
