"""The audit's chain checks against moto's in-process AWS (one account): PASS, each broken link, errors.

Each log group's chain is audited with ``audit_chain`` (the run's per-chain entry point); what
depends on the trails (logging, multi-Region, selectors, where they deliver) with
``audit_coverage`` over a scope, as ``cis-monitoring audit`` runs it. The command line itself is
``tests/audit/test_cli.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.models import MockAWS

from cis_monitoring.audit import report as audit_report
from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.chain import CHECKS, NOT_CHECKED, Check
from cis_monitoring.audit.results import ChainResult, ControlResult, CoverageReport, PairResult
from cis_monitoring.audit.run import audit_chain, audit_coverage
from cis_monitoring.audit.scope import AccountFlags, flag_scope, stack_scope
from cis_monitoring.core.access import Access
from cis_monitoring.core.aws.arns import LogGroupRef, parse_log_group_arn
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.judge.selectors import management_coverage
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status
from cis_monitoring.program.policies import topic_policy
from cis_monitoring.spec import StackFileError, load_stack_file, read_stack_file

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
LOG_GROUP = "org-trail/cloudtrail"
FILTER_NAME = "cis-4-5-cloudtrail-changes"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Setup:
    region: str
    log_group: str
    log_group_arn: str
    trail_name: str
    topic_arn: str
    alarm_name: str
    subscription_arn: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)


FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
# One loader for every session the tests create: parsing service models is most of a client's cost.
_LOADER = botocore.loaders.create_loader()


def moto_for_module() -> Iterator[MockAWS]:
    """moto in-process for a whole module, with fake credentials and no profile from this machine.

    Its CloudTrail is shaped like AWS where moto says less (``local.worlds.shadows``): shadow
    trails, and GetTrailStatus's CloudWatch Logs delivery fields.
    """
    from local.worlds import shadows

    shadows.install()
    with pytest.MonkeyPatch.context() as patch:
        for key, value in FAKE_ENV.items():
            patch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            patch.delenv(key, raising=False)
        with mock_aws() as mock:
            yield mock


def new_session() -> boto3.Session:
    """A fresh boto3 session (its own event hooks) sharing the parsed service models."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, region_name=REGION)


def build_compliant(region: str = REGION, log_group: str = LOG_GROUP) -> Setup:
    """What an account looks like after the org trail exists and this program is deployed."""
    logs = boto3.client("logs", region_name=region)
    logs.create_log_group(logGroupName=log_group)
    group_arn = next(
        g["arn"]
        for g in logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"]
        if g["logGroupName"] == log_group
    )
    role = boto3.client("iam", region_name=region).create_role(
        RoleName=f"cloudtrail-logs-{region}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    bucket = f"trail-bucket-{region}"
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    boto3.client("s3", region_name=region).create_bucket(Bucket=bucket, **location)
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    trail = f"org-trail-{region}"
    cloudtrail.create_trail(
        Name=trail,
        S3BucketName=bucket,
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=role,
    )
    cloudtrail.start_logging(Name=trail)
    cloudtrail.put_event_selectors(
        TrailName=trail, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    put_filter(region, log_group, CIS_4_5.filter_pattern)

    sns = boto3.client("sns", region_name=region)
    topic = sns.create_topic(Name="cis-sandbox-alarms")["TopicArn"]
    # The program's own topic policy: the audit must accept what the program deploys.
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(topic, ACCOUNT, region)
    )
    sqs = boto3.client("sqs", region_name=region)
    queue_url = sqs.create_queue(QueueName="security-alerts")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # moto confirms every subscription at once (SubscriptionArn is an ARN, never "PendingConfirmation").
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    alarm = f"cis-4-5-cloudtrail-changes-sandbox-{region}"
    put_alarm(region, alarm, topic)
    return Setup(region, log_group, group_arn, trail, topic, alarm, subscription)


def allow_queue(setup: Setup) -> None:
    """The queue policy an SQS subscriber needs (without it the queue-policy proof FAILs, as it should)."""
    sns, sqs = setup.client("sns"), setup.client("sqs")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=setup.topic_arn)["Subscriptions"]
    queue = subscription["Endpoint"]
    url = sqs.get_queue_url(QueueName=queue.split(":")[-1])["QueueUrl"]
    grant = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": setup.topic_arn}},
    }
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [grant]})}
    )


