"""The real-time rules in the moto emulator: ``PutEvents`` of CloudTrail-shaped events through the program's
rules, and what moto delivers.

What moto (5.2.x, on loopback) covers here, and what it does not:

- **covered by moto**: its own event-pattern matcher on each control's rule, fed each catalog sample
  record as the event EventBridge makes of it ("AWS API Call via CloudTrail"), put in a forwarding
  Region and carried by the forwarding rule (an event-bus target) to the delivery Region's default bus,
  where the control's rule delivers it; the test holds moto's deliveries equal to the core evaluator's
  verdicts, with and without the quiet-roles exclusion;
- **not covered by moto, unit tests only**: (1) the SNS target. moto's EventBridge delivers to
  CloudWatch Logs, SQS, archives, event buses and API destinations only (``moto/events/models.py``,
  ``Rule.send_to_targets``): for a topic target it raises NotImplementedError (its server answers
  PutEvents with HTTP 500) and delivers nothing, so the hop rule -> topic
  -> SQS subscriber is not shown here (the LocalStack tier shows topic -> SQS for the alarm; the pack's
  and the audit's tests judge the rule -> topic link and the topic policy). A test below fails when
  moto starts to deliver to SNS, so that this docstring is revisited. (2) The message. moto's SQS
  delivery of a string template that contains the word "time" fails (it takes the rendered text for
  an event and reads ``event["time"]``), and the program's message says "real-time"; moto also leaves
  a field the event lacks as ``<name>`` and does not fill ``<aws.events.rule-name>``, where EventBridge
  puts an empty value and the rule's name ("Transforming target input", EventBridge User Guide). So
  the rendered message is covered by the core's unit tests (``tests/core/event_pattern``,
  ``tests/core/detectors``) only; the last test here compares moto's own template parser, called
  directly, with the core's rendering on the fields both fill.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cis_monitoring.core.catalog import CONTROLS, Control
from cis_monitoring.core.detectors import event_rule
from cis_monitoring.core.event_pattern import InputTransformer, Outcome, as_event, matches, render
from local.emulator import DEFAULT_ACCOUNT, Emulator, EmulatorSessions

pytestmark = pytest.mark.emulator

HOME, FORWARDING = "us-east-1", "eu-west-1"
RULE = "cis-realtime"
QUIET = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/deployer"
WITH_RULES = [c for c in CONTROLS.values() if event_rule.rule_pattern(c) is not None]


@pytest.fixture
def sessions(emulator: Emulator) -> EmulatorSessions:
    return EmulatorSessions(emulator.url)


def _queue(sessions: EmulatorSessions, name: str) -> tuple[str, str]:
    sqs = sessions.client("sqs", HOME)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _drain(sessions: EmulatorSessions, url: str) -> list[dict[str, Any]]:
    sqs, found = sessions.client("sqs", HOME), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _put(sessions: EmulatorSessions, region: str, event: dict[str, Any]) -> None:
    answer = sessions.client("events", region).put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer


def _rules(
    sessions: EmulatorSessions, control: Control, quiet: tuple[str, ...], target: dict[str, Any]
) -> None:
    """The control's rule at the delivery point (``target``) and its forwarding rule, as the program makes them."""
    pattern = json.dumps(event_rule.rule_pattern(control, quiet))
    home = sessions.client("events", HOME)
    home.put_rule(Name=RULE, EventPattern=pattern)
    home.put_targets(Rule=RULE, Targets=[target])
    forwarding = sessions.client("events", FORWARDING)
    forwarding.put_rule(Name=RULE, EventPattern=pattern)
    bus = f"arn:aws:events:{HOME}:{DEFAULT_ACCOUNT}:event-bus/default"
    role = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/cis-forward"
    forwarding.put_targets(Rule=RULE, Targets=[{"Id": "forward", "Arn": bus, "RoleArn": role}])


def _quietened(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` as if a session of the quiet role had made the call."""
    identity = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/deployer/ci",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": QUIET}},
    }
    return {**record, "userIdentity": identity}


def _cases(control: Control) -> Iterator[tuple[str, dict[str, Any]]]:
    for sample in (*control.target_samples(), *control.unrelated_samples()):
        yield sample.label, dict(sample.record)
    for sample in control.target_samples()[:2]:
        yield f"{sample.label}, by the quiet role", _quietened(dict(sample.record))


@pytest.mark.parametrize("quiet", [(), (QUIET,)], ids=["all-sessions", "quiet-roles"])
@pytest.mark.parametrize("control", WITH_RULES, ids=[c.control_id for c in WITH_RULES])
def test_moto_delivers_exactly_what_the_evaluator_selects_through_the_forwarding_rule(
    sessions: EmulatorSessions, control: Control, quiet: tuple[str, ...]
) -> None:
    url, queue = _queue(sessions, "cis-realtime-inbox")
    _rules(sessions, control, quiet, {"Id": "inbox", "Arn": queue})
    pattern = event_rule.rule_pattern(control, quiet)
    delivered, expected = {}, {}
    for label, record in _cases(control):
        event = as_event(record)
        verdict = matches(pattern, event)
        assert verdict.outcome != Outcome.CANNOT, (label, verdict.why)
        _put(sessions, FORWARDING, event)
        messages = _drain(sessions, url)
        delivered[label] = [m["detail"]["eventID"] for m in messages] == [record.get("eventID")]
        expected[label] = verdict.outcome == Outcome.MATCH
        assert len(messages) <= 1, (label, messages)
    assert delivered == expected
    assert any(expected.values()) and not all(expected.values())  # the cases can tell a rule that matches all


def test_moto_does_not_deliver_to_an_sns_target(sessions: EmulatorSessions) -> None:
    """The rule -> topic hop is not shown by moto (see the module docstring); this fails when moto starts to
    deliver, so that the emulator test can cover the whole path then."""
    [control] = WITH_RULES[:1]
    url, queue = _queue(sessions, "cis-topic-subscriber")
    sns = sessions.client("sns", HOME)
    topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
    _rules(sessions, control, (), {"Id": "topic", "Arn": topic})
    event = as_event(dict(control.target_samples()[0].record))
    # moto raises NotImplementedError for the topic target, which its server answers as HTTP 500.
    with pytest.raises(ClientError) as raised:
        _put(sessions, HOME, event)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert _drain(sessions, url) == []


def test_moto_template_parser_fills_the_message_fields_as_the_core_does() -> None:
    """moto's own parser of input templates (the code its PutEvents runs), called directly, field by field:
    each field of the message an event has, moto fills with the value the core's renderer puts in; a
    field the event lacks moto leaves as ``<name>``, where EventBridge and the core put nothing."""
    from moto.events.utils import EventTemplateParser

    compared = 0
    for control in WITH_RULES:
        for sample in control.target_samples():
            event = as_event(dict(sample.record))
            for name, path in event_rule.MESSAGE_PATHS.items():
                probe = InputTransformer(f'"<{name}>"', {name: path})
                ours = json.loads(render(probe, event))
                theirs = EventTemplateParser.parse(
                    probe.template, dict(probe.paths), {**event, "ingestion-time": 0}
                )
                assert theirs == (ours if ours else f"<{name}>"), (sample.label, name, ours, theirs)
                compared += bool(ours)
    assert compared > 0
