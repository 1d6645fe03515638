"""The CIS AWS Foundations Benchmark versions the catalog maps its controls to, oldest first.

An organization is assessed against one version; the reports speak its ids and titles
(``--benchmark``). The same recommendation moved: CloudTrail configuration changes are 3.5 in
v1.2.0, 4.5 from v1.4.0 through v5.0.0 and 5.5 in v6.0.0 and v7.0.0. Each entry's ``frameworks``
maps its control to these ids, citing where each mapping comes from.
"""

from __future__ import annotations

from dataclasses import dataclass

CIS_AWS = "CIS Amazon Web Services Foundations Benchmark"


@dataclass(frozen=True)
class Benchmark:
    key: str
    """``cis-aws-<major>.<minor>``: what ``--benchmark`` and the catalog's ``frameworks`` say."""
    version: str
    """As CIS numbers the document (``v4.0.1``)."""

    @property
    def name(self) -> str:
        return f"{CIS_AWS} {self.version}"


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("cis-aws-1.2", "v1.2.0"),
    Benchmark("cis-aws-1.4", "v1.4.0"),
    Benchmark("cis-aws-1.5", "v1.5.0"),
    Benchmark("cis-aws-2.0", "v2.0.0"),
    Benchmark("cis-aws-3.0", "v3.0.0"),
    Benchmark("cis-aws-4.0", "v4.0.1"),
    Benchmark("cis-aws-5.0", "v5.0.0"),
    Benchmark("cis-aws-6.0", "v6.0.0"),
    Benchmark("cis-aws-7.0", "v7.0.0"),
)
BY_KEY = {b.key: b for b in BENCHMARKS}
ASSESSMENTS = ("Automated", "Manual")
PROFILES = ("Level 1", "Level 2")
SEVERITIES = ("informational", "low", "medium", "high", "critical")
"""OCSF's and Security Hub's severity words (lower case)."""


@dataclass(frozen=True)
class Requirement:
    """A control as one benchmark version numbers, names and rates it."""

    benchmark: str
    """A ``Benchmark.key``."""
    id: str
    title: str
    assessment: str | None
    """``Automated`` or ``Manual``; None where the source does not say (v1.2.0 rated Scored/Not Scored)."""
    profile: str | None
    source: str
    """Where this mapping comes from (the CIS document, or a publication that transcribes it)."""


def name_of(key: str) -> str:
    """The benchmark's full name (``CIS Amazon Web Services Foundations Benchmark v7.0.0``), or ``key``
    itself for a version this release does not know (a findings file from a newer one)."""
    return BY_KEY[key].name if key in BY_KEY else key
