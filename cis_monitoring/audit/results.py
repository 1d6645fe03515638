"""What the audit reports: one row per (account, Region), one entry per chain, one verdict per control.

- ``PairResult``: one (account, Region). PASS when its events reach a log group whose chain is
  intact for every control (``cis_monitoring.core.topology.Coverage``: covered directly or by an
  organization trail), FAIL when not covered (with the link to fix, and where), ERROR when AWS
  answered an error.
- ``ChainResult``: one log group's filters, alarms, topic and subscribers, checked once per run
  (``cis_monitoring.audit.run.audit_chain``); every pair it covers points at it.
- ``ControlResult``: that chain for one control: a ``Finding`` per check, the proofs, the status.

Every status is a ``cis_monitoring.core.status.Status``; ``CoverageReport.status`` is the run's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cis_monitoring.audit.aws import AwsError
from cis_monitoring.audit.proofs.result import ProofResult
from cis_monitoring.audit.trails import TrailReading
from cis_monitoring.core.aws.arns import LogGroupRef
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.plan import CoverageClaim
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status, worst
from cis_monitoring.core.topology import TRAIL_READS, Coverage


@dataclass(frozen=True)
class Finding:
    check: str
    """Which check (``cis_monitoring.audit.chain.Check``)."""
    ok: bool | None
    """None: not checked, because an earlier link failed or errored."""
    detail: str
    codes: tuple[Code, ...] = ()
    """The core judge's problem codes when the check failed (``alarm.treat_missing_data`` ...)."""
    basis: tuple[AwsRead, ...] = ()
    """The AWS calls and fields this check's verdict rests on (empty when it was not checked)."""
    evidence: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """What AWS answered that the verdict used (the deployed pattern, the alarm's settings, the
    subscriptions): for the findings model (``cis_monitoring.audit.findings``), not in this JSON."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "detail": self.detail,
            "codes": list(self.codes),
            "basis": [read.to_dict() for read in self.basis],
        }


@dataclass(frozen=True)
class ControlResult:
    """One chain, judged for one control (where the chain is: its ``ChainResult``)."""

    control: str
    """The catalog control these checks were for."""
    status: Status
    """PASS, FAIL or ERROR."""
    reasons: list[str]
    findings: list[Finding]
    error: AwsError | None = None
    codes: tuple[Code, ...] = field(default=())
    """The problem codes of the failing check (empty for PASS and ERROR)."""
    proofs: tuple[ProofResult, ...] = ()
    """AWS as the judge of the links the checks reached (``cis_monitoring.audit.proof_run``), the drill's too."""
    alarm: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The working chain's alarm as DescribeAlarms gave it (what a drill starts from); not in the JSON."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "reasons": list(self.reasons),
            "codes": list(self.codes),
            "findings": [f.to_dict() for f in self.findings],
            "error": self.error.to_dict() if self.error else None,
            "proofs": [p.to_dict() for p in self.proofs],
        }


@dataclass
class ChainResult:
    """One log group's chain, per control."""

    group: LogGroupRef
    account_name: str
    controls: list[ControlResult]
    real_time: dict[str, list[ControlResult]] = field(default_factory=dict)
    """The opt-in real-time rules' verdicts per place (``audit.real_time.RulePlace.label``), per control:
    the real-time channel's own, never part of ``status`` or ``intact`` (CIS is judged on the filter)."""

    @property
    def key(self) -> str:
        return self.group.key

    def only(self, control: str) -> ChainResult:
        """This chain as ``control`` alone sees it (its coverage verdict for that control's findings)."""
        return ChainResult(self.group, self.account_name, [r for r in self.controls if r.control == control])

    @property
    def status(self) -> Status:
        return worst(r.status for r in self.controls)

    @property
    def intact(self) -> bool | None:
        """For ``coverage_of``: True (every control PASS), False (a FAIL), None (an AWS error)."""
        return {Status.PASS: True, Status.FAIL: False}.get(self.status)

    @property
    def reasons(self) -> list[str]:
        prefix = len(self.controls) > 1
        return [
            f"CIS {r.control}: {reason}" if prefix else reason
            for r in self.controls
            if r.status != Status.PASS
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
            "status": str(self.status),
            "reasons": self.reasons,
            "controls": {r.control: r.to_dict() for r in self.controls},
            # Only with realTime (a pure addition: a stack without it reads as before).
            **(
                {
                    "realTime": {
                        place: {r.control: r.to_dict() for r in found}
                        for place, found in self.real_time.items()
                    }
                }
                if self.real_time
                else {}
            ),
        }


@dataclass(frozen=True)
class PairResult:
    """One (account, Region): its coverage, status and the chain that covers it."""

    account_id: str
    account_name: str
    region: str
    all_regions: bool
    status: Status
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
            "status": str(self.status),
            "reasons": list(self.reasons),
            "description": self.coverage.describe() if self.coverage else None,
            "chain": self.chain,
            "entered": self.entered,
            "claimed": [{"region": c.region, "coverage": c.kind, "site": c.site} for c in self.claims],
            "notes": list(self.notes),
            "trails": [t.to_dict() for t in self.trails],
            # What the coverage verdict rests on (the covering chain's links name their own).
            "basis": [read.to_dict() for read in TRAIL_READS] if self.coverage else [],
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
    by_control: dict[str, list[PairResult]] = field(default_factory=dict)
    """Per control, every pair judged against that control's chain alone (``ChainResult.only``): a
    pair whose events reach a chain broken for one control is that control's FAIL, and only its."""

    def proofs(self) -> list[ProofResult]:
        return [p for chain in self.chains.values() for p in chain.proofs]

    @property
    def status(self) -> Status:
        """The run's worst status: FAIL before ERROR before PASS (an error of no pair is an ERROR)."""
        return worst([*(p.status for p in self.pairs), *([Status.ERROR] if self.errors else [])])