def put_filter(region: str, log_group: str, pattern: str, value: str = "1") -> None:
    logs = boto3.client("logs", region_name=region)
    # AWS replaces a filter of the same name; moto adds a second one, so replace explicitly.
    if logs.describe_metric_filters(logGroupName=log_group, filterNamePrefix=FILTER_NAME)["metricFilters"]:
        logs.delete_metric_filter(logGroupName=log_group, filterName=FILTER_NAME)
    logs.put_metric_filter(
        logGroupName=log_group,
        filterName=FILTER_NAME,
        filterPattern=pattern,
        metricTransformations=[
            {"metricName": CIS_4_5.metric_name, "metricNamespace": CIS_4_5.namespace, "metricValue": value}
        ],
    )


def put_alarm(region: str, name: str, topic: str | None, **overrides: Any) -> None:
    settings: dict[str, Any] = {
        "AlarmName": name,
        "MetricName": CIS_4_5.metric_name,
        "Namespace": CIS_4_5.namespace,
        "Statistic": "Sum",
        "Period": 300,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [topic] if topic else [],
    }
    boto3.client("cloudwatch", region_name=region).put_metric_alarm(**{**settings, **overrides})


def group_of(region: str = REGION, log_group: str = LOG_GROUP, account: str = ACCOUNT) -> LogGroupRef:
    return LogGroupRef(account, region, log_group)


def chain(
    group: LogGroupRef | None = None,
    access: Access | None = None,
    sessions: SessionFactory | None = None,
) -> ChainResult:
    """``audit_chain`` for CIS 4.5 on ``group`` (default: the compliant setup's), no proofs."""
    group = group or group_of()
    sessions = sessions or SessionFactory(new_session())
    return audit_chain(group, access or Access(group.account_id), sessions, [CIS_4_5], account_name="sandbox")


def one(
    group: LogGroupRef | None = None,
    access: Access | None = None,
    sessions: SessionFactory | None = None,
) -> ControlResult:
    """The one control's result of ``chain``."""
    [result] = chain(group, access, sessions).controls
    return result


def pairs(
    *regions: str, sessions: SessionFactory | None = None, log_group: str | None = None, **options: Any
) -> list[PairResult]:
    """``audit_coverage`` of the account in ``regions`` (default: REGION), for CIS 4.5."""
    scope = flag_scope(AccountFlags(ACCOUNT, list(regions or (REGION,)), log_group=log_group))
    return audit_coverage(scope, sessions or SessionFactory(new_session()), [CIS_4_5], **options).pairs


