"""Confirmations only an emulator gave: moto (and LocalStack) confirm every subscription at once.

AWS confirms a subscription at once only where no one must accept it: SNS Subscribe (botocore's
sns service model): "If the endpoint type is HTTP/S or email, or if the endpoint and the topic are
not in the same Amazon Web Services account, the endpoint owner must run the ConfirmSubscription
action to confirm the subscription." An emulator skips that, so when the audit runs against an
emulator endpoint, such a subscription's "confirmed" is the emulator's word, not AWS's. This
result says so (NOT_AVAILABLE, never PASS), and whether the subscription link rests on it alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cis_monitoring.audit.proofs.result import CONFIRMATION, ProofResult
from cis_monitoring.core.aws.arns import parse_arn
from cis_monitoring.core.judge.facts import SubscriptionFacts
from cis_monitoring.core.status import Status

OWNER_CONFIRMS = ("email", "email-json", "https", "http")
"""Protocols whose endpoint's owner must confirm (SNS Subscribe)."""


def needs_owner(subscription: SubscriptionFacts, topic_account: str | None) -> bool:
    """Whether AWS would leave ``subscription`` pending until its endpoint's owner confirms it."""
    if subscription.protocol in OWNER_CONFIRMS:
        return True
    endpoint = parse_arn(subscription.endpoint)
    return endpoint is not None and topic_account is not None and endpoint.account != topic_account


def emulator_confirmations(
    emulator: str,
    topic_arn: str,
    subscriptions: Sequence[SubscriptionFacts],
    attributes: Mapping[str, Mapping[str, Any]],
) -> ProofResult | None:
    """The confirmations among ``subscriptions`` (those the chain counts) that only ``emulator`` gave."""
    topic = parse_arn(topic_arn)
    owner = topic.account if topic is not None else None
    only = [s for s in subscriptions if needs_owner(s, owner)]
    if not only:
        return None
    rests = len(only) == len(subscriptions)
    shown = ", ".join(f"{s.protocol}:{s.endpoint}" for s in only)
    detail = (
        f"confirmed only by the emulator at {emulator}, which confirms every subscription at once: {shown}."
        " In AWS the endpoint's owner must confirm it (email: the link in AWS's message), so this says"
        " nothing about AWS; "
        + (
            "the subscription link rests on these alone"
            if rests
            else "other subscribers confirm without their owner, and the link rests on them"
        )
    )
    evidence = {
        "emulator": emulator,
        "restsOnEmulatorOnly": rests,
        "subscriptions": [
            {
                "protocol": s.protocol,
                "endpoint": s.endpoint,
                "attributes": {
                    k: v
                    for k, v in attributes.get(str(s.ref), {}).items()
                    if k in ("PendingConfirmation", "ConfirmationWasAuthenticated")
                },
            }
            for s in only
        ],
    }
    return ProofResult(CONFIRMATION, topic_arn, Status.NOT_AVAILABLE, detail, evidence)
