"""``cis-monitoring rollup-report ROLLUP.json [--findings AUDIT.json ...]``: one report for the organization.

``ROLLUP.json`` is ``pulumi stack output --json`` of the rollup stack (``rollup/``): its ``findings``
output states, per control, account and Region, what the cis-monitoring stacks say they cover
(``source: stated``; covered is ``NOT_AVAILABLE``, never PASS: no AWS call checked it). Each
``--findings`` file is an audit's findings (``cis-monitoring audit --format json``); where an
audited finding and a claim speak of the same control, account and Region, **the audited finding
wins** and the claim is dropped; a claim for every Region of an account (``*``) stays for the
Regions the audit did not look at, and says which it did. The report marks every stated finding.

Every control is worded as ``--benchmark`` numbers and names it (default: the audited findings'
version, else the newest the catalog knows), with the catalog's risk and remediation; a control
that version lacks is NOT_APPLICABLE. Nothing is read from AWS and nothing is judged: the command
returns PASS (exit 0) once the report is written. Unreadable input is an ``InputError`` (exit 2)
naming the file and what is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cis_monitoring import __version__
from cis_monitoring.cli import epilog
from cis_monitoring.core.catalog import CATALOG_VERSION, CONTROLS
from cis_monitoring.core.catalog.benchmarks import BENCHMARKS, BY_KEY
from cis_monitoring.core.errors import InputError, UsageError
from cis_monitoring.core.findings import STATED, Finding, Findings, Run, from_dict
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.report import FORMATS, RenderOptions, renderer

ROLLUP_OUTPUT = "findings"
"""The rollup stack's output that holds its findings (rollup/rollup_findings.py)."""
DEFAULT_FORMAT = "html"
Clock = Callable[[], datetime]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROJECT} rollup-report",
        description="One report for the whole organization from the rollup stack's outputs (`pulumi stack"
        " output --json` in rollup/): what every stack states it covers, marked stated; audited findings"
        " (--findings) win over those claims.",
        epilog=epilog("never: nothing is judged here (the findings keep their statuses)"),
    )
    parser.add_argument(
        "rollup",
        type=Path,
        metavar="ROLLUP.json",
        help="the rollup stack's outputs: pulumi stack output --json",
    )
    parser.add_argument(
        "--findings",
        type=Path,
        action="append",
        default=[],
        metavar="AUDIT.json",
        help="an audit's findings (cis-monitoring audit --format json; repeatable): they win over the claims",
    )
    parser.add_argument(
        "--benchmark",
        metavar="cis-aws-X.Y",
        help="the CIS AWS Foundations Benchmark version whose ids and titles the report shows (default: the"
        f" audited findings' version, else {BENCHMARKS[-1].key}; known: {', '.join(BY_KEY)})",
    )
    parser.add_argument(
        "--format",
        default=DEFAULT_FORMAT,
        choices=list(FORMATS),
        help=f"the report's format ({DEFAULT_FORMAT})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where to write it (default: ./cis-monitoring-rollup.<format>)",
    )
    return parser


def _json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON: {error.msg} at line {error.lineno}") from None


def _document(raw: Any, where: str) -> Findings:
    try:
        return from_dict(raw, where)
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"{where}: not a findings document ({type(error).__name__}: {error})") from None


def read_rollup(path: Path) -> Findings:
    """The stated findings in the rollup stack's outputs (or a findings document itself)."""
    raw = _json(path)
    if isinstance(raw, dict) and isinstance(raw.get(ROLLUP_OUTPUT), dict):
        raw = raw[ROLLUP_OUTPUT]
    elif not (isinstance(raw, dict) and "schemaVersion" in raw and "run" in raw):
        keys = ", ".join(sorted(raw)) if isinstance(raw, dict) else type(raw).__name__
        raise InputError(
            f"{path}: no {ROLLUP_OUTPUT!r} output (found: {keys}): give `pulumi stack output --json` of the"
            f" rollup stack, deployed with this release's rollup/ (it exports {ROLLUP_OUTPUT!r})"
        )
    stated = _document(raw, f"{path}: output {ROLLUP_OUTPUT!r}")
    audited = [f.uid for f in stated.findings if f.source != STATED]
    if audited:
        raise InputError(f"{path}: the rollup's findings are stated claims, but {audited[0]} is not")
    return stated


def choose_benchmark(asked: str | None, audited: Sequence[tuple[Path, Findings]]) -> str:
    spoken = {str(path): doc.run.benchmark for path, doc in audited}
    if asked is not None and asked not in BY_KEY:
        raise UsageError(f"--benchmark: unknown version {asked!r}; known: {', '.join(BY_KEY)}")
    versions = set(spoken.values())
    if asked is None and len(versions) > 1:
        raise UsageError(
            "--findings: the files speak different benchmark versions ("
            + ", ".join(f"{p}: {v}" for p, v in spoken.items())
            + "); audit them with the same --benchmark"
        )
    chosen = asked or next(iter(versions), BENCHMARKS[-1].key)
    other = [f"{p} ({v})" for p, v in spoken.items() if v != chosen]
    if other:
        raise UsageError(
            f"--benchmark {chosen}: the audited findings speak another version: {', '.join(other)}; give"
            " --benchmark as the audit did, or audit again with this one"
        )
    return chosen


