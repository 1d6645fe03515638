"""What a resolved subscription carries (queuePolicy, autoConfirms), and how far a refusal reaches."""

from __future__ import annotations

from typing import Any

import pulumi

from cis_monitoring.spec import ConfigError, Subscription, load_config, targets
from local.program_harness import run_program
from tests.conftest import PAGER_URL

QUEUE = "arn:aws:sqs:us-east-1:555555555555:security-alerts"


def _resolved(config: dict[str, Any], **kwargs: Any) -> dict[str, tuple[Subscription, ...]]:
    found = targets(load_config(config, **kwargs), **kwargs)
    return {t.key: t.notifications.subscriptions for t in found}


def test_prod_queue_subscription_says_its_policy_is_existing(prod_config: dict) -> None:
    secrets = {"secrets": {"pagerEndpoint": PAGER_URL}, "secret_keys": frozenset({"pagerEndpoint"})}
    by_target = _resolved(prod_config, **secrets)
    [queue] = [s for s in by_target["555555555555/us-east-1"] if s.protocol == "sqs"]
    assert (queue.endpoint, queue.queue_policy, queue.auto_confirms) == (QUEUE, "existing", False)
    assert all(s.queue_policy is None for subs in by_target.values() for s in subs if s.protocol != "sqs")


def test_managed_queue_policy_and_auto_confirming_https_reach_the_subscription(dev_config: dict) -> None:
    dev_config["accounts"][0]["notifications"] = {
        "subscriptions": [
            {
                "protocol": "sqs",
                "endpoint": "arn:aws:sqs:us-east-1:111111111111:alerts",
                "queuePolicy": "managed",
            },
            {"protocol": "https", "endpoint": PAGER_URL, "autoConfirms": True},
            {"protocol": "https", "endpoint": PAGER_URL + "?second"},
        ]
    }
    sqs, pager, other = _resolved(dev_config)["111111111111/us-east-1"]
    assert sqs == Subscription("sqs", "arn:aws:sqs:us-east-1:111111111111:alerts", False, "managed", False)
    assert pager.auto_confirms is True and pager.secret is True
    assert other.auto_confirms is False  # the default: a human or the pager confirms it


def _security_index(config: dict[str, Any]) -> int:
    return next(i for i, a in enumerate(config["accounts"]) if a["id"] == "555555555555")


def test_a_stack_wide_queue_is_refused_once_per_other_chain(prod_config: dict) -> None:
    prod_config["notifications"]["subscriptions"].append(
        {"protocol": "sqs", "endpoint": QUEUE, "queuePolicy": "existing"}
    )
    security = _security_index(prod_config)
    prod_config["accounts"][security].pop("notifications")  # 555555555555 now uses the stack-wide list too
    prod_config["accounts"].append(
        {
            "id": "666666666666",
            "name": "eu-team",
            "trail": {"homeRegion": "eu-west-1", "logGroup": "eu/trail"},
        }
    )
    try:
        load_config(
            prod_config, secrets={"pagerEndpoint": PAGER_URL}, secret_keys=frozenset({"pagerEndpoint"})
        )
    except ConfigError as error:
        lines = [str(p) for p in error.problems]
    else:
        raise AssertionError("a cross-account queue was accepted")
    # One line per (chain site, subscription): the organization trail's chain in the management
    # account and the new account's chain; the members without a chain have no topic to subscribe.
    assert len(lines) == 2, lines
    assert all(
        line.startswith("notifications.subscriptions[2].endpoint: the queue is in account 555555555555")
        for line in lines
    )
    for target in ("999999999999/us-east-1", "666666666666/eu-west-1"):
        assert any(f"the alarm topic of target {target}" in line for line in lines)
    assert all(f"accounts[{security}].notifications.subscriptions" in line for line in lines)


def test_the_program_registers_nothing_for_a_queue_without_policy_mode(prod_config: dict) -> None:
    security = _security_index(prod_config)
    del prod_config["accounts"][security]["notifications"]["subscriptions"][1]["queuePolicy"]
    run = run_program(prod_config, stack="prod", secret_keys=["pagerEndpoint"])
    assert isinstance(run.error, pulumi.RunError)
    message = str(run.error)
    assert "1 problem(s)" in message
    line = next(x for x in message.splitlines() if "queuePolicy" in x)
    assert line.startswith(
        f"  - accounts[{security}].notifications.subscriptions[1].queuePolicy: is required"
    )
    for fact in (
        "sqs:SendMessage",
        "aws:SourceArn",
        "'managed'",
        "WHOLE policy",
        "'existing'",
        "kms:Decrypt",
        "alias/aws/sqs",
    ):
        assert fact in line
    assert run.resources == []
