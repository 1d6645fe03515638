"""``--format csv``: one row per finding, for spreadsheets; ``COLUMNS`` are stable (a test pins them).

Cells hold text only. The links are one cell (``trail=PASS; filter=FAIL; ...``) and the reasons
another (joined with `` | ``); the evidence behind each link is in the JSON report. A cell that
would start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so a
spreadsheet shows it as text instead of running it as a formula (OWASP, "CSV Injection"): names
and messages come from AWS accounts the reader may not control.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from cis_monitoring.core.catalog.benchmarks import name_of
from cis_monitoring.core.findings import Finding, Findings
from cis_monitoring.report import RenderOptions

EXTENSION = ".csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = Callable[[Finding, Findings], object]
COLUMNS: dict[str, Cell] = {
    "uid": lambda f, _: f.uid,
    "status": lambda f, _: f.status,
    "benchmark": lambda _, r: name_of(r.run.benchmark),
    "requirement_id": lambda f, _: f.requirement_id,
    "title": lambda f, _: f.title,
    "control_id": lambda f, _: f.control_id,
    "severity": lambda f, _: f.severity,
    "assessment": lambda f, _: f.assessment,
    "profile": lambda f, _: f.profile,
    "account_id": lambda f, _: f.account_id,
    "account_name": lambda f, _: f.account_name,
    "region": lambda f, _: f.region,
    "coverage": lambda f, _: f.coverage.kind if f.coverage else "",
    "coverage_code": lambda f, _: f.coverage.code if f.coverage else "",
    "trail": lambda f, _: f.coverage.trail if f.coverage else "",
    "trail_account_id": lambda f, _: f.coverage.trail_account_id if f.coverage else "",
    "log_group": lambda f, _: f.chain,
    "links": lambda f, _: "; ".join(f"{link.link}={link.status}" for link in f.links),
    "codes": lambda f, _: ", ".join(dict.fromkeys(c for link in f.links for c in link.codes)),
    "reasons": lambda f, _: " | ".join(f.reasons),
    "notes": lambda f, _: " | ".join(f.notes),
    "security_hub_id": lambda f, _: f.security_hub_id,
    "remediation": lambda f, _: f.remediation,
    "run_started": lambda _, r: r.run.started,
    "run_finished": lambda _, r: r.run.finished,
    "caller_arn": lambda _, r: r.run.caller.arn if r.run.caller else "",
    "tool_version": lambda _, r: r.run.tool_version,
    "catalog_version": lambda _, r: r.run.catalog_version,
}
"""Column name -> its cell; add columns at the end only (consumers read them by position too)."""


def safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render(findings: Findings, options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for finding in findings.findings:
        writer.writerow([safe(cell(finding, findings)) for cell in COLUMNS.values()])
    return out.getvalue()
