"""Read-only audit of a CIS control in deployed accounts: does the whole alarm chain work?

Per target (account, region, log group), in chain order: the log group exists; a
multi-region trail delivers to it and is logging; the trail records the control's
management events; a metric filter on the group counts the control's events; an alarm
on the filter's metric notifies on one event; its SNS topic lets CloudWatch publish; the
topic has a confirmed subscriber. The first broken link makes the target FAIL and the
later links are not checked. An AWS error makes it ERROR.

The chain (filter to subscription) is judged by ``cis_core.judge.chain.judge_chain`` from
facts read out of AWS's answers: the same judgement the policy pack makes from a stack's
resources, so the audit and the pack cannot disagree on what "works" means.

Run it as ``cis-monitoring audit`` (see ``verify.cli``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from cis_core.catalog import CIS_4_5, Control
from cis_core.judge.problems import Link
from verify.aws_session import SessionFactory
from verify.checks.chain import CHAIN_CHECKS, ChainChecks
from verify.checks.outcome import Clients, Outcome
from verify.checks.trail import TrailChecks
from verify.locations import AuditLocation
from verify.results import AWS_ERRORS, AwsError, Finding, TargetResult, aws_error

__all__ = ["CHECKS", "NOT_CHECKED", "AwsError", "Finding", "TargetResult", "audit_all", "audit_target"]

CHECKS = ("log group", "trail", "selectors", *CHAIN_CHECKS.values())
"""log group, trail, selectors, filter, alarm, topic policy, subscription: the order a notification travels."""
NOT_CHECKED = "not checked (an earlier link failed)"

Progress = Callable[[int, int, TargetResult], None]


def _steps(aws: Clients, target: AuditLocation, control: Control) -> list[Callable[[Any], Outcome]]:
    trail, chain = TrailChecks(aws, target, control), ChainChecks(aws, target, control)
    return [
        trail.log_group,
        trail.trail,
        trail.selectors,
        *(lambda _carry, link=link: chain.outcome(link) for link in CHAIN_CHECKS),
    ]


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


def audit_target(target: AuditLocation, sessions: SessionFactory, control: Control = CIS_4_5) -> TargetResult:
    """Check one target's chain; never raises for AWS errors (the row says ERROR)."""
    steps = _steps(Clients(sessions, target), target, control)
    findings: list[Finding] = []
    carry: Any = None
    status, reasons, error, codes = "PASS", [], None, ()
    for name, step in zip(CHECKS, steps, strict=True):
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
    return _row(target, status, reasons, findings, error=error, codes=codes)


def _safe_audit(target: AuditLocation, sessions: SessionFactory, control: Control) -> TargetResult:
    try:
        return audit_target(target, sessions, control)
    except Exception as failure:  # a bug or an odd response: this row says so, the others still run
        error = aws_error(failure)
        return _row(target, "ERROR", [f"{error.code}: {error.message}"], [], error=error)


def audit_all(
    targets: Iterable[AuditLocation],
    sessions: SessionFactory,
    max_workers: int = 8,
    progress: Progress | None = None,
    control: Control = CIS_4_5,
) -> list[TargetResult]:
    """Audit every target on a bounded thread pool; results in input order."""
    pending: Sequence[AuditLocation] = list(targets)
    results: list[TargetResult | None] = [None] * len(pending)
    if not pending:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(pending)))) as pool:
        futures = {pool.submit(_safe_audit, t, sessions, control): i for i, t in enumerate(pending)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            if progress is not None:
                progress(done, len(pending), results[index])
    return [r for r in results if r is not None]


def check_of(link: Link) -> str:
    """The audit check that reports ``link`` of the core's chain."""
    return CHAIN_CHECKS[link]
