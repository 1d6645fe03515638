"""Gaps a chain can have that every link check passes: through the audit, on moto, with AWS's answer shapes
where moto lacks the operation or the field (registered as ``before-call`` answers, as AWS sends them)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.results import ControlResult
from cis_monitoring.audit.run import audit_chain
from cis_monitoring.core.access import Access
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status
from tests.audit.test_audit_unit import (
    ACCOUNT,
    REGION,
    build_compliant,
    group_of,
    new_session,
)


def answer(session: Any, event: str, body: dict[str, Any]) -> None:
    def respond(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse(f"https://example.{REGION}.amazonaws.com/", 200, {}, None), body

    session.events.register(f"before-call.{event}", respond)


def audited(session: Any, proofs: ProofSettings | None = None) -> ControlResult:
    group = group_of()
    [result] = audit_chain(group, Access(ACCOUNT), SessionFactory(session), [CIS_4_5], proofs).controls
    return result


def test_a_nightly_mute_rule_fails_a_chain_whose_links_all_pass(aws: None) -> None:
    setup = build_compliant()
    session = new_session()
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm-mute-rule:nightly"
    answer(
        session,
        "cloudwatch.ListAlarmMuteRules",
        {
            "AlarmMuteRuleSummaries": [
                {"AlarmMuteRuleArn": arn, "Status": "SCHEDULED", "MuteType": "RECURRING"}
            ]
        },
    )
    answer(
        session,
        "cloudwatch.GetAlarmMuteRule",
        {
            "Name": "nightly",
            "AlarmMuteRuleArn": arn,
            "Rule": {"Schedule": {"Expression": "cron(0 22 * * *)", "Duration": "PT8H"}},
            "MuteTargets": {"AlarmNames": [setup.alarm_name]},
            "Status": "SCHEDULED",
            "MuteType": "RECURRING",
        },
    )
    result = audited(session, ProofSettings(test_metric_filter=False))
    assert all(f.ok for f in result.findings), result.findings  # every link passes
    assert result.status is Status.FAIL
    [mute] = [p for p in result.proofs if p.proof == "mute rules"]
    assert mute.status is Status.FAIL
    assert any("rule 'nightly'" in r and "cron(0 22 * * *) for PT8H (UTC)" in r for r in result.reasons)


def test_moto_without_mute_rules_says_they_were_not_checked(aws: None) -> None:
    build_compliant()
    result = audited(new_session(), ProofSettings(test_metric_filter=False))
    [mute] = [p for p in result.proofs if p.proof == "mute rules"]
    assert mute.status is Status.NOT_AVAILABLE and mute.status is not Status.PASS


def test_a_filter_policy_that_drops_the_alarm_fails_the_subscription_link(aws: None) -> None:
    """The subscriber stays confirmed and receives nothing: CloudWatch sends no message attributes."""
    setup = build_compliant()
    boto3.client("sns", region_name=REGION).set_subscription_attributes(
        SubscriptionArn=setup.subscription_arn,
        AttributeName="FilterPolicy",
        AttributeValue=json.dumps({"severity": [{"exists": False}]}),
    )
    result = audited(new_session())
    assert result.status is Status.FAIL and result.codes == (Code.SUBSCRIPTION_FILTER_POLICY_DROPS,)
    [subscription] = [f for f in result.findings if f.check == "subscription"]
    assert "confirmed but receives nothing" in subscription.detail
    assert "empty set of attributes" in subscription.detail
    assert "sns:GetSubscriptionAttributes" in [read.action for read in subscription.basis]


def test_selection_criteria_from_describe_metric_filters_fail_the_filter_link(aws: None) -> None:
    build_compliant()
    session = new_session()

    def add(parsed: dict[str, Any], **_: Any) -> None:
        for metric_filter in parsed.get("metricFilters", []):
            metric_filter["fieldSelectionCriteria"] = '@aws.region = "us-east-1"'

    session.events.register("after-call.cloudwatch-logs.DescribeMetricFilters", add)
    result = audited(session)
    assert result.status is Status.FAIL and result.codes == (Code.FILTER_SELECTION_CRITERIA,)
