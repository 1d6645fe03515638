"""Read-only audit of one log group's alarm chain: does the whole chain work, and does AWS agree?

Per target (account, region, log group), in chain order: the log group exists; (with the
trail checks) a multi-region trail delivers to it and is logging, and records the
control's management events (read as the coverage audit reads them, ``cis_monitoring.audit.trails``, and
judged by ``cis_monitoring.core.topology``); a metric filter on the group counts the control's events;
an alarm on the filter's metric notifies on one event; its SNS topic lets CloudWatch
publish; the topic has a confirmed subscriber. The first broken link makes the target FAIL
and the later links are not checked. An AWS error makes it ERROR.

The chain (filter to subscription) is judged by ``cis_monitoring.core.judge.chain.judge_chain`` from
facts read out of AWS's answers: the same judgement the policy pack makes from a stack's
resources, so the audit and the pack cannot disagree on what "works" means. With proof
settings, AWS then judges the links the walk reached (``cis_monitoring.audit.proof_run``).

The coverage audit (``cis_monitoring.audit.coverage_audit``) reads the trails per (account, Region)
itself and audits each log group they deliver to once, with ``audit_chain`` (no trail
checks). Run it as ``cis-monitoring audit`` (see ``cis_monitoring.audit.cli``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cis_monitoring.audit.aws_session import SessionFactory, as_identity
from cis_monitoring.audit.checks.chain import CHAIN_CHECKS, ChainChecks
from cis_monitoring.audit.checks.outcome import Clients, Memo, Outcome
from cis_monitoring.audit.locations import AuditLocation
from cis_monitoring.audit.pool import in_pool
from cis_monitoring.audit.proof_run import ChainProofs, ProofSettings, fold
from cis_monitoring.audit.results import AWS_ERRORS, AwsError, Finding, TargetResult, aws_error
from cis_monitoring.audit.trails import Delivery, TrailReader, delivery_to
from cis_monitoring.core.catalog import CONTROLS, Control, default_control_ids
from cis_monitoring.core.problems import Code
from cis_monitoring.core.topology import LogGroupRef

__all__ = [
    "CHAIN_ONLY",
    "CHECKS",
    "NOT_CHECKED",
    "AwsError",
    "Finding",
    "ProofSettings",
    "TargetResult",
    "audit_all",
    "audit_chain",
    "audit_target",
]

CHECKS = ("log group", "trail", "selectors", *CHAIN_CHECKS.values())
"""log group, trail, selectors, filter, alarm, topic policy, subscription: the order a notification travels."""
CHAIN_ONLY = ("log group", *CHAIN_CHECKS.values())
"""The checks of a chain whose trails the coverage audit judged already."""
NOT_CHECKED = "not checked (an earlier link failed)"

Progress = Callable[[int, int, TargetResult], None]


def default_control() -> Control:
    """The catalog's first default control (for callers that name none)."""
    return CONTROLS[default_control_ids()[0]]


def _row(
    target: AuditLocation, status: str, reasons: list[str], findings: list[Finding], **extra: Any
) -> TargetResult:
    return TargetResult(
        target.account_id,
        target.account_name,
        target.region,
        target.log_group,
        status,
        reasons,
        findings,
        **extra,
    )


def _trail(sessions: SessionFactory, target: AuditLocation, control: Control) -> Outcome:
    """A logging multi-Region trail delivers the target's events to its log group (carry: the ``Delivery``)."""
    readings = TrailReader(sessions, [control]).seen(as_identity(target), target.region)
    delivery = delivery_to(LogGroupRef(target.account_id, target.region, target.log_group), readings)
    found = delivery.coverage
    if delivery.reaches:
        assert found.trail is not None
        detail = f"{found.trail.describe()} delivers to {delivery.group.describe()} and is logging"
        return Outcome(True, detail, delivery)
    if delivery.elsewhere is not None:
        detail = (
            f"no multi-Region trail delivers to {delivery.group.describe()}; {delivery.elsewhere.describe()}"
        )
        return Outcome(False, detail, codes=(found.code,))
    return Outcome(False, found.describe(), codes=(found.code,))


