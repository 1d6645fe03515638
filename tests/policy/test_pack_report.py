"""The pack's own report (``reportPath``): JSON and JUnit, over the real analyzer protocol.

Each test starts the built pack as the Pulumi CLI does, sends what ``pulumi preview`` sends
(``Configure`` once, ``Analyze`` per resource, ``AnalyzeStack`` at the end) for a stack the real
program registered, and reads the files as a CI job would after the preview. The report must hold
exactly the diagnostics the pack answered the CLI with.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Failure, JUnitXml, Skipped

from local.analyzer_client import (
    POLICY_SOURCE_DIR,
    PolicyPackServer,
    Violation,
    built_pack_dir,
    stack_resources,
    to_analyzer_resource,
)
from local.program_harness import ProgramRun, decode_provider_inputs, run_program, stack_config

pytestmark = pytest.mark.protocol

JSON_NAME, JUNIT_NAME = "cis-monitoring-guard.json", "cis-monitoring-guard.junit.xml"
SCHEMA = json.loads((POLICY_SOURCE_DIR / "verdicts.schema.json").read_text(encoding="utf-8"))
CHAIN = "cis-monitoring-chain"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
NON_CANONICAL = "{($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||($.eventName=StartLogging)||($.eventName=StopLogging)}"


@pytest.fixture
def pack() -> Iterator[PolicyPackServer]:
    """A fresh pack per test: the CLI starts one per preview, and a report is that one run's."""
    server = PolicyPackServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    run = run_program(stack_config("dev")[0], stack="dev")
    assert run.error is None
    return run


def _target(run: ProgramRun, resource: Any) -> tuple[str, str]:
    provider = decode_provider_inputs(run.provider_for(resource).inputs)
    return provider["allowedAccountIds"][0], provider["region"]


@pytest.fixture(scope="module")
def broken_run(dev_run: ProgramRun) -> tuple[ProgramRun, tuple[str, str]]:
    """The dev stack with, in its first target: an alarm that averages (the chain breaks, and the
    alarm's own policy fails), a filter in a compact spelling (advisory), an unencrypted topic."""
    run = copy.deepcopy(dev_run)
    alarm = next(r for r in run.resources if r.type == ALARM)
    where = _target(run, alarm)
    for resource in run.resources:
        if resource.custom and resource.type != "pulumi:providers:aws" and _target(run, resource) == where:
            change = {
                ALARM: {"statistic": "Average"},
                FILTER: {"pattern": NON_CANONICAL},
                TOPIC: {"kmsMasterKeyId": None},
            }.get(resource.type, {})
            resource.inputs.update(change)
            resource.outputs.update(change)
    return run, where


def _preview(pack: PolicyPackServer, run: ProgramRun, config: dict[str, Any]) -> list[Violation]:
    """What the CLI sends during a preview, and every diagnostic the pack answered with."""
    pack.configure(config)
    answered = []
    for resource in stack_resources(run):
        answered += [(v, resource.urn) for v in pack.analyze(resource)]
    answered += [(v, v.urn) for v in pack.analyze_stack(stack_resources(run))]
    return answered


def _read(directory: Path) -> tuple[dict[str, Any], JUnitXml]:
    document = json.loads((directory / JSON_NAME).read_text(encoding="utf-8"))
    jsonschema.validate(document, SCHEMA)
    return document, JUnitXml.fromfile(str(directory / JUNIT_NAME))


def test_the_report_holds_every_diagnostic_with_level_place_control_and_codes(
    pack: PolicyPackServer, broken_run: tuple[ProgramRun, tuple[str, str]], tmp_path: Path
) -> None:
    run, (account, region) = broken_run
    out = tmp_path / "reports" / "guard"  # created by the pack
    answered = _preview(
        pack, run, {CHAIN: {"reportPath": str(out)}, "cis-topic-customer-managed-key": "mandatory"}
    )
    document, junit = _read(out)

    # Exactly what the CLI was told: policy, level, message (less the SDK's description line), URN.
    told = sorted(
        (v.policy, v.level, v.message.split("\n", 1)[1], v.urn or urn or None) for v, urn in answered
    )
    written = sorted((v["policy"], v["level"], v["message"], v["urn"]) for v in document["violations"])
    assert written == told and len(told) >= 4
    assert document["stackAnalyzed"] is True
    assert document["calls"] == {"configure": 1, "analyze": len(stack_resources(run)), "analyzeStack": 1}
    assert document["summary"] == {
        "mandatory": sum(1 for v in answered if v[0].level == "mandatory"),
        "advisory": sum(1 for v in answered if v[0].level == "advisory"),
    }

    by_policy = {v["policy"]: v for v in document["violations"]}
    chain = by_policy[CHAIN]
    assert (chain["account"], chain["region"], chain["control"]) == (account, region, "4.5")
    assert chain["codes"] and chain["message"].endswith(f"[codes: {', '.join(chain['codes'])}]")
    alarm = by_policy["cis-alarm-fires-on-one-event"]
    assert (alarm["account"], alarm["region"], alarm["control"], alarm["call"]) == (
        account,
        region,
        "4.5",
        "Analyze",
    )
    assert alarm["urn"].startswith("urn:pulumi:") and "alarm.statistic" in " ".join(alarm["codes"])
    canonical = by_policy["cis-filter-canonical-text"]
    assert (canonical["level"], canonical["control"]) == ("advisory", "4.5")
    topic = by_policy["cis-topic-customer-managed-key"]
    assert (topic["level"], topic["account"], topic["control"]) == ("mandatory", account, None)

    # JUnit: a suite per policy; a failure per violation typed with its level; nothing else fails.
    suites = {suite.name: suite for suite in junit}
    assert set(suites) == {p["name"] for p in document["policies"]}
    for policy in document["policies"]:
        suite = suites[policy["name"]]
        cases = list(suite)
        failures = [r for case in cases for r in case.result if isinstance(r, Failure)]
        assert len(failures) == policy["violations"] == suite.failures
        assert {f.type for f in failures} <= {policy["level"]}
        if not policy["violations"]:
            assert len(cases) == 1 and (cases[0].is_passed or cases[0].is_skipped)
            assert cases[0].is_skipped == (policy["ran"] == 0)
    assert junit.failures == len(told)


