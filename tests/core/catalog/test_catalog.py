"""The catalog as data: the packaged entries, their checks on load, and the extension directories."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cis_monitoring.core.catalog as catalog
from cis_monitoring.core.catalog import (
    CIS_4_5,
    CONTROLS,
    DEFAULT_CONTROL_IDS,
    DETECTORS,
    EXTRA_CONTROLS_ENV,
    AlarmSettings,
    CatalogError,
    Control,
    control_for_metric,
    get_control,
    registry,
)
from cis_monitoring.core.judge.pattern import judge_pattern

REPO_ROOT = Path(__file__).resolve().parents[3]
PACKAGED = REPO_ROOT / "cis_monitoring" / "core" / "catalog" / "controls"
ROOT_USAGE = REPO_ROOT / "tests" / "data" / "root_usage_control"

# The benchmark's remediation text, copied by hand (not read from the catalog).
BENCHMARK_4_5 = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) }"
)


# ---------------------------------------------------------------- the packaged entries


def test_4_5_is_the_benchmark_control_byte_for_byte() -> None:
    assert CIS_4_5.filter_pattern == BENCHMARK_4_5
    assert (CIS_4_5.namespace, CIS_4_5.metric_name, CIS_4_5.metric_value) == (
        "CISBenchmark",
        "CloudTrailConfigChanges",
        "1",
    )
    assert CIS_4_5.alarm == AlarmSettings("Sum", 300, 1.0, "GreaterThanOrEqualToThreshold", 1, "notBreaching")
    assert CIS_4_5.event_source == "cloudtrail.amazonaws.com"
    assert CIS_4_5.event_names == ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")
    assert (CIS_4_5.security_hub_id, CIS_4_5.detector, CIS_4_5.default) == (
        "CloudWatch.5",
        "metric-filter",
        True,
    )
    assert CIS_4_5.slug == "cloudtrail-changes" and CIS_4_5.samples_file == "cis_4_5.samples.json"
    assert CIS_4_5.risk and CIS_4_5.remediation and CIS_4_5.title and CIS_4_5.benchmark
    assert CIS_4_5.alarm_description == (
        "CIS AWS Foundations Benchmark v3.0.0 4.5: Ensure CloudTrail configuration changes are monitored"
    )


def test_public_lookups() -> None:
    assert CONTROLS["4.5"] is CIS_4_5 is get_control("4.5")
    assert control_for_metric("CISBenchmark", "CloudTrailConfigChanges") is CIS_4_5
    assert control_for_metric("CISBenchmark", "Other") is None
    with pytest.raises(KeyError, match=r"unknown control '9\.9'; known controls: 4\.5"):
        get_control("9.9")


def test_the_default_controls_come_from_the_entries() -> None:
    entries = [json.loads(p.read_text()) for p in _entry_files(PACKAGED)]
    assert tuple(e["controlId"] for e in entries if e["default"]) == DEFAULT_CONTROL_IDS
    assert DEFAULT_CONTROL_IDS == catalog.default_control_ids() == ("4.5",)


@pytest.mark.parametrize("control", list(CONTROLS.values()), ids=list(CONTROLS))
def test_every_packaged_entry_is_judged_complete_by_its_own_samples(control: Control) -> None:
    verdict = judge_pattern(control.filter_pattern, control)
    assert (verdict.covers, verdict.canonical, verdict.too_broad) == (True, True, False), verdict.explain()
    assert control.detector in DETECTORS
    assert control.target_samples() and control.unrelated_samples()


def test_4_5_probes_are_its_event_names_varied() -> None:
    labels = [p.label for p in CIS_4_5.probe_samples()]
    assert len(labels) == 4 * len(CIS_4_5.event_names)
    assert (
        "probe: hypothetical event 'CreateTrailX'" in labels
        and "probe: hypothetical event 'stoplogging'" in labels
    )
    # Each probe keeps the shape of a target record of its own event (not of the first sample).
    stop = next(p for p in CIS_4_5.probe_samples() if p.event_name == "XStopLogging")
    assert stop.record["requestParameters"] == next(
        s.record["requestParameters"] for s in CIS_4_5.target_samples() if s.event_name == "StopLogging"
    )


def test_packaging_declares_every_catalog_data_file() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["cis_monitoring.core.catalog"]
    data = sorted(p.relative_to(PACKAGED.parent) for p in PACKAGED.iterdir())
    assert data, "no catalog data"
    assert all(any(path.match(glob) for glob in globs) for path in data), (globs, data)


def test_the_catalog_loads_from_a_copy_of_the_core_outside_the_repository(tmp_path: Path) -> None:
    # As in the built policy pack: only the cis_monitoring/core directory, the repository not on the path.
    shutil.copytree(
        REPO_ROOT / "cis_monitoring" / "core",
        tmp_path / "cis_monitoring" / "core",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (tmp_path / "cis_monitoring" / "__init__.py").write_text("")
    script = "import cis_monitoring.core.catalog as c; print(c.__file__); print(c.CIS_4_5.filter_pattern); print(len(c.CIS_4_5.target_samples()))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    # The venv's editable install could still find the repository's copy; the first line proves
    # the one beside the cwd was used, as the pack's process uses its vendored copy.
    assert done.returncode == 0, done.stderr
    path, pattern, targets = done.stdout.splitlines()
    assert Path(path).is_relative_to(tmp_path) and pattern == BENCHMARK_4_5 and int(targets) >= 10


# ---------------------------------------------------------------- checks on load


def _entry_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if not p.name.endswith(".samples.json"))


@pytest.fixture
def org_dir(tmp_path: Path) -> Path:
    """An extension directory holding the test-only root-usage entry and its samples."""
    directory = tmp_path / "org-controls"
    shutil.copytree(ROOT_USAGE, directory)
    return directory


def _load(*directories: Path) -> registry.Catalog:
    return registry.load({EXTRA_CONTROLS_ENV: os.pathsep.join(map(str, directories))})


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_an_extension_directory_adds_its_entries(org_dir: Path) -> None:
    loaded = _load(org_dir)
    assert list(loaded.controls) == ["4.3-test", "4.5"]
    root = loaded.controls["4.3-test"]
    assert (root.event_source, root.event_names, root.default, root.origin) == (None, (), False, str(org_dir))
    assert loaded.default_ids == ("4.5",)
    assert loaded.by_metric[("CISBenchmark", "RootAccountUsageTest")] is root
    assert len(root.target_samples()) >= 5 and root.unrelated_samples()
    # Without event names, the probes are the file's own near misses only.
    probes = json.loads((org_dir / root.samples_file).read_text())["probes"]
    assert [p.label for p in root.probe_samples()] == [p["label"] for p in probes]


BAD_ENTRIES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown key", lambda e: e.update(sevrity="high"), "cis_4_3_test.json: sevrity: unknown key"),
    ("bad severity", lambda e: e.update(severity="urgent"), "severity: must be one of informational, low"),
    (
        "unknown benchmark",
        lambda e: e["frameworks"].update({"cis-aws-9.9": e["frameworks"]["cis-aws-3.0"]}),
        "frameworks.cis-aws-9.9: unknown benchmark",
    ),
    (
        "mapping without its source",
        lambda e: e["frameworks"]["cis-aws-3.0"].pop("source"),
        "frameworks.cis-aws-3.0.source: is missing",
    ),
    (
        "bad assessment",
        lambda e: e["frameworks"]["cis-aws-3.0"].update(assessment="Scored"),
        "frameworks.cis-aws-3.0.assessment: must be one of Automated, Manual or null",
    ),
    (
        "security hub id without its source",
        lambda e: e.update(securityHubSource=None),
        "securityHubSource: must say where securityHubId comes from",
    ),
    ("missing key", lambda e: e.pop("risk"), "cis_4_3_test.json: risk: is missing"),
    ("bad id", lambda e: e.update(controlId="4 3"), "controlId: must be a control id such as '4.5'"),
    ("default not bool", lambda e: e.update(default="yes"), "default: must be true or false, not 'yes'"),
    (
        "unknown detector",
        lambda e: e.update(detector="eventbridge-rule"),
        "detector: must be one of metric-filter",
    ),
    ("bad slug", lambda e: e.update(slug="Root Usage"), "slug: must be lowercase words joined by '-'"),
    (
        "pattern syntax",
        lambda e: e.update(filterPattern="{ $.a = "),
        "filterPattern: is not valid filter-pattern syntax",
    ),
    ("metric value 0", lambda e: e["metric"].update(value="0"), "metric.value: must be a positive number"),
    ("AWS namespace", lambda e: e["metric"].update(namespace="AWS/Logs"), "metric.namespace: 'AWS/Logs'"),
    (
        "alarm period",
        lambda e: e["alarm"].update(period=45),
        "alarm.period: must be 10, 30 or a positive multiple of 60",
    ),
    (
        "alarm operator",
        lambda e: e["alarm"].update(comparisonOperator=">="),
        "alarm.comparisonOperator: must be one of",
    ),
    ("alarm key missing", lambda e: e["alarm"].pop("statistic"), "alarm.statistic: is missing"),
    ("event source", lambda e: e.update(eventSource="CloudTrail"), "eventSource: must be null (any service)"),
    ("event names type", lambda e: e.update(eventNames="ConsoleLogin"), "eventNames: must be a list"),
    (
        "security hub id",
        lambda e: e.update(securityHubId="CIS 4.3"),
        "securityHubId: must be null or a Security Hub",
    ),
    (
        "samples path",
        lambda e: e.update(samples="../x.samples.json"),
        "samples: must be the name of a file beside",
    ),
    ("samples missing", lambda e: e.update(samples="gone.samples.json"), "gone.samples.json: cannot be read"),
    (
        "pattern misses its own targets",
        lambda e: e.update(filterPattern='{ $.userIdentity.type = "IAMUser" }'),
        "filterPattern: does not match target[0] of cis_4_3_test.samples.json",
    ),
    (
        "pattern too broad for its own samples",
        lambda e: e.update(filterPattern='{ $.userIdentity.type = "Root" }'),
        "filterPattern: also matches unrelated[3] of cis_4_3_test.samples.json",
    ),
    (
        "event names without records",
        lambda e: e.update(eventNames=["ConsoleLogin"]),
        "target[2]: eventName 'CreateAccessKey' is not one of the entry's eventNames",
    ),
    (
        "event source of other records",
        lambda e: e.update(eventSource="signin.amazonaws.com"),
        "target[2]: eventSource 'iam.amazonaws.com' is not the entry's 'signin.amazonaws.com'",
    ),
]


@pytest.mark.parametrize(("case", "change", "expected"), BAD_ENTRIES, ids=[c[0] for c in BAD_ENTRIES])
def test_a_bad_entry_is_refused_naming_file_and_key(
    case: str, change: Callable[[dict[str, Any]], None], expected: str, org_dir: Path
) -> None:
    _edit(org_dir / "cis_4_3_test.json", change)
    with pytest.raises(CatalogError) as raised:
        _load(org_dir)
    assert any(expected in line for line in raised.value.problems), raised.value.problems
    assert str(org_dir / "cis_4_3_test.json") in str(raised.value) or "samples.json" in str(raised.value)


def test_every_problem_of_every_entry_is_reported_at_once(org_dir: Path, tmp_path: Path) -> None:
    _edit(org_dir / "cis_4_3_test.json", lambda e: e.update(slug="X", default=1, detector="rule"))
    other = tmp_path / "more"
    other.mkdir()
    (other / "broken.json").write_text("{ not json")
    with pytest.raises(CatalogError) as raised:
        _load(org_dir, other)
    text = str(raised.value)
    assert text.startswith("4 problem(s) in the control catalog:"), text
    for part in ("slug:", "default:", "detector:", "broken.json: is not valid JSON"):
        assert part in text


BAD_SAMPLES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("wrong control", lambda s: s.update(control="4.5"), "control: must be '4.3-test'"),
    ("no targets", lambda s: s.update(target=[]), "target: must list at least one record"),
    ("unrelated missing", lambda s: s.pop("unrelated"), "unrelated: is missing"),
    ("unknown key", lambda s: s.update(negatives=[]), "negatives: unknown key"),
    (
        "record not object",
        lambda s: s["target"][1].update(record="{}"),
        "target[1].record: must be a JSON object",
    ),
    ("duplicate label", lambda s: s["unrelated"].append(copy.deepcopy(s["target"][0])), "is used twice"),
    (
        "extra item key",
        lambda s: s["probes"][0].update(note="x"),
        "probes[0]: must be an object with exactly",
    ),
]


@pytest.mark.parametrize(("case", "change", "expected"), BAD_SAMPLES, ids=[c[0] for c in BAD_SAMPLES])
def test_bad_samples_are_refused_naming_file_and_key(
    case: str, change: Callable[[dict[str, Any]], None], expected: str, org_dir: Path
) -> None:
    _edit(org_dir / "cis_4_3_test.samples.json", change)
    with pytest.raises(CatalogError) as raised:
        _load(org_dir)
    line = next((p for p in raised.value.problems if expected in p), None)
    assert line is not None and line.startswith(str(org_dir / "cis_4_3_test.samples.json")), (
        raised.value.problems
    )


def test_extension_entries_may_not_clash_with_the_catalog(org_dir: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    for path in PACKAGED.iterdir():
        shutil.copy(path, clone / path.name)
    with pytest.raises(CatalogError) as raised:
        _load(org_dir, clone)
    problems = raised.value.problems
    assert any(
        "controlId: '4.5' is also used by cis_monitoring/core/catalog/controls/cis_4_5.json" in p
        for p in problems
    )
    assert any("metric: 'CISBenchmark/CloudTrailConfigChanges' is also used by" in p for p in problems)
    assert any("slug: 'cloudtrail-changes' is also used by" in p for p in problems)


def test_the_extension_variable_must_name_directories_with_entries(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CatalogError) as raised:
        _load(tmp_path / "nowhere", empty)
    assert raised.value.problems == [
        f"{EXTRA_CONTROLS_ENV}: {str(tmp_path / 'nowhere')!r} is not a directory",
        f"{empty}: has no control entry (*.json besides *.samples.json)",
    ]


def test_an_empty_variable_adds_nothing() -> None:
    assert (
        list(registry.load({EXTRA_CONTROLS_ENV: ""}).controls) == list(registry.load({}).controls) == ["4.5"]
    )


# ---------------------------------------------------------------- reload: what tests and long-lived processes use


@pytest.fixture
def restore_catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    monkeypatch.undo()
    catalog.reload()


def test_reload_reads_the_variable_again_and_the_live_view_follows(
    org_dir: Path, restore_catalog: pytest.MonkeyPatch
) -> None:
    view = CONTROLS
    assert "4.3-test" not in view
    _edit(org_dir / "cis_4_3_test.json", lambda e: e.update(default=True))
    restore_catalog.setenv(EXTRA_CONTROLS_ENV, str(org_dir))
    catalog.reload()
    assert view is catalog.CONTROLS and "4.3-test" in view and len(view) == 2
    assert catalog.DEFAULT_CONTROL_IDS == ("4.3-test", "4.5") == catalog.default_control_ids()
    assert control_for_metric("CISBenchmark", "RootAccountUsageTest") is view["4.3-test"]
    assert repr(view) == "CONTROLS(4.3-test, 4.5)"


def test_an_unchanged_entry_keeps_its_object_across_reloads(
    org_dir: Path, restore_catalog: pytest.MonkeyPatch
) -> None:
    restore_catalog.setenv(EXTRA_CONTROLS_ENV, str(org_dir / "missing"))
    with pytest.raises(CatalogError):
        catalog.reload()
    restore_catalog.setenv(EXTRA_CONTROLS_ENV, str(org_dir))
    catalog.reload()
    assert CONTROLS["4.5"] is CIS_4_5 is catalog.CIS_4_5


# ---------------------------------------------------------------- framework mappings

# Pinned: the id, assessment and profile of 4.5 in every benchmark version the catalog holds,
# as its sources give them (a changed mapping must change this table on purpose).
FRAMEWORKS_4_5 = {
    "cis-aws-1.2": ("3.5", None, None),
    "cis-aws-1.4": ("4.5", "Automated", "Level 1"),
    "cis-aws-1.5": ("4.5", "Automated", "Level 1"),
    "cis-aws-2.0": ("4.5", "Automated", "Level 1"),
    "cis-aws-3.0": ("4.5", "Automated", "Level 1"),
    "cis-aws-4.0": ("4.5", "Manual", "Level 1"),
    "cis-aws-5.0": ("4.5", "Manual", "Level 1"),
    "cis-aws-6.0": ("5.5", "Manual", "Level 1"),
    "cis-aws-7.0": ("5.5", "Manual", "Level 1"),
}


def test_every_framework_mapping_of_4_5_is_pinned_and_cites_its_source() -> None:
    found = {r.benchmark: (r.id, r.assessment, r.profile) for r in CIS_4_5.frameworks}
    assert found == FRAMEWORKS_4_5
    assert all(r.source.strip() for r in CIS_4_5.frameworks)
    assert CIS_4_5.requirement("cis-aws-6.0").title == "Ensure CloudTrail configuration changes are monitored"
    assert CIS_4_5.requirement("cis-aws-9.9") is None
    assert CIS_4_5.security_hub_id == "CloudWatch.5" and "CloudWatch.5" in str(CIS_4_5.security_hub_source)
