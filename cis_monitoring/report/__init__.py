"""Renderers of findings: one module per format, each reading only ``cis_monitoring.core.findings``.

``FORMATS`` names every format ``--format`` accepts, the module that renders it, and the file
it writes into ``--output-dir``. A renderer module has::

    EXTENSION: str                                  # ".json", ".ocsf.json", ".html" ...
    def render(findings: Findings, options: RenderOptions) -> str   # the whole document

so the CLI writes every requested format the same way (atomically, the local report first) and a
new format is one module plus one line here. Modules are imported on use: a format's library
(rich for the terminal) is never loaded for another.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType

from cis_monitoring.core.status import Status

FORMATS: dict[str, str] = {
    "json": "cis_monitoring.report.json_document",
    "ocsf": "cis_monitoring.report.ocsf",
    "asff": "cis_monitoring.report.asff",
    "csv": "cis_monitoring.report.csv_table",
    "junit": "cis_monitoring.report.junit",
    "html": "cis_monitoring.report.html",
}
"""``--format`` name -> renderer module (the terminal's table is ``cis_monitoring.report.terminal``)."""


@dataclass(frozen=True)
class RenderOptions:
    statuses: tuple[Status, ...] = ()
    """Only these statuses (``--status FAIL,ERROR``); empty: every finding."""
    color: bool = False
    width: int = 80
    extra: dict[str, object] = field(default_factory=dict)


def renderer(name: str) -> ModuleType:
    """The module of format ``name`` (a ``FORMATS`` key)."""
    return importlib.import_module(FORMATS[name])