def inject_error(
    session: boto3.Session, event: str, code: str, message: str, region: str | None = None, status: int = 403
) -> None:
    """Answer ``event`` (before-call.<service>.<Operation>) with an AWS error, optionally in one region only."""

    def answer(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if region is not None and context.get("client_region") != region:
            return None
        parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://example.invalid", status, {}, None), parsed

    session.events.register(event, answer)


# ---------------------------------------------------------------- PASS and each broken link


def test_compliant_setup_passes(aws: None) -> None:
    build_compliant()
    result = one()
    assert result.status == Status.PASS, result.reasons
    assert result.reasons == []
    assert [f.check for f in result.findings] == list(CHECKS)
    assert all(f.ok for f in result.findings)
    by_check = {f.check: f.detail for f in result.findings}
    assert by_check[Check.LOG_GROUP] == f"log group {LOG_GROUP!r} exists"
    assert "the benchmark's exact text" in by_check[Check.FILTER]
    assert "not too broad" in by_check[Check.FILTER]
    assert "CISBenchmark/CloudTrailConfigChanges" in by_check[Check.FILTER]
    assert "1 confirmed subscription(s) (sqs)" in by_check[Check.SUBSCRIPTION]
    # The trail that delivers there is logging and records every management event.
    [pair] = pairs(log_group=LOG_GROUP)
    assert (pair.status, pair.coverage and pair.coverage.code) == (Status.PASS, Code.COVERAGE_DIRECT)
    [trail] = pair.trails
    assert (trail.facts.logging, trail.facts.all_management_events) == (True, True)
    assert trail.selectors == "all management events (classic selectors)"


def _weakened_pattern() -> str:
    return "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }"


CHAIN_BREAKS: list[tuple[str, Callable[[Setup], None], Check, str]] = [
    (
        "alarm deleted",
        lambda s: s.client("cloudwatch").delete_alarms(AlarmNames=[s.alarm_name]),
        Check.ALARM,
        "no CloudWatch alarm on metric CISBenchmark/CloudTrailConfigChanges",
    ),
    (
        "alarm needs three periods",
        lambda s: put_alarm(s.region, s.alarm_name, s.topic_arn, EvaluationPeriods=3),
        Check.ALARM,
        "needs 3 breaching periods",
    ),
    (
        "alarm actions disabled",
        lambda s: s.client("cloudwatch").disable_alarm_actions(AlarmNames=[s.alarm_name]),
        Check.ALARM,
        "its actions are disabled",
    ),
    (
        "alarm notifies no topic",
        lambda s: put_alarm(s.region, s.alarm_name, None),
        Check.ALARM,
        "has no alarm action",
    ),
    (
        "filter weakened (StopLogging dropped)",
        lambda s: put_filter(s.region, s.log_group, _weakened_pattern()),
        Check.FILTER,
        "misses StopLogging",
    ),
    (
        "filter deleted",
        lambda s: s.client("logs").delete_metric_filter(logGroupName=s.log_group, filterName=FILTER_NAME),
        Check.FILTER,
        "no CloudWatch Logs metric filter for CIS 4.5 on log group 'org-trail/cloudtrail'",
    ),
    (
        "filter adds zero",
        lambda s: put_filter(s.region, s.log_group, CIS_4_5.filter_pattern, value="0"),
        Check.FILTER,
        "metric value is '0'",
    ),
    (
        "subscription removed",
        lambda s: s.client("sns").unsubscribe(SubscriptionArn=s.subscription_arn),
        Check.SUBSCRIPTION,
        "has no subscription with an allowed protocol",
    ),
    (
        "topic policy without cloudwatch",
        lambda s: s.client("sns").set_topic_attributes(
            TopicArn=s.topic_arn,
            AttributeName="Policy",
            AttributeValue=_policy_without_cloudwatch(s.topic_arn),
        ),
        Check.TOPIC,
        "no statement allows cloudwatch.amazonaws.com to call sns:Publish",
    ),
    (
        "topic on the AWS-managed key",
        lambda s: s.client("sns").set_topic_attributes(
            TopicArn=s.topic_arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
        ),
        Check.TOPIC,
        "alias/aws/sns",
    ),
]
"""A link of the chain broken: ``audit_chain`` fails at that link's check."""
TRAIL_BREAKS: list[tuple[str, Callable[[Setup], None], Code, str]] = [
    (
        "logging stopped",
        lambda s: s.client("cloudtrail").stop_logging(Name=s.trail_name),
        Code.COVERAGE_NOT_LOGGING,
        "is not logging",
    ),
    (
        "trail is single-region",
        lambda s: s.client("cloudtrail").update_trail(Name=s.trail_name, IsMultiRegionTrail=False),
        Code.COVERAGE_SINGLE_REGION,
        "CIS 4.x needs a multi-Region trail",
    ),
    (
        "trail delivers to another group",
        lambda s: _redirect_trail(s, "other/group"),
        Code.COVERAGE_CHAIN_BROKEN,
        "delivers to log group 'other/group'",
    ),
    (
        "write-only classic selector",
        lambda s: s.client("cloudtrail").put_event_selectors(
            TrailName=s.trail_name,
            EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
        ),
        Code.COVERAGE_SELECTORS,
        "write-only",
    ),
    (
        "management events off",
        lambda s: s.client("cloudtrail").put_event_selectors(
            TrailName=s.trail_name,
            EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False}],
        ),
        Code.COVERAGE_SELECTORS,
        "records no management events",
    ),
    (
        "write-only advanced selector",
        lambda s: _advanced(s, [{"Field": "readOnly", "Equals": ["false"]}]),
        Code.COVERAGE_SELECTORS,
        "write-only",
    ),
    (
        "advanced selector leaves out cloudtrail",
        lambda s: _advanced(s, [{"Field": "eventSource", "NotEquals": ["cloudtrail.amazonaws.com"]}]),
        Code.COVERAGE_SELECTORS,
        "leaves out cloudtrail.amazonaws.com (eventSource NotEquals cloudtrail.amazonaws.com)",
    ),
    (
        "advanced selector leaves out StopLogging",
        lambda s: _advanced(s, [{"Field": "eventName", "NotEquals": ["StopLogging"]}]),
        Code.COVERAGE_SELECTORS,
        "advanced selector 'management' leaves out StopLogging (eventName NotEquals StopLogging)",
    ),
    (
        "advanced selectors log data events only",
        lambda s: s.client("cloudtrail").put_event_selectors(
            TrailName=s.trail_name,
            AdvancedEventSelectors=[
                {
                    "Name": "s3 objects",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    ],
                }
            ],
        ),
        Code.COVERAGE_SELECTORS,
        "advanced selector 's3 objects' logs no management events (eventCategory Equals Data)",
    ),
    (
        "the CloudWatch Logs role deleted",
        lambda s: boto3.client("iam").delete_role(RoleName=f"cloudtrail-logs-{s.region}"),
        Code.COVERAGE_DELIVERY_ERROR,
        "is logging, but GetTrailStatus reports a CloudWatch Logs delivery error",
    ),
]
"""The trail broken: the pair is not covered, with the core's code (the chain is not to blame)."""


