"""How a run reads: a versioned JSON document for tools (``render_json``), text tables for people (``render_text``).

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
- ``summary``: counts of pairs by status and by coverage, of chains, and of proofs by status;
  ``status``: the run's worst status (added in this version without a bump: a pure addition).

Text: one table per (account, Region), one per chain, then the drill. Pairs: ACCOUNT NAME REGION
STATUS COVERAGE (the core's words and the evidence). Chains: one row per log group and control,
with a column per proof (MATCHER: AWS's TestMetricFilter, KEY: the topic's KMS key policy, SUBS:
SQS/Lambda subscribers' policies and an emulator-only confirmation, HISTORY: alarm history, MUTE: alarm
mute rules, DRILL), each ``PASS``/``FAIL``/``ERR``/
``n/a`` (the emulator or account cannot give it)/``skip``/``-`` (not run); the details of what is
not PASS are in REASONS.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from cis_monitoring.audit.proofs.result import (
    ALARM_HISTORY,
    CONFIRMATION,
    DRILL,
    FUNCTION_POLICY,
    KEY_POLICY,
    MATCHER,
    MUTE_RULES,
    NOT_IN_EMULATOR,
    QUEUE_POLICY,
    ProofResult,
)
from cis_monitoring.audit.results import ControlResult, CoverageReport
from cis_monitoring.core.status import VERDICTS, Status
from cis_monitoring.core.topology import totals

SCHEMA_VERSION = 2
"""Bump on any change to the JSON document that is not a pure addition."""

__all__ = ["SCHEMA_VERSION", "render_chains", "render_json", "render_text", "summary", "to_document"]


# ---------------------------------------------------------------- JSON


def summary(report: CoverageReport) -> dict[str, Any]:
    pairs = report.pairs
    counts = {status.lower(): sum(p.status == status for p in pairs) for status in VERDICTS}
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
        "status": str(report.status),
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


# ---------------------------------------------------------------- text

COLUMNS = {
    "MATCHER": (MATCHER,),
    "KEY": (KEY_POLICY,),
    "SUBS": (QUEUE_POLICY, FUNCTION_POLICY, CONFIRMATION),
    "HISTORY": (ALARM_HISTORY,),
    "MUTE": (MUTE_RULES,),
    "DRILL": (DRILL,),
}
CELL = {
    Status.PASS: str(Status.PASS),
    Status.FAIL: str(Status.FAIL),
    Status.ERROR: "ERR",
    Status.NOT_AVAILABLE: "n/a",
    Status.SKIPPED: "skip",
}
# The cell of several results of one kind: the most telling one (a PASS never hides an n/a).
_RANK = (Status.FAIL, Status.ERROR, Status.NOT_AVAILABLE, Status.SKIPPED, Status.PASS)
_MAX_NAME = 24
_MAX_GROUP = 64
_MIN_REASON_WIDTH = 30
_MAX_REASON_LINES = 8  # per reason; the JSON document always has the whole text
_PASS_TEXT = "all checks passed"


def cell(proofs: Iterable[ProofResult], kinds: Sequence[str]) -> str:
    found = {p.status for p in proofs if p.proof in kinds}
    return next((CELL[s] for s in _RANK if s in found), "-")


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 1)] + "..."


def _wrap(reason: str, width: int, bullet: bool) -> list[str]:
    lines = textwrap.wrap(
        reason,
        width=width,
        initial_indent="- " if bullet else "",
        subsequent_indent="  " if bullet else "",
        break_long_words=True,
        break_on_hyphens=False,
    ) or [""]
    if len(lines) > _MAX_REASON_LINES:
        lines = [*lines[: _MAX_REASON_LINES - 1], _truncate(lines[_MAX_REASON_LINES - 1] + " ...", width)]
    return lines


def table(
    headers: Sequence[str], rows: Sequence[tuple[Sequence[str], Sequence[str]]], width: int
) -> list[str]:
    """Aligned columns, the last (a list of texts per row) wrapped into what width is left."""
    widths = [max([len(h), *(len(cells[i]) for cells, _ in rows)]) for i, h in enumerate(headers[:-1])]
    left = sum(widths) + 2 * len(widths)
    text_width = max(width - left, _MIN_REASON_WIDTH)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)) + "  " + headers[-1]]
    for cells, texts in rows:
        wrapped = [line for text in texts for line in _wrap(text, text_width, bullet=len(texts) > 1)]
        prefix = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  "
        lines.append(prefix + wrapped[0])
        lines.extend(" " * len(prefix) + line for line in wrapped[1:])
    return lines


def proof_notes(proofs: Iterable[ProofResult]) -> list[str]:
    """What a proof that is not PASS says (FAIL and ERROR are among the reasons already)."""
    missing = [
        p.proof for p in proofs if p.status == Status.NOT_AVAILABLE and p.detail.startswith(NOT_IN_EMULATOR)
    ]
    notes = [f"n/a ({NOT_IN_EMULATOR}): {', '.join(dict.fromkeys(missing))}"] if missing else []
    for proof in proofs:
        if proof.status == Status.NOT_AVAILABLE and proof.proof not in missing:
            notes.append(f"n/a: {proof.proof}: {proof.detail}")
        elif proof.status == Status.SKIPPED:
            notes.append(f"skip: {proof.proof}: {proof.detail}")
    return notes


def _chain_texts(result: ControlResult) -> list[str]:
    proofs = list(result.proofs)
    texts = [*result.reasons, *proof_notes(proofs)]
    return texts or [_PASS_TEXT]


def _chain_rows(
    report: CoverageReport, statuses: Sequence[Status] = ()
) -> list[tuple[tuple[str, ...], list[str]]]:
    """One row per chain and control. A reason every shown control of a chain has (a broken topic
    breaks all of them) is written in full on the chain's first row only; the others point at it,
    so ``controls: all`` does not repeat one sentence fifteen times."""
    rows = []
    for chain in report.chains.values():
        results = [r for r in chain.controls if not statuses or r.status in statuses]
        texts = [_chain_texts(r) for r in results]
        shared = (
            [t for t in texts[0] if t != _PASS_TEXT and all(t in other for other in texts[1:])]
            if len(texts) > 1
            else []
        )
        for position, (result, own) in enumerate(zip(results, texts, strict=True)):
            if position and shared:
                rest = [t for t in own if t not in shared]
                own = [*rest, f"and the {len(shared)} reason(s) of CIS {results[0].control} above"]
            rows.append(
                (
                    (
                        _truncate(chain.key, _MAX_GROUP),
                        result.control,
                        str(result.status),
                        *(cell(result.proofs, kinds) for kinds in COLUMNS.values()),
                    ),
                    own,
                )
            )
    return rows


def _drill_lines(report: CoverageReport, width: int) -> list[str]:
    drilled = [(c, p) for c in report.chains.values() for p in c.proofs if p.proof == DRILL and p.evidence]
    if not report.drill_run:
        return []

    def wrapped(text: str, indent: str) -> list[str]:
        return textwrap.wrap(
            text, width=width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False
        )

    lines = ["", f"Drill {report.drill_run}: {len(drilled)} alarm(s)"]
    for chain, proof in drilled:
        evidence: dict[str, Any] = dict(proof.evidence)
        lines += wrapped(f"{proof.subject} ({chain.key}): {CELL[proof.status]}: {proof.detail}", "  ")
        notification = evidence.get("notification") or {}
        if notification and "requestedAt" in evidence:
            lines += wrapped(
                f"what the on-call person will receive: subject {notification.get('subject')!r},"
                f" reason {notification.get('reason')!r}",
                "    ",
            )
            within = evidence.get("returnsWithinSeconds")
            back = f" (within about {within} s)" if within else ""
            lines += wrapped(
                f"the alarm returns to its real state by itself at its next evaluation{back}", "    "
            )
        if evidence.get("doesNotProve"):
            lines += wrapped(f"it does not prove {evidence['doesNotProve']}", "    ")
    return lines


def real_time_lines(report: CoverageReport, width: int, statuses: Sequence[Status] = ()) -> list[str]:
    """The opt-in real-time rules' verdicts (``realTime``), apart from the chains: not part of the CIS verdict."""
    rows = [
        (
            (_truncate(chain.key, _MAX_GROUP), place, result.control, str(result.status)),
            result.reasons or [f.detail for f in result.findings if f.ok][-1:] or ["-"],
        )
        for chain in report.chains.values()
        for place, results in chain.real_time.items()
        for result in results
        if not statuses or result.status in statuses
    ]
    if not rows:
        return []
    heading = "Real-time rules (opt-in realTime; not part of the CIS verdict, which rests on the chains):"
    return ["", heading, *table(("LOG GROUP", "WHERE", "CONTROL", "STATUS", "REASONS"), rows, width)]


