"""Render a coverage audit: a versioned JSON document for tools, text tables for people (``report_text``).

JSON (``schemaVersion`` 2; version 1 had one row per configured target and one control):

- ``coverage``: one entry per (account, Region): ``Coverage.to_dict()`` (``coverage`` is
  ``direct``, ``organization`` or ``none``, with its stable ``code`` and ``reason``), plus
  ``accountName``, ``allRegions``, ``status`` (PASS/FAIL/ERROR), ``reasons``, ``description``
  (the core's words), ``chain`` (the key of the covering log group in ``chains``), ``entered``
  (False: judged from the organization trail without a role), ``claimed`` (what the stack
  states), ``notes``, ``trails`` (what the account sees) and ``error``;
- ``chains``: one entry per log group the events reach, keyed ``<account>/<region>/<logGroup>``,
  checked once, with per control its ``findings``, ``proofs`` (AWS as the judge; the drill's
  evidence among them) and ``error``;
- ``summary``: counts of pairs by status and by coverage, of chains, and of proofs by status.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from cis_monitoring.audit.report_text import render_text
from cis_monitoring.audit.results_coverage import STATUSES, CoverageReport, PairResult
from cis_monitoring.core.topology import totals

SCHEMA_VERSION = 2
"""Bump on any change to the JSON document that is not a pure addition."""

__all__ = ["SCHEMA_VERSION", "progress_line", "render_json", "render_text", "summary", "to_document"]


def summary(report: CoverageReport) -> dict[str, Any]:
    pairs = report.pairs
    counts = {status.lower(): sum(p.status == status for p in pairs) for status in STATUSES}
    coverage = totals(p.coverage for p in pairs if p.coverage is not None)
    proofs = Counter(str(p.status) for p in report.proofs())
    return {
        "pairs": len(pairs),
        **counts,
        "coverage": coverage,
        "chains": len(report.chains),
        "proofs": dict(sorted(proofs.items())),
        "errors": len(report.errors),
    }


def to_document(report: CoverageReport) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "controls": list(report.controls),
        "summary": summary(report),
        "coverage": [p.to_dict() for p in report.pairs],
        "chains": {chain.key: chain.to_dict() for chain in report.chains.values()},
        "drill": {"runId": report.drill_run} if report.drill_run else None,
        "notes": list(report.notes),
        "errors": list(report.errors),
    }


def render_json(report: CoverageReport) -> str:
    return json.dumps(to_document(report), indent=2)


def progress_line(done: int, total: int, result: PairResult) -> str:
    return f"[{done}/{total}] {result.key} {result.status}"