def _redirect_trail(setup: Setup, group: str) -> None:
    logs = setup.client("logs")
    logs.create_log_group(logGroupName=group)
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"]
    setup.client("cloudtrail").update_trail(Name=setup.trail_name, CloudWatchLogsLogGroupArn=arn)


def _advanced(setup: Setup, extra: list[dict[str, Any]]) -> None:
    selectors = [{"Field": "eventCategory", "Equals": ["Management"]}, *extra]
    setup.client("cloudtrail").put_event_selectors(
        TrailName=setup.trail_name,
        AdvancedEventSelectors=[{"Name": "management", "FieldSelectors": selectors}],
    )


def _policy_without_cloudwatch(topic: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sns:Publish",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [{**statement, "Resource": topic}]})


@pytest.mark.parametrize(
    ("label", "breaker", "check", "expected"), CHAIN_BREAKS, ids=[b[0] for b in CHAIN_BREAKS]
)
def test_each_break_fails_at_its_link(
    aws: None, label: str, breaker: Callable[[Setup], None], check: Check, expected: str
) -> None:
    setup = build_compliant()
    breaker(setup)
    result = one()
    assert result.status == Status.FAIL, (label, result.reasons)
    assert len(result.reasons) == 1
    assert result.reasons[0].startswith(f"{check}: "), result.reasons
    assert expected in result.reasons[0], result.reasons
    position = CHECKS.index(check)
    assert [f.ok for f in result.findings[:position]] == [True] * position
    assert result.findings[position].ok is False
    assert result.findings[position].codes == result.codes != ()
    assert all(f.ok is None and f.detail == NOT_CHECKED for f in result.findings[position + 1 :])
    # The pair resting on that chain is not covered, and says which link of whose chain broke.
    [pair] = pairs()
    assert pair.status == Status.FAIL and pair.coverage is not None
    assert pair.coverage.code == Code.COVERAGE_CHAIN_BROKEN
    assert f"chain in account {ACCOUNT} ({LOG_GROUP}): {result.reasons[0]}" in pair.reasons


@pytest.mark.parametrize(
    ("label", "breaker", "code", "expected"), TRAIL_BREAKS, ids=[b[0] for b in TRAIL_BREAKS]
)
def test_a_broken_trail_uncovers_the_pair_with_the_cores_code(
    aws: None, label: str, breaker: Callable[[Setup], None], code: Code, expected: str
) -> None:
    """The trails are judged per pair (``audit_coverage``): logging, multi-Region, selectors, delivery."""
    breaker(build_compliant())
    [pair] = pairs(log_group=LOG_GROUP)
    assert pair.status == Status.FAIL and pair.coverage is not None, (label, pair.reasons)
    assert pair.coverage.code == code, (label, pair.reasons)
    said = [*pair.reasons, *(t.selectors or "" for t in pair.trails)]
    assert any(expected in text for text in said), (label, said)
    if code == Code.COVERAGE_SELECTORS:
        assert pair.trails[0].facts.all_management_events is False


def test_a_pending_subscription_is_not_a_subscriber(aws: None) -> None:
    setup = build_compliant()
    session = new_session()
    pending = {
        "SubscriptionArn": "PendingConfirmation",
        "Protocol": "email",
        "Endpoint": "soc@example.com",
        "TopicArn": setup.topic_arn,
    }

    # moto confirms every subscription at once; AWS lists an unconfirmed email one like this.
    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://example.invalid", 200, {}, None), {"Subscriptions": [pending]}

    session.events.register("before-call.sns.ListSubscriptionsByTopic", answer)
    result = one(sessions=SessionFactory(session))
    assert result.status == Status.FAIL
    assert result.reasons == [
        f"subscription: topic {setup.topic_arn} that alarm {setup.alarm_name!r} notifies reaches nobody: it has"
        " no confirmed subscription (1 pending confirmation); the endpoint's owner must confirm it (email: the"
        " link in AWS's message; AWS deletes unconfirmed subscriptions after 48 hours)"
    ]


def test_non_covering_filters_are_explained_next_to_the_covering_one(aws: None) -> None:
    setup = build_compliant()
    setup.client("logs").put_metric_filter(
        logGroupName=LOG_GROUP,
        filterName="legacy-trail-changes",
        filterPattern=_weakened_pattern(),
        metricTransformations=[{"metricName": "Legacy", "metricNamespace": "Legacy", "metricValue": "1"}],
    )
    result = one()
    assert result.status == Status.PASS, result.reasons
    detail = next(f.detail for f in result.findings if f.check == Check.FILTER)
    assert "filter 'legacy-trail-changes' does not cover CIS 4.5: it misses StopLogging" in detail


def test_too_broad_covering_filter_passes_and_says_so(aws: None) -> None:
    setup = build_compliant()
    put_filter(setup.region, setup.log_group, '{ $.eventSource = "cloudtrail.amazonaws.com" }')
    result = one()
    detail = next(f.detail for f in result.findings if f.check == Check.FILTER)
    assert result.status == Status.PASS, result.reasons
    assert "text differs from the benchmark's" in detail
    assert "too broad: it also matches" in detail


# ---------------------------------------------------------------- errors


def test_a_missing_log_group_is_an_error_of_its_chain(aws: None) -> None:
    build_compliant()
    missing = one(group_of(log_group="no/such/group"))
    assert missing.status == Status.ERROR
    assert missing.error is not None and missing.error.code == "ResourceNotFoundException"
    assert missing.reasons == [
        f"{Check.LOG_GROUP}: ResourceNotFoundException: log group 'no/such/group' does not exist in account"
        f" {ACCOUNT} region {REGION} (DescribeLogGroups)"
    ]
    assert missing.findings[0].ok is False and all(f.ok is None for f in missing.findings[1:])
    assert one().status == Status.PASS  # the other chain of the same account


def test_denied_trails_are_an_error_of_that_pair_while_another_passes(aws: None) -> None:
    build_compliant()
    build_compliant(region="eu-west-1")
    session = new_session()
    denied = "User: arn:aws:sts::123456789012:assumed-role/auditor/cis is not authorized to perform: cloudtrail:DescribeTrails"
    inject_error(
        session, "before-call.cloudtrail.DescribeTrails", "AccessDeniedException", denied, region="eu-west-1"
    )
    home, refused = pairs(REGION, "eu-west-1", sessions=SessionFactory(session))
    assert (home.status, refused.status) == (Status.PASS, Status.ERROR)
    assert refused.error is not None and refused.error.code == "AccessDeniedException"
    assert refused.error.operation == "DescribeTrails" and refused.coverage is None
    assert refused.reasons == [f"trails: AccessDeniedException: {denied} (DescribeTrails)"]


def test_an_error_while_walking_the_chain_is_the_error_of_the_link_that_asked(aws: None) -> None:
    setup = build_compliant()
    session = new_session()
    denied = "User: arn:aws:sts::123456789012:assumed-role/auditor/cis is not authorized to perform: sns:ListSubscriptionsByTopic"
    inject_error(session, "before-call.sns.ListSubscriptionsByTopic", "AuthorizationError", denied)
    result = one(sessions=SessionFactory(session))
    assert result.status == Status.ERROR and result.error is not None
    assert result.error.code == "AuthorizationError" and result.error.operation == "ListSubscriptionsByTopic"
    by_check = {f.check: f for f in result.findings}
    assert [by_check[c].ok for c in (Check.FILTER, Check.ALARM, Check.TOPIC)] == [True, True, True]
    assert "CISBenchmark/CloudTrailConfigChanges" in by_check[Check.FILTER].detail
    assert (
        f"alarm {setup.alarm_name!r} fires on one event and notifies {setup.topic_arn}"
        == by_check[Check.ALARM].detail
    )
    assert by_check[Check.SUBSCRIPTION].ok is False and result.reasons[0].startswith(
        "subscription: AuthorizationError"
    )


def test_a_metric_math_alarm_is_found_and_judged_not_missed(aws: None) -> None:
    setup = build_compliant()
    cloudwatch = setup.client("cloudwatch")
    cloudwatch.delete_alarms(AlarmNames=[setup.alarm_name])
    metric = {"Namespace": CIS_4_5.namespace, "MetricName": CIS_4_5.metric_name}
    cloudwatch.put_metric_alarm(
        AlarmName=setup.alarm_name,
        Metrics=[
            {"Id": "e1", "Expression": "m1", "ReturnData": True},
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": 300, "Stat": "Sum"}, "ReturnData": False},
        ],
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        EvaluationPeriods=1,
        AlarmActions=[setup.topic_arn],
    )
    result = one()
    assert result.status == Status.FAIL and result.codes == (Code.ALARM_METRIC_MATH,), result.reasons
    assert result.reasons[0].startswith(
        f"alarm: alarm {setup.alarm_name!r} on the filter's metric cannot notify"
    )


def test_throttling_is_an_error_after_the_retries(aws: None) -> None:
    build_compliant()
    session = new_session()
    attempts: list[str] = []

    def throttle(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.url)
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        raw = _Raw(body)
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, raw)

    # register_first: answer before moto's own before-send handler does.
    session.events.register_first("before-send.cloudtrail.DescribeTrails", throttle)
    # botocore's Config max_attempts counts retries: 1 means two attempts.
    [pair] = pairs(sessions=SessionFactory(session, max_attempts=1))
    assert pair.status == Status.ERROR
    assert pair.error is not None and pair.error.code == "ThrottlingException"
    assert "Rate exceeded (still failing after 1 retries)" in pair.reasons[0]
    assert len(attempts) == 2


