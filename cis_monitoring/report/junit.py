"""``--format junit``: JUnit XML for CI systems: a test suite per control, a test case per account and Region.

FAIL is a ``<failure>``, ERROR an ``<error>`` (the check could not be made) and NOT_APPLICABLE a
``<skipped>``; a PASS is a test case with nothing in it. The ``message`` is the first reason and
the element's text holds every reason and each link's status, so a CI page shows what to fix. The
counts on ``<testsuites>`` and each ``<testsuite>`` are the ones JUnit readers expect (``tests``,
``failures``, ``errors``, ``skipped``). Written with the standard library (``xml.etree``), which
escapes text and attributes.

SARIF is not offered: it describes results of analysing files (each result's location is a file
and a region in it), and these findings are about cloud resources (an account, a Region, a log
group), so every result would carry a made-up location.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from cis_monitoring.core.catalog.benchmarks import name_of
from cis_monitoring.core.findings import Finding, Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions

EXTENSION = ".junit.xml"
ELEMENT = {Status.FAIL: "failure", Status.ERROR: "error", Status.NOT_APPLICABLE: "skipped"}
"""The child element of a test case that is not a PASS (any other status: ``error``, never a pass)."""
COUNTER = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def _outcome(finding: Finding) -> str | None:
    if finding.status == Status.PASS:
        return None
    return ELEMENT.get(finding.status, "error")


def _case(suite: ET.Element, finding: Finding) -> str | None:
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": f"{finding.requirement_id} {finding.title}",
            "name": f"{finding.account_id} ({finding.account_name or finding.account_id}) {finding.region}",
            "time": "0",
        },
    )
    outcome = _outcome(finding)
    lines = [*finding.reasons, *(f"{link.link}: {link.status}: {link.detail}" for link in finding.links)]
    if outcome is not None:
        element = ET.SubElement(
            case, outcome, {"message": finding.reasons[0] if finding.reasons else str(finding.status)}
        )
        if outcome != "skipped":
            element.set("type", str(finding.status))
        element.text = "\n".join(lines)
    else:
        ET.SubElement(case, "system-out").text = "\n".join(lines)
    return outcome


def render(findings: Findings, options: RenderOptions) -> str:
    run = findings.run
    root = ET.Element("testsuites", {"name": f"cis-monitoring {name_of(run.benchmark)}"})
    totals: Counter[str] = Counter()
    by_control: dict[str, list[Finding]] = {}
    for finding in findings.findings:
        by_control.setdefault(finding.control_id, []).append(finding)
    for cases in by_control.values():
        first = cases[0]
        suite = ET.SubElement(
            root,
            "testsuite",
            {"name": f"{first.requirement_id} {first.title}", "timestamp": run.started, "time": "0"},
        )
        counts = Counter(_case(suite, f) for f in cases)
        suite.set("tests", str(len(cases)))
        for element, attribute in COUNTER.items():
            suite.set(attribute, str(counts[element]))
            totals[attribute] += counts[element]
        totals["tests"] += len(cases)
    for attribute in ("tests", *COUNTER.values()):
        root.set(attribute, str(totals[attribute]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
