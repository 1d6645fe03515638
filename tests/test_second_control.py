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
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import cis_monitoring.core.catalog as catalog
from cis_monitoring.core.catalog import EXTRA_CONTROLS_ENV, Control
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.topology import LogGroupRef
from cis_monitoring.spec.load import read_stack_file
from local.analyzer_client import (
    PolicyPackServer,
    Violation,
    stack_resources,
    to_analyzer_resource,
    without_no_trail_notes,
)
from local.emulator import Emulator
from local.emulator_adapter import EmulatorAdapter
from local.emulator_deploy import with_emulator_endpoint
from local.program_harness import ProgramRun, Registration, run_program, stack_config
from local.worlds import REGIONS, build_world
from tests.local import test_world_audit as world_audit

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
    assert without_no_trail_notes(pack.analyze_stack(stack_resources(dev_run))) == []
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
    assert without_no_trail_notes(pack.analyze_stack(stack_resources(broad))) == []
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
def deployed(emulator: Emulator, root_control: Control, tmp_path: Path) -> world_audit.Deployed:
    """The local stack with both controls deployed into the emulator's organization world, and its stack file."""
    emulator.reset()
    config = with_emulator_endpoint(_config(stack_config("local")[0]), emulator.url)
    stack_file = tmp_path / "Pulumi.local.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}))
    stack = read_stack_file(str(stack_file))
    assert list(stack.config.controls) == CONTROLS
    world = build_world("organization", emulator.url)  # what Pulumi.local.yaml describes
    run = run_program(config, stack="local", mocks=EmulatorAdapter(emulator.url))
    assert run.error is None, run.error
    return world_audit.Deployed(world, stack_file, config)


def _organization_chain(deployed: world_audit.Deployed) -> LogGroupRef:
    """The log group of the organization trail: its chain covers four of the world's five accounts."""
    trail = deployed.world.organization_trail
    assert trail is not None and trail.log_group is not None
    return trail.log_group


def _audit(deployed: world_audit.Deployed, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """One ``cis-monitoring audit --json`` run: both controls the stack lists, every pair, every chain once."""
    code, document = world_audit.entered(deployed, capsys)
    assert document["controls"] == CONTROLS
    return code, document


def _set_pattern(deployed: world_audit.Deployed, pattern: str) -> LogGroupRef:
    """Replace the root-usage filter's pattern on the organization trail's log group; returns that group."""
    group = _organization_chain(deployed)
    logs = deployed.world.client("logs", group.account_id, group.region)
    (current,) = [
        f
        for f in logs.describe_metric_filters(logGroupName=group.name)["metricFilters"]
        if f["metricTransformations"][0]["metricName"] == "RootAccountUsageTest"
    ]
    # moto appends on PutMetricFilter where AWS replaces: delete first to leave what AWS would.
    logs.delete_metric_filter(logGroupName=group.name, filterName=current["filterName"])
    logs.put_metric_filter(
        logGroupName=group.name,
        filterName=current["filterName"],
        filterPattern=pattern,
        metricTransformations=current["metricTransformations"],
    )
    return group


def _filter_detail(document: dict[str, Any], group: LogGroupRef, control_id: str) -> str:
    findings = document["chains"][group.key]["controls"][control_id]["findings"]
    return str(next(f["detail"] for f in findings if f["check"] == "filter"))


def test_the_audit_passes_both_controls_after_deploy(
    deployed: world_audit.Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = _audit(deployed, capsys)
    assert code == 0, [p["reasons"] for p in document["coverage"] if p["status"] != "PASS"]
    assert document["summary"]["pass"] == document["summary"]["pairs"] == 5 * len(REGIONS)
    assert len(document["chains"]) == 2
    for chain in document["chains"].values():
        assert {c: r["status"] for c, r in chain["controls"].items()} == dict.fromkeys(CONTROLS, "PASS")
    detail = _filter_detail(document, _organization_chain(deployed), ROOT)
    assert f"covers CIS {ROOT} (the benchmark's exact text; not too broad)" in detail


def test_the_audit_fails_a_pattern_that_matches_none_of_the_controls_records(
    deployed: world_audit.Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    group = _set_pattern(deployed, MATCHES_NOTHING)
    code, document = _audit(deployed, capsys)
    assert code == 1
    # Every pair whose events reach that group FAILs (the management account and its members); Sandbox,
    # covered through its own trail and chain, does not.
    depends = {pair for pair, row in world_audit.expected(deployed.world).items() if row[3] == group.key}
    assert {(p["accountId"], p["region"]) for p in document["coverage"] if p["status"] == "FAIL"} == depends
    assert len(depends) == 4 * len(REGIONS)
    assert {p["status"] for p in document["coverage"] if (p["accountId"], p["region"]) not in depends} == {
        "PASS"
    }
    for pair in document["coverage"]:
        if (pair["accountId"], pair["region"]) in depends:
            assert pair["code"] == "coverage.none.chain_broken"
            (reason,) = [r for r in pair["reasons"] if r.startswith("chain in account")]
            assert reason.startswith(
                f"chain in account {group.account_id} ({group.name}): CIS {ROOT}: filter: "
            )
            assert f"does not cover CIS {ROOT}" in reason
    chain = document["chains"][group.key]["controls"]
    assert chain[ROOT]["status"] == "FAIL"
    assert chain["4.5"]["status"] == "PASS", "the other control's chain is untouched"


def test_the_audit_passes_a_too_broad_pattern_with_a_note(
    deployed: world_audit.Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    group = _set_pattern(deployed, TOO_BROAD)
    code, document = _audit(deployed, capsys)
    assert code == 0
    detail = _filter_detail(document, group, ROOT)
    assert "text differs from the benchmark's; too broad: it also matches" in detail and "invokedBy" in detail
