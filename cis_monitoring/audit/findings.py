"""The audit's findings: a ``CoverageReport`` and its run as the core's findings model (``core.findings``).

One ``Finding`` per (control, account, Region), from ``CoverageReport.by_control`` (each pair judged
against that control's chain alone), with every link the verdict rests on, in the order an event
travels them:

- ``trail``, ``selectors``, ``delivery``: the trail that covers the pair (or why none does), what
  its event selectors record, and its last delivery to CloudWatch Logs (``GetTrailStatus``);
- the chain's checks (``log group``, ``filter``, ``alarm``, ``topic policy``, ``subscription``),
  each with what AWS answered (the deployed pattern, the alarm's settings, the subscriptions);
- the proofs (AWS's matcher, the key and queue grants, alarm history, mute rules, the drill).

Two rules no renderer can undo:

- a pair whose events reach a chain broken for one control is that control's FAIL (the core's
  ``coverage.none.chain_broken``), and only its;
- a PASS rests on evidence: a PASS pair with a required link that is not a PASS read from AWS
  (``basis``) becomes ERROR, naming the link. A control the run's benchmark version does not have
  is NOT_APPLICABLE, never PASS, and its notes keep the audit's own verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from cis_monitoring.audit.chain import CHECKS
from cis_monitoring.audit.proofs.result import ALARM_HISTORY, DRILL, MATCHER, PROOF_BASIS, ProofResult
from cis_monitoring.audit.results import ChainResult, ControlResult, CoverageReport, PairResult
from cis_monitoring.audit.trails import TrailReading
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.catalog.benchmarks import BENCHMARKS, BY_KEY, Requirement, name_of
from cis_monitoring.core.errors import UsageError
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.findings import (
    JUDGED_BY_AWS,
    JUDGED_BY_CORE,
    CoverageEvidence,
    Finding,
    Findings,
    LinkEvidence,
    Run,
)
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status
from cis_monitoring.core.topology import TRAIL_READS, Coverage, TrailFacts

TRAIL = "trail"
SELECTORS = "selectors"
DELIVERY = "delivery"
TRAIL_LINKS = (TRAIL, SELECTORS, DELIVERY)
REQUIRED_FOR_PASS = (*TRAIL_LINKS, *(str(check) for check in CHECKS))
"""Every link a PASS must rest on: each a PASS, read from AWS (a non-empty basis)."""
NOT_CHECKED = "not checked (an earlier link failed)"

_BY_OPERATION = {read.operation: read for read in TRAIL_READS}
TRAIL_BASIS = (_BY_OPERATION["DescribeTrails"], AwsRead("cloudtrail", "GetTrailStatus", ("IsLogging",)))
SELECTORS_BASIS = (_BY_OPERATION["GetEventSelectors"],)
DELIVERY_BASIS = (
    AwsRead(
        "cloudtrail",
        "GetTrailStatus",
        ("LatestCloudWatchLogsDeliveryError", "LatestCloudWatchLogsDeliveryTime"),
    ),
)
TRAIL_FAILS = {
    Code.COVERAGE_NO_TRAIL,
    Code.COVERAGE_SINGLE_REGION,
    Code.COVERAGE_NO_CLOUDWATCH,
    Code.COVERAGE_NOT_LOGGING,
}
DELIVERY_FAILS = {Code.COVERAGE_DELIVERY_ERROR, Code.COVERAGE_NEVER_DELIVERED, Code.COVERAGE_DELIVERY_STALE}
AWS_JUDGES = {MATCHER, ALARM_HISTORY, DRILL}
"""Proofs whose verdict is AWS's own (its matcher, its alarm history), not the core's reading of a policy."""


NEWEST = BENCHMARKS[-1]
"""The default ``--benchmark``: the newest CIS version the catalog maps its controls to."""


def benchmark_help() -> str:
    return (
        f"the CIS AWS Foundations Benchmark version whose ids and titles the reports show (default:"
        f" {NEWEST.key}, {NEWEST.name}, the newest the catalog holds; known: {', '.join(BY_KEY)}). A"
        " control that version does not have is NOT_APPLICABLE, never PASS"
    )


def benchmark_of(key: str | None, controls: Sequence[Control]) -> str:
    """``--benchmark``, checked: a known version that has at least one of ``controls`` (else ``UsageError``)."""
    chosen = key or NEWEST.key
    if chosen not in BY_KEY:
        raise UsageError(f"--benchmark: unknown version {chosen!r}; known: {', '.join(BY_KEY)}")
    if controls and not any(c.requirement(chosen) for c in controls):
        ids = ", ".join(c.control_id for c in controls)
        raise UsageError(
            f"--benchmark {chosen}: {name_of(chosen)} has none of the controls to audit (catalog {ids}):"
            " every finding would be NOT_APPLICABLE"
        )
    return chosen


def findings_of(report: CoverageReport, controls: Sequence[Control], run: Run) -> Findings:
    """The run's findings: per control, one per pair of ``report`` (in the report's pair order)."""
    chains = {chain.key: chain for chain in report.chains.values()}
    found = [
        _finding(control, control.requirement(run.benchmark), pair, chains, run.benchmark)
        for control in controls
        for pair in report.by_control.get(control.control_id, report.pairs)
    ]
    return Findings(run, found, list(report.notes), list(report.errors))


def _finding(
    control: Control,
    requirement: Requirement | None,
    pair: PairResult,
    chains: Mapping[str, ChainResult],
    benchmark: str,
) -> Finding:
    chain = chains.get(pair.chain) if pair.chain else None
    result = next((r for r in chain.controls if r.control == control.control_id), None) if chain else None
    links = (
        *trail_links(pair),
        *(chain_links(result) if result else ()),
        *(proof_links(result) if result else ()),
    )
    status, reasons, notes = pair.status, list(pair.reasons), list(pair.notes)
    if status == Status.PASS:
        missing = unproven(links)
        if missing:
            status = Status.ERROR
            reasons.append(
                f"no evidence for {', '.join(missing)}: a link that was not read from AWS is never a PASS"
            )
    real_time = real_time_links(chain, control, pair) if chain else ()
    if real_time:
        links = (*links, *real_time)
        worst_link = next((link for link in real_time if link.status != Status.PASS), None)
        notes.append(
            "the opt-in real-time channel (EventBridge rules, judged apart: CIS compliance rests on the metric"
            " filter) is "
            + (f"{worst_link.status} at its {worst_link.link}" if worst_link else "PASS at every link")
        )
    if requirement is None:
        version = name_of(benchmark)
        notes.append(f"the audit's own verdict for catalog control {control.control_id}: {status}")
        status = Status.NOT_APPLICABLE
        reasons = [f"{version} has no requirement for catalog control {control.control_id} ({control.title})"]
    return Finding(
        control_id=control.control_id,
        requirement_id=requirement.id if requirement else control.control_id,
        title=requirement.title if requirement else control.title,
        severity=control.severity,
        account_id=pair.account_id,
        region=pair.region,
        status=status,
        reasons=tuple(reasons),
        account_name=pair.account_name,
        coverage=coverage_evidence(pair.coverage) if pair.coverage else None,
        links=links,
        chain=pair.chain,
        risk=control.risk,
        remediation=control.remediation,
        security_hub_id=control.security_hub_id,
        notes=tuple(notes),
        assessment=requirement.assessment if requirement else None,
        profile=requirement.profile if requirement else None,
        requirement_source=requirement.source if requirement else None,
    )


REAL_TIME_LINK = "{link} ({place})"
"""A real-time link's name: never one of ``REQUIRED_FOR_PASS``'s, so it cannot stand in for a CIS link."""


def real_time_links(chain: ChainResult, control: Control, pair: PairResult) -> tuple[LinkEvidence, ...]:
    """The opt-in real-time rules' links in the pair's own account and Region, for ``control``.

    They are evidence beside the CIS chain's links and never change the finding's status: CIS is
    judged on the metric filter. Rules the program puts elsewhere (a forwarding Region's, a central
    bus's) belong to the findings of that account and Region.
    """
    if chain.group.account_id != pair.account_id:
        return ()
    links: list[LinkEvidence] = []
    for place, results in chain.real_time.items():
        if place.split(" ", 1)[0] != pair.region:
            continue
        for result in results:
            if result.control != control.control_id:
                continue
            links += [
                replace(link, link=REAL_TIME_LINK.format(place=place, link=link.link))
                for link in chain_links(result)
            ]
    return tuple(links)


def unproven(links: Sequence[LinkEvidence]) -> list[str]:
    """The links a PASS needs that are missing, not PASS, or rest on no AWS read."""
    by_name = {link.link: link for link in links}
    return [
        name
        for name in REQUIRED_FOR_PASS
        if name not in by_name or by_name[name].status != Status.PASS or not by_name[name].basis
    ]


def coverage_evidence(coverage: Coverage) -> CoverageEvidence:
    trail = coverage.trail
    return CoverageEvidence(
        kind=coverage.kind,
        code=str(coverage.code),
        description=coverage.describe(),
        trail=trail.name if trail else None,
        trail_account_id=trail.owner_account if trail else None,
        trail_home_region=trail.home_region if trail else None,
        log_group=coverage.log_group.key if coverage.log_group else None,
    )


# ---------------------------------------------------------------- the trail's links


def _reading(pair: PairResult, trail: TrailFacts) -> dict[str, Any]:
    found = next((r for r in pair.trails if r.facts.arn == trail.arn), None)
    return (found or TrailReading(trail)).to_dict()


def trail_links(pair: PairResult) -> tuple[LinkEvidence, ...]:
    """The trail that covers the pair (or why none does), its selectors and its delivery."""
    if pair.coverage is None:
        detail = "; ".join(pair.reasons) or "the trails could not be read"
        error = pair.error.to_dict() if pair.error else {}
        return (LinkEvidence(TRAIL, Status.ERROR, detail, basis=TRAIL_BASIS, evidence={"error": error}),)
    coverage, trail = pair.coverage, pair.coverage.trail
    code = Code(coverage.code)
    if trail is None:
        seen = {"trailsSeen": [r.to_dict() for r in pair.trails]}
        failed = LinkEvidence(TRAIL, Status.FAIL, coverage.describe(), (code,), TRAIL_BASIS, evidence=seen)
        return (failed, _skipped(SELECTORS), _skipped(DELIVERY))
    reading = _reading(pair, trail)
    if code in TRAIL_FAILS:
        failed = LinkEvidence(TRAIL, Status.FAIL, coverage.describe(), (code,), TRAIL_BASIS, evidence=reading)
        return (failed, _skipped(SELECTORS), _skipped(DELIVERY))
    links = [
        LinkEvidence(TRAIL, Status.PASS, trail.describe() + ", logging", (), TRAIL_BASIS, evidence=reading)
    ]
    selectors = {"allManagementEvents": trail.all_management_events, "selectors": reading.get("selectors")}
    if code == Code.COVERAGE_SELECTORS:
        links.append(
            LinkEvidence(
                SELECTORS, Status.FAIL, coverage.reason, (code,), SELECTORS_BASIS, evidence=selectors
            )
        )
        return (*links, _skipped(DELIVERY))
    if trail.all_management_events is not True:
        links.append(
            LinkEvidence(SELECTORS, Status.ERROR, "the event selectors were not read", evidence=selectors)
        )
    else:
        said = str(reading.get("selectors") or "all management events")
        links.append(LinkEvidence(SELECTORS, Status.PASS, said, (), SELECTORS_BASIS, evidence=selectors))
    delivery = trail.delivery.to_dict() if trail.delivery else {}
    if code in DELIVERY_FAILS:
        links.append(
            LinkEvidence(DELIVERY, Status.FAIL, coverage.reason, (code,), DELIVERY_BASIS, evidence=delivery)
        )
    elif trail.delivery is None or trail.delivery.latest is None:
        links.append(
            LinkEvidence(
                DELIVERY, Status.ERROR, "the CloudWatch Logs delivery was not read", evidence=delivery
            )
        )
    else:
        when = delivery["latestDeliveryTime"]
        links.append(
            LinkEvidence(
                DELIVERY,
                Status.PASS,
                f"last delivered to CloudWatch Logs at {when}",
                (),
                DELIVERY_BASIS,
                evidence=delivery,
            )
        )
    return tuple(links)


def _skipped(link: str) -> LinkEvidence:
    return LinkEvidence(link, Status.SKIPPED, NOT_CHECKED)


# ---------------------------------------------------------------- the chain's links and the proofs


def chain_links(result: ControlResult) -> tuple[LinkEvidence, ...]:
    """The chain's checks for one control: PASS, FAIL, ERROR (an AWS error), or SKIPPED (not reached)."""
    links = []
    for check in result.findings:
        if check.ok is None:
            status = Status.SKIPPED
        elif check.ok:
            status = Status.PASS
        else:
            # After the first check that did not pass, every later one is None: an ok=False check of an
            # errored control is the one whose AWS call failed.
            status = Status.ERROR if result.error is not None else Status.FAIL
        evidence = dict(check.evidence)
        if status == Status.ERROR and result.error is not None:
            evidence["error"] = result.error.to_dict()
        links.append(
            LinkEvidence(
                str(check.check),
                status,
                check.detail,
                tuple(str(c) for c in check.codes),
                check.basis,
                JUDGED_BY_CORE,
                evidence,
            )
        )
    return tuple(links)


def proof_links(result: ControlResult) -> tuple[LinkEvidence, ...]:
    """Each proof of the chain for one control: AWS as the judge, the key and subscriber grants, the drill."""
    return tuple(_proof_link(proof) for proof in result.proofs)


def _proof_link(proof: ProofResult) -> LinkEvidence:
    evidence: dict[str, Any] = {"subject": proof.subject, **dict(proof.evidence)}
    if proof.error is not None:
        evidence["error"] = proof.error.to_dict()
    return LinkEvidence(
        proof.proof,
        proof.status,
        proof.detail,
        basis=PROOF_BASIS.get(proof.proof, ()),
        judged_by=JUDGED_BY_AWS if proof.proof in AWS_JUDGES else JUDGED_BY_CORE,
        evidence=evidence,
    )
