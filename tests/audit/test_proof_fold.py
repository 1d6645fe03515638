"""How proofs count for a chain: a link judged by its proof alone is never PASS when the proof could not look."""

from __future__ import annotations

import pytest

from cis_monitoring.audit.proof_run import SOLE_JUDGES, fold
from cis_monitoring.audit.proofs import ALARM_HISTORY, KEY_POLICY, MATCHER, QUEUE_POLICY, ProofResult
from cis_monitoring.core.status import Status


def _proof(name: str, status: Status) -> ProofResult:
    return ProofResult(name, "subject", status, f"{name} said so")


@pytest.mark.parametrize("name", sorted(SOLE_JUDGES))
def test_an_unread_key_or_endpoint_policy_leaves_the_chain_error_not_pass(name: str) -> None:
    status, reasons = fold(Status.PASS, [], [_proof(name, Status.NOT_AVAILABLE)])
    assert status == Status.ERROR
    assert any("nothing else checks this link" in r for r in reasons)


@pytest.mark.parametrize("name", [MATCHER, ALARM_HISTORY])
def test_a_supplementary_proof_the_emulator_lacks_changes_nothing(name: str) -> None:
    # The core judged the pattern and the alarm itself; AWS's extra word is simply not available.
    assert fold(Status.PASS, [], [_proof(name, Status.NOT_AVAILABLE)]) == (Status.PASS, [])


def test_a_fail_outranks_an_unread_link() -> None:
    proofs = [_proof(KEY_POLICY, Status.NOT_AVAILABLE), _proof(QUEUE_POLICY, Status.FAIL)]
    assert fold(Status.PASS, [], proofs)[0] == Status.FAIL
