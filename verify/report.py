"""Render audit results: a text table for people, a versioned JSON document for tools."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Sequence
from typing import Any

from verify.results import TargetResult

SCHEMA_VERSION = 1
"""Bump on any change to the JSON document that is not a pure addition."""
STATUSES = ("PASS", "FAIL", "ERROR")
_MAX_NAME = 24
_MIN_REASON_WIDTH = 30
_MAX_REASON_LINES = 8  # per reason; the JSON document always has the whole text
_PASS_TEXT = "all checks passed"


def summary(results: Sequence[TargetResult]) -> dict[str, int]:
    counts = {status.lower(): sum(r.status == status for r in results) for status in STATUSES}
    return {"targets": len(results), **counts}


def to_document(results: Sequence[TargetResult], control_id: str) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "control": control_id,
        "summary": summary(results),
        "results": [r.to_dict() for r in results],
    }


def render_json(results: Sequence[TargetResult], control_id: str) -> str:
    return json.dumps(to_document(results, control_id), indent=2)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 1)] + "..."


def _wrap_reason(reason: str, width: int, bullet: bool) -> list[str]:
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


def render_text(results: Sequence[TargetResult], control_id: str, width: int | None = None) -> str:
    """An aligned table: ACCOUNT NAME REGION STATUS REASONS (reasons wrapped into their column)."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    rows = [(r.account_id, _truncate(r.account_name, _MAX_NAME), r.region, r.status, r) for r in results]
    headers = ("ACCOUNT", "NAME", "REGION", "STATUS")
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    left = sum(widths) + 2 * len(widths)
    reason_width = max(width - left, _MIN_REASON_WIDTH)
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + "  REASONS"]
    for *cells, result in rows:
        reasons = result.reasons or [_PASS_TEXT]
        wrapped = [
            line for reason in reasons for line in _wrap_reason(reason, reason_width, bullet=len(reasons) > 1)
        ]
        prefix = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + "  "
        lines.append(prefix + wrapped[0])
        lines.extend(" " * len(prefix) + line for line in wrapped[1:])
    counts = summary(results)
    lines.append("")
    lines.append(
        f"CIS {control_id}: {counts['targets']} target(s): {counts['pass']} PASS, {counts['fail']} FAIL,"
        f" {counts['error']} ERROR"
    )
    return "\n".join(line.rstrip() for line in lines) + "\n"


def progress_line(done: int, total: int, result: TargetResult) -> str:
    return f"[{done}/{total}] {result.key} {result.status}"
