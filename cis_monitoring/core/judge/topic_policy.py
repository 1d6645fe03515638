"""Whether an SNS topic's access policy lets an alarm's CloudWatch publish to it.

The policy is judged as AWS decides the one request CloudWatch makes when an alarm fires:
``cloudwatch.amazonaws.com`` calls ``sns:Publish`` on the topic with the request context of
``resource_policies.cloudwatch_topic_grant`` (the alarm's ARN and account as ``aws:SourceArn``,
``aws:SourceAccount`` and SNS's ``AWS:SourceOwner``; a service principal outside any
organization). ``policy_document.decide`` applies IAM's rules: an explicit Deny wins, then an
Allow, else it is implicitly denied. So an Allow for another account's alarms grants nothing, a
data-perimeter Deny on ``aws:PrincipalOrgID`` shuts CloudWatch out unless it exempts
``aws:PrincipalIsAWSService``, a TLS-only Deny does not hit it, and SNS's default policy
(``AWS:SourceOwner`` = the topic's account) admits the account's own alarms.

A policy whose decision rests on a condition the evaluator cannot evaluate (an operator it does
not support, a key whose value in CloudWatch's request is not documented) is ``topic.policy.undecided``:
a FAIL, not an ERROR. Re-running or granting the auditor more cannot change it (an ERROR here means an
AWS error or a role that could not be used), the fix is in the policy, and the pack, which has no ERROR,
must give the same verdict as the audit. Its message says that the grant could not be judged, never that
it is missing.
"""

from __future__ import annotations

import json

from cis_monitoring.core.problems import Code, Link, Problem

from .resource_policies import CLOUDWATCH, GrantVerdict, cloudwatch_topic_grant, judge_grant

__all__ = ["CLOUDWATCH", "topic_policy_problem", "topic_policy_verdict"]

_CODE_OF_OUTCOME = {
    "denied": Code.TOPIC_POLICY_DENIES_CLOUDWATCH,
    "not allowed": Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
    "undecided": Code.TOPIC_POLICY_UNDECIDED,
}
"""``policy_document.Decision.outcome`` of sns:Publish -> the problem's code."""


def topic_policy_verdict(
    policy_text: str | None, topic_arn: str, alarm_arn: str | None, alarm_account: str | None
) -> GrantVerdict:
    """The evaluator's verdict on CloudWatch publishing alarm ``alarm_arn`` to ``topic_arn``."""
    return judge_grant(policy_text, cloudwatch_topic_grant(topic_arn, alarm_arn, alarm_account))


def topic_policy_problem(
    policy_text: str | None,
    topic_arn: str,
    alarm_arn: str | None,
    alarm_account: str | None,
    lead: str = "",
    ref: str | None = None,
) -> Problem | None:
    """Why the topic policy would stop CloudWatch publishing alarm ``alarm_arn``, or None.

    ``alarm_arn``/``alarm_account`` None: not known to the adapter; a condition on them is undecided.
    """

    def problem(code: Code, detail: str) -> Problem:
        return Problem(code, Link.TOPIC, detail, lead, ref)

    if not policy_text:
        return problem(Code.TOPIC_POLICY_NONE, "the topic has no access policy")
    verdict = topic_policy_verdict(policy_text, topic_arn, alarm_arn, alarm_account)
    if verdict.granted:
        return None
    if not verdict.decisions:  # judge_grant could not read the document
        return problem(Code.TOPIC_POLICY_INVALID, "; ".join(verdict.problems))
    [decision] = verdict.decisions  # one action: sns:Publish
    code = _CODE_OF_OUTCOME[decision.outcome]
    found = "; ".join(verdict.problems)
    statement = json.dumps(verdict.grant.statement_to_add, separators=(",", ":"))
    if code == Code.TOPIC_POLICY_UNDECIDED:
        detail = (
            f"cannot judge whether it lets {CLOUDWATCH} publish: {found}. Rewrite those conditions with keys"
            " CloudWatch's request carries (aws:SourceArn, aws:SourceAccount, aws:PrincipalIsAWSService), or add"
            f" this statement: {statement}"
        )
    elif code == Code.TOPIC_POLICY_DENIES_CLOUDWATCH:
        detail = found
    else:
        detail = f"{found}; add this statement: {statement}"
    return problem(code, detail)
