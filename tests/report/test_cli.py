"""``cis-monitoring report`` and the flags every report shares: round trip, and each bad input is exit 2 with a
clear message that loses no report already written.

Every run goes through ``cis_monitoring.cli.run``, the one place that maps outcomes to exit codes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cis_monitoring import cli as top
from cis_monitoring.core.errors import CannotLookError, UsageError
from cis_monitoring.core.findings import FINDINGS_SCHEMA_VERSION, Findings
from cis_monitoring.report import FORMATS, RenderOptions, output, renderer
from tests.report.conftest import synthetic

WRITTEN_HERE = ["json", "ocsf", "asff", "csv", "junit"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = top.run("report", argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, captured.out, captured.err


def findings_file(where: Path, findings: Findings | None = None) -> Path:
    path = where / "in.json"
    path.write_text(json.dumps((findings or synthetic()).to_dict()), encoding="utf-8")
    return path


def test_a_findings_file_renders_again_into_every_format_as_the_audit_would(
    samples: list[Findings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for number, findings in enumerate(samples):
        source = findings_file(tmp_path, findings)
        out = tmp_path / f"out-{number}"
        argv = [
            str(source),
            *(w for name in WRITTEN_HERE for w in ("--format", name)),
            "--output-dir",
            str(out),
        ]
        code, stdout, err = run(argv, capsys)
        assert (code, stdout) == (0, "")
        request = output.OutputRequest(tuple(WRITTEN_HERE), out)
        paths = [request.path_of(findings, name) for name in WRITTEN_HERE]
        assert err.splitlines() == [output.summary_line(findings), *(f"wrote {p}" for p in paths)]
        for name, path in zip(WRITTEN_HERE, paths, strict=True):
            assert path.read_text(encoding="utf-8") == renderer(name).render(findings, RenderOptions()), name
        # The json report is the input again, byte for byte once written by us.
        again = out / "again"
        code, _, _ = run([str(paths[0]), "--format", "json", "--output-dir", str(again)], capsys)
        assert code == 0 and (again / paths[0].name).read_text() == paths[0].read_text()


def test_format_without_output_dir_writes_into_the_default_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run([str(findings_file(tmp_path)), "--format", "csv"], capsys)
    assert code == 0
    (written,) = (tmp_path / "cis-monitoring-report").iterdir()
    assert written.name == "cis-monitoring-20261207T180000Z.csv"
    assert f"wrote {output.DEFAULT_DIRECTORY / written.name}" in err


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "in.json: not JSON: Expecting property name enclosed in double quotes at line 1"),
        ("[1]", "in.json: not a findings document"),
        (
            '{"schemaVersion": "2.0"}',
            "in.json: a findings document of schemaVersion '2.0'; this release reads 1.x",
        ),
        ('{"schemaVersion": "1.0"}', "in.json: not a findings document: the key 'run' is missing"),
    ],
    ids=["not JSON", "not an object", "another major version", "a key missing"],
)
def test_a_bad_findings_file_is_2_naming_the_file(
    document: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.json"
    source.write_text(document, encoding="utf-8")
    code, out, err = run([str(source), "--format", "json", "--output-dir", str(tmp_path / "o")], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and message in err, err
    assert not (tmp_path / "o").exists()


def test_a_missing_file_an_unknown_format_and_no_format_are_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([str(tmp_path / "nope.json"), "--format", "json"], capsys)
    assert code == 2 and "nope.json: cannot read it: No such file or directory" in err
    code, _, err = run([str(findings_file(tmp_path)), "--format", "sarif"], capsys)
    assert code == 2 and "invalid choice: 'sarif'" in err and "'ocsf'" in err
    code, _, err = run([str(findings_file(tmp_path))], capsys)
    assert code == 2 and "error: --format: give at least one format to write" in err
    code, _, err = run([str(findings_file(tmp_path)), "--output-dir", str(tmp_path)], capsys)
    assert code == 2 and "--output-dir: give --format too" in err


def test_an_output_dir_that_cannot_be_written_is_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = findings_file(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    code, _, err = run([str(source), "--format", "json", "--output-dir", str(a_file)], capsys)
    assert code == 2 and f"--output-dir {a_file}: exists and is not a directory" in err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: make the directory unwritable another way
        locked = a_file / "below-a-file"
    code, _, err = run([str(source), "--format", "json", "--output-dir", str(locked)], capsys)
    assert code == 2 and f"--output-dir {locked}: cannot write reports there:" in err, err


def test_a_format_this_build_lacks_is_a_usage_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(FORMATS, "html", "cis_monitoring.report.not_in_this_build")
    with pytest.raises(UsageError, match=r"--format html: not available in this build"):
        output.output_request(["json", "html"], None)
    assert output.output_request(["json", "json"], None).formats == ("json",)


def test_a_report_already_written_stays_when_a_later_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = output.OutputRequest(("json", "csv"), tmp_path)
    findings = synthetic()

    def broken(*_: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(renderer("csv"), "render", broken)
    with pytest.raises(CannotLookError) as raised:
        request.write(findings)
    assert raised.value.lines == [
        f"could not write {request.path_of(findings, 'csv')}: No space left on device",
        f"  written before it, and kept: {request.path_of(findings, 'json')}",
    ]
    assert (
        json.loads(request.path_of(findings, "json").read_text())["schemaVersion"] == FINDINGS_SCHEMA_VERSION
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [request.path_of(findings, "json").name]
