"""How long the human-facing reports take: HTML and terminal rendering, and opening the HTML in a browser.

Input: the synthetic organization of ``local.sample_findings`` (accounts x the 17 default Regions,
one control), the same the README's picture shows, at the sizes of ``ReportSettings``.

- ``html``: ``render`` of the whole document, split into computing what it shows (``html_view``)
  and laying it out (the Jinja2 template); its size.
- ``terminal``: the table at 80 columns, and its line count.
- ``browser``: headless chromium's ``--dump-dom`` wall time (start, parse, lay out, run the
  report's script, serialize the DOM), and the same for an empty page, so the report's own share
  is the difference. Skipped, with the reason, where there is no chromium.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import median
from cis_monitoring.report import RenderOptions, renderer, terminal
from cis_monitoring.report.html_view import build_view
from local import browser
from local.sample_findings import REGIONS_17, organization


@dataclass(frozen=True)
class ReportSettings:
    accounts: tuple[int, ...]
    """Sizes, in accounts (x 17 Regions: 295 accounts are 5,015 targets)."""
    repetitions: int
    browser_repetitions: int


def _timed(work: Callable[[], Any], repetitions: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repetitions):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return median(times), result


def _browser(page: Path, blank: Path, targets: int, repetitions: int) -> dict[str, Any]:
    try:
        browser.find_browser()
    except browser.BrowserUnavailable as why:
        return {"skipped": str(why)}
    empty = median([browser.dump_dom(blank).seconds for _ in range(repetitions)])
    runs = [browser.dump_dom(page) for _ in range(repetitions)]
    shown = f'data-shown="{targets}"'
    if not all(shown in run.output[:4000] for run in runs):
        raise RuntimeError(f"the browser did not show all {targets} targets (no {shown} in the DOM)")
    dump = median([run.seconds for run in runs])
    return {
        "dump_dom_seconds": dump,
        "empty_page_seconds": empty,
        "report_share_seconds": max(dump - empty, 0.0),
        "dom_mb": len(runs[0].output.encode()) / 1e6,
    }


def bench_size(accounts: int, settings: ReportSettings, work_dir: Path) -> dict[str, Any]:
    findings = organization(accounts, REGIONS_17)
    targets = len(findings.findings)
    html = renderer("html")
    # The first render also compiles the template (once per process): measured apart.
    first_seconds, _ = _timed(lambda: html.render(findings, RenderOptions()), 1)
    view_seconds, _ = _timed(lambda: build_view(findings), settings.repetitions)
    html_seconds, document = _timed(lambda: html.render(findings, RenderOptions()), settings.repetitions)
    text_seconds, text = _timed(
        lambda: terminal.render(findings, RenderOptions(width=80)), settings.repetitions
    )
    page = work_dir / f"report-{targets}.html"
    page.write_text(document, encoding="utf-8")
    blank = work_dir / "blank.html"
    blank.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
    return {
        "accounts": accounts,
        "regions": len(REGIONS_17),
        "targets": targets,
        "html": {
            "seconds": html_seconds,
            "first_render_seconds": first_seconds,
            "view_seconds": view_seconds,
            "template_seconds": max(html_seconds - view_seconds, 0.0),
            "mb": len(document.encode()) / 1e6,
            "targets_per_second": targets / html_seconds,
        },
        "terminal": {
            "seconds": text_seconds,
            "lines": text.count("\n"),
            "targets_per_second": targets / text_seconds,
        },
        "browser": _browser(page, blank, targets, settings.browser_repetitions),
    }


def bench(settings: ReportSettings, log: Callable[[str], None]) -> dict[str, Any]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="cis-report-bench-") as work:
        for accounts in settings.accounts:
            log(f"reports: {accounts} accounts x {len(REGIONS_17)} Regions")
            rows.append(bench_size(accounts, settings, Path(work)))
    return {"sizes": rows}
