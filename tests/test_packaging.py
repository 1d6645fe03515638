"""What a user installs, and what the core's tests need: checked in fresh processes.

- ``pip install .`` into a fresh venv gives a working ``cis-monitoring`` (its runtime
  dependencies are declared, not left to requirements files), and installs nothing but the
  ``cis_monitoring`` package: ``components/``, ``policy/``, ``local/`` and ``tests/`` are not
  installed, and neither is Pulumi (the ``program`` extra).
- The core's tests run with only the standard library and pytest importable: third-party
  packages are blocked in the pytest process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BLOCKED = (
    "pulumi",
    "pulumi_aws",
    "pulumi_policy",
    "pydantic",
    "pydantic_core",
    "boto3",
    "botocore",
    "yaml",
    "moto",
    "jsonschema",
    "grpc",
    "hypothesis",
)

# Put on PYTHONPATH as sitecustomize: any import of a BLOCKED top-level package fails as if it were
# not installed, in that process and for anything it imports.
_BLOCKER = """
import sys

BLOCKED = set({blocked!r})


class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by tests/test_packaging.py)", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
"""


def _blocking_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(_BLOCKER.format(blocked=BLOCKED))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])}


def test_the_blocker_blocks(tmp_path: Path) -> None:
    env = _blocking_env(tmp_path)
    for name in ("boto3", "pydantic", "pulumi", "yaml"):
        done = subprocess.run(
            [sys.executable, "-c", f"import {name}"], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode != 0 and "blocked by tests/test_packaging.py" in done.stderr, name
    allowed = subprocess.run(
        [sys.executable, "-c", "import pytest, json; import cis_monitoring.core.catalog"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    assert allowed.returncode == 0, allowed.stderr


def test_the_cores_tests_run_with_only_the_standard_library_and_pytest(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",  # hypothesis's own pytest plugin would import it at start-up
            "-rs",
            "tests/core",
        ],
        cwd=REPO_ROOT,
        env=_blocking_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    assert passed >= 300, summary
    # The only skip: the property tests, which need hypothesis (they run in the full suite).
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "test_filter_pattern_properties.py" in skipped[0], skipped
    report.write_text(json.dumps({"summary": summary}))


@pytest.mark.install
def test_pip_install_into_a_fresh_venv_gives_a_working_command(tmp_path: Path) -> None:
    # A copy of the committed tree (plus uncommitted changes to tracked files), so the build
    # writes nothing into the checkout and sees only what a clone would have.
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    source = tmp_path / "source"
    for name in listed:
        path = REPO_ROOT / name
        if path.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(source)],
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(env_dir / "bin" / "cis-monitoring"), *argv],
            cwd=tmp_path,
            env=clean,
            capture_output=True,
            text=True,
            check=False,
        )

    version = run("--version")
    assert version.returncode == 0 and re.fullmatch(r"cis-monitoring \S+\n", version.stdout), version
    for command in ("audit", "discover", "shards", "pack-config", "report", "rollup-report", "sigma"):
        done = run(command, "--help")
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.startswith(f"usage: cis-monitoring {command}"), done.stdout[:200]
        assert "Traceback" not in done.stderr
    # Only the namespace is installed: no top-level components/policy/local, no Pulumi.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = subprocess.run(
        [str(python), "-m", "pip", "show", "--files", "cis-monitoring"],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tops = {
        line.strip().split("/")[0]
        for line in ours.split("Files:", 1)[1].splitlines()
        if line.strip() and not line.strip().startswith(("..", "cis_monitoring-"))
    }
    assert tops == {"cis_monitoring"}, tops
    assert not (Path(site) / "pulumi").exists(), "pulumi is the program extra, not a dependency"
    catalog = subprocess.run(
        [
            str(python),
            "-c",
            "from cis_monitoring.core.catalog import CIS_4_5; print(len(CIS_4_5.target_samples()))",
        ],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert catalog.returncode == 0 and int(catalog.stdout) >= 10, catalog.stderr
    # The reports' own packages are declared (Jinja2, rich) and the HTML report's assets ship.
    reports = subprocess.run(
        [
            str(python),
            "-c",
            "from cis_monitoring.core.findings import Findings, Run\n"
            "from cis_monitoring.report import RenderOptions, renderer\n"
            "run = Run('2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '1', '1', 'cis-aws-5.0')\n"
            "page = renderer('html').render(Findings(run, []), RenderOptions())\n"
            "from cis_monitoring.report import terminal\n"
            "text = terminal.render(Findings(run, []), RenderOptions())\n"
            "print(page.startswith('<!DOCTYPE html>'), '--pass:' in page, 'data-ready' in page, 'pair(s)' in text)",
        ],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert reports.returncode == 0 and reports.stdout.split() == ["True"] * 4, reports.stderr[-2000:]
