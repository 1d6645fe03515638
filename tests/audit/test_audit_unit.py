"""The CIS 4.5 audit against moto's in-process AWS (one account): PASS, each broken link, errors, CLI."""

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
from cis_monitoring.audit.audit import CHECKS, NOT_CHECKED, TargetResult, audit_all
from cis_monitoring.audit.aws_session import Identity, SessionFactory
from cis_monitoring.audit.cli import main
from cis_monitoring.audit.coverage_audit import audit_coverage
from cis_monitoring.audit.locations import AuditLocation, locations_of
from cis_monitoring.audit.results_coverage import CoverageReport, PairResult
from cis_monitoring.audit.scope import AccountFlags, flag_scope, stack_scope
from cis_monitoring.core.aws.arns import LogGroupRef, parse_log_group_arn
from cis_monitoring.core.aws.regions import known_regions, partition_of
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.judge.selectors import management_coverage
from cis_monitoring.core.judge.topic_policy import topic_policy_problem
from cis_monitoring.program.policies import topic_policy
from cis_monitoring.spec import load_config
from cis_monitoring.spec.load import StackFileError, load_stack_file, read_stack_file

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
    """moto in-process for a whole module, with fake credentials and no profile from this machine."""
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


@pytest.fixture(scope="module")
def _moto() -> Iterator[MockAWS]:
    yield from moto_for_module()


@pytest.fixture
def aws(_moto: MockAWS) -> None:
    """An empty moto account for each test (starting moto once per module keeps the suite fast)."""
    _moto.reset()


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


def make_target(
    region: str = REGION,
    log_group: str = LOG_GROUP,
    account: str = ACCOUNT,
    name: str = "sandbox",
    role_arn: str | None = None,
) -> AuditLocation:
    account_config: dict[str, Any] = {
        "id": account,
        "name": name,
        "regions": [{"region": region, "logGroup": log_group}],
    }
    if role_arn:
        account_config["roleArn"] = role_arn
    raw = {
        "accounts": [account_config],
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }
    return locations_of(load_config(raw))[0]


def run(*audited: AuditLocation, sessions: SessionFactory | None = None, **kwargs: Any) -> list[TargetResult]:
    return audit_all(audited, sessions or SessionFactory(new_session()), **kwargs)


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
    [result] = run(make_target())
    assert result.status == "PASS", result.reasons
    assert result.reasons == []
    assert [f.check for f in result.findings] == list(CHECKS)
    assert all(f.ok for f in result.findings)
    by_check = {f.check: f.detail for f in result.findings}
    assert "the benchmark's exact text" in by_check["filter"]
    assert "not too broad" in by_check["filter"]
    assert "CISBenchmark/CloudTrailConfigChanges" in by_check["filter"]
    assert "1 confirmed subscription(s) (sqs)" in by_check["subscription"]


def _weakened_pattern() -> str:
    return "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }"


