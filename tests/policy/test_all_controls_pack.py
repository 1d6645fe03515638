"""The built pack over gRPC on the ``controls: all`` stack (Pulumi.prod.yaml) and its shipped config.

The pack passes the stack the program registers for every control; without any one control's
metric filter, its violation names exactly that control; and 4.1's v3.0.0 text, which matches
nearly every record, gets the "too broad" advisory.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cis_monitoring.core.catalog import CONTROLS, get_control
from local.analyzer_client import (
    POLICY_SOURCE_DIR,
    PolicyPackServer,
    Violation,
    stack_resources,
    to_analyzer_resource,
)
from local.program_harness import ProgramRun, Registration, run_program, stack_config
from tests.conftest import PAGER_URL

pytestmark = pytest.mark.protocol

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
CHAIN = "cis-monitoring-chain"
OWNER = "999999999999"
# CIS v3.0.0 4.1's remediation text (the catalog uses Security Hub's: see cis_4_1.json's $comment).
CIS_3_0_4_1 = (
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || '
    '($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }'
)


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def prod_run() -> ProgramRun:
    config = stack_config("prod")[0]
    assert config["controls"] == "all"
    config["pagerEndpoint"] = PAGER_URL
    run = run_program(config, stack="prod", secret_keys=["pagerEndpoint"])
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def prod_pack_config() -> dict[str, Any]:
    config = json.loads((POLICY_SOURCE_DIR / "config" / "prod.json").read_text())
    assert config[CHAIN]["controls"] == "all"
    return config


def _filter_of(run: ProgramRun, control_id: str, account: str) -> Registration:
    metric = get_control(control_id).metric_name
    [found] = [
        r
        for r in run.of_type(FILTER)
        if r.inputs["metricTransformation"]["name"] == metric and r.name.startswith(f"{account}-")
    ]
    return found


def _without(run: ProgramRun, resource: Registration) -> ProgramRun:
    changed = copy.deepcopy(run)
    changed.resources = [r for r in changed.resources if r.urn != resource.urn]
    return changed


def _levels(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(v.policy, v.level) for v in violations}


def test_the_pack_passes_the_controls_all_stack_under_the_shipped_strict_config(
    pack: PolicyPackServer, prod_run: ProgramRun, prod_pack_config: dict[str, Any]
) -> None:
    pack.configure(prod_pack_config)
    assert pack.analyze_stack(stack_resources(prod_run)) == []
    filters = prod_run.of_type(FILTER)
    assert len(filters) == 2 * len(CONTROLS)
    by_urn = prod_run.by_urn()
    for metric_filter in filters:
        assert pack.analyze(to_analyzer_resource(metric_filter, by_urn)) == [], metric_filter.name


@pytest.mark.parametrize("control_id", list(CONTROLS))
def test_without_one_controls_filter_the_violation_names_that_control(
    control_id: str, pack: PolicyPackServer, prod_run: ProgramRun, prod_pack_config: dict[str, Any]
) -> None:
    pack.configure(prod_pack_config)
    broken = _without(prod_run, _filter_of(prod_run, control_id, OWNER))
    violations = [v for v in pack.analyze_stack(stack_resources(broken)) if v.level == "mandatory"]
    assert [v.policy for v in violations] == [CHAIN], violations
    message = violations[0].message
    assert f"no CloudWatch Logs metric filter for CIS {control_id} on " in message
    assert f"account {OWNER} region us-east-1: " in message and "[codes: filter.none" in message
    others = [c for c in CONTROLS if c != control_id]
    assert not [c for c in others if f"CIS {c} " in message or f"CIS {c}:" in message], message


def test_4_1s_v3_text_is_told_too_broad_and_not_the_benchmarks(
    pack: PolicyPackServer, prod_run: ProgramRun
) -> None:
    pack.configure({})
    metric_filter = copy.deepcopy(_filter_of(prod_run, "4.1", OWNER))
    metric_filter.inputs["pattern"] = metric_filter.outputs["pattern"] = CIS_3_0_4_1
    violations = pack.analyze(to_analyzer_resource(metric_filter, prod_run.by_urn()))
    assert _levels(violations) == {
        ("cis-filter-not-too-broad", "advisory"),
        ("cis-filter-canonical-text", "advisory"),
    }
    too_broad = next(v for v in violations if v.policy == "cis-filter-not-too-broad")
    assert "for CIS 4.1 is too broad: it also matches" in too_broad.message
    assert "DescribeInstances succeeded (no errorCode)" in too_broad.message
