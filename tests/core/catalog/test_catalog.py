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
from cis_monitoring.core.filter_pattern import compile_pattern, matches, selectors
from cis_monitoring.core.judge.pattern import judge_pattern

REPO_ROOT = Path(__file__).resolve().parents[3]
PACKAGED = REPO_ROOT / "cis_monitoring" / "core" / "catalog" / "controls"
ROOT_USAGE = REPO_ROOT / "tests" / "data" / "root_usage_control"

SECTION_4 = tuple(f"4.{n}" for n in range(1, 16))
"""CIS AWS Foundations v3.0.0 4.1-4.15: every metric-filter control of the monitoring section (4.16 is not one)."""

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
    with pytest.raises(KeyError, match=r"unknown control '9\.9'; known controls: 4\.1, 4\.2, .*, 4\.15"):
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
    # The file's own near miss (a record without eventName), then four variants of each event name.
    assert labels[0] == "probe: a StopLogging call's record without eventName (a missing field)"
    assert len(labels) == 1 + 4 * len(CIS_4_5.event_names)
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
    assert list(loaded.controls) == [*SECTION_4[:3], "4.3-test", *SECTION_4[3:]]  # in benchmark order
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
        list(registry.load({EXTRA_CONTROLS_ENV: ""}).controls)
        == list(registry.load({}).controls)
        == list(SECTION_4)
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
    assert view is catalog.CONTROLS and "4.3-test" in view and len(view) == len(SECTION_4) + 1
    assert catalog.DEFAULT_CONTROL_IDS == ("4.3-test", "4.5") == catalog.default_control_ids()
    assert control_for_metric("CISBenchmark", "RootAccountUsageTest") is view["4.3-test"]
    assert repr(view).startswith("CONTROLS(4.1, 4.2, 4.3, 4.3-test, 4.4, 4.5, ")


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


# ---------------------------------------------------------------- the whole monitoring section, 4.1-4.15

# Golden: every control's text, copied by hand from the benchmark's remediation (CIS v3.0.0, as
# Prowler's cis_3.0_aws.json transcribes it) or, for 4.1, from Security Hub CloudWatch.2 (the entry's
# $comment says why). A changed character anywhere must change this table on purpose.
GOLDEN_PATTERNS = {
    "4.1": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    "4.2": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
    '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "4.3": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    "4.4": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||"
    "($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||"
    "($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||"
    "($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
    "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||"
    "($.eventName=DetachGroupPolicy)}",
    "4.5": BENCHMARK_4_5,
    "4.6": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "4.7": "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    "4.8": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || "
    "($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
    "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || "
    "($.eventName = DeleteBucketReplication)) }",
    "4.9": "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
    "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "4.10": "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
    "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
    "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    "4.11": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
    "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
    "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    "4.12": "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
    "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
    "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    "4.13": "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
    "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || "
    "($.eventName = DisassociateRouteTable) }",
    "4.14": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
    "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
    "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
    "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || "
    "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    "4.15": '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || '
    '($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || '
    '($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
    '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || '
    '($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || '
    '($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || '
    '($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || '
    '($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
}
# The texts the catalog did not pick where the sources disagree (see each entry's $comment).
CIS_3_0_4_1 = (
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || '
    '($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }'
)
CIS_3_0_4_2_FIRST = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
CIS_3_0_4_13_AUDIT = (
    "{($.eventSource = ec2.amazonaws.com) && ($.eventName =CreateRoute) || ($.eventName = CreateRouteTable) || "
    "($.eventName =ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName= DeleteRouteTable) || "
    "($.eventName = DeleteRoute) || ($.eventName =DisassociateRouteTable) }"
)

# Security Hub: CloudWatch.1 -> 4.3, .2 -> 4.1, .3 -> 4.2, .4-.14 -> 4.4-4.14; no control for 4.15.
SECURITY_HUB = (
    {"4.1": "CloudWatch.2", "4.2": "CloudWatch.3", "4.3": "CloudWatch.1"}
    | {f"4.{n}": f"CloudWatch.{n}" for n in range(4, 15)}
    | {"4.15": None}
)
LEVEL_2 = {"4.6", "4.7", "4.9", "4.10", "4.11"}
"""Level 2 in every version that rates them (4.1 is Level 1 up to v3.0.0, then Level 2)."""