def _selectors(delivery: Delivery) -> Outcome:
    """That trail's event selectors record the control's management events (``cis_monitoring.audit.trails.selector_verdict``)."""
    reading = delivery.reading
    assert reading is not None and reading.selectors is not None
    name = reading.facts.name
    if delivery.coverage.code == Code.COVERAGE_SELECTORS:
        return Outcome(False, f"trail {name!r}: {reading.selectors}", codes=(Code.COVERAGE_SELECTORS,))
    return Outcome(True, f"trail {name!r} records {reading.selectors}")


def audit_target(
    target: AuditLocation,
    sessions: SessionFactory,
    control: Control | None = None,
    *,
    proofs: ProofSettings | None = None,
    trail_checks: bool = True,
    clients: Clients | None = None,
    memo: Memo | None = None,
) -> TargetResult:
    """Check one target's chain for ``control``; never raises for AWS errors (the row says ERROR).

    ``proofs`` None runs no proof. ``clients`` and ``memo`` let several controls of one chain
    share clients and answers (``audit_chain``).
    """
    control = control or default_control()
    aws = clients or Clients(sessions, target)
    memo = memo or Memo()
    proof = ChainProofs(aws, target.region, control, proofs) if proofs is not None else None
    chain = ChainChecks(aws, target, control, memo, proof.aws_covers if proof else None)
    names = CHECKS if trail_checks else CHAIN_ONLY
    steps: list[Callable[[Any], Outcome]] = [lambda _carry: chain.log_group()]
    if trail_checks:
        steps += [lambda _carry: _trail(sessions, target, control), _selectors]
    steps += [lambda _carry, link=link: chain.outcome(link) for link in CHAIN_CHECKS]
    findings: list[Finding] = []
    carry: Any = None
    status, reasons, error, codes = "PASS", [], None, ()
    for name, step in zip(names, steps, strict=True):
        if status != "PASS":
            findings.append(Finding(name, None, NOT_CHECKED))
            continue
        try:
            outcome = step(carry)
        except AWS_ERRORS as failure:
            error = aws_error(failure)
            status = "ERROR"
            where = f" ({error.operation})" if error.operation else ""
            reasons = [f"{name}: {error.code}: {error.message}{where}"]
            findings.append(Finding(name, False, f"error: {error.code}: {error.message}"))
            continue
        findings.append(Finding(name, outcome.ok, outcome.detail, outcome.codes))
        if not outcome.ok:
            status, reasons, codes = "FAIL", [f"{name}: {outcome.detail}"], outcome.codes
        carry = outcome.carry
    verdict = chain.verdict
    results = proof.run(verdict, chain.lookups) if proof is not None and verdict is not None else []
    status, reasons = fold(status, reasons, results)
    alarm = (
        chain.lookups.raw_alarm(verdict.path.alarm) if verdict and verdict.ok and verdict.path.alarm else None
    )
    return _row(
        target,
        status,
        reasons,
        findings,
        error=error,
        codes=codes,
        proofs=tuple(results),
        control=control.control_id,
        alarm=alarm,
    )


def _safe_audit(
    target: AuditLocation, sessions: SessionFactory, control: Control, **options: Any
) -> TargetResult:
    try:
        return audit_target(target, sessions, control, **options)
    except Exception as failure:  # a bug or an odd response: this row says so, the others still run
        error = aws_error(failure)
        return _row(
            target, "ERROR", [f"{error.code}: {error.message}"], [], error=error, control=control.control_id
        )


def audit_chain(
    target: AuditLocation,
    sessions: SessionFactory,
    controls: Sequence[Control],
    proofs: ProofSettings | None = None,
) -> list[TargetResult]:
    """The chain on ``target``'s log group for each control (no trail checks), reading each answer once."""
    clients, memo = Clients(sessions, target), Memo()
    return [
        _safe_audit(target, sessions, control, proofs=proofs, trail_checks=False, clients=clients, memo=memo)
        for control in controls
    ]


def audit_all(
    targets: Iterable[AuditLocation],
    sessions: SessionFactory,
    max_workers: int = 8,
    progress: Progress | None = None,
    control: Control | None = None,
    proofs: ProofSettings | None = None,
) -> list[TargetResult]:
    """Audit every target (trail checks included) on a bounded thread pool; results in input order."""
    chosen = control or default_control()
    return in_pool(
        list(targets),
        lambda target: _safe_audit(target, sessions, chosen, proofs=proofs),
        max_workers,
        progress,
    )
