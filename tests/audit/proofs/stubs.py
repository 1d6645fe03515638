"""botocore Stubber clients for the proofs, and AWS's real answers (field names, error codes, messages).

``StubbedClients`` is a ``ClientFor``: ``clients(service, region)`` gives one stubbed
client per service and Region, and records the calls. Errors are queued as AWS sends
them; "after retries" is botocore's RetryAttempts in the response metadata (a stubbed
answer skips botocore's retry loop, so the tests say how many retries there were).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.stub import Stubber

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role/cis-monitoring-auditor/cis-monitoring"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:cis-sandbox-alarms"
ALARM_NAME = "cis-4-5-cloudtrail-changes-sandbox-us-east-1"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ALARM_NAME}"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:security-alerts"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/security-alerts"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pager-relay"

_LOADER = botocore.loaders.create_loader()


def _session() -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(
        botocore_session=core,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=REGION,
    )


class StubbedClients:
    """A ``ClientFor`` whose clients answer from queued responses only."""

    def __init__(self) -> None:
        self._session = _session()
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        self.clients: dict[tuple[str, str], Any] = {}
        self.requested: list[tuple[str, str]] = []

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or REGION)
        self.requested.append(key)
        return self._client(key)

    def _client(self, key: tuple[str, str]) -> Any:
        if key not in self.clients:
            client = self._session.client(key[0], region_name=key[1])
            stubber = Stubber(client)
            stubber.activate()
            self.clients[key], self.stubbers[key] = client, stubber
        return self.clients[key]

    def stub(self, service: str, region: str = REGION) -> Stubber:
        """The stubber of ``service`` in ``region``, to queue answers on (not counted as a request)."""
        self._client((service, region))
        return self.stubbers[(service, region)]

    def assert_done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def denied(action: str, resource: str, kind: str = "identity-based") -> str:
    """AWS's AccessDenied message."""
    return (
        f"User: {ROLE} is not authorized to perform: {action} on resource: {resource} because no {kind}"
        f" policy allows the {action} action"
    )


def add_error(
    stubber: Stubber,
    method: str,
    code: str,
    message: str,
    status: int = 400,
    retries: int = 0,
    expected: dict[str, Any] | None = None,
) -> None:
    meta = {"RetryAttempts": retries, "MaxAttemptsReached": True} if retries else None
    stubber.add_client_error(
        method,
        service_error_code=code,
        service_message=message,
        http_status_code=status,
        expected_params=expected,
        response_meta=meta,
    )


def policy(*statements: dict[str, Any], policy_id: str = "default") -> str:
    return json.dumps({"Version": "2012-10-17", "Id": policy_id, "Statement": list(statements)})


def key_metadata(
    key_arn: str = KEY_ARN, manager: str = "CUSTOMER", state: str = "Enabled", account: str = ACCOUNT
) -> dict[str, Any]:
    """DescribeKey's KeyMetadata for a symmetric key."""
    return {
        "AWSAccountId": account,
        "KeyId": key_arn.rsplit("/", 1)[-1],
        "Arn": key_arn,
        "CreationDate": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "Enabled": state == "Enabled",
        "Description": "cis-monitoring alarm topic key" if manager == "CUSTOMER" else "Default key for SNS",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": state,
        "Origin": "AWS_KMS",
        "KeyManager": manager,
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
    }


def default_key_policy(account: str = ACCOUNT) -> str:
    """The policy KMS gives a key created without one: IAM policies of the account only."""
    return policy(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        policy_id="key-default-1",
    )


def history_item(
    at: datetime,
    item_type: str,
    summary: str,
    data: dict[str, Any],
    alarm: str = ALARM_NAME,
) -> dict[str, Any]:
    return {
        "AlarmName": alarm,
        "AlarmType": "MetricAlarm",
        "Timestamp": at,
        "HistoryItemType": item_type,
        "HistorySummary": summary,
        "HistoryData": json.dumps(data),
    }


def action_item(
    at: datetime,
    succeeded: bool,
    topic: str = TOPIC,
    error: str | None = None,
    transition_at: datetime | None = None,
) -> dict[str, Any]:
    """An Action item as CloudWatch writes it when it publishes (or fails to) for the transition at ``transition_at``."""
    data: dict[str, Any] = {
        "actionState": "Succeeded" if succeeded else "Failed",
        "stateUpdateTimestamp": int((transition_at or at).timestamp() * 1000),
        "notificationResource": topic,
    }
    if succeeded:
        summary = f"Successfully executed action {topic}"
    else:
        data["error"] = error
        summary = f'Failed to execute action {topic}. Received error: "{error}"'
    return history_item(at, "Action", summary, data)


def state_item(at: datetime, old: str, new: str, reason: str) -> dict[str, Any]:
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old, "stateReason": "Threshold Crossed: no datapoints were received"},
        "newState": {"stateValue": new, "stateReason": reason},
    }
    return history_item(at, "StateUpdate", f"Alarm updated from {old} to {new}", data)


KMS_DENIED_TO_CLOUDWATCH = (
    "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
)


class FakeTime:
    """An injectable clock and sleep: sleeping moves the clock, nothing waits."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def pages(items: list[dict[str, Any]], size: int) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """``items`` split as a paginated API returns them: (page, NextToken of the next page)."""
    for start in range(0, len(items), size):
        token = f"token-{start + size}" if start + size < len(items) else None
        yield items[start : start + size], token