def test_the_catalog_is_the_whole_monitoring_section_in_benchmark_order() -> None:
    assert tuple(CONTROLS) == SECTION_4
    assert DEFAULT_CONTROL_IDS == ("4.5",), "4.5 stays the only default"
    assert {c.benchmark for c in CONTROLS.values()} == {"CIS AWS Foundations Benchmark v3.0.0"}
    assert {c.detector for c in CONTROLS.values()} == {"metric-filter"}


@pytest.mark.parametrize("control_id", SECTION_4)
def test_every_text_is_pinned_byte_for_byte(control_id: str) -> None:
    assert CONTROLS[control_id].filter_pattern == GOLDEN_PATTERNS[control_id]


@pytest.mark.parametrize("control_id", SECTION_4)
def test_each_pattern_matches_its_targets_and_none_of_its_unrelated_records_or_probes(
    control_id: str,
) -> None:
    control = CONTROLS[control_id]
    pattern = compile_pattern(control.filter_pattern)
    missed = [s.label for s in control.target_samples() if not matches(pattern, s.record)]
    wrong = [
        s.label
        for s in (*control.unrelated_samples(), *control.probe_samples())
        if matches(pattern, s.record)
    ]
    assert (missed, wrong) == ([], [])
    assert len(control.target_samples()) >= 4 and len(control.unrelated_samples()) >= 5


# What each control's own text rules out, so its targets cannot show it (and why).
ONLY_SUCCESS = {"4.2": "a failed sign-in is 4.6's; the chosen text counts successful IAM-user sign-ins only"}
ONLY_FAILURE = {"4.1": "the control is about denied calls", "4.6": "the control is about failed sign-ins"}
ONE_PRINCIPAL_TYPE = {"4.2": "the chosen text counts IAM users only", "4.3": "the control is the root user"}
ONE_REGION = {"4.4": "IAM is a global service (us-east-1)", "4.15": "Organizations is global (us-east-1)"}


def _failed(record: dict[str, Any]) -> bool:
    return "errorCode" in record or "errorMessage" in record


@pytest.mark.parametrize("control_id", SECTION_4)
def test_targets_are_succeeded_and_denied_from_several_principals_and_regions(control_id: str) -> None:
    records = [s.record for s in CONTROLS[control_id].target_samples()]
    failed = sum(_failed(r) for r in records)
    assert failed >= (0 if control_id in ONLY_SUCCESS else 1), "a failed or denied attempt is a target too"
    assert len(records) - failed >= (0 if control_id in ONLY_FAILURE else 1), "a success is a target too"
    if control_id in ONLY_SUCCESS:
        assert failed == 0
    if control_id in ONLY_FAILURE:
        assert failed == len(records)
    principals = {r["userIdentity"].get("type") for r in records}
    assert len(principals) >= (1 if control_id in ONE_PRINCIPAL_TYPE else 2), principals
    regions = {r["awsRegion"] for r in records}
    assert len(regions) >= (1 if control_id in ONE_REGION else 2), regions
    if control_id in ONE_REGION:
        assert regions == {"us-east-1"}


@pytest.mark.parametrize("control_id", SECTION_4)
def test_each_control_has_a_near_miss_missing_a_field_its_pattern_tests(control_id: str) -> None:
    control = CONTROLS[control_id]
    tested = [s.removeprefix("$.").split(".") for s in selectors(compile_pattern(control.filter_pattern))]

    def has(record: dict[str, Any], path: list[str]) -> bool:
        node: Any = record
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    in_targets = [p for p in tested if all(has(s.record, p) for s in control.target_samples())]
    near_misses = (*control.unrelated_samples(), *control.probe_samples())
    assert any(not has(s.record, p) for s in near_misses for p in in_targets), control_id


