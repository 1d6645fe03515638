"""``local.localstack`` without LocalStack: finding a Python, checking the venv, failing to start.

Fake interpreters are small shell scripts, so these run on any machine. LocalStack itself is
exercised by the LocalStack tier (``tests/localstack``).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from local.localstack import (
    SERVICES,
    LocalStack,
    LocalStackError,
    LocalStackUnavailable,
    find_python,
    main,
    venv_python,
)


def fake_python(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_python_takes_the_first_candidate_that_really_runs_a_new_enough_python(tmp_path: Path) -> None:
    shim = fake_python(tmp_path / "shim", "echo 'pyenv: python3.13: command not found' >&2; exit 127")
    old = fake_python(tmp_path / "old", "echo 3 12")
    good = fake_python(tmp_path / "good", "echo 3 13")
    newer = fake_python(tmp_path / "newer", "echo 3 14")

    assert find_python([str(shim), str(old), str(good), str(newer)]) == str(good)
    assert find_python([str(shim), str(old), str(tmp_path / "missing")]) is None


def test_find_python_cli_prints_it_or_says_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = fake_python(tmp_path / "good", "echo 3 13")
    assert main(["find-python", str(good)]) == 0
    assert capsys.readouterr().out.strip() == str(good)

    old = fake_python(tmp_path / "old", "echo 3 11")
    assert main(["find-python", str(old)]) == 1
    assert "no Python >= 3.13 found" in capsys.readouterr().err
    assert main([]) == 2


def test_a_venv_without_localstack_is_unavailable_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        LocalStackUnavailable, match=r"no LocalStack venv at .*make localstack-venv|no Python"
    ):
        venv_python(tmp_path / "absent")

    broken = tmp_path / "broken"
    fake_python(
        broken / "bin" / "python", "echo \"ModuleNotFoundError: No module named 'localstack'\" >&2; exit 1"
    )
    with pytest.raises(LocalStackUnavailable, match=r"not installed in .*broken \(ModuleNotFoundError"):
        venv_python(broken)

    old = tmp_path / "old"
    fake_python(old / "bin" / "python", "echo 3 12 4.14.0")
    with pytest.raises(LocalStackUnavailable, match=r"is Python 3\.12; LocalStack needs >= 3\.13"):
        venv_python(old)


def test_the_child_gets_loopback_a_private_root_and_none_of_our_aws_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("SERVICES", "s3")
    env = LocalStack(tmp_path).environment(tmp_path / "root", 4567)

    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4567"
    assert env["GATEWAY_SERVER"] == "hypercorn"  # the default server binds 0.0.0.0
    assert env["OVERRIDE_IN_DOCKER"] == "0"  # else FILESYSTEM_ROOT is ignored
    assert env["SERVICES"] == ",".join(SERVICES)
    for key in ("FILESYSTEM_ROOT", "CONFIG_DIR", "XDG_CACHE_HOME"):
        assert Path(env[key]).is_relative_to(tmp_path / "root"), key
    assert not any(key.startswith("AWS_") for key in env)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
def test_a_localstack_that_dies_while_starting_is_an_error_with_its_log(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # Answers the venv check, then "starts" and dies at once, as a crashing LocalStack does.
    fake_python(
        venv / "bin" / "python",
        'case "$2" in localstack.runtime.main) echo "Traceback: boom at start"; exit 3;; esac\necho 3 13 4.14.0',
    )
    server = LocalStack(venv, start_timeout=20)

    with pytest.raises(LocalStackError, match=r"exited with code 3 while starting(.|\n)*boom at start"):
        server.start()

    assert server._root is None  # the private root is gone ...
    assert server.log_tail().endswith("Traceback: boom at start")  # ... its log was kept for the report
    Path(server._log_path or "").unlink()
    server.stop()  # stopping a server that never started is harmless


def test_this_interpreter_is_a_candidate_only_if_new_enough() -> None:
    found = find_python([sys.executable])
    assert (found == sys.executable) == (sys.version_info >= (3, 13))
