"""Whether an SNS topic's access policy lets CloudWatch alarms publish to it.

Required: an Allow of ``sns:Publish`` (or ``sns:*``, ``*``) for the service principal
``cloudwatch.amazonaws.com``; refused: an unconditional Deny of it to CloudWatch or to
everyone. A conditional Deny (say, TLS only) does not hit CloudWatch's own calls.
"""

from __future__ import annotations

import json
from typing import Any

from cis_monitoring.core.problems import Code, Link, Problem

CLOUDWATCH = "cloudwatch.amazonaws.com"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows_publish(actions: Any) -> bool:
    # IAM action names are case-insensitive; "sns:*" and "*" include Publish.
    return any(str(a).lower() in ("sns:publish", "sns:*", "*") for a in _as_list(actions))


def _names_cloudwatch(principal: Any) -> bool:
    return isinstance(principal, dict) and CLOUDWATCH in _as_list(principal.get("Service", []))


def _names_everyone(principal: Any) -> bool:
    return principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", [])))


def topic_policy_problem(policy_text: str | None, lead: str = "", ref: str | None = None) -> Problem | None:
    """Why the topic policy would stop CloudWatch alarms from publishing, or None."""

    def problem(code: str, detail: str) -> Problem:
        return Problem(code, Link.TOPIC, detail, lead, ref)

    if not policy_text:
        return problem(Code.TOPIC_POLICY_NONE, "the topic has no access policy")
    try:
        statements = _as_list(json.loads(policy_text).get("Statement", []))
    except (ValueError, AttributeError):
        return problem(Code.TOPIC_POLICY_INVALID, "the topic policy is not valid JSON")
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _allows_publish(statement.get("Action")):
            continue
        principal = statement.get("Principal")
        if statement.get("Effect") == "Allow" and _names_cloudwatch(principal):
            allowed = True
        elif (
            statement.get("Effect") == "Deny"
            and not statement.get("Condition")
            and (_names_cloudwatch(principal) or _names_everyone(principal))
        ):
            return problem(
                Code.TOPIC_POLICY_DENIES_CLOUDWATCH,
                f"statement {statement.get('Sid') or '(no Sid)'} denies sns:Publish to CloudWatch",
            )
    if not allowed:
        return problem(
            Code.TOPIC_POLICY_NO_CLOUDWATCH_ALLOW,
            f"no Allow statement for Principal Service {CLOUDWATCH} with sns:Publish; add one",
        )
    return None