BREAKS: list[tuple[str, Callable[[Setup], None], str, str]] = [
    (
        "alarm deleted",
        lambda s: s.client("cloudwatch").delete_alarms(AlarmNames=[s.alarm_name]),
        "alarm",
        "no CloudWatch alarm on metric CISBenchmark/CloudTrailConfigChanges",
    ),
    (
        "alarm needs three periods",
        lambda s: put_alarm(s.region, s.alarm_name, s.topic_arn, EvaluationPeriods=3),
        "alarm",
        "needs 3 breaching periods",
    ),
    (
        "alarm actions disabled",
        lambda s: s.client("cloudwatch").disable_alarm_actions(AlarmNames=[s.alarm_name]),
        "alarm",
        "its actions are disabled",
    ),
    (
        "alarm notifies no topic",
        lambda s: put_alarm(s.region, s.alarm_name, None),
        "alarm",
        "has no alarm action",
    ),
    (
        "filter weakened (StopLogging dropped)",
        lambda s: put_filter(s.region, s.log_group, _weakened_pattern()),
        "filter",
        "misses StopLogging",
    ),
    (
        "filter deleted",
        lambda s: s.client("logs").delete_metric_filter(logGroupName=s.log_group, filterName=FILTER_NAME),
        "filter",
        "no CloudWatch Logs metric filter for CIS 4.5 on log group 'org-trail/cloudtrail'",
    ),
    (
        "filter adds zero",
        lambda s: put_filter(s.region, s.log_group, CIS_4_5.filter_pattern, value="0"),
        "filter",
        "metric value is '0'",
    ),
    (
        "subscription removed",
        lambda s: s.client("sns").unsubscribe(SubscriptionArn=s.subscription_arn),
        "subscription",
        "has no subscription with an allowed protocol",
    ),
    (
        "logging stopped",
        lambda s: s.client("cloudtrail").stop_logging(Name=s.trail_name),
        "trail",
        "is not logging",
    ),
    (
        "trail is single-region",
        lambda s: s.client("cloudtrail").update_trail(Name=s.trail_name, IsMultiRegionTrail=False),
        "trail",
        "CIS 4.x needs a multi-Region trail",
    ),
    (
        "trail delivers to another group",
        lambda s: _redirect_trail(s, "other/group"),
        "trail",
        "delivers to log group 'other/group'",
    ),
    (
        "write-only classic selector",
        lambda s: s.client("cloudtrail").put_event_selectors(
            TrailName=s.trail_name,
            EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
        ),
        "selectors",
        "write-only",
    ),
    (
        "management events off",
        lambda s: s.client("cloudtrail").put_event_selectors(
            TrailName=s.trail_name,
            EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False}],
        ),
        "selectors",
        "records no management events",
    ),
    (
        "write-only advanced selector",
        lambda s: _advanced(s, [{"Field": "readOnly", "Equals": ["false"]}]),
        "selectors",
        "write-only",
    ),
    (
        "advanced selector leaves out cloudtrail",
        lambda s: _advanced(s, [{"Field": "eventSource", "NotEquals": ["cloudtrail.amazonaws.com"]}]),
        "selectors",
        "leaves out cloudtrail.amazonaws.com",
    ),
    (
        "topic policy without cloudwatch",
        lambda s: s.client("sns").set_topic_attributes(
            TopicArn=s.topic_arn,
            AttributeName="Policy",
            AttributeValue=_policy_without_cloudwatch(s.topic_arn),
        ),
        "topic policy",
        "no Allow statement for Principal Service cloudwatch.amazonaws.com",
    ),
    (
        "topic on the AWS-managed key",
        lambda s: s.client("sns").set_topic_attributes(
            TopicArn=s.topic_arn, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
        ),
        "topic policy",
        "alias/aws/sns",
    ),
]


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


@pytest.mark.parametrize(("label", "breaker", "check", "expected"), BREAKS, ids=[b[0] for b in BREAKS])
def test_each_break_fails_at_its_link(
    aws: None, label: str, breaker: Callable[[Setup], None], check: str, expected: str
) -> None:
    setup = build_compliant()
    breaker(setup)
    [result] = run(make_target())
    assert result.status == "FAIL", (label, result.reasons)
    assert len(result.reasons) == 1
    assert result.reasons[0].startswith(f"{check}: "), result.reasons
    assert expected in result.reasons[0], result.reasons
    position = CHECKS.index(check)
    assert [f.ok for f in result.findings[:position]] == [True] * position
    assert result.findings[position].ok is False
    assert all(f.ok is None and f.detail == NOT_CHECKED for f in result.findings[position + 1 :])


# The trail itself is broken (not a trail that delivers elsewhere, whose chain the coverage audit judges).
TRAIL_BREAKS = [
    b for b in BREAKS if b[2] in ("trail", "selectors") and b[0] != "trail delivers to another group"
]


@pytest.mark.parametrize(("label", "breaker", "check", "_"), TRAIL_BREAKS, ids=[b[0] for b in TRAIL_BREAKS])
def test_a_broken_trail_fails_with_the_code_the_coverage_audit_gives_the_pair(
    aws: None, label: str, breaker: Callable[[Setup], None], check: str, _: str
) -> None:
    """One trail judgement: the per-target trail checks and the coverage audit read and judge alike."""
    breaker(build_compliant())
    [result] = run(make_target())
    scope = flag_scope(AccountFlags(ACCOUNT, [REGION]))
    [pair] = audit_coverage(scope, SessionFactory(new_session()), [CIS_4_5]).pairs
    assert pair.status == "FAIL" and pair.coverage is not None, (label, pair.reasons)
    assert result.codes == (pair.coverage.code,), (label, result.reasons, pair.reasons)
    failed = next(f for f in result.findings if f.ok is False)
    assert failed.check == check and failed.codes == result.codes


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
    [result] = run(make_target(), sessions=SessionFactory(session))
    assert result.status == "FAIL"
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
    [result] = run(make_target())
    assert result.status == "PASS", result.reasons
    detail = next(f.detail for f in result.findings if f.check == "filter")
    assert "filter 'legacy-trail-changes' does not cover CIS 4.5: it misses StopLogging" in detail


