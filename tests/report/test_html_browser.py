"""The HTML report in a real browser (headless chromium): what an auditor's browser shows, scripts run.

``--dump-dom`` gives the document after the report's script ran: its counts, the picture's cells,
the filter taken from the address. A screenshot shows the picture is painted (its colours are on
screen) and the filter dims what it hides. The README's image is made here the way
``python -m local.report_image`` makes ``docs/report.png``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cis_monitoring.core.findings import Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions, renderer
from local import browser, report_image
from local.sample_findings import organization
from tests.report import png
from tests.report.findings_builder import HOSTILE, small_organization
from tests.report.html_tree import parse

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser; the tier is SKIPPED with the reason without one, and fails with CIS_REQUIRE_BROWSER=1."""
    try:
        return browser.find_browser()
    except browser.BrowserUnavailable as why:
        reason = str(why)
    if browser.required():
        pytest.fail(f"{browser.REQUIRE_ENV}=1, but {reason}", pytrace=False)
    pytest.skip(f"browser tier: {reason}")


COLOUR = {
    Status.PASS: (0x2E, 0x7D, 0x32),
    Status.FAIL: (0xC6, 0x28, 0x28),
    Status.ERROR: (0xEF, 0x6C, 0x00),
}
"""The report's CSS colours of the statuses (report.css)."""
CELL_PIXELS = 18 * 18


def write(tmp_path: Path, document: Findings, name: str = "report.html") -> Path:
    page = tmp_path / name
    page.write_text(renderer("html").render(document, RenderOptions()), encoding="utf-8")
    return page


def test_the_browser_runs_the_script_and_shows_every_count_and_cell(chromium: str, tmp_path: Path) -> None:
    document = organization(40)
    dom = parse(browser.dump_dom(write(tmp_path, document)).output)
    html = dom.find_all("html")[0]
    assert html.attrs["data-ready"] == "1", "the report's script did not run"
    assert html.attrs["data-shown"] == str(len(document.findings))
    assert dom.by_id("shown-count").text() == str(len(document.findings))
    counted = Counter(str(f.status) for f in document.findings)
    shown = {e.attrs["data-count"]: int(e.text()) for e in dom.find_all("b") if "data-count" in e.attrs}
    assert shown == {s: counted[s] for s in ("PASS", "FAIL", "ERROR")}
    cells = Counter(c.attrs["data-status"] for c in dom.find_all("td", "c") if "data-status" in c.attrs)
    assert cells == counted  # one control: one cell per finding
    assert not [c for c in dom.find_all("td", "c") if "off" in c.classes]


def test_the_filter_in_the_address_hides_what_it_does_not_show(chromium: str, tmp_path: Path) -> None:
    document = organization(40)
    dom = parse(browser.dump_dom(write(tmp_path, document), fragment="status=FAIL").output)
    fails = [f for f in document.findings if f.status == Status.FAIL]
    assert dom.find_all("html")[0].attrs["data-shown"] == str(len(fails))
    visible = [t for t in dom.find_all("details", "target") if "hidden" not in t.classes]
    assert sorted(t.attrs["data-uid"] for t in visible) == sorted(f.uid for f in fails)
    rows = [r for r in dom.find_all("tr", "acct-row") if "hidden" not in r.classes]
    assert {r.find_all("span", "id")[0].text() for r in rows} == {f.account_id for f in fails}
    lit = {
        c.attrs["data-status"]
        for c in dom.find_all("td", "c")
        if "data-status" in c.attrs and "off" not in c.classes
    }
    assert lit == {"FAIL"}
    searched = parse(browser.dump_dom(write(tmp_path, document), fragment="q=sandbox-ana").output)
    accounts = {f.account_id for f in document.findings if "sandbox-ana" in f.account_name}
    rows = [r for r in searched.find_all("tr", "acct-row") if "hidden" not in r.classes]
    assert {r.find_all("span", "id")[0].text() for r in rows} == accounts


def test_hostile_names_do_not_run_in_the_browser(chromium: str, tmp_path: Path) -> None:
    dom = parse(browser.dump_dom(write(tmp_path, small_organization())).output)
    assert dom.find_all("title")[0].text().startswith("CIS monitoring evidence")
    assert len(dom.find_all("script")) == 1 and not dom.find_all("img")
    assert HOSTILE in dom.text()


def test_the_picture_is_painted_and_the_filter_dims_it(chromium: str, tmp_path: Path) -> None:
    """The README's image, made as ``python -m local.report_image`` makes it, then the same page filtered."""
    shot = report_image.make_image(tmp_path / "report.png", tmp_path)
    assert png.size(shot) == report_image.WINDOW
    painted = png.colours(shot)
    for status, colour in COLOUR.items():
        assert painted[colour] > 10 * CELL_PIXELS, (status, painted[colour])
    filtered = tmp_path / "fail.png"
    browser.screenshot(tmp_path / "report.html", filtered, report_image.WINDOW, fragment="status=FAIL")
    # Only the summary's PASS box stays green; every PASS cell is dimmed.
    assert png.colours(filtered)[COLOUR[Status.PASS]] < painted[COLOUR[Status.PASS]] / 4


def test_the_committed_readme_image_is_the_reports_picture() -> None:
    committed = report_image.DOCS_IMAGE
    assert committed.exists(), "run python -m local.report_image and commit docs/report.png"
    assert png.size(committed) == report_image.WINDOW
    painted = png.colours(committed)
    assert all(painted[colour] > 10 * CELL_PIXELS for colour in COLOUR.values())
