"""Confirmations only an emulator gave (email, https, another account's endpoint): flagged, never PASS."""

from __future__ import annotations

from cis_monitoring.audit.proofs.confirmation import emulator_confirmations
from cis_monitoring.core.judge.facts import SubscriptionFacts
from cis_monitoring.core.status import Status

TOPIC = "arn:aws:sns:us-east-1:111111111111:alarms"
EMULATOR = "http://127.0.0.1:5000"
EMAIL = SubscriptionFacts("e", "email", True, "soc@example.com", ref=f"{TOPIC}:1")
OWN_QUEUE = SubscriptionFacts("q", "sqs", True, "arn:aws:sqs:eu-west-1:111111111111:q", ref=f"{TOPIC}:2")
THEIR_QUEUE = SubscriptionFacts("t", "sqs", True, "arn:aws:sqs:us-east-1:222222222222:q", ref=f"{TOPIC}:3")


def test_an_email_subscriber_alone_rests_on_the_emulator() -> None:
    attributes = {f"{TOPIC}:1": {"PendingConfirmation": "false", "FilterPolicy": "x"}}
    flag = emulator_confirmations(EMULATOR, TOPIC, [EMAIL], attributes)
    assert flag is not None and flag.status is Status.NOT_AVAILABLE and flag.proof == "confirmation"
    assert flag.evidence["restsOnEmulatorOnly"] is True
    assert flag.evidence["subscriptions"][0]["attributes"] == {"PendingConfirmation": "false"}
    assert "the subscription link rests on these alone" in flag.detail


def test_a_queue_of_the_topics_account_confirms_at_once_in_aws_too() -> None:
    assert emulator_confirmations(EMULATOR, TOPIC, [OWN_QUEUE], {}) is None
    mixed = emulator_confirmations(EMULATOR, TOPIC, [OWN_QUEUE, THEIR_QUEUE], {})
    assert mixed is not None and mixed.evidence["restsOnEmulatorOnly"] is False
    assert "sqs:arn:aws:sqs:us-east-1:222222222222:q" in mixed.detail