def test_too_broad_covering_filter_passes_and_says_so(aws: None) -> None:
    setup = build_compliant()
    put_filter(setup.region, setup.log_group, '{ $.eventSource = "cloudtrail.amazonaws.com" }')
    [result] = run(make_target())
    detail = next(f.detail for f in result.findings if f.check == "filter")
    assert result.status == "PASS", result.reasons
    assert "text differs from the benchmark's" in detail
    assert "too broad: it also matches" in detail


# ---------------------------------------------------------------- errors


def test_missing_log_group_and_access_denied_are_errors_while_another_target_passes(aws: None) -> None:
    build_compliant()
    build_compliant(region="eu-west-1")
    session = new_session()
    denied = "User: arn:aws:sts::123456789012:assumed-role/auditor/cis is not authorized to perform: cloudtrail:DescribeTrails"
    inject_error(
        session, "before-call.cloudtrail.DescribeTrails", "AccessDeniedException", denied, region="eu-west-1"
    )
    results = run(
        make_target(log_group="no/such/group"),
        make_target(),
        make_target(region="eu-west-1"),
        sessions=SessionFactory(session),
    )
    assert [r.status for r in results] == ["ERROR", "PASS", "ERROR"]
    missing, _, refused = results
    assert missing.error is not None and missing.error.code == "ResourceNotFoundException"
    assert "log group 'no/such/group' does not exist" in missing.reasons[0]
    assert refused.error is not None and refused.error.code == "AccessDeniedException"
    assert refused.error.operation == "DescribeTrails"
    assert refused.reasons == [f"trail: AccessDeniedException: {denied} (DescribeTrails)"]
    assert refused.findings[CHECKS.index("trail")].ok is False
    assert refused.findings[-1].ok is None


