"""What every proof returns, and how an AWS error becomes a proof's result instead of an exception.

A proof returns a ``ProofResult``: a ``Status`` (PASS, FAIL, ERROR, NOT_AVAILABLE or SKIPPED), a
sentence a person can act on, and evidence for the JSON. It never raises for an AWS error
(``guarded``): the chain's row says ERROR and the others run on. Two errors are told apart,
because the CLI must act on them:

- **access denied**: ``ProofError.access_denied`` with the IAM action, so the CLI can say which
  policy is missing. For an opt-in call (``OPT_IN_ACTIONS``: TestMetricFilter, the drill's
  SetAlarmState) the audit was asked for something its role cannot do, which is no finding about
  the account: ``usage_problems`` words it, and the CLI exits 2;
- **not implemented by an emulator**: moto raises ``NotImplementedError`` in-process and answers
  HTTP 500 with an HTML page as a server; LocalStack answers HTTP 501. Real AWS always answers with
  an AWS error body (a code such as ``InternalFailure``) and never 501, so only these shapes become
  NOT_AVAILABLE, never a PASS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cis_monitoring.audit.aws import AwsError, emulator_lacks, error_code, read_error, unexpected
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.status import Status

ClientFor = Callable[[str, "str | None"], Any]
"""``clients(service, region)``: a boto3 client in the audited account (region None: the chain's).

``cis_monitoring.audit.aws.Clients`` has exactly this shape.
"""

MATCHER = "aws matcher"
KEY_POLICY = "key policy"
QUEUE_POLICY = "queue policy"
FUNCTION_POLICY = "function policy"
ALARM_HISTORY = "alarm history"
MUTE_RULES = "mute rules"
CONFIRMATION = "confirmation"
DRILL = "drill"
PROOFS = (MATCHER, KEY_POLICY, QUEUE_POLICY, FUNCTION_POLICY, CONFIRMATION, ALARM_HISTORY, MUTE_RULES, DRILL)
_HISTORY = AwsRead(
    "cloudwatch", "DescribeAlarmHistory", ("AlarmName", "HistoryItemType", "HistorySummary", "Timestamp")
)
_KEY_READS = (
    AwsRead(
        "kms",
        "DescribeKey",
        ("KeyMetadata.KeyManager", "KeyMetadata.KeyState", "KeyMetadata.Arn", "KeyMetadata.AWSAccountId"),
    ),
    AwsRead("kms", "GetKeyPolicy", ("Policy",)),
)
PROOF_BASIS: Mapping[str, tuple[AwsRead, ...]] = {
    MATCHER: (AwsRead("logs", "TestMetricFilter", ("matches",)),),
    KEY_POLICY: _KEY_READS,
    # An encrypted queue's key is read as the topic's is (its state and its policy for SNS).
    QUEUE_POLICY: (AwsRead("sqs", "GetQueueAttributes", ("Policy", "KmsMasterKeyId")), *_KEY_READS),
    FUNCTION_POLICY: (AwsRead("lambda", "GetPolicy", ("Policy",)),),
    CONFIRMATION: (
        AwsRead("sns", "ListSubscriptionsByTopic", ("SubscriptionArn", "Protocol", "Endpoint")),
        AwsRead("sns", "GetSubscriptionAttributes", ("PendingConfirmation", "ConfirmationWasAuthenticated")),
    ),
    ALARM_HISTORY: (_HISTORY,),
    MUTE_RULES: (
        AwsRead("cloudwatch", "ListAlarmMuteRules", ("AlarmMuteRuleArn", "Status", "MuteType")),
        AwsRead(
            "cloudwatch",
            "GetAlarmMuteRule",
            ("Name", "Rule.Schedule", "MuteTargets.AlarmNames", "Status", "StartDate", "ExpireDate"),
        ),
    ),
    DRILL: (AwsRead("cloudwatch", "SetAlarmState", ("StateValue", "StateReason")), _HISTORY),
}
"""The AWS calls and fields each proof's verdict rests on (in the JSON beside its evidence)."""
NOT_IN_EMULATOR = "not available in this emulator"
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
    "ListAlarmMuteRules": "cloudwatch:ListAlarmMuteRules",
    "GetAlarmMuteRule": "cloudwatch:GetAlarmMuteRule",
    "DescribeAlarms": "cloudwatch:DescribeAlarms",
    "SetAlarmState": "cloudwatch:SetAlarmState",
}
"""Every AWS operation a proof calls, and the IAM action that authorizes it."""
OPT_IN_ACTIONS = {
    "logs:TestMetricFilter": (
        "add logs:TestMetricFilter to the auditor's policy (iam/auditor-policy.json has it),"
        " or pass --no-test-metric-filter"
    ),
    "cloudwatch:SetAlarmState": (
        "--drill needs cloudwatch:SetAlarmState on the alarm: attach iam/drill-policy.json to the"
        " auditor's role, or leave out --drill"
    ),
}
"""The opt-in calls whose refusal is a usage problem (exit 2), and what to do about it."""


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
    status: Status
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
            "basis": [read.to_dict() for read in PROOF_BASIS.get(self.proof, ())],
            "status": str(self.status),
            "detail": self.detail,
            "evidence": dict(self.evidence),
            "error": self.error.to_dict() if self.error else None,
        }


def _http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def is_not_implemented(error: BaseException) -> bool:
    """Whether an emulator said it lacks the operation (see the module docstring)."""
    if isinstance(error, NotImplementedError):
        return True
    if not isinstance(error, ClientError):
        return False
    return emulator_lacks(_http_status(error), error_code(error))


def proof_error(error: ClientError | BotoCoreError) -> ProofError:
    """The error as the checks read it (``cis_monitoring.audit.aws.read_error``), with the IAM action it needs."""
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
            Status.NOT_AVAILABLE,
            f"{NOT_IN_EMULATOR}: {what} not implemented there; real AWS gives this proof",
            {"notImplemented": operation or str(error)},
        )
    assert isinstance(error, ClientError | BotoCoreError)
    failure = proof_error(error)
    where = f" ({failure.operation})" if failure.operation else ""
    hint = f"; grant {failure.action}" if failure.access_denied and failure.action else ""
    return ProofResult(
        proof, subject, Status.ERROR, f"{failure.code}: {failure.message}{where}{hint}", error=failure
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
        return ProofResult(proof, subject, Status.ERROR, f"{failure.code}: {failure.message}", error=failure)


def usage_problems(results: Iterable[ProofResult]) -> list[str]:
    """One line per opt-in action AWS denied, naming where (first few subjects) and what to do."""
    denied: dict[str, list[str]] = {}
    for result in results:
        action = result.error.action if result.error else None
        if result.access_denied and action in OPT_IN_ACTIONS:
            denied.setdefault(action, []).append(result.subject)
    lines = []
    for action, subjects in denied.items():
        shown = ", ".join(subjects[:3]) + (f" and {len(subjects) - 3} more" if len(subjects) > 3 else "")
        lines.append(f"{action} was denied ({shown}): {OPT_IN_ACTIONS[action]}")
    return lines
