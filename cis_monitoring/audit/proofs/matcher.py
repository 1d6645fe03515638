"""AWS's own matcher as the judge of a deployed pattern: ``logs:TestMetricFilter``.

The control's sample records (targets, unrelated records and near-miss probes) go to
CloudWatch Logs with the deployed pattern, 50 per call. AWS's verdict is reported next
to the core engine's (``cis_monitoring.core.judge.pattern``), record by record; where they
disagree the result says so, and AWS's verdict counts: a target record AWS does not
match is a FAIL even when our engine matches it. TestMetricFilter needs no log group and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from cis_monitoring.audit.aws import error_code
from cis_monitoring.audit.proofs.result import MATCHER, ClientFor, ProofResult, guarded
from cis_monitoring.core.catalog import Control, SampleRecord
from cis_monitoring.core.filter_pattern import MAX_LENGTH
from cis_monitoring.core.judge.pattern import judge_pattern, probe_records
from cis_monitoring.core.status import Status

BATCH = 50
"""TestMetricFilter takes 1 to 50 log event messages per call."""
_SHOWN = 4


@dataclass(frozen=True)
class RecordVerdict:
    label: str
    expected: bool
    """True for a target record (it must match), False for an unrelated record or probe."""
    aws: bool
    engine: bool | None
    """None: our engine could not parse the pattern."""

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "mustMatch": self.expected, "aws": self.aws, "engine": self.engine}


def _records(control: Control) -> list[tuple[SampleRecord, bool]]:
    negatives = control.unrelated_samples() + probe_records(control)
    return [(s, True) for s in control.target_samples()] + [(s, False) for s in negatives]


def aws_matches(logs: Any, pattern: str, messages: Sequence[str]) -> list[bool]:
    """Which of ``messages`` AWS's matcher matches (batched calls; matched by message text)."""
    matched: set[str] = set()
    for start in range(0, len(messages), BATCH):
        batch = list(messages[start : start + BATCH])
        response = logs.test_metric_filter(filterPattern=pattern, logEventMessages=batch)
        for match in response.get("matches") or ():
            # eventMessage echoes the message; it is what ties a match to a record.
            if isinstance(match.get("eventMessage"), str):
                matched.add(match["eventMessage"])
    return [m in matched for m in messages]


def _shown(labels: Sequence[str]) -> str:
    return "; ".join(labels[:_SHOWN]) + ("; ..." if len(labels) > _SHOWN else "")


def _disagreement_text(disagreements: Sequence[RecordVerdict]) -> str:
    def verdict(value: bool | None) -> str:
        return "cannot parse the pattern" if value is None else ("matches" if value else "does not match")

    items = [f"{d.label} (AWS {verdict(d.aws)}, our engine {verdict(d.engine)})" for d in disagreements]
    return f"AWS and our engine disagree on {len(items)} record(s): {_shown(items)}; AWS's verdict counts"


def verdicts(pattern: str, control: Control, aws: Sequence[bool]) -> list[RecordVerdict]:
    """Each record's expected, AWS and engine verdicts (``aws`` in ``_records`` order)."""
    coverage = judge_pattern(pattern, control)
    missed, wrong = set(coverage.missed), set(coverage.wrongly_matched)
    result = []
    for (record, expected), aws_match in zip(_records(control), aws, strict=True):
        if coverage.error:
            engine: bool | None = None
        else:
            engine = record.label not in missed if expected else record.label in wrong
        result.append(RecordVerdict(record.label, expected, aws_match, engine))
    return result


def judge_verdicts(pattern: str, control: Control, records: Sequence[RecordVerdict]) -> ProofResult:
    """The proof's result from the record verdicts: AWS's verdict decides."""
    missed = [r.label for r in records if r.expected and not r.aws]
    broad = [r.label for r in records if not r.expected and r.aws]
    disagreements = [r for r in records if r.engine is None or r.engine != r.aws]
    targets = sum(r.expected for r in records)
    evidence = {
        "pattern": pattern,
        "records": len(records),
        "aws": {"covers": not missed, "missed": missed, "alsoMatches": broad},
        "engine": judge_pattern(pattern, control).explain(),
        "disagreements": [d.to_dict() for d in disagreements],
    }
    parts = []
    if missed:
        parts.append(
            f"AWS's matcher misses {len(missed)} of the control's {targets} target record(s) ({_shown(missed)}),"
            f" so these events add nothing to the metric; use the benchmark's pattern {control.filter_pattern!r}"
        )
    else:
        parts.append(f"AWS's matcher matches all {targets} target record(s) of CIS {control.control_id}")
    if broad:
        parts.append(f"it also matches {len(broad)} record(s) it should not ({_shown(broad)}): alert noise")
    if disagreements:
        parts.append(_disagreement_text(disagreements))
    status = Status.FAIL if missed else Status.PASS
    return ProofResult(MATCHER, pattern, status, "; ".join(parts), evidence)


def aws_matcher(
    clients: ClientFor,
    pattern: str,
    control: Control,
    region: str | None = None,
    filter_name: str | None = None,
) -> ProofResult:
    """Judge ``pattern`` (the deployed filter's text) with ``logs:TestMetricFilter`` in ``region``."""
    subject = filter_name or pattern
    if len(pattern) > MAX_LENGTH or not pattern.strip():
        return ProofResult(
            MATCHER,
            subject,
            Status.FAIL,
            f"the pattern is {len(pattern)} characters long; CloudWatch Logs takes 1 to {MAX_LENGTH}",
        )

    def body() -> ProofResult:
        records = _records(control)
        try:
            aws = aws_matches(clients("logs", region), pattern, [s.message for s, _ in records])
        except ClientError as error:
            if error_code(error) != "InvalidParameterException":
                raise
            message = error.response.get("Error", {}).get("Message", "")
            engine = judge_pattern(pattern, control).explain()
            return ProofResult(
                MATCHER,
                subject,
                Status.FAIL,
                f"AWS rejects the pattern ({message}); our engine says: {engine}; use the benchmark's pattern"
                f" {control.filter_pattern!r}",
                {"pattern": pattern, "aws": {"rejected": message}, "engine": engine},
            )
        result = judge_verdicts(pattern, control, verdicts(pattern, control, aws))
        return replace(result, subject=subject)

    return guarded(MATCHER, subject, body)
