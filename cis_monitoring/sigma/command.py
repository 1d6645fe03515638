"""``cis-monitoring sigma --out DIR``: one Sigma rule file per catalog control, for SIEM users.

    cis-monitoring sigma --out sigma/                 every control of the catalog (and extensions)
    cis-monitoring sigma --out sigma/ --control 4.5   only these

Each rule is translated from the control's filter pattern and written only after it selected
exactly what the filter selects on the control's sample records (up to letter case, which the
rule's description states). A control whose pattern cannot be a Sigma detection gets no file:
the command says which and why on stderr, and exits 3. An output directory that cannot be
created or written exits 2, with nothing half-written (each file is replaced whole).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from cis_monitoring.cli import epilog
from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.errors import UsageError
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status, worst
from cis_monitoring.rollout.command import write_atomically

from .rules import RuleResult, build_rule

OUT_FLAG, CONTROL_FLAG = "--out", "--control"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROJECT} sigma",
        description="Write each catalog control as a Sigma rule (logsource aws/cloudtrail) into a directory:"
        " the detection is the control's CloudWatch filter pattern, translated and checked on the control's"
        " sample CloudTrail records before it is written.",
        epilog=epilog(
            "never (this command judges no account)",
            "a control's filter pattern cannot be stated in Sigma; it got no rule, and stderr says why",
        ),
    )
    parser.add_argument(OUT_FLAG, metavar="DIR", type=Path, required=True, help="the directory to write to")
    parser.add_argument(
        CONTROL_FLAG,
        action="append",
        default=[],
        metavar="ID",
        help="catalog control to export (repeatable); default: every control of the catalog",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> Status:
    args = _parser().parse_args(argv)
    unknown = [c for c in args.control if c not in CONTROLS]
    if unknown:
        known = ", ".join(CONTROLS)
        raise UsageError(
            [f"{CONTROL_FLAG}: {c!r} is not a catalog control (known: {known})" for c in unknown]
        )
    controls = [CONTROLS[c] for c in dict.fromkeys(args.control or CONTROLS)]
    results = [build_rule(control) for control in controls]
    out = _directory(args.out)
    statuses = []
    for result in results:
        if result.document is None:
            print(f"{result.control.control_id}: no Sigma rule: {result.problem}", file=sys.stderr)
            statuses.append(Status.ERROR)
            continue
        path = out / result.file_name
        write_atomically(path, render(result), OUT_FLAG)
        print(f"{result.control.control_id}: wrote {path} ({_summary(result)})")
        statuses.append(Status.PASS)
    return worst(statuses)


def render(result: RuleResult) -> str:
    """The rule file: YAML in the rule's key order, long lines unwrapped."""
    return yaml.safe_dump(result.document, sort_keys=False, allow_unicode=True, width=10_000)


def _directory(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{OUT_FLAG} {path}: cannot be created: {error.strerror or error}") from None
    return path


def _summary(result: RuleResult) -> str:
    check = result.check
    assert check is not None
    text = f"agrees with the filter on {check.agreeing} of {len(check.verdicts)} sample records"
    if check.case_only:
        text += f"; judges {len(check.case_only)} differently only because Sigma ignores letter case"
    return text
