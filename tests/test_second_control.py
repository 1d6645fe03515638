"""A second control, added as data only: a 4.3-style root-usage entry goes through program, pack and audit.

The entry and its samples (tests/data/root_usage_control) are copied into a temporary
directory named by ``CIS_MONITORING_EXTRA_CONTROLS``, the documented extension point for an
organization's own controls; nothing in the repository's catalog or code changes. The
control names no events and no event source (root usage happens in any service), so it is
judged by its own target, unrelated and probe records.

Each adapter accepts a good chain and rejects a broken one:

- the program (under Pulumi mocks) provisions the control's filter and alarm in every target,
  and refuses the control id when the extension is not there;
- the built pack (over gRPC, its own process, the variable in its environment) passes the
  chain, blocks a pattern that matches none of the control's records, and only advises on a
  pattern that is too broad (without ``invokedBy NOT EXISTS``);
- the audit (``cis-monitoring audit`` against moto) says PASS, FAIL on the pattern that matches
  nothing, and PASS with a "too broad" note on the broad one.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import cis_core.catalog as catalog
from cis_core.catalog import EXTRA_CONTROLS_ENV, Control
from cis_core.project import PROJECT
from local.analyzer_client import PolicyPackServer, Violation, stack_resources, to_analyzer_resource
from local.emulator import Emulator, EmulatorSessions
from local.emulator_adapter import EmulatorAdapter
from local.emulator_deploy import with_emulator_endpoint
from local.program_harness import ProgramRun, Registration, run_program, stack_config
from local.worlds import build_world
from rollout.stack_file import read_stack_file
from verify import cli as audit_cli

pytestmark = [pytest.mark.protocol, pytest.mark.emulator]

DATA = Path(__file__).resolve().parent / "data" / "root_usage_control"
ROOT = "4.3-test"
CONTROLS = ["4.5", ROOT]
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CHAIN = "cis-monitoring-chain"

# The benchmark's 4.3 text, copied by hand; and two ways to get it wrong.
GOOD = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
TOO_BROAD = '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }'
MATCHES_NOTHING = '{ $.userIdentity.type = "root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'


@pytest.fixture(scope="module")
def org_controls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The extension directory, set for this process (catalog reloaded) and every child process."""
    directory = tmp_path_factory.mktemp("org-controls")
    for path in DATA.iterdir():
        shutil.copy(path, directory / path.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(EXTRA_CONTROLS_ENV, str(directory))
        catalog.reload()
        try:
            yield directory
        finally:
            patch.delenv(EXTRA_CONTROLS_ENV)
            catalog.reload()


@pytest.fixture(scope="module")
def root_control(org_controls: Path) -> Control:
    control = catalog.get_control(ROOT)
    assert control.filter_pattern == GOOD and control.origin == str(org_controls)
    return control


def _config(base: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(base), "controls": list(CONTROLS)}


def _of_metric(run: ProgramRun, type_: str, metric: str) -> list[Registration]:
    def metric_of(r: Registration) -> str | None:
        if type_ == FILTER:
            transformation = r.inputs["metricTransformation"]
            return (transformation[0] if isinstance(transformation, list) else transformation)["name"]
        return r.inputs.get("metricName")

    return [r for r in run.of_type(type_) if metric_of(r) == metric]


# ---------------------------------------------------------------- the program


def test_without_the_extension_the_program_refuses_the_control_id() -> None:
    assert ROOT not in catalog.CONTROLS
    run = run_program(_config(stack_config("dev")[0]), stack="dev")
    assert run.error is not None and run.resources == []
    assert f"unknown control(s) {ROOT}" in str(run.error), run.error


@pytest.fixture(scope="module")
def dev_run(root_control: Control) -> ProgramRun:
    run = run_program(_config(stack_config("dev")[0]), stack="dev")
    assert run.error is None, run.error
    return run


def test_the_program_provisions_the_new_control_in_every_target(
    dev_run: ProgramRun, root_control: Control
) -> None:
    targets = dev_run.outputs["chains"]  # one per monitored log group
    filters = _of_metric(dev_run, FILTER, "RootAccountUsageTest")
    alarms = _of_metric(dev_run, ALARM, "RootAccountUsageTest")
    assert len(filters) == len(alarms) == len(targets) >= 2
    assert {f.inputs["pattern"] for f in filters} == {GOOD}
    for alarm in alarms:
        assert (alarm.inputs["namespace"], alarm.inputs["statistic"], alarm.inputs["threshold"]) == (
            "CISBenchmark",
            "Sum",
            1,
        )
        assert alarm.inputs["tags"]["cis-control"] == ROOT
    # The default control is still there, next to it.
    assert len(_of_metric(dev_run, FILTER, "CloudTrailConfigChanges")) == len(targets)
    summary = dev_run.outputs["summary"]
    assert summary["controls"] == CONTROLS and summary["controlPatterns"][ROOT] == GOOD
    assert all(set(t["controls"]) == set(CONTROLS) for t in targets.values())


# ---------------------------------------------------------------- the pack


@pytest.fixture(scope="module")
def pack(root_control: Control) -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()  # the built pack, started with this process's environment
    try:
        yield server
    finally:
        server.close()


def _with_pattern(run: ProgramRun, pattern: str) -> ProgramRun:
    changed = copy.deepcopy(run)
    for resource in _of_metric(changed, FILTER, "RootAccountUsageTest"):
        resource.inputs["pattern"] = resource.outputs["pattern"] = pattern
    return changed


def _pack_config() -> dict[str, Any]:
    return {CHAIN: {"controls": list(CONTROLS)}}


def _levels(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(v.policy, v.level) for v in violations}


def test_the_pack_knows_the_control_from_its_own_environment(pack: PolicyPackServer) -> None:
    chain = next(p for p in pack.info().policies if p.name == CHAIN)
    assert ROOT in str(chain.configSchema.properties)


def test_the_pack_passes_a_good_chain_of_both_controls(pack: PolicyPackServer, dev_run: ProgramRun) -> None:
    pack.configure(_pack_config())
    assert pack.analyze_stack(stack_resources(dev_run)) == []
    for resource in stack_resources(dev_run):
        assert pack.analyze(resource) == [], resource.name


def test_the_pack_blocks_a_pattern_that_matches_none_of_the_controls_records(
    pack: PolicyPackServer, dev_run: ProgramRun
) -> None:
    pack.configure(_pack_config())
    broken = _with_pattern(dev_run, MATCHES_NOTHING)
    violations = [v for v in pack.analyze_stack(stack_resources(broken)) if v.level == "mandatory"]
    assert len(violations) == len(dev_run.outputs["chains"]), violations
    for violation in violations:
        assert violation.policy == CHAIN
        assert f"does not cover CIS {ROOT}: it misses ConsoleLogin, CreateAccessKey" in violation.message
    # One filter alone, as `pulumi up` checks it before creating it.
    (first, *_) = _of_metric(broken, FILTER, "RootAccountUsageTest")
    single = pack.analyze(to_analyzer_resource(first, broken.by_urn()))
    assert ("cis-metric-filter-covers-control", "mandatory") in _levels(single)


def test_the_pack_only_advises_on_a_pattern_that_is_too_broad(
    pack: PolicyPackServer, dev_run: ProgramRun
) -> None:
    pack.configure(_pack_config())
    broad = _with_pattern(dev_run, TOO_BROAD)
    assert pack.analyze_stack(stack_resources(broad)) == []
    (first, *_) = _of_metric(broad, FILTER, "RootAccountUsageTest")
    violations = pack.analyze(to_analyzer_resource(first, broad.by_urn()))
    assert _levels(violations) == {
        ("cis-filter-not-too-broad", "advisory"),
        ("cis-filter-canonical-text", "advisory"),
    }
    too_broad = next(v for v in violations if v.policy == "cis-filter-not-too-broad")
    assert "invokedBy" in too_broad.message  # names the unrelated records it would alert on


def test_the_pack_blocks_an_alarm_on_the_new_metric_that_cannot_fire(
    pack: PolicyPackServer, dev_run: ProgramRun
) -> None:
    pack.configure(_pack_config())
    alarm = copy.deepcopy(_of_metric(dev_run, ALARM, "RootAccountUsageTest")[0])
    alarm.inputs["threshold"] = alarm.outputs["threshold"] = 5
    violations = pack.analyze(to_analyzer_resource(alarm, dev_run.by_urn()))
    assert _levels(violations) == {("cis-alarm-fires-on-one-event", "mandatory")}
    assert f"CIS {ROOT}" in violations[0].message


# ---------------------------------------------------------------- the audit


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def deployed(emulator: Emulator, root_control: Control, tmp_path: Path) -> Path:
    """The local stack with both controls deployed into the emulator; returns its stack file."""
    emulator.reset()
    config = with_emulator_endpoint(_config(stack_config("local")[0]), emulator.url)
    stack_file = tmp_path / "Pulumi.local.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}))
    stack = read_stack_file(str(stack_file))
    assert list(stack.config.controls) == CONTROLS
    build_world("organization", emulator.url)  # what Pulumi.local.yaml describes
    run = run_program(config, stack="local", mocks=EmulatorAdapter(emulator.url))
    assert run.error is None, run.error
    return stack_file


def _audit(stack_file: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """``cis-monitoring audit --json`` for each control the stack config lists, by control id."""
    capsys.readouterr()
    results = {}
    for control_id in read_stack_file(str(stack_file)).config.controls:
        code = audit_cli.main(["--stack", str(stack_file), "--control", control_id, "--json"])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        results[control_id] = (code, json.loads(captured.out))
    return results


def _set_pattern(stack_file: Path, emulator: Emulator, pattern: str) -> str:
    """Replace the root-usage filter's pattern in the stack's first target; returns that target's key."""
    target = read_stack_file(str(stack_file)).targets[0]
    logs = EmulatorSessions(emulator.url).for_account(
        "logs", target.account_id, target.region, target.role_arn
    )
    (current,) = [
        f
        for f in logs.describe_metric_filters(logGroupName=target.log_group)["metricFilters"]
        if f["metricTransformations"][0]["metricName"] == "RootAccountUsageTest"
    ]
    # moto appends on PutMetricFilter where AWS replaces: delete first to leave what AWS would.
    logs.delete_metric_filter(logGroupName=target.log_group, filterName=current["filterName"])
    logs.put_metric_filter(
        logGroupName=target.log_group,
        filterName=current["filterName"],
        filterPattern=pattern,
        metricTransformations=current["metricTransformations"],
    )
    return f"{target.account_id}/{target.region}"


def _by_key(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{r['accountId']}/{r['region']}": r for r in document["results"]}


def test_the_audit_passes_both_controls_after_deploy(
    deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _audit(deployed, capsys)
    assert set(results) == set(CONTROLS)
    for control_id, (code, document) in results.items():
        assert document["control"] == control_id
        assert code == 0, [r["reasons"] for r in document["results"]]
        assert document["summary"]["pass"] == document["summary"]["targets"] == 3
    root_filter = next(
        f for f in _by_key(results[ROOT][1])["123456789012/us-east-1"]["findings"] if f["check"] == "filter"
    )
    assert f"covers CIS {ROOT} (the benchmark's exact text; not too broad)" in root_filter["detail"]


def test_the_audit_fails_a_pattern_that_matches_none_of_the_controls_records(
    deployed: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _set_pattern(deployed, emulator, MATCHES_NOTHING)
    results = _audit(deployed, capsys)
    code, document = results[ROOT]
    assert code == 1
    rows = _by_key(document)
    assert rows.pop(broken)["status"] == "FAIL"
    assert {r["status"] for r in rows.values()} == {"PASS"}
    reasons = _by_key(document)[broken]["reasons"]
    assert (
        len(reasons) == 1 and reasons[0].startswith("filter: ") and f"does not cover CIS {ROOT}" in reasons[0]
    )
    assert results["4.5"][0] == 0, "the other control's chain is untouched"


def test_the_audit_passes_a_too_broad_pattern_with_a_note(
    deployed: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    broad = _set_pattern(deployed, emulator, TOO_BROAD)
    code, document = _audit(deployed, capsys)[ROOT]
    assert code == 0
    row = _by_key(document)[broad]
    detail = next(f["detail"] for f in row["findings"] if f["check"] == "filter")
    assert "text differs from the benchmark's; too broad: it also matches" in detail and "invokedBy" in detail
