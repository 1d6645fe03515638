"""``--format html``: one self-contained file an auditor opens offline.

Inline CSS, JavaScript and nothing else: no web font, no CDN, no image from the network (a
Content-Security-Policy in the file forbids any load). It holds the run (when, as whom, tool,
catalog and benchmark versions), counts by status and coverage, the coverage picture (accounts x
Regions grouped by OU, coloured by verdict, filterable by status and account without a server),
each control's text, risk and remediation in the run's benchmark version, and per target its
evidence, collapsed: every link with status, detail, codes, basis (AWS calls and fields), who
judged it and the values AWS answered. Stated findings (the rollup's claims) are marked as such.

The layout is ``html_assets/report.html.j2``, rendered by Jinja2 with autoescaping on for every
value: an account named ``<script>`` prints as text. What it shows is computed in ``html_view``.
"""

from __future__ import annotations

import shlex
from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup

from cis_monitoring.core.findings import JUDGED_BY_AWS, JUDGED_BY_CORE, Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions
from cis_monitoring.report.html_view import GLYPH, Count, build_view, evidence_json
from cis_monitoring.report.verdicts import COVERAGE_WORDS, STATUS_ORDER, STATUS_WORDS, region_label

EXTENSION = ".html"
ASSETS = "html_assets"
JUDGED = {JUDGED_BY_CORE: "the core (from the facts read)", JUDGED_BY_AWS: "AWS itself"}


def _asset(name: str) -> str:
    return resources.files("cis_monitoring.report").joinpath(ASSETS, name).read_text(encoding="utf-8")


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(_asset),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    return environment.get_template("report.html.j2")


def render(findings: Findings, options: RenderOptions | None = None) -> str:
    """The whole HTML document. ``options.statuses`` preselects the filter (the file holds every finding)."""
    view = build_view(findings)
    return _template().render(
        view=view,
        # Trusted text of this package, inlined so the file needs nothing else; never from findings.
        css=Markup(_asset("report.css")),
        js=Markup(_asset("report.js")),
        command=shlex.join(findings.run.command),
        glyph={str(s): g for s, g in GLYPH.items()},
        coverage_words=COVERAGE_WORDS,
        judged=JUDGED,
        evidence_json=evidence_json,
        region_label=region_label,
        all_statuses=[Count(str(s), str(s), 0, STATUS_WORDS[s]) for s in STATUS_ORDER],
        preselected=[str(s) for s in (options.statuses if options else ()) if isinstance(s, Status)],
    )