class _Raw:
    """The minimal urllib3-like body AWSResponse reads."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body


def test_credentials_of_another_account_are_an_error_naming_both(aws: None) -> None:
    result = one(group_of(account="210987654321"))
    assert result.status == Status.ERROR
    assert result.error is not None and result.error.code == "AccountMismatch"
    assert "account 123456789012" in result.reasons[0] and "account 210987654321" in result.reasons[0]


def test_an_unreachable_endpoint_or_no_credentials_is_an_error_row_not_an_exception(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``audit_chain`` never raises; the CLI checks both up front instead (tests/audit/test_cli.py)."""
    unreachable = SessionFactory(new_session(), endpoint_url="http://127.0.0.1:1", max_attempts=0)
    result = one(sessions=unreachable)
    assert result.status == Status.ERROR and result.error is not None
    assert result.error.code == "EndpointConnection" and "127.0.0.1:1" in result.reasons[0]

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookups on this machine
    result = one()
    assert result.status == Status.ERROR and result.error is not None
    assert result.error.code == "NoCredentials" and "Unable to locate credentials" in result.reasons[0]


def test_role_is_assumed_once_per_account_and_role(aws: None) -> None:
    session = new_session()
    calls: list[str] = []
    session.events.register("before-call.sts.*", lambda model, **_: calls.append(model.name))
    sessions = SessionFactory(session)
    access = Access("111111111111", "arn:aws:iam::111111111111:role/cis-monitoring-auditor")
    results = [
        one(group_of(region=r, account="111111111111"), access, sessions)
        for r in ("us-east-1", "eu-west-1", "eu-central-1")
    ]
    # The member account is empty, but the credentials were accepted as the member account's.
    assert {r.error.code for r in results if r.error} == {"ResourceNotFoundException"}
    assert calls.count("AssumeRole") == 1
    # The account is read from AssumeRole's answer (tests/audit/test_account_check.py), not asked again.
    assert calls.count("GetCallerIdentity") == 0


