"""What an AWS error says: its code, its message and the operation that failed.

One reading for the checks (a row's ``AwsError``, ``cis_monitoring.audit.results``) and the proofs (a
proof's ``ProofError``, ``cis_monitoring.audit.proofs.guard``), so both word a throttled or refused call alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
}


@dataclass(frozen=True)
class AwsError:
    code: str
    message: str
    operation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "operation": self.operation}


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def unexpected(error: BaseException) -> AwsError:
    """An error no AWS call gives (an odd answer, or a bug), named by its type."""
    return AwsError(f"Unexpected{type(error).__name__}", str(error))


def read_error(error: ClientError | BotoCoreError) -> AwsError:
    """AWS's code and message (botocore's error name for a client-side failure), and the operation."""
    if isinstance(error, BotoCoreError):
        return AwsError(type(error).__name__.removesuffix("Error") or "BotoCore", str(error))
    code = error_code(error) or "Unknown"
    message = str(error.response.get("Error", {}).get("Message") or error)
    retries = error.response.get("ResponseMetadata", {}).get("RetryAttempts")
    if code in THROTTLING and retries:
        message += f" (still failing after {retries} retries)"
    return AwsError(code, message, error.operation_name)
