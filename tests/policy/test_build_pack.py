"""``policy.build_pack``: the self-contained pack directory, started as the Pulumi CLI starts it.

The built directory is all the pack needs (policy/ plus a vendored ``cis_monitoring.core``); it is
started from there with PYTHONPATH removed and the cwd outside the repository, so the
pack can only use what was built. A compliant stack passes; a broken one is blocked.
"""

from __future__ import annotations

import copy
import filecmp
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cis_monitoring.core.catalog import CIS_4_5
from local.analyzer_client import PolicyPackServer, stack_resources, without_no_trail_notes
from local.program_harness import ProgramRun, run_program, stack_config
from policy import build_pack as builder

pytestmark = pytest.mark.protocol

REPO_ROOT = Path(__file__).resolve().parents[2]
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ROOT_USAGE = REPO_ROOT / "tests" / "data" / "root_usage_control"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = builder.build_pack(tmp_path_factory.mktemp("pack-build") / "policy-pack")
    # Marks the vendored copy, to prove below that the pack reads it and not the repository's.
    for path in ROOT_USAGE.iterdir():
        shutil.copy(path, out / "cis_monitoring" / "core" / "catalog" / "controls" / path.name)
    return out


@pytest.fixture(scope="module")
def pack(built: Path) -> Iterator[PolicyPackServer]:
    server = PolicyPackServer(cwd=built)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    run = run_program(stack_config("dev")[0], stack="dev")
    assert run.error is None, run.error
    return run


def test_the_build_has_the_pack_and_the_core_and_nothing_else(built: Path) -> None:
    top = sorted(p.name for p in built.iterdir())
    assert top == sorted([*builder.PACK_FILES, *builder.PACK_DIRS, "cis_monitoring", builder.MARKER]), top
    # Only the core is vendored: the package around it is a one-line stub.
    assert sorted(p.name for p in (built / "cis_monitoring").iterdir()) == ["__init__.py", "core"]
    assert not built.is_relative_to(REPO_ROOT)
    for absent in (
        "tests",
        "local",
        "components",
        "audit",
        "rollout",
        "spec",
        "program",
        "__pycache__",
    ):
        assert not list(built.rglob(absent)), absent
    core = REPO_ROOT / "cis_monitoring" / "core"
    sources = sorted(
        p.relative_to(core) for p in core.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert sources and all(
        filecmp.cmp(core / p, built / "cis_monitoring" / "core" / p, shallow=False) for p in sources
    )
    assert (built / "cis_monitoring" / "core" / "catalog" / "controls" / "cis_4_5.json").is_file()
    assert (built / "cis_guard" / "rules.py").is_file() and (built / "config" / "prod.json").is_file()


def test_the_pack_runs_from_the_build_with_its_vendored_core(pack: PolicyPackServer) -> None:
    chain = next(p for p in pack.info().policies if p.name == "cis-monitoring-chain")
    # The extra entry exists only in the build's copy of the catalog, found through importlib.resources.
    assert "4.3-test" in str(chain.configSchema.properties), (
        "the pack did not use the vendored cis_monitoring.core"
    )


def test_a_compliant_stack_passes_the_built_pack(pack: PolicyPackServer, dev_run: ProgramRun) -> None:
    pack.configure({})
    assert without_no_trail_notes(pack.analyze_stack(stack_resources(dev_run))) == []


def test_a_broken_stack_is_blocked_by_the_built_pack(pack: PolicyPackServer, dev_run: ProgramRun) -> None:
    broken = copy.deepcopy(dev_run)
    weak = CIS_4_5.filter_pattern.replace(" || ($.eventName = StopLogging)", "")
    for resource in broken.of_type(FILTER):
        resource.inputs["pattern"] = resource.outputs["pattern"] = weak
    pack.configure({})
    violations = [v for v in pack.analyze_stack(stack_resources(broken)) if v.level == "mandatory"]
    assert violations and {v.policy for v in violations} == {"cis-monitoring-chain"}
    assert all("does not cover CIS 4.5: it misses StopLogging" in v.message for v in violations), violations


def test_building_over_a_foreign_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert builder.main(["--out", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is not empty and is not an earlier pack build" in err
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_rebuilding_replaces_an_earlier_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pack"
    assert builder.main(["--out", str(out)]) == 0
    (out / "stale.txt").write_text("from an older build")
    assert builder.main(["--out", str(out)]) == 0
    assert not (out / "stale.txt").exists() and (out / builder.MARKER).is_file()
    assert f"policy pack built in {out}" in capsys.readouterr().out


def test_no_core_source_file_is_committed_twice() -> None:
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing is committed")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    files = [f for f in listed if (REPO_ROOT / f).is_file()]
    # tests/core mirrors the core's tree with tests; any other core directory is a copy.
    copies = [
        f for f in files if "core" in Path(f).parts and not f.startswith(("tests/", "cis_monitoring/core/"))
    ]
    assert not copies, f"a copy of cis_monitoring/core is committed: {copies[:5]}"
    core = {
        (REPO_ROOT / f).read_bytes(): f
        for f in files
        if f.startswith("cis_monitoring/core/") and f.endswith(".py")
    }
    duplicates = [
        (f, core[content])
        for f in files
        if not f.startswith("cis_monitoring/core/") and f.endswith(".py")
        for content in [(REPO_ROOT / f).read_bytes()]
        if content.strip() and content in core
    ]
    assert not duplicates, f"core source files committed twice: {duplicates}"
