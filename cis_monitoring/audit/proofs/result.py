"""What every proof returns: a status, a sentence a person can act on, and evidence for the JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cis_monitoring.audit.aws_errors import AwsError

ClientFor = Callable[[str, "str | None"], Any]
"""``clients(service, region)``: a boto3 client in the audited account (region None: the target's).

``cis_monitoring.audit.audit``'s per-target client cache has exactly this shape.
"""


class ProofStatus(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    """AWS answered with an error (for this target only); ``error`` says which."""
    NOT_AVAILABLE = "NOT_AVAILABLE"
    """The emulator or the account cannot give this proof (never a PASS in disguise)."""
    SKIPPED = "SKIPPED"
    """Turned off, or deliberately not run (the detail says why)."""


@dataclass(frozen=True)
class ProofError(AwsError):
    """An AWS error during a proof, and what the CLI needs to name the missing permission."""

    action: str | None = None
    """The IAM action of the failed call (``logs:TestMetricFilter``), when known."""
    access_denied: bool = False
    """AWS refused the call for lack of permission: the CLI can name the policy to attach."""

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "action": self.action, "accessDenied": self.access_denied}


@dataclass(frozen=True)
class ProofResult:
    proof: str
    """Which proof (``PROOFS``)."""
    subject: str
    """What was judged: a log pattern's filter, a key, queue, function or alarm ARN/name."""
    status: ProofStatus
    detail: str
    """One or two sentences; on FAIL, what to add or change."""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    error: ProofError | None = None

    @property
    def access_denied(self) -> bool:
        return self.error is not None and self.error.access_denied

    def to_dict(self) -> dict[str, Any]:
        return {
            "proof": self.proof,
            "subject": self.subject,
            "status": str(self.status),
            "detail": self.detail,
            "evidence": dict(self.evidence),
            "error": self.error.to_dict() if self.error else None,
        }


MATCHER = "aws matcher"
KEY_POLICY = "key policy"
QUEUE_POLICY = "queue policy"
FUNCTION_POLICY = "function policy"
ALARM_HISTORY = "alarm history"
DRILL = "drill"
PROOFS = (MATCHER, KEY_POLICY, QUEUE_POLICY, FUNCTION_POLICY, ALARM_HISTORY, DRILL)
