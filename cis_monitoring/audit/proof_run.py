"""The proofs of one chain, wired to the links the chain checks reached (``cis_monitoring.audit.proofs`` does the work).

After the core has judged a chain, AWS is asked to judge the parts it can: its own matcher
judges the filter's pattern, the topic's key policy and the subscribers' policies say
whether delivery can succeed, and the alarm's history says whether it failed. A proof runs
only for a link the walk reached; the drill (opt-in) runs later, for chains that passed
(``cis_monitoring.audit.drill``). Every proof shares the chain checks' clients, so nothing is read twice.

How a proof counts for the control's chain (``fold``): FAIL makes it FAIL and ERROR makes it ERROR
(unless it is FAIL), each with ``"<proof>: <detail>"`` among the reasons. NOT_AVAILABLE and SKIPPED
are never shown as PASS; they change nothing where the core judged the link itself (the matcher
beside the core's pattern engine, the alarm's history, mute rules), but the key and the subscribers'
policies are judged by their proofs alone (``SOLE_JUDGES``): one that could not be read (a key or an
endpoint in another account) leaves its link unseen, so the chain is ERROR, never PASS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cis_monitoring.audit.aws import Clients
from cis_monitoring.audit.chain import AwsLookups
from cis_monitoring.audit.proofs import (
    DEFAULT_DAYS,
    FUNCTION_POLICY,
    KEY_POLICY,
    MATCHER,
    MAX_DAYS,
    QUEUE_POLICY,
    ProofResult,
    alarm_history,
    alarm_mute_rules,
    aws_matcher,
    subscriber_policies,
    topic_key_policy,
)
from cis_monitoring.core.aws.arns import parse_arn
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.judge.chain import ChainVerdict
from cis_monitoring.core.judge.facts import MetricFilterFacts
from cis_monitoring.core.status import Status

MATCHER_OFF = "turned off by --no-test-metric-filter (the core engine's verdict still counts)"


@dataclass(frozen=True)
class ProofSettings:
    """Which proofs run, and how (the CLI's ``--no-test-metric-filter`` and ``--history-days``)."""

    test_metric_filter: bool = True
    history_days: int = DEFAULT_DAYS

    def __post_init__(self) -> None:
        if not 1 <= self.history_days <= MAX_DAYS:
            raise ValueError(f"history_days must be 1 to {MAX_DAYS}, not {self.history_days}")


class ChainProofs:
    """The proofs of one log group's chain for one control."""

    def __init__(self, clients: Clients, region: str, control: Control, settings: ProofSettings) -> None:
        self.clients, self.region, self.control, self.settings = clients, region, control, settings
        self._matcher: dict[str, ProofResult] = {}

    def matcher(self, metric_filter: MetricFilterFacts) -> ProofResult:
        """AWS's matcher on the filter's pattern (asked once per filter)."""
        name = str(metric_filter.name)
        if name not in self._matcher:
            if not self.settings.test_metric_filter:
                self._matcher[name] = ProofResult(MATCHER, name, Status.SKIPPED, MATCHER_OFF)
            else:
                pattern = metric_filter.pattern if isinstance(metric_filter.pattern, str) else ""
                self._matcher[name] = aws_matcher(
                    self.clients, pattern, self.control, region=self.region, filter_name=name
                )
        return self._matcher[name]

    def aws_covers(self, metric_filter: MetricFilterFacts) -> bool:
        """For ``ChainChecks``: whether AWS's matcher (when it runs) covers the control with this filter."""
        return self.matcher(metric_filter).status == Status.PASS

    def run(self, verdict: ChainVerdict, lookups: AwsLookups) -> list[ProofResult]:
        """The proofs of every link ``verdict``'s walk reached, in chain order."""
        path = verdict.path
        results: list[ProofResult] = []
        if path.metric_filter is not None:
            results.append(self.matcher(path.metric_filter))
        if path.topic is not None and isinstance(path.topic.arn, str):
            alarm_arn = path.alarm.ref if path.alarm is not None else None
            key = path.topic.kms_master_key_id
            results.append(
                topic_key_policy(
                    self.clients, path.topic.arn, key if isinstance(key, str) else None, alarm_arn
                )
            )
            raw = lookups.subscriptions.get(path.topic.arn)
            if raw is not None:
                results.extend(subscriber_policies(self.clients, path.topic.arn, raw))
        if path.alarm is not None:
            arn = parse_arn(path.alarm.ref)
            region = arn.region if arn is not None and arn.region else self.region
            results.append(
                alarm_history(self.clients, str(path.alarm.name), region, days=self.settings.history_days)
            )
            results.append(alarm_mute_rules(self.clients, str(path.alarm.name), region))
        return results


SOLE_JUDGES = frozenset({KEY_POLICY, QUEUE_POLICY, FUNCTION_POLICY})
"""Proofs that are the only check of their link: the core sees no key or endpoint policy."""


def fold(status: Status, reasons: Sequence[str], proofs: Iterable[ProofResult]) -> tuple[Status, list[str]]:
    """A control's status and reasons with its proofs counted (see the module docstring)."""
    proofs = list(proofs)
    failed = [p for p in proofs if p.status == Status.FAIL]
    unseen = [p for p in proofs if p.status == Status.NOT_AVAILABLE and p.proof in SOLE_JUDGES]
    errors = [p for p in proofs if p.status == Status.ERROR] + unseen
    added = [f"{p.proof}: {p.detail}" for p in failed + errors]
    added += [
        f"{p.proof}: not checked, and nothing else checks this link, so the chain is not PASS" for p in unseen
    ]
    if failed:
        status = Status.FAIL
    elif errors and status == Status.PASS:
        status = Status.ERROR
    return status, [*reasons, *(r for r in added if r not in reasons)]
