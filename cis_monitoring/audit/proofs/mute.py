"""Alarm mute rules: ``cloudwatch:ListAlarmMuteRules`` and ``GetAlarmMuteRule``, judged by the core.

A mute rule silences an alarm's actions while the alarm still changes state
(``cis_monitoring.core.judge.mute_rules``): the chain looks whole, a daytime drill passes, and a
CloudTrail change at night notifies nobody. This proof lists the rules that target the chain's
alarm (``ListAlarmMuteRules`` with ``AlarmName``; its summaries carry the rule's ARN, status and
type but not its name or schedule), reads each one that has not expired (``GetAlarmMuteRule`` by
name, the ARN's last part: ``arn:aws:cloudwatch:<region>:<account>:alarm-mute-rule:<name>``), and
FAILs naming each rule that mutes the alarm now or on a schedule, and when.

Shapes: botocore's cloudwatch service model (2010-08-01), ``ListAlarmMuteRulesOutput``
(``AlarmMuteRuleSummaries``: ``AlarmMuteRuleArn``, ``Status``, ``MuteType``, ``ExpireDate``) and
``GetAlarmMuteRuleOutput`` (``Name``, ``Rule.Schedule`` {``Expression``, ``Duration``,
``Timezone``}, ``MuteTargets.AlarmNames``, ``Status``, ``StartDate``, ``ExpireDate``). A botocore
without these operations cannot make the check: the result is NOT_AVAILABLE and says that mute
rules were not checked, never PASS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import botocore

from cis_monitoring.audit.proofs.result import MUTE_RULES, ClientFor, ProofResult, guarded
from cis_monitoring.core.aws.arns import parse_arn
from cis_monitoring.core.judge.mute_rules import EXPIRED, MuteRuleFacts, judge_mute_rules
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status

RULE_RESOURCE = "alarm-mute-rule:"


def rule_name(arn: str) -> str | None:
    """The rule's name from its ARN (what GetAlarmMuteRule takes)."""
    parsed = parse_arn(arn)
    if parsed is None or not parsed.resource.startswith(RULE_RESOURCE):
        return None
    return parsed.resource.removeprefix(RULE_RESOURCE) or None


def mute_rule_facts(rule: Mapping[str, Any]) -> MuteRuleFacts:
    """A ``GetAlarmMuteRule`` answer as the core's facts."""
    schedule = (rule.get("Rule") or {}).get("Schedule") or {}
    return MuteRuleFacts(
        name=str(rule.get("Name") or rule_name(str(rule.get("AlarmMuteRuleArn"))) or "?"),
        status=rule.get("Status"),
        alarm_names=tuple((rule.get("MuteTargets") or {}).get("AlarmNames") or ()),
        expression=schedule.get("Expression"),
        duration=schedule.get("Duration"),
        timezone=schedule.get("Timezone"),
        mute_type=rule.get("MuteType"),
        start_date=rule.get("StartDate"),
        expire_date=rule.get("ExpireDate"),
        ref=rule.get("AlarmMuteRuleArn"),
    )


def _summary_facts(summary: Mapping[str, Any]) -> MuteRuleFacts:
    arn = str(summary.get("AlarmMuteRuleArn"))
    return MuteRuleFacts(
        name=rule_name(arn) or arn,
        status=summary.get("Status"),
        alarm_names=None,
        mute_type=summary.get("MuteType"),
        expire_date=summary.get("ExpireDate"),
        ref=arn,
    )


def alarm_mute_rules(clients: ClientFor, alarm_name: str, region: str | None = None) -> ProofResult:
    """Whether a mute rule silences ``alarm_name``'s actions now or on a schedule."""

    def body() -> ProofResult:
        cloudwatch = clients("cloudwatch", region)
        if not hasattr(cloudwatch, "list_alarm_mute_rules"):
            return ProofResult(
                MUTE_RULES,
                alarm_name,
                Status.NOT_AVAILABLE,
                f"not checked: this botocore ({botocore.__version__}) has no cloudwatch ListAlarmMuteRules, so"
                " whether a mute rule silences the alarm's actions was not checked; upgrade botocore",
                {"checked": False, "botocore": botocore.__version__},
            )
        pages = cloudwatch.get_paginator("list_alarm_mute_rules").paginate(AlarmName=alarm_name)
        summaries = [s for page in pages for s in page.get("AlarmMuteRuleSummaries", [])]
        rules = []
        for summary in summaries:
            name = rule_name(str(summary.get("AlarmMuteRuleArn")))
            if summary.get("Status") == EXPIRED or name is None:
                rules.append(_summary_facts(summary))
                continue
            rules.append(mute_rule_facts(cloudwatch.get_alarm_mute_rule(AlarmMuteRuleName=name)))
        verdict = judge_mute_rules(alarm_name, rules)
        evidence = {
            "checked": True,
            "code": None if verdict.ok else str(Code.ALARM_MUTED),
            "rules": [
                {"name": r.name, "arn": r.ref, "status": r.status, "mutes": when}
                for r, when in verdict.muting
            ],
            "expired": [{"name": r.name, "arn": r.ref} for r in verdict.expired],
        }
        status = Status.PASS if verdict.ok else Status.FAIL
        return ProofResult(MUTE_RULES, alarm_name, status, verdict.describe(alarm_name), evidence)

    return guarded(MUTE_RULES, alarm_name, body)