def test_one_sts_client_of_the_callers_assumes_every_role(aws: None) -> None:
    """Creating a client costs more CPU than its call (the audit bench's profile): AssumeRole for each
    account goes through one STS client of the caller's per Region, not a new one per account."""
    session = new_session()
    created: list[str] = []
    session.events.register("creating-client-class.sts", lambda **_: created.append("sts"))
    sessions = SessionFactory(session)
    accounts = ("111111111111", "222222222222", "333333333333")
    for account in accounts:
        access = Access(account, f"arn:aws:iam::{account}:role/cis-monitoring-auditor")
        assert sessions.client(access, "sts", REGION).get_caller_identity()["Account"] == account
    # One for AssumeRole, then per account the one returned above (the account is verified from
    # AssumeRole's answer, with no client of its own).
    assert len(created) == 1 + len(accounts)


def test_a_trail_homed_in_the_region_read_is_read_with_the_same_client(aws: None) -> None:
    build_compliant()
    session = new_session()
    created: list[str] = []
    session.events.register("creating-client-class.cloudtrail", lambda **_: created.append("cloudtrail"))
    [pair] = pairs(sessions=SessionFactory(session))
    assert pair.status == Status.PASS
    # DescribeTrails, GetTrailStatus and GetEventSelectors in the trail's home Region: one client.
    assert created == ["cloudtrail"]


