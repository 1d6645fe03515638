"""A CloudTrail record as the EventBridge event that carries it (``as_event``).

Amazon EventBridge User Guide, "AWS service events delivered via AWS CloudTrail"
(eb-service-event-cloudtrail.html): CloudTrail sends its events to the default event bus, and the
event's ``detail-type`` names the record's kind (``API_CALL`` for ``AwsApiCall`` records, the others
in ``DETAIL_TYPES``). Its ``detail`` is the CloudTrail record. Delivery is best effort (the Events
Reference: "AWS services deliver events to CloudTrail on a best effort basis").

The event's ``source`` is the service's EventBridge name. ``SOURCES`` holds only the pairs the
Amazon EventBridge Events Reference states ("To match events from this service delivered by AWS
CloudTrail ... source: aws.cloudtrail, eventSource: cloudtrail.amazonaws.com", events-ref-<service>.html);
a rule for any other service matches ``detail.eventSource`` only, which the record carries itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

API_CALL = "AWS API Call via CloudTrail"
DETAIL_TYPES = {
    "AwsApiCall": API_CALL,
    "AwsConsoleSignIn": "AWS Console Signin via CloudTrail",
    "AwsConsoleAction": "AWS Console Action via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
}
"""CloudTrail ``eventType`` -> the EventBridge ``detail-type`` (eb-service-event-cloudtrail.html)."""

SOURCES: Mapping[str, str] = {
    # events-ref-cloudtrail.html, events-ref-iam.html, events-ref-signin.html
    "cloudtrail.amazonaws.com": "aws.cloudtrail",
    "iam.amazonaws.com": "aws.iam",
    "signin.amazonaws.com": "aws.signin",
}
"""CloudTrail ``eventSource`` -> EventBridge ``source``, as the Events Reference states each pair."""


GLOBAL_SERVICE_REGION: Mapping[tuple[str, str], str] = {
    ("aws", "iam.amazonaws.com"): "us-east-1",
    ("aws", "organizations.amazonaws.com"): "us-east-1",
}
"""(partition, eventSource) -> the one Region whose bus gets the service's events: "AWS global services,
such as AWS Identity and Access Management (IAM), AWS Organizations, and AWS Account Management deliver
events only to us-east-1 Region" (AWS re:Post Knowledge Center, "use-eventbridge-rule-across-regions").
Other partitions' are not listed: no default is guessed for them."""


def source_of(event_source: str | None) -> str | None:
    """The EventBridge ``source`` of a service's CloudTrail events, where the Events Reference states it."""
    return SOURCES.get(event_source or "")


def as_event(record: Mapping[str, Any]) -> dict[str, Any]:
    """The EventBridge event that delivers CloudTrail ``record`` to the default bus.

    A service outside ``SOURCES`` gets the ``aws.<service>`` name the Events Reference uses for most
    services: a test record needs one, and no rule the program writes matches it.
    """
    event_source = str(record.get("eventSource", ""))
    return {
        "version": "0",
        "id": str(record.get("eventID", "00000000-0000-0000-0000-000000000000")),
        "detail-type": DETAIL_TYPES.get(str(record.get("eventType", "")), API_CALL),
        "source": source_of(event_source) or f"aws.{event_source.split('.')[0]}",
        "account": str(record.get("recipientAccountId", "")),
        "time": str(record.get("eventTime", "")),
        "region": str(record.get("awsRegion", "")),
        "resources": [],
        "detail": dict(record),
    }
