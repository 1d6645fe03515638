"""A member account's forwarding in moto (in process): ``PutEvents`` in the member's Region reaches the
delivery rule on the organization trail owner's default bus, in another account and Region.

What moto (5.x) shows, and what it does not:

- **shown**: a rule in the member account (the core's forwarding registration, ``delivers=False``) whose
  target is the owner's default bus carries each of 4.5's sample events there (``Rule.send_to_targets``
  puts it into ``events_backends[<bus account>][<bus Region>]``), and the owner's rule (the core's pattern,
  which names no ``account``) selects exactly the records the core evaluator selects;
- **not shown, unit tests only**: moto neither checks the bus's resource policy (the permission is put, but
  a bus without it would receive the events too) nor assumes the target's role, so the admission and the
  role rest on the program's and the pack's tests (``tests/components/test_real_time_members.py``,
  ``tests/policy/test_real_time_members_pack.py``); moto re-puts the event in the receiving account, so the
  ``account`` field there is the owner's, and whether AWS keeps the member's is not shown (the rule
  matches either way: it does not name ``account``); the SNS hop is not delivered by moto
  (``test_real_time_emulator.py``), so the owner's rule targets an SQS queue here.
"""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.detectors import event_rule
from cis_monitoring.core.event_pattern import Outcome, as_event, matches

OWNER, MEMBER = "999999999999", "333333333333"
HOME, MEMBER_REGION = "us-east-1", "eu-west-1"
RULE = "cis-4-5-cloudtrail-changes-realtime"
CONTROL = CONTROLS["4.5"]


def _session(account: str) -> boto3.Session:
    """Keys of ``account`` (moto gives an assumed role's keys that role's account)."""
    sts = boto3.client("sts", region_name=HOME)
    role = f"arn:aws:iam::{account}:role/cis-monitoring-deployer"
    keys = sts.assume_role(RoleArn=role, RoleSessionName="cis-monitoring")["Credentials"]
    return boto3.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


@mock_aws
def test_a_members_events_reach_the_owners_delivery_rule_across_account_and_region() -> None:
    owner, member = _session(OWNER), _session(MEMBER)
    sqs = owner.client("sqs", region_name=HOME)
    url = sqs.create_queue(QueueName="delivered")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    owner_events = owner.client("events", region_name=HOME)
    pattern = event_rule.rule_pattern(CONTROL)
    assert pattern is not None and "account" not in pattern
    owner_events.put_rule(Name=RULE, EventPattern=json.dumps(pattern))
    owner_events.put_targets(Rule=RULE, Targets=[{"Id": "topic", "Arn": queue}])
    owner_events.put_permission(
        Action="events:PutEvents", Principal=MEMBER, StatementId=f"cis-realtime-{MEMBER}"
    )

    bus = f"arn:aws:events:{HOME}:{OWNER}:event-bus/default"
    member_events = member.client("events", region_name=MEMBER_REGION)
    for spec in event_rule.registrations(CONTROL, rule_name=RULE, delivers=False):
        if isinstance(spec, event_rule.RuleSpec):
            member_events.put_rule(Name=spec.name, EventPattern=json.dumps(spec.pattern))
        else:
            assert spec.to == event_rule.BUS and spec.needs_role
            role = f"arn:aws:iam::{MEMBER}:role/cis-4-5-cloudtrail-changes-forward"
            member_events.put_targets(
                Rule=spec.rule, Targets=[{"Id": spec.target_id, "Arn": bus, "RoleArn": role}]
            )

    samples = [*CONTROL.target_samples(), *CONTROL.unrelated_samples()]
    expected = set()
    for k, sample in enumerate(samples):
        record = {
            **sample.record,
            "eventID": f"sample-{k}",
            "recipientAccountId": MEMBER,
            "awsRegion": MEMBER_REGION,
        }
        event = as_event(record)
        if matches(pattern, event).outcome == Outcome.MATCH:
            expected.add(event["id"])
        member_events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                }
            ]
        )
    delivered = set()
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            delivered.add(json.loads(message["Body"])["detail"]["eventID"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert expected and delivered == expected
    assert len(expected) == len(CONTROL.target_samples())
