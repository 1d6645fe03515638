"""``cis-monitoring report FINDINGS.json --format F ...``: render a findings file again, in other formats.

The file is a ``--format json`` report (the findings model, ``core.findings``). Nothing is read from
AWS and nothing is judged again: the findings keep their statuses, so the command returns PASS
(exit 0) once every report is written. A file that is not JSON, is not a findings document, or
comes from an incompatible version (``core.findings.check_version``) is an ``InputError`` (exit 2)
naming the file and what is wrong; so is an output directory that cannot be written, before
anything is rendered.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from cis_monitoring.cli import epilog
from cis_monitoring.core.errors import InputError, UsageError
from cis_monitoring.core.findings import Findings, from_dict
from cis_monitoring.core.status import Status
from cis_monitoring.report.output import add_output_arguments, announce, output_request


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cis-monitoring report",
        description="Render a findings file (an audit's --format json report) again in other formats, without"
        " reading AWS: OCSF, ASFF, CSV, JUnit, JSON, HTML.",
        epilog=epilog("never: the findings are not judged again (their statuses are in the reports)"),
    )
    parser.add_argument(
        "findings", type=Path, metavar="FINDINGS.json", help="a findings file (--format json)"
    )
    add_output_arguments(parser)
    return parser


def read_findings(path: Path) -> Findings:
    """The findings in ``path`` (``InputError`` naming the file for anything unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a findings file (not UTF-8 text)") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON: {error.msg} at line {error.lineno}") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: not a findings document (a JSON object with schemaVersion, run, findings)")
    return from_dict(document, str(path))


def main(argv: Sequence[str] | None = None) -> Status:
    args = build_parser().parse_args(argv)
    outputs = output_request(args.format, args.output_dir)
    if not outputs.wanted:
        raise UsageError("--format: give at least one format to write (json, ocsf, asff, csv, junit, html)")
    findings = read_findings(args.findings)
    outputs.prepare()
    announce(findings, outputs.write(findings))
    return Status.PASS
