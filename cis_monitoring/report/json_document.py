"""``--format json``: the findings model itself (``core.findings``), as ``docs/findings.schema.json`` describes.

The document every other format can be rendered from again (``cis-monitoring report FILE.json``):
``schemaVersion``, the run (when, as whom, with which tool, catalog and benchmark version), the
summary, and one finding per (control, account, Region) with its links, their evidence and the AWS
calls and fields each verdict rests on.
"""

from __future__ import annotations

import json

from cis_monitoring.core.findings import Findings
from cis_monitoring.report import RenderOptions

EXTENSION = ".json"


def render(findings: Findings, options: RenderOptions) -> str:
    return json.dumps(findings.to_dict(), indent=2, ensure_ascii=False) + "\n"
