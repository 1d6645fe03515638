"""Turn an AWS error during a proof into that proof's result: ERROR, or NOT_AVAILABLE in an emulator.

A proof never raises for an AWS error: the target's row says ERROR and the others run
on. Two cases are told apart, because the CLI must act on them:

- **access denied**: ``ProofError.access_denied`` with the IAM action, so the CLI can say
  which policy is missing (and exit 2 for an opt-in proof such as the drill);
- **not implemented by an emulator**: moto raises ``NotImplementedError`` in-process and
  answers HTTP 500 with an HTML page as a server; LocalStack answers HTTP 501. Real AWS
  always answers with an AWS error body (a code such as ``InternalFailure``) and never 501,
  so only these shapes become NOT_AVAILABLE, never a PASS.
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from cis_monitoring.audit.aws_errors import error_code, read_error, unexpected
from cis_monitoring.audit.proofs.result import ProofError, ProofResult, ProofStatus

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "UnauthorizedOperation",
    "UnauthorizedException",
}
IAM_ACTIONS = {
    "TestMetricFilter": "logs:TestMetricFilter",
    "DescribeKey": "kms:DescribeKey",
    "GetKeyPolicy": "kms:GetKeyPolicy",
    "GetQueueAttributes": "sqs:GetQueueAttributes",
    "GetPolicy": "lambda:GetPolicy",
    "DescribeAlarmHistory": "cloudwatch:DescribeAlarmHistory",
    "DescribeAlarms": "cloudwatch:DescribeAlarms",
    "SetAlarmState": "cloudwatch:SetAlarmState",
}
"""Every AWS operation a proof calls, and the IAM action that authorizes it."""
NOT_IN_EMULATOR = "not available in this emulator"


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def is_not_implemented(error: BaseException) -> bool:
    """Whether an emulator said it lacks the operation (see the module docstring)."""
    if isinstance(error, NotImplementedError):
        return True
    if not isinstance(error, ClientError):
        return False
    status, code = _status(error), error_code(error)
    # botocore uses the HTTP status as the code when the body is no AWS error (moto's HTML page).
    return status == 501 or (status == 500 and code == "500")


def proof_error(error: ClientError | BotoCoreError) -> ProofError:
    """The error as the checks read it (``cis_monitoring.audit.aws_errors``), with the IAM action it needs."""
    read = read_error(error)
    action = IAM_ACTIONS.get(read.operation or "")
    return ProofError(read.code, read.message, read.operation, action, read.code in ACCESS_DENIED)


def error_result(proof: str, subject: str, error: BaseException) -> ProofResult:
    """The result of a proof that an AWS call ended (``error`` is a botocore or emulator error)."""
    operation = getattr(error, "operation_name", None)
    if is_not_implemented(error):
        what = f"{operation} is" if operation else "the call is"
        return ProofResult(
            proof,
            subject,
            ProofStatus.NOT_AVAILABLE,
            f"{NOT_IN_EMULATOR}: {what} not implemented there; real AWS gives this proof",
            {"notImplemented": operation or str(error)},
        )
    assert isinstance(error, ClientError | BotoCoreError)
    failure = proof_error(error)
    where = f" ({failure.operation})" if failure.operation else ""
    hint = f"; grant {failure.action}" if failure.access_denied and failure.action else ""
    return ProofResult(
        proof, subject, ProofStatus.ERROR, f"{failure.code}: {failure.message}{where}{hint}", error=failure
    )


def guarded(proof: str, subject: str, body: Callable[[], ProofResult]) -> ProofResult:
    """``body()``, with any AWS error (or emulator gap) turned into this proof's result."""
    try:
        return body()
    except (ClientError, BotoCoreError, NotImplementedError) as error:
        return error_result(proof, subject, error)
    except Exception as error:  # an odd answer (or a bug): this proof says so, the audit goes on
        odd = unexpected(error)
        failure = ProofError(odd.code, odd.message)
        return ProofResult(
            proof, subject, ProofStatus.ERROR, f"{failure.code}: {failure.message}", error=failure
        )
