"""What the coverage audit reports: one row per (account, Region) and one entry per chain it checked.

A pair is PASS when its events reach a log group whose chain is intact for every control
(``cis_monitoring.core.topology.Coverage``: covered directly or by an organization trail), FAIL when
not covered (with the link to fix, and where), ERROR when AWS answered an error. A chain is
one log group's filters, alarms, topic and subscribers, checked once per run for every
control (``cis_monitoring.audit.audit.audit_chain``), its proofs included; every pair it covers points at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cis_monitoring.audit.proofs import ProofResult
from cis_monitoring.audit.results import AwsError, TargetResult
from cis_monitoring.audit.trails import TrailReading
from cis_monitoring.core.plan import CoverageClaim
from cis_monitoring.core.topology import Coverage, LogGroupRef

STATUSES = ("PASS", "FAIL", "ERROR")


def worst(statuses: Iterable[str]) -> str:
    """FAIL before ERROR before PASS (a FAIL is a finding; an ERROR only says we could not tell)."""
    found = set(statuses)
    return "FAIL" if "FAIL" in found else "ERROR" if "ERROR" in found else "PASS"


@dataclass
class ChainResult:
    """One log group's chain, per control."""

    group: LogGroupRef
    account_name: str
    controls: list[TargetResult]

    @property
    def key(self) -> str:
        return self.group.key

    @property
    def status(self) -> str:
        return worst(r.status for r in self.controls)

    @property
    def intact(self) -> bool | None:
        """For ``coverage_of``: True (every control PASS), False (a FAIL), None (an AWS error)."""
        return {"PASS": True, "FAIL": False}.get(self.status)

    @property
    def reasons(self) -> list[str]:
        prefix = len(self.controls) > 1
        return [
            f"CIS {r.control}: {reason}" if prefix else reason
            for r in self.controls
            if r.status != "PASS"
            for reason in r.reasons
        ]

    @property
    def proofs(self) -> list[ProofResult]:
        return [p for r in self.controls for p in r.proofs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accountId": self.group.account_id,
            "accountName": self.account_name,
            "region": self.group.region,
            "logGroup": self.group.name,
            "status": self.status,
            "reasons": self.reasons,
            "controls": {str(r.control): r.verdict_dict() for r in self.controls},
        }


@dataclass(frozen=True)
class PairResult:
    """One (account, Region): its coverage, status and the chain that covers it."""

    account_id: str
    account_name: str
    region: str
    all_regions: bool
    status: str
    reasons: list[str]
    coverage: Coverage | None = None
    """None when the trails could not be read (ERROR)."""
    chain: str | None = None
    """The key of the chain (log group) the coverage rests on, when any."""
    trails: tuple[TrailReading, ...] = ()
    error: AwsError | None = None
    entered: bool = True
    """False: judged from the organization trail as its owner sees it (no role in the account)."""
    claims: tuple[CoverageClaim, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"

    def to_dict(self) -> dict[str, Any]:
        coverage = (
            self.coverage.to_dict()
            if self.coverage
            else {"accountId": self.account_id, "region": self.region}
        )
        return {
            **coverage,
            "accountName": self.account_name,
            "allRegions": self.all_regions,
            "status": self.status,
            "reasons": list(self.reasons),
            "description": self.coverage.describe() if self.coverage else None,
            "chain": self.chain,
            "entered": self.entered,
            "claimed": [{"region": c.region, "coverage": c.kind, "site": c.site} for c in self.claims],
            "notes": list(self.notes),
            "trails": [t.to_dict() for t in self.trails],
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass
class CoverageReport:
    pairs: list[PairResult]
    chains: dict[LogGroupRef, ChainResult]
    controls: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Errors that belong to no pair (organizations:ListAccounts failed): each makes the run ERROR."""
    drill_run: str | None = None

    def proofs(self) -> list[ProofResult]:
        return [p for chain in self.chains.values() for p in chain.proofs]

    @property
    def ok(self) -> bool:
        return not self.errors and all(p.status == "PASS" for p in self.pairs)
