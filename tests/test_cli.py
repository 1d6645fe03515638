"""The ``cis-monitoring`` command: dispatch, help, version and the exit codes of every subcommand."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import cis_monitoring.core.catalog as catalog
from cis_monitoring import cli
from cis_monitoring.core.catalog import EXTRA_CONTROLS_ENV, CatalogError
from cis_monitoring.core.project import PROJECT

REPO_ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = sorted(cli.COMMANDS)


def test_the_subcommands_are_the_documented_ones() -> None:
    assert SUBCOMMANDS == ["audit", "discover", "pack-config", "report", "rollup-report", "shards", "sigma"]


def test_help_lists_every_command_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--help", "-h", "help"):
        assert cli.main([flag]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: {PROJECT} [--version] <command> [options]")
        assert all(f"\n  {name} " in out for name in SUBCOMMANDS)
        assert cli.EXIT_CODES_HELP in out


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    for flag in ("--version", "-V"):
        assert cli.main([flag]) == 0
        assert capsys.readouterr().out == f"{PROJECT} {version(PROJECT)}\n"


@pytest.mark.parametrize(
    ("status", "code"),
    [("PASS", 0), ("FAIL", 1), ("ERROR", 3), ("NOT_APPLICABLE", 0)],
)
def test_a_commands_worst_status_is_its_exit_code(status: str, code: int) -> None:
    assert cli.exit_code(status) == code


def test_no_command_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"{PROJECT}: give a command\n\nusage: ")


def test_an_unknown_command_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["reprot"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"{PROJECT}: unknown command 'reprot'")


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_documents_its_exit_codes(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {PROJECT} {name}")
    text = " ".join(out.split())  # argparse wraps the epilog
    match = re.search(r"exit (codes|status):(.*)", text, re.IGNORECASE)
    assert match, out
    assert all(re.search(rf"(^|[\s;]){code}\s", match.group(2)) for code in "012"), match.group(2)


BAD_USAGE = [
    (["audit"], "error: give --stack NAME"),
    (["audit", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["audit", "--stack", "prod", "--account", "111111111111"], "error: give either --stack or --account"),
    (["audit", "--max-workers", "0"], "--max-workers: must be at least 1"),
    (["audit", "--stack", "no-such-stack"], "no such stack file"),
    (["discover", "--max-workers", "0"], "error: --max-workers must be between 1 and 64"),
    (["discover", "--bogus"], "unrecognized arguments: --bogus"),
    (
        ["discover", "--region", "mars-1"],
        "error: --region: 'mars-1' is not an AWS Region (e.g. us-east-1), nor 'all'",
    ),
    (["discover", "--write"], "error: --write needs --stack NAME"),
    (["discover", "--stack", "nothing"], "error: --stack nothing: no stack file"),
    (
        ["shards"],
        "error: give the shard stacks: --stack NAME (repeatable), or their Pulumi.<stack>.yaml files",
    ),
    (["shards", "Pulumi.nothing.yaml"], "error: Pulumi.nothing.yaml: no such stack file"),
    (["shards", "--stack", "nothing"], "error: --stack nothing: no stack file"),
    (["pack-config"], "error: give --stack NAME"),
    (["pack-config", "--stack", "nothing"], "error: --stack nothing: no stack file"),
    (["report"], "error: the following arguments are required: FINDINGS.json"),
    (["report", "nothing.json", "--format", "json"], "error: nothing.json: cannot read it"),
    (["report", "nothing.json"], "error: --format: give at least one format to write"),
    (
        ["audit", "--stack", "dev", "--benchmark", "cis-aws-0.1"],
        "error: --benchmark: unknown version 'cis-aws-0.1'",
    ),
    (["rollup-report", "nothing.json"], "error: nothing.json: cannot read it: No such file or directory"),
    (["rollup-report", "README.md"], "error: README.md: not JSON"),
    (["sigma"], "the following arguments are required: --out"),
    (
        ["sigma", "--out", "sigma-rules", "--control", "9.9"],
        "error: --control: '9.9' is not a catalog control",
    ),
]


@pytest.mark.parametrize(("argv", "message"), BAD_USAGE, ids=[" ".join(a) for a, _ in BAD_USAGE])
def test_bad_usage_exits_2_with_a_message_and_no_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    # No AWS call may happen before the usage check: no credentials, nowhere to send one.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err


@pytest.fixture
def broken_extension(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    missing = tmp_path / "missing"
    monkeypatch.setenv(EXTRA_CONTROLS_ENV, str(missing))
    with pytest.raises(CatalogError):
        catalog.reload()
    yield missing
    monkeypatch.undo()
    catalog.reload()


@pytest.mark.parametrize("argv", [["audit", "--stack", "prod"], ["audit", "--help"]])
def test_a_bad_catalog_extension_is_bad_usage_not_a_traceback(
    argv: list[str], broken_extension: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"{EXTRA_CONTROLS_ENV}: {str(broken_extension)!r} is not a directory" in err
    assert "Traceback" not in err


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != EXTRA_CONTROLS_ENV}
    return subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)


def test_python_m_cis_monitoring_is_the_command() -> None:
    done = _run(sys.executable, "-m", "cis_monitoring", "shards", "--help")
    assert done.returncode == 0 and done.stdout.startswith(f"usage: {PROJECT} shards")


def test_the_console_script_is_declared_and_installed() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"] == {PROJECT: "cis_monitoring.cli:main"}
    # `make venv` installs the project (pip install -e .), which writes the script beside python.
    script = Path(sys.executable).parent / PROJECT
    assert script.is_file(), f"{script} is missing: run `make venv`"
    done = _run(str(script), "--help")
    assert done.returncode == 0 and done.stdout.startswith(f"usage: {PROJECT} [--version] <command>")
    assert _run(str(script)).returncode == 2


def test_pulumi_yaml_names_the_project_and_the_default_controls() -> None:
    from cis_monitoring.core.catalog import default_control_ids

    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert tuple(project["config"]["controls"]["default"]) == default_control_ids()
