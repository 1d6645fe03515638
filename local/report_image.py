"""``python -m local.report_image``: the README's picture of the HTML report (``docs/report.png``).

Renders the fixed synthetic organization (``local.sample_findings``: 40 accounts x 17 Regions)
as HTML and has headless chromium screenshot it. The input never changes by itself (no clock, no
randomness), so the committed image changes only when the report does; the browser test makes the
same image and checks it, and that the committed one has its size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cis_monitoring.report import RenderOptions, renderer
from local import browser
from local.sample_findings import organization

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_IMAGE = REPO_ROOT / "docs" / "report.png"
ACCOUNTS = 40
WINDOW = (1400, 1400)


def sample_html(out_dir: Path) -> Path:
    page = out_dir / "report.html"
    page.write_text(renderer("html").render(organization(ACCOUNTS), RenderOptions()), encoding="utf-8")
    return page


def make_image(png: Path, work_dir: Path) -> Path:
    """Write the picture to ``png`` (the HTML it shows goes to ``work_dir``)."""
    browser.screenshot(sample_html(work_dir), png, WINDOW)
    return png


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DOCS_IMAGE, help=f"where to write it ({DOCS_IMAGE})")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="cis-report-image-") as work:
            make_image(args.out, Path(work))
    except browser.BrowserUnavailable as why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