def test_the_callers_identity_is_asked_once_and_verifies_its_own_account(aws: None) -> None:
    session = new_session()
    calls: list[str] = []
    session.events.register("before-call.sts.*", lambda model, **_: calls.append(model.name))
    sessions = SessionFactory(session)
    assert sessions.client(Access(ACCOUNT), "sts", REGION).get_caller_identity()["Account"] == ACCOUNT
    assert sessions.caller(REGION)["Account"] == ACCOUNT
    assert one(sessions=sessions).error is not None  # nothing deployed: but entered, as the caller
    assert calls == ["GetCallerIdentity", "GetCallerIdentity"]  # the verification's, then the test's own


def test_progress_reports_every_pair_and_chain_once(aws: None) -> None:
    build_compliant()
    seen: list[str] = []
    found = pairs(REGION, "eu-west-1", progress=lambda step: seen.append(step.line))
    trails = sorted(line for line in seen if " trails of " in line)
    assert [line.split()[0] for line in trails] == ["[1/2]", "[2/2]"]
    assert {line.split()[3].rstrip(":") for line in trails} == {f"{ACCOUNT}/{REGION}", f"{ACCOUNT}/eu-west-1"}
    assert [line for line in seen if " chain " in line] == [
        f"[1/1] chain {ACCOUNT}/{REGION}/{LOG_GROUP}: PASS"
    ]
    assert {p.status for p in found} == {Status.PASS}


# ---------------------------------------------------------------- pure judgements


@pytest.mark.parametrize(
    ("response", "covered"),
    [
        ({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}, {"read", "write"}),
        (
            {
                "EventSelectors": [
                    {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True},
                    {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},
                ]
            },
            {"read", "write"},
        ),
        (
            {
                "EventSelectors": [
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "ExcludeManagementEventSources": ["cloudtrail.amazonaws.com"],
                    }
                ]
            },
            set(),
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
                ]
            },
            {"read", "write"},
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "readOnly", "NotEquals": ["true"]},
                        ]
                    },
                ]
            },
            {"write"},
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}
                ]
            },
            set(),
        ),
        ({"EventSelectors": [], "AdvancedEventSelectors": []}, set()),
    ],
)
def test_management_coverage(response: dict[str, Any], covered: set[str]) -> None:
    assert management_coverage(response, CIS_4_5)[0] == covered


