"""Against an emulator, an operation it lacks is asked once per run, and no verdict changes for it.

moto answers TestMetricFilter, DescribeAlarmHistory and ListAlarmMuteRules with HTTP 500 (it does
not implement them), and botocore retries each, for every chain. ``EmulatorGaps`` learns the
first final answer and gives the later callers the same answer without a request. These tests run
the same organization (``local.worlds.organization``, deployed through the real program) with and
without it: every pair's and chain's result, proofs included, must be the same, and the lacking
operations must be sent for the first chain only. Against AWS (no endpoint) nothing is watched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cis_monitoring.audit.aws import LEARNABLE_GAPS, EmulatorGaps, SessionFactory
from cis_monitoring.audit.chain import CHECKS, check_basis
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.real_time import RULE_CHECKS, rule_basis
from cis_monitoring.audit.results import CoverageReport
from cis_monitoring.audit.run import audit_coverage
from cis_monitoring.audit.scope import stack_scope
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.topology import TRAIL_READS
from cis_monitoring.spec import load_config
from local.emulator import EMULATOR_KEY, MEMBER_ROLE, Emulator
from local.worlds import REGIONS
from tests.local.test_world_audit import deploy

pytestmark = pytest.mark.emulator

LACKING = {
    ("logs", "TestMetricFilter"),
    ("cloudwatch", "DescribeAlarmHistory"),
    ("cloudwatch", "ListAlarmMuteRules"),
}
ATTEMPTS = 2
"""botocore's retries after the first attempt (as ``cis-monitoring audit --endpoint-url`` sets them)."""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


def _run(emulator: Emulator, config: dict[str, Any], learn: bool) -> tuple[CoverageReport, Counter[str], Any]:
    session = boto3.Session(aws_access_key_id=EMULATOR_KEY, aws_secret_access_key=EMULATOR_KEY)
    sent: Counter[str] = Counter()  # one per request sent (retries included), by operation
    session.events.register("before-send", lambda request, **_: sent.update([_operation(request)]))
    sessions = SessionFactory(session, endpoint_url=emulator.url, max_attempts=ATTEMPTS)
    if not learn:
        sessions.gaps = None  # as before: every call is sent
    scope = stack_scope(load_config(config), role_name=MEMBER_ROLE, regions=REGIONS)
    # One worker: the first chain's answers are learned before the next chain asks.
    report = audit_coverage(scope, sessions, [CIS_4_5], proofs=ProofSettings(), max_workers=1)
    return report, sent, sessions.gaps


READ_TIMES = {"readAt", "latestDeliveryTime"}
"""When a trail's status was read, and moto's last delivery (its clock): they move between runs."""


def _timeless(found: Any) -> Any:
    if isinstance(found, dict):
        return {k: _timeless(v) for k, v in found.items() if k not in READ_TIMES}
    if isinstance(found, list):
        return [_timeless(v) for v in found]
    return found


def _operation(request: Any) -> str:
    target = request.headers.get("X-Amz-Target")
    if target:
        return str(target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
    body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
    found = [p.split("=", 1)[1] for p in body.split("&") if p.startswith("Action=")]
    return found[0] if found else str(request.url)


def test_a_lacking_operation_is_asked_once_and_every_result_is_the_same(
    emulator: Emulator, tmp_path: Path
) -> None:
    deployed = deploy(emulator, "organization", tmp_path)
    before, sent_before, _ = _run(emulator, deployed.config, learn=False)
    after, sent_after, gaps = _run(emulator, deployed.config, learn=True)

    assert len(before.chains) >= 2  # else there is no later chain to spare a request
    assert [_timeless(p.to_dict()) for p in after.pairs] == [_timeless(p.to_dict()) for p in before.pairs]
    assert {k: c.to_dict() for k, c in after.chains.items()} == {
        k: c.to_dict() for k, c in before.chains.items()
    }

    assert gaps is not None and gaps.lacking == LACKING
    for _service, operation in LACKING:
        assert sent_after[operation] == 1 + ATTEMPTS  # the first chain's call and botocore's retries
        assert sent_before[operation] == len(before.chains) * (1 + ATTEMPTS)
    others = {op: n for op, n in sent_before.items() if op not in {o for _, o in LACKING}}
    assert {op: sent_after[op] for op in others} == others


def test_against_aws_no_client_is_watched() -> None:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    assert SessionFactory(session).gaps is None
    assert isinstance(SessionFactory(session, endpoint_url="http://127.0.0.1:1").gaps, EmulatorGaps)


def test_only_operations_no_check_reads_are_learned() -> None:
    """A check's read is always sent: only proofs' operations (never PASS when not available) are learned."""
    checks_read = {read.action for read in TRAIL_READS}
    checks_read |= {read.action for link in RULE_CHECKS for read in rule_basis(link)}
    checks_read |= {read.action for check in CHECKS for read in check_basis(check, CIS_4_5)}
    learnable = {f"{service}:{operation}" for service, operation in LEARNABLE_GAPS}
    assert checks_read and not learnable & checks_read
    assert LACKING <= LEARNABLE_GAPS
