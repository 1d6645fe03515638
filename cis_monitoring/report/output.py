"""Where reports go: ``--format`` (repeatable) and ``--output-dir``, shared by ``audit`` and ``report``.

- No ``--format``: no file is written (the audit prints its tables, as before).
- ``--format F`` without ``--output-dir``: the files go into ``./cis-monitoring-report/``
  (``DEFAULT_DIRECTORY``), as Prowler writes into ``./output/`` by default: a report asked for is
  never only on the screen.
- Each file is ``cis-monitoring-<run start, UTC>`` plus the format's ``EXTENSION``
  (``cis-monitoring-20261207T180000Z.ocsf.json``): one run's reports sort together, and
  re-rendering a findings file gives the same names.

Every problem is found before anything is read from AWS (``OutputRequest.prepare``): a format this
build lacks (``html`` where ``cis_monitoring.report.html`` is not installed) and an output
directory that cannot be created or written are ``UsageError`` (exit 2). Files are written
atomically (a temporary file in the same directory, then renamed), so a report never exists half
written; a file already written stays when a later one fails (a full disk: ``CannotLookError``,
exit 2, naming the file that failed and those kept).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from cis_monitoring.core.catalog.benchmarks import name_of
from cis_monitoring.core.errors import CannotLookError, UsageError
from cis_monitoring.core.findings import Findings
from cis_monitoring.report import FORMATS, RenderOptions, renderer

DEFAULT_DIRECTORY = Path("cis-monitoring-report")
FILE_PREFIX = "cis-monitoring"


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reports (files for auditors, CI and Security Hub)")
    group.add_argument(
        "--format",
        action="append",
        default=[],
        choices=list(FORMATS),
        help="write a report in this format (repeatable): json (the findings model, docs/findings.schema.json),"
        " ocsf (OCSF 1.6 Compliance Findings), asff (AWS Security Finding Format), csv, junit (JUnit XML),"
        " html",
    )
    group.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help=f"where --format writes its files (default: ./{DEFAULT_DIRECTORY}/, created if missing)",
    )


@dataclass(frozen=True)
class OutputRequest:
    formats: tuple[str, ...]
    directory: Path

    @property
    def wanted(self) -> bool:
        return bool(self.formats)

    def prepare(self) -> None:
        """Create the directory and check that it can be written (``UsageError`` otherwise)."""
        if not self.formats:
            return
        where = self.directory
        try:
            where.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=where, prefix=".cis-monitoring-probe-"):
                pass
        except FileExistsError:
            raise UsageError(f"--output-dir {where}: exists and is not a directory") from None
        except OSError as error:
            why = error.strerror or str(error)
            raise UsageError(f"--output-dir {where}: cannot write reports there: {why}") from None

    def path_of(self, findings: Findings, name: str) -> Path:
        return self.directory / f"{FILE_PREFIX}-{_stamp(findings.run.started)}{renderer(name).EXTENSION}"

    def write(self, findings: Findings, options: RenderOptions | None = None) -> list[Path]:
        """Render and write every requested format; the paths written, in the order asked."""
        written: list[Path] = []
        for name in self.formats:
            path = self.path_of(findings, name)
            try:
                _write_atomically(path, renderer(name).render(findings, options or RenderOptions()))
            except OSError as error:
                kept = [f"  written before it, and kept: {p}" for p in written]
                raise CannotLookError([f"could not write {path}: {error.strerror or error}", *kept]) from None
            written.append(path)
        return written


def output_request(formats: Sequence[str], directory: Path | None) -> OutputRequest:
    """The checked ``--format`` and ``--output-dir`` (every problem in one ``UsageError``)."""
    chosen = tuple(dict.fromkeys(formats))
    problems = [
        f"--format {name}: not available in this build ({FORMATS[name]} is not installed)"
        for name in chosen
        if importlib.util.find_spec(FORMATS[name]) is None
    ]
    if directory is not None and not chosen:
        problems.append("--output-dir: give --format too (which reports to write there)")
    if problems:
        raise UsageError(problems)
    return OutputRequest(chosen, directory if directory is not None else DEFAULT_DIRECTORY)


def _stamp(started: str) -> str:
    """``2026-12-07T18:00:00Z`` -> ``20261207T180000Z`` (what cannot be read as a time is kept, made safe)."""
    try:
        moment = datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return "".join(c if c.isalnum() else "-" for c in started) or "run"
    return f"{moment:%Y%m%dT%H%M%SZ}"


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def summary_line(findings: Findings) -> str:
    """One line for stderr: how many findings, by status, under which benchmark version."""
    counts = findings.summary()["byStatus"]
    said = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"{len(findings.findings)} finding(s) under {name_of(findings.run.benchmark)}: {said}"


def announce(findings: Findings, written: Sequence[Path], out: TextIO | None = None) -> None:
    """The summary and each file written, on stderr (stdout keeps the report the command prints)."""
    out = out or sys.stderr
    print(summary_line(findings), file=out)
    for path in written:
        print(f"wrote {path}", file=out)
