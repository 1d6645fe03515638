"""``cis-monitoring sigma``: the files it writes, and its exit codes (0 written, 2 unwritable, 3 a control left out)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import cis_monitoring.core.catalog as catalog
from cis_monitoring import cli
from cis_monitoring.core.catalog import CONTROLS, EXTRA_CONTROLS_ENV
from cis_monitoring.sigma.rules import build_rule

ROOT_USAGE = Path(__file__).resolve().parents[1] / "data" / "root_usage_control"


def test_it_writes_one_rule_per_control_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rules" / "cis"  # created with its parents
    assert cli.main(["sigma", "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    expected = sorted(build_rule(c).file_name for c in CONTROLS.values())
    assert written == expected
    for control in CONTROLS.values():
        result = build_rule(control)
        assert yaml.safe_load((out / result.file_name).read_text(encoding="utf-8")) == result.document
    printed = capsys.readouterr().out
    assert "4.5: wrote" in printed and "agrees with the filter on" in printed


def test_control_limits_the_export(tmp_path: Path) -> None:
    assert cli.main(["sigma", "--out", str(tmp_path), "--control", "4.5"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["cis_4_5_cloudtrail_changes.yml"]


def test_an_output_path_that_cannot_be_written_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert cli.main(["sigma", "--out", str(blocker / "rules")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --out {blocker / 'rules'}: cannot be created") and "Traceback" not in err


def test_a_control_without_a_rule_is_named_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A control whose pattern Sigma cannot state (a regex here) gets no file; the others still do."""
    extension = tmp_path / "controls"
    extension.mkdir()
    entry = json.loads((ROOT_USAGE / "cis_4_3_test.json").read_text())
    entry["filterPattern"] = entry["filterPattern"].replace('"Root"', "%^Root$%")
    (extension / "cis_4_3_test.json").write_text(json.dumps(entry))
    shutil.copy(ROOT_USAGE / "cis_4_3_test.samples.json", extension)
    monkeypatch.setenv(EXTRA_CONTROLS_ENV, str(extension))
    catalog.reload()
    try:
        out = tmp_path / "rules"
        assert cli.main(["sigma", "--out", str(out)]) == 3
    finally:
        monkeypatch.delenv(EXTRA_CONTROLS_ENV)
        catalog.reload()
    captured = capsys.readouterr()
    assert "4.3-test: no Sigma rule: its filter pattern cannot be a Sigma detection" in captured.err
    assert "%^Root$%" in captured.err
    written = sorted(p.name for p in out.iterdir())
    assert "cis_4_5_cloudtrail_changes.yml" in written and len(written) == len(CONTROLS)  # every packaged one
    assert not any(name.startswith("cis_4_3_test") for name in written)