def test_an_error_while_walking_the_chain_is_the_error_of_the_link_that_asked(aws: None) -> None:
    setup = build_compliant()
    session = new_session()
    denied = "User: arn:aws:sts::123456789012:assumed-role/auditor/cis is not authorized to perform: sns:ListSubscriptionsByTopic"
    inject_error(session, "before-call.sns.ListSubscriptionsByTopic", "AuthorizationError", denied)
    [result] = run(make_target(), sessions=SessionFactory(session))
    assert result.status == "ERROR" and result.error is not None
    assert result.error.code == "AuthorizationError" and result.error.operation == "ListSubscriptionsByTopic"
    by_check = {f.check: f for f in result.findings}
    assert [by_check[c].ok for c in ("filter", "alarm", "topic policy")] == [True, True, True]
    assert "CISBenchmark/CloudTrailConfigChanges" in by_check["filter"].detail
    assert (
        f"alarm {setup.alarm_name!r} fires on one event and notifies {setup.topic_arn}"
        == by_check["alarm"].detail
    )
    assert by_check["subscription"].ok is False and result.reasons[0].startswith(
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
    [result] = run(make_target())
    assert result.status == "FAIL" and result.codes == ("alarm.metric_math",), result.reasons
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
    [result] = run(make_target(), sessions=SessionFactory(session, max_attempts=1))
    assert result.status == "ERROR"
    assert result.error is not None and result.error.code == "ThrottlingException"
    assert "Rate exceeded (still failing after 1 retries)" in result.reasons[0]
    assert len(attempts) == 2


class _Raw:
    """The minimal urllib3-like body AWSResponse reads."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body


def test_credentials_of_another_account_are_an_error_naming_both(aws: None) -> None:
    [result] = run(make_target(account="210987654321"))
    assert result.status == "ERROR"
    assert result.error is not None and result.error.code == "AccountMismatch"
    assert "account 123456789012" in result.reasons[0] and "account 210987654321" in result.reasons[0]


def test_missing_credentials_and_unreachable_endpoints_are_error_rows(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = SessionFactory(new_session(), endpoint_url="http://127.0.0.1:1", max_attempts=0)
    [result] = run(make_target(), sessions=unreachable)
    assert result.status == "ERROR" and result.error is not None
    assert result.error.code == "EndpointConnection" and "127.0.0.1:1" in result.reasons[0]

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookups on this machine
    [result] = run(make_target())
    assert result.status == "ERROR" and result.error is not None
    assert result.error.code == "NoCredentials" and "Unable to locate credentials" in result.reasons[0]


def test_role_is_assumed_once_per_account_and_role(aws: None) -> None:
    session = new_session()
    calls: list[str] = []
    session.events.register("before-call.sts.*", lambda model, **_: calls.append(model.name))
    role = "arn:aws:iam::111111111111:role/cis-monitoring-auditor"
    results = run(
        *(
            make_target(account="111111111111", role_arn=role, region=r)
            for r in ("us-east-1", "eu-west-1", "eu-central-1")
        ),
        sessions=SessionFactory(session),
    )
    # The member account is empty, but the credentials were accepted as the member account's.
    assert {r.error.code for r in results if r.error} == {"ResourceNotFoundException"}
    assert calls.count("AssumeRole") == 1
    assert calls.count("GetCallerIdentity") == 1


def test_session_factory_accepts_a_plain_identity_tuple(aws: None) -> None:
    sessions = SessionFactory(new_session())
    for who in (Identity(ACCOUNT), (ACCOUNT, None, None, "cis"), make_target()):
        assert sessions.client(who, "sts", REGION).get_caller_identity()["Account"] == ACCOUNT


def test_progress_reports_every_target_once(aws: None) -> None:
    build_compliant()
    seen: list[tuple[int, int, str]] = []
    results = run(
        make_target(),
        make_target(log_group="missing"),
        progress=lambda d, t, r: seen.append((d, t, r.status)),
    )
    assert sorted(d for d, _, _ in seen) == [1, 2]
    assert {t for _, t, _ in seen} == {2}
    assert sorted(s for _, _, s in seen) == sorted(r.status for r in results)


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


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "SNS:Publish",
            },
            None,
        ),
        (
            {"Effect": "Allow", "Principal": {"Service": ["cloudwatch.amazonaws.com"]}, "Action": ["sns:*"]},
            None,
        ),
        ({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "*"}, None),
        (
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Subscribe",
            },
            "no Allow",
        ),
        (
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish"},
            "no Allow",
        ),
    ],
)
def test_topic_policy_problem(statement: dict[str, Any], problem: str | None) -> None:
    found = topic_policy_problem(json.dumps({"Statement": [statement]}))
    found = found.message if found is not None else None
    assert found is None if problem is None else (found is not None and problem in found)


def test_an_unconditional_deny_blocks_cloudwatch_but_a_tls_condition_does_not() -> None:
    allow = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"}
    deny = {"Sid": "NoOne", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish"}
    tls = {**deny, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert topic_policy_problem(json.dumps({"Statement": [allow, tls]})) is None
    denied = topic_policy_problem(json.dumps({"Statement": [allow, deny]}))
    assert (
        denied is not None
        and denied.code == "topic.policy.denies_cloudwatch"
        and "NoOne denies" in denied.message
    )
    missing = topic_policy_problem(None)
    assert missing is not None and (missing.code, missing.message) == (
        "topic.policy.none",
        "the topic has no access policy",
    )


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
        PairResult(ACCOUNT, "a-rather-long-account-name-that-gets-cut", REGION, False, "FAIL", [long]),
        PairResult("111111111111", "ok", "eu-west-1", True, "PASS", ["covered directly: a trail"]),
    ]
    text = audit_report.render_text(CoverageReport(pairs, {}, ("4.5",)), width=100)
    lines = text.splitlines()
    assert lines[1].split() == ["ACCOUNT", "NAME", "REGION", "STATUS", "COVERAGE"]
    assert all(len(line) <= 100 for line in lines)
    assert "a-rather-long-account..." in text
    assert "... " in text or text.count("word") < 80  # truncated after a few lines
    assert "were checked in eu-west-1" in " ".join(text.split())  # the all-Regions pair says so
    assert "CIS 4.5: 2 account-Region pair(s): 1 PASS, 1 FAIL, 0 ERROR" in " ".join(text.split())


# ---------------------------------------------------------------- stack file and CLI


def _write_stack(root: Path, name: str, body: str) -> None:
    (root / f"Pulumi.{name}.yaml").write_text(body, encoding="utf-8")


GOOD_STACK = f"""
config:
  aws:region: us-east-1
  cis-monitoring:notifications:
    subscriptions:
      - protocol: https
        endpointSecretKey: pagerEndpoint
  cis-monitoring:pagerEndpoint:
    secure: AAABAKxyz
  cis-monitoring:accounts:
    - id: "{ACCOUNT}"
      name: sandbox
      trail:
        homeRegion: us-east-1
        logGroup: {LOG_GROUP}
"""


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
    _write_stack(tmp_path, "broken", "config: [unclosed")
    with pytest.raises(StackFileError, match="not valid YAML"):
        load_stack_file("broken", tmp_path)


def test_cli_stack_pass_and_fail_exit_codes(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = build_compliant()
    allow_queue(setup)
    _write_stack(tmp_path, "t", GOOD_STACK)
    argv = ["--stack", "t", "--repo-root", str(tmp_path), "--region", REGION, "--region", "eu-west-1"]
    assert main(argv) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "CIS 4.5: 2 account-Region pair(s): 2 PASS, 0 FAIL, 0 ERROR; covered 2 directly" in out

    boto3.client("cloudtrail", region_name=REGION).stop_logging(Name=setup.trail_name)
    assert main(argv) == 1
    out = " ".join(capsys.readouterr().out.split())  # the table wraps reasons
    assert f"eu-west-1 FAIL not covered: multi-Region trail {setup.trail_name!r}" in out
    assert "is not logging (StopLogging was called)" in out


def test_cli_prints_progress_for_more_than_twenty_pairs(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    allow_queue(build_compliant())
    regions = sorted(r for r in known_regions() if partition_of(r) == "aws")[:21]
    argv = ["--account", ACCOUNT, "--max-workers", "3", "--no-test-metric-filter"]
    for region in regions:
        argv += ["--region", region]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    trails = [line for line in err if " trails of " in line]
    assert len(trails) == 21 and {line.split()[0] for line in trails} == {f"[{n}/21]" for n in range(1, 22)}
    assert [line for line in err if " chain " in line] == [
        f"[1/1] chain {ACCOUNT}/{REGION}/{LOG_GROUP}: PASS"
    ]

    assert main(argv[: -2 * 20]) == 0  # one Region: no progress
    assert capsys.readouterr().err == ""


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--stack",
        "--account",
        "--region",
        "--log-group",
        "--owner-role-arn",
        "--members-from-organization",
        "--json",
        "--endpoint-url",
        "--max-workers",
        "--control",
        "--no-test-metric-filter",
        "--history-days",
        "--drill",
        "--drill-timeout",
    ):
        assert flag in out


def test_cli_bad_stack_config_exits_2_with_the_problem_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_stack(
        tmp_path,
        "bad",
        'config:\n  cis-monitoring:acounts: []\n  cis-monitoring:accounts:\n    - id: "12"\n      name: x\n'
        "      regions: [{region: us-east-9, logGroup: g}]\n",
    )
    assert main(["--stack", "bad", "--repo-root", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert "accounts[0].id: '12' is not an AWS account id (12 digits)" in captured.err
    assert "accounts[0].regions[0].region: 'us-east-9' is not an AWS region" in captured.err
    assert "acounts: unknown config key" in captured.err
    assert "Pulumi.bad.yaml" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give --stack NAME"),
        (["--stack", "dev", "--account", ACCOUNT], "not both"),
        (["--account", ACCOUNT], "--account needs --region"),
        (["--stack", "dev", "--log-group", "g"], "--log-group go(es) with --account, not --stack"),
        (
            ["--account", "12", "--region", "mars-1", "--log-group", "g"],
            "--region: 'mars-1' is not an AWS region",
        ),
        (["--stack", "nope"], "no such stack file"),
        (["--max-workers", "0"], "must be at least 1"),
        (
            ["--account", ACCOUNT, "--region", REGION, "--endpoint-url", "http://127.0.0.1:1"],
            "unreachable",
        ),
    ],
)
def test_cli_usage_errors_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