@pytest.mark.parametrize("control_id", [c for c in SECTION_4 if "$.eventSource" in GOLDEN_PATTERNS[c]])
def test_a_text_that_tests_the_event_source_has_a_same_name_near_miss_from_another_source(
    control_id: str,
) -> None:
    control = CONTROLS[control_id]
    others = [
        s.label
        for s in (*control.unrelated_samples(), *control.probe_samples())
        if s.event_name in control.event_names and s.record.get("eventSource") != control.event_source
    ]
    assert others, control_id


def test_where_sources_disagree_the_other_texts_are_judged_as_the_pack_and_audit_judge_them() -> None:
    # 4.1: v3.0.0's remediation text covers the control but matches nearly everything.
    broad = judge_pattern(CIS_3_0_4_1, CONTROLS["4.1"])
    assert (broad.covers, broad.too_broad, broad.canonical) == (True, True, False)
    assert "DescribeInstances succeeded (no errorCode)" in broad.wrongly_matched
    assert "it also matches" in broad.explain()
    # 4.2: the first of v3.0.0's two texts also counts root, federated and failed sign-ins.
    first = judge_pattern(CIS_3_0_4_2_FIRST, CONTROLS["4.2"])
    assert (first.covers, first.too_broad) == (True, True)
    assert "ConsoleLogin through IAM Identity Center (federated role, MFAUsed No)" in first.wrongly_matched
    # 4.13: the audit step's text still covers every EC2 route event; it is not the remediation's text.
    audit = judge_pattern(CIS_3_0_4_13_AUDIT, CONTROLS["4.13"])
    assert (audit.covers, audit.too_broad, audit.canonical) == (True, False, False)


@pytest.mark.parametrize("control_id", SECTION_4)
def test_security_hub_ids_severity_and_framework_ids_are_pinned(control_id: str) -> None:
    control = CONTROLS[control_id]
    n = int(control_id.split(".")[1])
    assert control.security_hub_id == SECURITY_HUB[control_id]
    assert (control.security_hub_source is None) == (control.security_hub_id is None)
    if control.security_hub_id:
        assert control.security_hub_id in str(control.security_hub_source)
    assert control.severity == "medium"
    expected = {f"cis-aws-{v}": f"4.{n}" for v in ("1.4", "1.5", "2.0", "3.0", "4.0", "5.0")}
    expected |= {"cis-aws-6.0": f"5.{n}", "cis-aws-7.0": f"5.{n}"}
    if control_id != "4.15":  # v1.2.0 had 3.1-3.14, and no Organizations recommendation
        expected["cis-aws-1.2"] = f"3.{n}"
    assert {r.benchmark: r.id for r in control.frameworks} == expected
    for requirement in control.frameworks:
        assert requirement.source.strip() and requirement.title.strip()
        if requirement.benchmark == "cis-aws-1.2":
            assert (requirement.assessment, requirement.profile) == (None, None)
            assert control.security_hub_id in requirement.source
            continue
        level = "Level 2" if control_id in LEVEL_2 else "Level 1"
        if control_id == "4.1" and requirement.benchmark in (
            "cis-aws-4.0",
            "cis-aws-5.0",
            "cis-aws-6.0",
            "cis-aws-7.0",
        ):
            level = "Level 2"
        assert requirement.profile == level, requirement
        manual = requirement.benchmark in ("cis-aws-5.0", "cis-aws-6.0", "cis-aws-7.0") or (
            requirement.benchmark == "cis-aws-4.0" and control_id != "4.1"
        )
        assert requirement.assessment == ("Manual" if manual else "Automated"), requirement


def test_names_and_metrics_are_distinct_and_fit_aws_limits() -> None:
    controls = list(CONTROLS.values())
    assert len({c.slug for c in controls}) == len({c.metric_name for c in controls}) == len(controls)
    assert {c.namespace for c in controls} == {"CISBenchmark"}
    # logs FilterPattern: at most 1024 characters (botocore logs service-2.json, shape FilterPattern).
    assert max(len(c.filter_pattern) for c in controls) <= 1024
