"""A trail that logs but does not deliver to CloudWatch Logs: read from GetTrailStatus in AWS's real shape.

moto's GetTrailStatus has no CloudWatch Logs fields, so the reader is tested with botocore's
Stubber, which holds every answer to the cloudtrail 2013-11-01 model (``GetTrailStatusResponse``:
``LatestCloudWatchLogsDeliveryError`` a string, ``LatestCloudWatchLogsDeliveryTime`` a timestamp,
either left out when AWS has none). The whole audit runs in moto, whose CloudTrail
``local.worlds.shadows`` shapes like AWS: delivering while the role and group exist, an error once
the role is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.run import audit_coverage
from cis_monitoring.audit.scope import AccountFlags, flag_scope
from cis_monitoring.audit.trails import TrailReader
from cis_monitoring.core.access import Access
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.status import Status
from cis_monitoring.core.topology import TRAIL_READS, coverage_of
from tests.audit.proofs.stubs import StubbedClients
from tests.audit.test_audit_unit import (
    ACCOUNT,
    REGION,
    allow_queue,
    build_compliant,
    new_session,
)

TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:main-trail:*"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


class _Sessions:
    """The SessionFactory's ``client`` over stubbed clients (the reader asks for nothing else)."""

    def __init__(self, clients: StubbedClients) -> None:
        self.clients = clients

    def client(self, _who: Access, service: str, region: str) -> Any:
        return self.clients(service, region)


def stubbed_reader(status: dict[str, Any]) -> tuple[TrailReader, StubbedClients]:
    clients = StubbedClients()
    cloudtrail = clients.stub("cloudtrail")
    trail = {
        "Name": "main",
        "TrailARN": TRAIL_ARN,
        "HomeRegion": REGION,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": False,
        "CloudWatchLogsLogGroupArn": GROUP_ARN,
        "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role",
    }
    cloudtrail.add_response("describe_trails", {"trailList": [trail]}, {"includeShadowTrails": True})
    cloudtrail.add_response("get_trail_status", status, {"Name": TRAIL_ARN})
    selectors = {
        "TrailARN": TRAIL_ARN,
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    }
    cloudtrail.add_response("get_event_selectors", selectors, {"TrailName": TRAIL_ARN})
    return TrailReader(_Sessions(clients), [CIS_4_5], clock=lambda: NOW), clients  # type: ignore[arg-type]


def verdict(status: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    reader, clients = stubbed_reader(status)
    (reading,) = reader.seen(Access(ACCOUNT), REGION)
    clients.assert_done()
    found = coverage_of(ACCOUNT, REGION, [reading.facts], lambda _group: True)
    return found.code, found.reason, reading.to_dict()["cloudWatchLogsDelivery"]


def test_a_recent_delivery_in_awss_shape_is_read_and_covers() -> None:
    code, _reason, shown = verdict(
        {"IsLogging": True, "LatestCloudWatchLogsDeliveryTime": NOW - timedelta(minutes=6)}
    )
    assert code == "coverage.direct"
    assert shown == {
        "readAt": "2025-03-04T12:00:00+00:00",
        "latestDeliveryTime": "2025-03-04T11:54:00+00:00",
        "latestDeliveryError": None,
    }


def test_a_delivery_error_while_logging_fails_and_names_the_error() -> None:
    # What a deleted CloudWatchLogsRoleArn looks like: IsLogging true, an error, delivery stopped.
    code, reason, shown = verdict(
        {
            "IsLogging": True,
            "LatestDeliveryTime": NOW - timedelta(minutes=3),  # S3 still gets the logs
            "LatestCloudWatchLogsDeliveryError": "AccessDeniedException",
            "LatestCloudWatchLogsDeliveryTime": NOW - timedelta(hours=5),
        }
    )
    assert code == "coverage.none.delivery_error"
    assert "('AccessDeniedException')" in reason and "5 h 0 min before the audit" in reason
    assert shown["latestDeliveryError"] == "AccessDeniedException"


def test_no_delivery_time_from_aws_is_never_delivered() -> None:
    code, reason, shown = verdict({"IsLogging": True, "LatestDeliveryTime": NOW})
    assert code == "coverage.none.never_delivered"
    assert "AWS reports no delivery to it at all" in reason
    assert shown["latestDeliveryTime"] is None


def test_a_delivery_older_than_the_window_is_stale() -> None:
    code, reason, _shown = verdict(
        {"IsLogging": True, "LatestCloudWatchLogsDeliveryTime": NOW - timedelta(hours=25)}
    )
    assert code == "coverage.none.delivery_stale"
    assert "within the delivery window of 24 h" in reason


def test_the_pairs_basis_names_the_delivery_fields() -> None:
    status = next(read for read in TRAIL_READS if read.operation == "GetTrailStatus")
    assert {"LatestCloudWatchLogsDeliveryError", "LatestCloudWatchLogsDeliveryTime"} <= set(status.fields)


# ---------------------------------------------------------------- the whole audit, in moto shaped like AWS


def audit(clock: Any = None, **options: Any) -> Any:
    scope = flag_scope(AccountFlags(ACCOUNT, [REGION]))
    kwargs = {"clock": clock} if clock else {}
    report = audit_coverage(
        scope, SessionFactory(new_session()), [CIS_4_5], proofs=ProofSettings(), **kwargs, **options
    )
    (pair,) = report.pairs
    return pair


def test_deleting_the_cloudwatch_logs_role_fails_the_pair_though_the_trail_logs(aws: None) -> None:
    allow_queue(build_compliant())
    assert audit().status == Status.PASS, audit().reasons
    boto3.client("iam").delete_role(RoleName=f"cloudtrail-logs-{REGION}")
    status = boto3.client("cloudtrail").get_trail_status(Name=f"org-trail-{REGION}")
    assert status["IsLogging"] is True  # AWS keeps logging to S3
    pair = audit()
    assert (pair.status, pair.coverage.code) == (Status.FAIL, "coverage.none.delivery_error")
    assert "CloudWatch Logs delivery error" in pair.reasons[0]


def test_a_delivery_older_than_the_window_fails_and_a_wider_window_passes(aws: None) -> None:
    allow_queue(build_compliant())
    later = datetime.now(UTC) + timedelta(hours=30)  # the audit's "now", injected
    pair = audit(clock=lambda: later)
    assert (pair.status, pair.coverage.code) == (Status.FAIL, "coverage.none.delivery_stale")
    wider = audit(clock=lambda: later, delivery_window=timedelta(hours=48))
    assert wider.status == Status.PASS, wider.reasons