def in_benchmark_words(finding: Finding, benchmark: str) -> Finding:
    """A stated finding with its control's id, title, severity, risk and remediation from the catalog."""
    control = CONTROLS.get(finding.control_id)
    if control is None:
        return replace(finding, title=finding.title or "(a control this release's catalog does not have)")
    words: dict[str, Any] = {
        "severity": control.severity,
        "risk": control.risk,
        "remediation": control.remediation,
        "security_hub_id": control.security_hub_id,
    }
    requirement = control.requirement(benchmark)
    if requirement is None:
        name = BY_KEY[benchmark].name
        return replace(
            finding,
            **words,
            title=control.title,
            status=Status.NOT_APPLICABLE,
            reasons=(*finding.reasons, f"{name} has no control {control.control_id}: not applicable"),
        )
    return replace(finding, **words, requirement_id=requirement.id, title=requirement.title)


def merge(stated: Sequence[Finding], audited: Sequence[Finding]) -> tuple[list[Finding], int]:
    """Audited findings, and the claims no audited finding speaks for; and how many claims were replaced."""
    by_uid = {f.uid: f for f in audited}
    audited_regions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in audited:
        audited_regions[(f.control_id, f.account_id)].append(f.region)
    kept: list[Finding] = []
    replaced = 0
    for claim in stated:
        if claim.uid in by_uid:
            replaced += 1
            continue
        regions = sorted(set(audited_regions.get((claim.control_id, claim.account_id), ())))
        if regions and claim.region == "*":
            note = (
                f"audited in {', '.join(regions)}: those findings stand there; this claim is for the account's"
                " other Regions"
            )
            claim = replace(claim, notes=(*claim.notes, note))
        kept.append(claim)
    merged = [*audited, *kept]
    merged.sort(key=lambda f: (f.account_id, f.region == "*", f.region, f.control_id, f.source))
    return merged, replaced


def organization_findings(
    stated: Findings,
    audited: Sequence[tuple[Path, Findings]],
    benchmark: str,
    command: Sequence[str],
    clock: Clock,
) -> Findings:
    claims = [in_benchmark_words(f, benchmark) for f in stated.findings]
    checked = [f for _path, doc in audited for f in doc.findings]
    findings, replaced = merge(claims, checked)
    callers = {doc.run.caller for _path, doc in audited if doc.run.caller}
    now = clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    files = ", ".join(str(path) for path, _doc in audited)
    notes = [
        f"{sum(f.source == STATED for f in findings)} finding(s) stated by the rollup stack (what the"
        f" cis-monitoring stacks' outputs say they cover, as of their last `pulumi up`), {len(checked)}"
        f" audited{f' ({files})' if files else ''}; where both speak of the same control, account and"
        f" Region the audited finding is shown ({replaced} claim(s) replaced)",
        *stated.notes,
        *(f"{path}: {note}" for path, doc in audited for note in doc.notes),
    ]
    run = Run(
        started=now,
        finished=now,
        tool_version=__version__,
        catalog_version=CATALOG_VERSION,
        benchmark=benchmark,
        caller=next(iter(callers)) if len(callers) == 1 else None,
        command=(PROJECT, "rollup-report", *command),
    )
    errors = [*stated.errors, *(f"{path}: {error}" for path, doc in audited for error in doc.errors)]
    return Findings(run, findings, notes, errors)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _utc_now() -> datetime:
    return datetime.now(UTC)


def main(argv: Sequence[str] | None = None, clock: Clock = _utc_now) -> Status:
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(words)
    try:
        module = renderer(args.format)
    except ImportError:
        raise UsageError(f"--format {args.format}: not available in this build") from None
    stated = read_rollup(args.rollup)
    audited = [(path, _document(_json(path), str(path))) for path in args.findings]
    benchmark = choose_benchmark(args.benchmark, audited)
    findings = organization_findings(stated, audited, benchmark, words, clock)
    out = args.out or Path(f"cis-monitoring-rollup{module.EXTENSION}")
    try:
        _write_atomically(out, module.render(findings, RenderOptions()))
    except OSError as error:
        raise InputError(f"--out {out}: cannot write it: {error.strerror or error}") from None
    stated_count = sum(f.source == STATED for f in findings.findings)
    print(
        f"wrote {out}: {len(findings.findings)} finding(s), {stated_count} stated and"
        f" {len(findings.findings) - stated_count} audited",
        file=sys.stderr,
    )
    return Status.PASS