def test_a_control_without_an_event_source_needs_every_management_event() -> None:
    root_usage = replace(CIS_4_5, control_id="4.3", event_source=None, event_names=())
    excludes_kms = {
        "EventSelectors": [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "ExcludeManagementEventSources": ["kms.amazonaws.com"],
            }
        ]
    }
    # 4.5 watches CloudTrail's own events, so leaving out KMS's does not matter to it.
    assert management_coverage(excludes_kms, CIS_4_5)[0] == {"read", "write"}
    covered, notes = management_coverage(excludes_kms, root_usage)
    assert covered == set() and notes == ["a selector excludes kms.amazonaws.com management events"]
    only_cloudtrail = {
        "AdvancedEventSelectors": [
            {
                "Name": "trail changes",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "eventSource", "Equals": ["cloudtrail.amazonaws.com"]},
                ],
            }
        ]
    }
    assert management_coverage(only_cloudtrail, CIS_4_5)[0] == {"read", "write"}
    covered, notes = management_coverage(only_cloudtrail, root_usage)
    assert covered == set() and "logs only some event sources" in notes[0]


def test_parse_log_group_arn() -> None:
    assert parse_log_group_arn(
        "arn:aws:logs:eu-west-1:123456789012:log-group:org-trail/cloudtrail:*"
    ) == LogGroupRef("123456789012", "eu-west-1", "org-trail/cloudtrail")
    assert parse_log_group_arn("arn:aws-cn:logs:cn-north-1:123456789012:log-group:g") == LogGroupRef(
        "123456789012", "cn-north-1", "g"
    )
    assert parse_log_group_arn(None) is None
    assert parse_log_group_arn("arn:aws:s3:::bucket") is None


def test_text_report_wraps_long_reasons_inside_the_width() -> None:
    long = "chain: " + "word " * 80
    pairs = [
        PairResult(ACCOUNT, "a-rather-long-account-name-that-gets-cut", REGION, False, Status.FAIL, [long]),
        PairResult("111111111111", "ok", "eu-west-1", True, Status.PASS, ["covered directly: a trail"]),
    ]
    text = audit_report.render_text(CoverageReport(pairs, {}, ("4.5",)), width=100)
    lines = text.splitlines()
    assert lines[1].split() == ["ACCOUNT", "NAME", "REGION", "STATUS", "COVERAGE"]
    assert all(len(line) <= 100 for line in lines)
    assert "a-rather-long-account..." in text
    assert "... " in text or text.count("word") < 80  # truncated after a few lines
    assert "were checked in eu-west-1" in " ".join(text.split())  # the all-Regions pair says so
    assert "CIS 4.5: 2 account-Region pair(s): 1 PASS, 1 FAIL, 0 ERROR" in " ".join(text.split())


# ---------------------------------------------------------------- stack files


def test_repo_stacks_audit_every_account_in_the_regions_they_name() -> None:
    dev = stack_scope(read_stack_file("dev", REPO_ROOT).config)
    assert [(a.account_id, a.regions, a.all_regions) for a in dev.accounts] == [
        ("111111111111", ("us-east-1",), True),
        ("222222222222", ("us-east-1",), True),
    ]
    assert [a.access.role_arn if a.access else None for a in dev.accounts] == [
        "arn:aws:iam::111111111111:role/cis-monitoring-deployer",
        "arn:aws:iam::222222222222:role/cis-monitoring-deployer",
    ]


def test_stack_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match=r"Pulumi\.nope\.yaml: no such stack file"):
        load_stack_file("nope", tmp_path)
    (tmp_path / "Pulumi.broken.yaml").write_text("config: [unclosed", encoding="utf-8")
    with pytest.raises(StackFileError, match="not valid YAML"):
        load_stack_file("broken", tmp_path)