def test_before_the_stack_policies_ran_the_report_says_it_is_not_complete(
    pack: PolicyPackServer, broken_run: tuple[ProgramRun, tuple[str, str]], tmp_path: Path
) -> None:
    run, _ = broken_run
    pack.configure({CHAIN: {"reportPath": str(tmp_path)}})
    document, junit = _read(tmp_path)  # written at Configure: a stale report of another run is gone
    assert document["stackAnalyzed"] is False and document["violations"] == []
    for resource in stack_resources(run)[:5]:
        pack.analyze(resource)
    document, junit = _read(tmp_path)
    assert document["stackAnalyzed"] is False and document["calls"]["analyze"] == 5
    chain = next(suite for suite in junit if suite.name == CHAIN)
    (case,) = list(chain)
    assert case.is_skipped and "not run yet" in case.result[0].message
    kinds = {p["name"]: p["kind"] for p in document["policies"]}
    for suite in junit:  # the resource policies ran on 5 resources: none of them is skipped
        skipped = any(isinstance(r, Skipped) for case in suite for r in case.result)
        assert skipped == (kinds[suite.name] == "stack"), suite.name


def test_concurrent_calls_are_all_recorded_and_every_write_is_whole(
    pack: PolicyPackServer, broken_run: tuple[ProgramRun, tuple[str, str]], tmp_path: Path
) -> None:
    """The SDK serves on a pool of 4 threads; the last write holds every call, and no temporary file stays."""
    run, _ = broken_run
    pack.configure({CHAIN: {"reportPath": str(tmp_path)}})
    resources = stack_resources(run)
    answered: list[Violation] = []
    seen: list[int] = []

    def worker(chunk: list[Any]) -> None:
        for resource in chunk:
            answered.extend(pack.analyze(resource))
            seen.append(
                len(json.loads((tmp_path / JSON_NAME).read_text())["violations"])
            )  # always whole JSON

    threads = [threading.Thread(target=worker, args=(resources[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    document, _ = _read(tmp_path)
    assert document["calls"]["analyze"] == len(resources)
    assert len(document["violations"]) == len(answered) > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [JSON_NAME, JUNIT_NAME]


def test_an_unwritable_report_path_is_a_config_problem_that_blocks(
    pack: PolicyPackServer, dev_run: ProgramRun, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    pack.configure({CHAIN: {"reportPath": str(blocker / "reports")}})
    violations = pack.analyze_stack(stack_resources(dev_run))
    (chain,) = [v for v in violations if v.policy == CHAIN]
    assert chain.level == "mandatory"
    assert "config is not valid, so this stack was not judged" in chain.message
    assert (
        f"- reportPath: the pack cannot write its report into {blocker / 'reports'}: Not a directory"
        in chain.message
    )


def test_a_relative_report_path_is_refused_and_nothing_lands_in_the_pack(
    pack: PolicyPackServer, dev_run: ProgramRun
) -> None:
    pack.configure({CHAIN: {"reportPath": "reports"}})
    violations = pack.analyze_stack(stack_resources(dev_run))
    (chain,) = [v for v in violations if v.policy == CHAIN]
    assert (
        "- reportPath: 'reports' is relative; the Pulumi CLI starts the pack in the pack's own directory"
        in chain.message
    )
    assert not (built_pack_dir() / "reports").exists()


def test_without_report_path_nothing_is_written_and_stdout_holds_only_the_port(
    dev_run: ProgramRun, tmp_path: Path
) -> None:
    server = PolicyPackServer()
    try:
        server.configure({})
        for resource in stack_resources(dev_run)[:3]:
            server.analyze(resource)
        server.analyze_stack(stack_resources(dev_run))
    finally:
        server.close()
    assert server.process.stdout is not None and server.process.stdout.read() == b""  # the port line was all
    assert not list(built_pack_dir().glob("cis-monitoring-guard*"))


def test_the_schema_ships_with_the_pack() -> None:
    assert (built_pack_dir() / "verdicts.schema.json").read_text() == (
        POLICY_SOURCE_DIR / "verdicts.schema.json"
    ).read_text()


def test_the_report_keeps_a_resource_policy_violation_on_the_analyzed_resource(
    pack: PolicyPackServer, dev_run: ProgramRun, tmp_path: Path
) -> None:
    topic = copy.deepcopy(next(r for r in dev_run.resources if r.type == TOPIC))
    topic.inputs["kmsMasterKeyId"] = None
    topic.outputs["kmsMasterKeyId"] = None
    pack.configure({CHAIN: {"reportPath": str(tmp_path)}})
    (violation,) = pack.analyze(to_analyzer_resource(topic, dev_run.by_urn()))
    assert violation.urn == ""  # the SDK leaves it empty; the CLI knows which resource it asked about
    document, _ = _read(tmp_path)
    (written,) = document["violations"]
    assert written["urn"] == topic.urn and written["account"] == _target(dev_run, topic)[0]