def render_chains(report: CoverageReport, width: int, statuses: Sequence[Status] = ()) -> str:
    """The chains (one row per log group and control, a column per proof) and the drill, for the terminal.

    The audit prints this above the findings' table (``cis_monitoring.report.terminal``), which has
    one line per (account, Region) and each reason once; here is what AWS judged of each chain.
    ``statuses`` (``--status``) keeps only the chains with those statuses.
    """
    rows = _chain_rows(report, statuses)
    lines = []
    if rows:
        lines += ["Chains (one per log group the events reach, each checked once):"]
        lines += table(("LOG GROUP", "CONTROL", "STATUS", *COLUMNS, "REASONS"), rows, width)
    lines += real_time_lines(report, width, statuses)
    lines += _drill_lines(report, width)
    if lines:
        lines.append("")
    return "".join(line.rstrip() + "\n" for line in lines)


def render_text(report: CoverageReport, width: int | None = None) -> str:
    width = width or shutil.get_terminal_size((120, 24)).columns
    controls = ", ".join(report.controls)
    pair_rows = [
        ((p.account_id, _truncate(p.account_name, _MAX_NAME), p.region, p.status), [*p.reasons, *p.notes])
        for p in report.pairs
    ]
    lines = [f"Coverage per account and Region (CIS {controls}):"]
    lines += table(("ACCOUNT", "NAME", "REGION", "STATUS", "COVERAGE"), pair_rows, width)
    chain_rows = _chain_rows(report)
    if chain_rows:
        lines += ["", "Chains (one per log group the events reach, each checked once):"]
        lines += table(("LOG GROUP", "CONTROL", "STATUS", *COLUMNS, "REASONS"), chain_rows, width)
    lines += real_time_lines(report, width)
    lines += _drill_lines(report, width)
    closing = [*(f"note: {n}" for n in report.notes), *(f"error: {e}" for e in report.errors)]
    counts = totals(p.coverage for p in report.pairs if p.coverage is not None)
    statuses = {s: sum(p.status == s for p in report.pairs) for s in VERDICTS}
    everywhere = sorted({p.region for p in report.pairs if p.all_regions})
    if everywhere:
        closing.append(
            f"Accounts stated covered in all Regions were checked in {', '.join(everywhere)} (--region names"
            " others); a multi-Region trail covers every Region alike."
        )
    closing.append(
        f"CIS {controls}: {len(report.pairs)} account-Region pair(s): {statuses[Status.PASS]} PASS,"
        f" {statuses[Status.FAIL]} FAIL, {statuses[Status.ERROR]} ERROR; covered {counts['direct']} directly,"
        f" {counts['organization']} by organization trail, {counts['none']} not; {len(report.chains)} chain(s)"
    )
    lines.append("")
    lines += [
        wrapped for text in closing for wrapped in textwrap.wrap(text, width=width, subsequent_indent="  ")
    ]
    return "\n".join(line.rstrip() for line in lines if line is not None) + "\n"
