"""The opt-in fire drill (``--drill``), after the chain audit: one alarm after another, never in the workers.

Only a control whose chain passed is drilled (its alarm as DescribeAlarms gave it, read again by
the drill); every other one gets a SKIPPED drill that says at which link its chain fails. The
drill itself (``cis_monitoring.audit.proofs.fire_drill``) refuses an alarm already in ALARM. It sleeps while it
waits for the alarm's history, so drills run one by one here, after the audit's thread pools.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from cis_monitoring.audit.aws_session import SessionFactory
from cis_monitoring.audit.checks.outcome import Clients
from cis_monitoring.audit.proof_run import fold
from cis_monitoring.audit.proofs import DRILL, DrillSettings, ProofResult, ProofStatus, fire_drill
from cis_monitoring.audit.results import TargetResult
from cis_monitoring.audit.results_coverage import ChainResult
from cis_monitoring.audit.scope import AuditScope


@dataclass(frozen=True)
class DrillPlan:
    settings: DrillSettings
    announce: Callable[[Sequence[str]], None] | None = None
    """Called with the alarms about to be drilled (their subscribers will be notified), before the first."""


def with_proof(result: TargetResult, proof: ProofResult) -> TargetResult:
    status, reasons = fold(result.status, result.reasons, [proof])
    return replace(result, status=status, reasons=reasons, proofs=(*result.proofs, proof))


def not_drilled(result: TargetResult) -> ProofResult:
    """Why a control whose chain did not pass is not drilled."""
    failed = next((f.check for f in result.findings if f.ok is False), None)
    if result.status == "ERROR":
        why = "not drilled: the chain could not be checked (an AWS error)"
    elif failed is not None:
        why = f"not drilled: the chain already fails at {failed}"
    elif result.status == "FAIL":
        proof = next((p.proof for p in result.proofs if p.status is ProofStatus.FAIL), "a proof")
        why = f"not drilled: the chain already fails ({proof})"
    else:
        why = "not drilled: no alarm to drill"
    return ProofResult(DRILL, str(result.control), ProofStatus.SKIPPED, why)


def run_drills(
    chains: Sequence[ChainResult], sessions: SessionFactory, scope: AuditScope, plan: DrillPlan
) -> None:
    """Drill every passing control's alarm of ``chains`` (their results gain the drill's proof)."""
    chosen: list[tuple[ChainResult, int]] = []
    for chain in chains:
        for index, result in enumerate(chain.controls):
            if result.status == "PASS" and result.alarm is not None:
                chosen.append((chain, index))
            else:
                chain.controls[index] = with_proof(result, not_drilled(result))
    if plan.announce is not None:
        plan.announce([str(chain.controls[i].alarm.get("AlarmName")) for chain, i in chosen])  # type: ignore[union-attr]
    for chain, index in chosen:
        result = chain.controls[index]
        assert result.alarm is not None
        clients = Clients(sessions, scope.access_for(chain.group.account_id), chain.group.region)
        chain.controls[index] = with_proof(result, fire_drill(clients, result.alarm, plan.settings))
