"""``--format csv``: one row per finding under stable columns; no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

from cis_monitoring.core.findings import Findings
from cis_monitoring.report import RenderOptions, csv_table
from tests.report.conftest import AWKWARD, synthetic

STABLE_COLUMNS = [
    "uid",
    "status",
    "benchmark",
    "requirement_id",
    "title",
    "control_id",
    "severity",
    "assessment",
    "profile",
    "account_id",
    "account_name",
    "region",
    "coverage",
    "coverage_code",
    "trail",
    "trail_account_id",
    "log_group",
    "links",
    "codes",
    "reasons",
    "notes",
    "security_hub_id",
    "remediation",
    "run_started",
    "run_finished",
    "caller_arn",
    "tool_version",
    "catalog_version",
]
"""Consumers read these by name and by position: a change here is a breaking change of the format."""


def rows(findings: Findings) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_table.render(findings, RenderOptions()))))


def test_the_columns_are_stable_and_there_is_one_row_per_finding(samples: list[Findings]) -> None:
    for findings in samples:
        text = csv_table.render(findings, RenderOptions())
        assert next(csv.reader(io.StringIO(text))) == STABLE_COLUMNS
        table = rows(findings)
        assert [r["uid"] for r in table] == [f.uid for f in findings.findings]
        assert [r["status"] for r in table] == [str(f.status) for f in findings.findings]


def test_the_cells_say_the_links_and_the_reasons(audited: list[Findings]) -> None:
    (failed,) = rows(audited[1])
    assert failed["status"] == "FAIL" and failed["requirement_id"] == "5.5" and failed["control_id"] == "4.5"
    assert "filter=FAIL" in failed["links"] and "alarm=SKIPPED" in failed["links"]
    assert failed["coverage_code"] == "coverage.none.chain_broken"
    assert failed["caller_arn"].startswith("arn:aws:sts::")


def test_a_cell_that_would_be_a_formula_is_text() -> None:
    table = rows(synthetic())
    assert AWKWARD.startswith("=")
    assert table[0]["reasons"].startswith("PASS: =HYPERLINK")  # not at the start: left alone
    assert csv_table.safe(AWKWARD) == "'" + AWKWARD
    assert [csv_table.safe(s)[0] for s in ("+1", "-1", "@x", "\tx")] == ["'"] * 4
    assert csv_table.safe("plain") == "plain" and csv_table.safe(None) == ""
