"""Proofs that use AWS itself as the judge of an alarm chain (one module per proof).

Each proof takes a client getter (``ClientFor``: ``clients(service, region)``) and plain
facts the audit already has, and returns a ``ProofResult``: PASS, FAIL, ERROR (an AWS
error, for that target only; never raised), NOT_AVAILABLE (the emulator or the account
cannot give this proof; never a PASS) or SKIPPED, with a sentence that says what to add
on FAIL and evidence for the JSON output.

- ``aws_matcher``: ``logs:TestMetricFilter`` judges the deployed pattern on the control's
  sample records, next to the core engine; AWS's verdict counts.
- ``topic_key_policy``: the topic's KMS key lets CloudWatch use it.
- ``subscriber_policies`` (``queue_policy``, ``function_policy``): SQS and Lambda
  subscribers let the topic deliver.
- ``alarm_history``: no "Failed to execute action" in the last N days.
- ``fire_drill`` (opt-in): SetAlarmState to ALARM, then the action's result from history.

``usage_problems`` picks out the opt-in calls AWS denied, for the CLI's exit 2.
"""

from cis_monitoring.audit.proofs.alarm_history import DEFAULT_DAYS, MAX_DAYS, alarm_history
from cis_monitoring.audit.proofs.drill import DrillSettings, drill_reason, fire_drill
from cis_monitoring.audit.proofs.guard import IAM_ACTIONS, NOT_IN_EMULATOR
from cis_monitoring.audit.proofs.keys import topic_key_policy
from cis_monitoring.audit.proofs.matcher import aws_matcher
from cis_monitoring.audit.proofs.on_call import alarm_subject, notification_preview
from cis_monitoring.audit.proofs.result import (
    ALARM_HISTORY,
    DRILL,
    FUNCTION_POLICY,
    KEY_POLICY,
    MATCHER,
    PROOFS,
    QUEUE_POLICY,
    ClientFor,
    ProofError,
    ProofResult,
    ProofStatus,
)
from cis_monitoring.audit.proofs.subscribers import function_policy, queue_policy, subscriber_policies
from cis_monitoring.audit.proofs.usage import OPT_IN_ACTIONS, usage_problems

__all__ = [
    "ALARM_HISTORY",
    "DEFAULT_DAYS",
    "DRILL",
    "FUNCTION_POLICY",
    "IAM_ACTIONS",
    "KEY_POLICY",
    "MATCHER",
    "MAX_DAYS",
    "NOT_IN_EMULATOR",
    "OPT_IN_ACTIONS",
    "PROOFS",
    "QUEUE_POLICY",
    "ClientFor",
    "DrillSettings",
    "ProofError",
    "ProofResult",
    "ProofStatus",
    "alarm_history",
    "alarm_subject",
    "aws_matcher",
    "drill_reason",
    "fire_drill",
    "function_policy",
    "notification_preview",
    "queue_policy",
    "subscriber_policies",
    "topic_key_policy",
    "usage_problems",
]
