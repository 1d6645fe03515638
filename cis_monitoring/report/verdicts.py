"""What every human-facing renderer says about a pair the same way: its most telling status, its coverage.

A pair (account, Region) has one finding per control; the HTML picture's cell and the terminal's
line show the most telling of their statuses, so a PASS never hides a FAIL, an ERROR or an n/a.
"""

from __future__ import annotations

from collections.abc import Iterable

from cis_monitoring.core.findings import Finding
from cis_monitoring.core.status import Status

STATUS_ORDER = (
    Status.FAIL,
    Status.ERROR,
    Status.NOT_AVAILABLE,
    Status.SKIPPED,
    Status.PASS,
    Status.NOT_APPLICABLE,
)
"""The most telling status first."""
STATUS_WORDS = {
    Status.PASS: "the check was made and holds",
    Status.FAIL: "the check was made and does not hold",
    Status.ERROR: "the check could not be made (an AWS error, a role that cannot be assumed)",
    Status.NOT_AVAILABLE: "cannot be checked where it ran (an emulator; the rollup's stated claims)",
    Status.SKIPPED: "deliberately not run",
    Status.NOT_APPLICABLE: "nothing to check (the benchmark version lacks the control)",
}
UNKNOWN = "unknown"
"""The coverage of a pair whose trails could not be read."""
COVERAGE_WORDS = {
    "direct": "covered directly",
    "organization": "covered by an organization trail",
    "none": "not covered",
    UNKNOWN: "not known (the trails could not be read)",
}


ALL_REGIONS = "*"
"""A finding for every Region of an account (the rollup's claim of a multi-Region trail)."""


def region_label(region: str) -> str:
    return "all Regions" if region == ALL_REGIONS else region


def overall(statuses: Iterable[Status], status: Status) -> Status:
    """The document's status as a reader should see it: never PASS when some finding was not checked.

    ``Findings.status`` counts a NOT_AVAILABLE finding (a stated claim, a check an emulator lacks)
    as no failure; shown alone, that reads as a pass. Here it stays NOT_AVAILABLE.
    """
    found = set(statuses)
    if status == Status.PASS and found & {Status.NOT_AVAILABLE, Status.SKIPPED}:
        return Status.NOT_AVAILABLE
    return status


def most_telling(statuses: Iterable[Status]) -> Status:
    found = set(statuses)
    return next((s for s in STATUS_ORDER if s in found), Status.NOT_APPLICABLE)


def coverage_kind(finding: Finding) -> str:
    return finding.coverage.kind if finding.coverage is not None else UNKNOWN
