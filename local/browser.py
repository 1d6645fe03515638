"""A real headless browser for the HTML report: Debian's ``chromium``, started once per question.

``dump_dom(file)`` returns the document after its scripts ran (``--dump-dom``), ``screenshot(file,
png)`` writes what a person would see. Each run gets a throwaway profile and every background
network feature off, so the report is judged as an auditor's offline browser shows it. Used by the
report's browser test, the benchmarks and ``python -m local.report_image`` (the README's picture).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_ENV = "CIS_BROWSER"
"""Names the browser binary when it is not one of ``CANDIDATES`` on PATH."""
REQUIRE_ENV = "CIS_REQUIRE_BROWSER"
"""``1`` (``.ci/run`` sets it after installing chromium): a missing browser fails its tests, never skips."""
DEFAULT_WINDOW = (1400, 1000)
TIMEOUT = 120.0
# Chromium's switches for a quiet, offline, reproducible run (chromium --help and
# https://peter.sh/experiments/chromium-command-line-switches/): no sandbox (CI containers run as
# root), no GPU, no background fetches (component updates, sync, field trials), no first-run UI.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--run-all-compositor-stages-before-draw",
)


class BrowserUnavailable(RuntimeError):
    """No chromium here: the reason, for a skip (or a failure where one is required)."""


@dataclass(frozen=True)
class Result:
    output: str
    seconds: float


def find_browser() -> str:
    named = os.environ.get(BROWSER_ENV)
    if named:
        if shutil.which(named) is None:
            raise BrowserUnavailable(f"{BROWSER_ENV}={named} is not an executable")
        return named
    for candidate in CANDIDATES:
        if shutil.which(candidate):
            return candidate
    raise BrowserUnavailable(
        "no chromium on PATH (Debian: apt-get install -y --no-install-recommends chromium; .ci/run installs it)"
    )


def required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def _run(arguments: list[str], timeout: float) -> Result:
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="cis-browser-") as profile:
        command = [browser, *FLAGS, f"--user-data-dir={profile}", *arguments]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{browser} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return Result(done.stdout, seconds)


def url_of(page: Path, fragment: str = "") -> str:
    return page.resolve().as_uri() + (f"#{fragment}" if fragment else "")


def dump_dom(page: Path, fragment: str = "", timeout: float = TIMEOUT) -> Result:
    """The DOM after the page's scripts ran (``fragment``: the address's ``#...``, e.g. a filter)."""
    return _run(["--dump-dom", url_of(page, fragment)], timeout)


def screenshot(
    page: Path,
    png: Path,
    window: tuple[int, int] = DEFAULT_WINDOW,
    fragment: str = "",
    timeout: float = TIMEOUT,
) -> Result:
    """A PNG of the page's first ``window`` pixels, as a person sees it."""
    png.parent.mkdir(parents=True, exist_ok=True)
    result = _run(
        [f"--screenshot={png.resolve()}", f"--window-size={window[0]},{window[1]}", url_of(page, fragment)],
        timeout,
    )
    if not png.exists():
        raise RuntimeError(f"the browser wrote no screenshot to {png}")
    return result
