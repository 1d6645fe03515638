"""Proofs that use AWS itself as the judge of an alarm chain (one module per proof, all read-only).

Each proof takes a client getter (``ClientFor``: ``clients(service, region)``) and plain facts the
audit already has, and returns a ``ProofResult`` (``result``): a ``cis_monitoring.core.status.Status``
(PASS, FAIL, ERROR for an AWS error, for that chain only and never raised, NOT_AVAILABLE when the
emulator or the account cannot give this proof and never a PASS, or SKIPPED), with a sentence
that says what to add on FAIL and evidence for the JSON output.

- ``matcher.aws_matcher``: ``logs:TestMetricFilter`` judges the deployed pattern on the control's
  sample records, next to the core engine; AWS's verdict counts.
- ``keys.topic_key_policy``: the topic's KMS key lets CloudWatch use it.
- ``subscribers.subscriber_policies`` (``queue_policy``, ``function_policy``): SQS and Lambda
  subscribers let the topic deliver.
- ``history.alarm_history``: each action target's most recent attempt in the last N days succeeded.
- ``mute.alarm_mute_rules``: no alarm mute rule silences the alarm's actions, now or on a schedule.

The fire drill (opt-in, the audit's only write) is ``cis_monitoring.audit.drill``; which proofs run
on which link of a chain is ``cis_monitoring.audit.proof_run``. ``usage_problems`` picks out the
opt-in calls AWS denied, for the CLI's exit 2.
"""

from cis_monitoring.audit.proofs.history import DEFAULT_DAYS, MAX_DAYS, alarm_history
from cis_monitoring.audit.proofs.keys import topic_key_policy
from cis_monitoring.audit.proofs.matcher import aws_matcher
from cis_monitoring.audit.proofs.mute import alarm_mute_rules
from cis_monitoring.audit.proofs.result import (
    ALARM_HISTORY,
    DRILL,
    FUNCTION_POLICY,
    IAM_ACTIONS,
    KEY_POLICY,
    MATCHER,
    MUTE_RULES,
    NOT_IN_EMULATOR,
    OPT_IN_ACTIONS,
    PROOFS,
    QUEUE_POLICY,
    ClientFor,
    ProofError,
    ProofResult,
    usage_problems,
)
from cis_monitoring.audit.proofs.subscribers import function_policy, queue_policy, subscriber_policies

__all__ = [
    "ALARM_HISTORY",
    "DEFAULT_DAYS",
    "DRILL",
    "FUNCTION_POLICY",
    "IAM_ACTIONS",
    "KEY_POLICY",
    "MATCHER",
    "MAX_DAYS",
    "MUTE_RULES",
    "NOT_IN_EMULATOR",
    "OPT_IN_ACTIONS",
    "PROOFS",
    "QUEUE_POLICY",
    "ClientFor",
    "ProofError",
    "ProofResult",
    "alarm_history",
    "alarm_mute_rules",
    "aws_matcher",
    "function_policy",
    "queue_policy",
    "subscriber_policies",
    "topic_key_policy",
    "usage_problems",
]
