"""Each subscriber protocol gets what delivery needs: a queue policy on request, https auto-confirmation,
and stack outputs that say which subscriptions still wait for a confirmation."""

from __future__ import annotations

import json
from typing import Any

from local.program_harness import AwsMocks, ProgramRun, run_program
from tests.conftest import PAGER_URL

QUEUE = "arn:aws:sqs:us-east-1:555555555555:security-alerts"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/555555555555/security-alerts"
SECURITY = "555555555555/us-east-1"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
TOPIC = "aws:sns/topic:Topic"


class PendingMocks(AwsMocks):
    """AWS's answer for a new subscription: email, and https that does not confirm itself, stay pending."""

    def new_resource(self, args: Any) -> tuple[str | None, dict]:
        id_, outputs = super().new_resource(args)
        if args.typ == SUBSCRIPTION:
            protocol = args.inputs["protocol"]
            outputs["pendingConfirmation"] = protocol == "email" or (
                protocol == "https" and not args.inputs.get("endpointAutoConfirms")
            )
        return id_, outputs


def run_prod(config: dict[str, Any]) -> ProgramRun:
    run = run_program(config, stack="prod", secret_keys=["pagerEndpoint"], mocks=PendingMocks())
    assert run.error is None, run.error
    return run


def security_subscriptions(config: dict[str, Any]) -> list[dict[str, Any]]:
    return next(a for a in config["accounts"] if a["id"] == "555555555555")["notifications"]["subscriptions"]


def with_queue_policy(config: dict[str, Any], mode: str) -> dict[str, Any]:
    for sub in security_subscriptions(config):
        if sub["protocol"] == "sqs":
            sub["queuePolicy"] = mode
    return config


def test_managed_queue_policy_lets_only_the_alarm_topic_send_over_tls(prod_config: dict) -> None:
    run = run_prod(with_queue_policy(prod_config, "managed"))
    by_urn = run.by_urn()
    policies = run.of_type(QUEUE_POLICY)
    assert len(policies) == 1, "one queue, subscribed from one target"
    policy = policies[0]
    topic = next(t for t in run.of_type(TOPIC) if t.inputs["name"] == "cis-security-tooling-alarms")
    assert policy.inputs["queueUrl"] == QUEUE_URL
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    allow = statements["AllowTheAlarmTopicToSend"]
    assert allow["Effect"] == "Allow" and allow["Principal"] == {"Service": "sns.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage" and allow["Resource"] == QUEUE
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": topic.outputs["arn"]}}
    deny = statements["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Resource"] == QUEUE
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statements) == 2
    # Inside the target's notification component, through the same provider as the topic.
    assert by_urn[policy.parent].type == "cis-monitoring:aws:AlarmNotification"
    assert policy.provider == topic.provider
    # The queue admits the topic before the subscription exists.
    queue_sub = next(s for s in run.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "sqs")
    assert policy.urn in queue_sub.dependencies


def test_existing_queue_policy_creates_nothing_for_the_queue(prod_config: dict) -> None:
    run = run_prod(with_queue_policy(prod_config, "existing"))
    assert run.of_type(QUEUE_POLICY) == []
    assert [s.inputs["endpoint"] for s in run.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "sqs"] == [
        QUEUE
    ]


def test_https_endpoint_auto_confirms_only_when_configured(prod_config: dict) -> None:
    run = run_prod(prod_config)  # Pulumi.prod.yaml: the pager confirms itself
    https = [s for s in run.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "https"]
    assert https and all(s.inputs["endpointAutoConfirms"] is True for s in https)
    for sub in prod_config["notifications"]["subscriptions"]:
        sub.pop("autoConfirms", None)
    run = run_prod(prod_config)
    https = [s for s in run.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "https"]
    assert https and all(s.inputs["endpointAutoConfirms"] is False for s in https)
    others = [s for s in run.of_type(SUBSCRIPTION) if s.inputs["protocol"] != "https"]
    assert others and all("endpointAutoConfirms" not in s.inputs for s in others)


def test_outputs_show_pending_subscriptions_and_mask_secret_endpoints(prod_config: dict) -> None:
    for sub in prod_config["notifications"]["subscriptions"]:
        sub.pop("autoConfirms", None)  # a pager that does not confirm itself stays pending
    run = run_prod(prod_config)
    chains = run.outputs["chains"]
    assert run.outputs["resultsSchemaVersion"] == 3
    by_site = {f"{c['accountId']}/{c['region']}": c for c in chains.values()}
    # The organization trail's chain (management account) has the stack-wide subscribers.
    stack_wide = by_site["999999999999/us-east-1"]["subscriptions"]
    assert stack_wide == [
        {
            "protocol": "email",
            "endpoint": "soc@example.com",
            "pendingConfirmation": True,
            "confirmationRequired": True,
        },
        {
            "protocol": "https",
            "endpoint": "https://events.pagerduty.com/<secret>",
            "pendingConfirmation": True,
            "confirmationRequired": True,
        },
    ]
    queue = by_site[SECURITY]["subscriptions"][1]
    assert queue == {
        "protocol": "sqs",
        "endpoint": QUEUE,
        "pendingConfirmation": False,
        "confirmationRequired": False,
    }
    # The pager's integration token appears nowhere in the outputs.
    assert PAGER_URL.split("/")[4] not in json.dumps(run.outputs)
    assert len(chains) == 2 and all(len(entry["subscriptions"]) == 2 for entry in chains.values())


def test_a_subscription_listed_twice_is_subscribed_once(prod_config: dict) -> None:
    subs = security_subscriptions(prod_config)
    subs.append(dict(subs[0]))
    run = run_prod(prod_config)
    security = [
        s for s in run.of_type(SUBSCRIPTION) if s.inputs["topic"].endswith(":cis-security-tooling-alarms")
    ]
    assert sorted(s.inputs["protocol"] for s in security) == ["email", "sqs"]


def test_a_queue_and_a_function_in_another_region_get_their_grants_in_their_own_region(
    prod_config: dict,
) -> None:
    """Same account, another Region: SNS confirms at once (SNS Subscribe), and the provider is the chain's
    (account, Region), so the queue policy and the invoke permission name the endpoint's Region."""
    queue = "arn:aws:sqs:eu-west-1:555555555555:security-alerts"
    function = "arn:aws:lambda:eu-west-1:555555555555:function:pager-relay"
    subscriptions = security_subscriptions(prod_config)
    for sub in subscriptions:
        if sub["protocol"] == "sqs":
            sub.update(endpoint=queue, queuePolicy="managed")
    subscriptions.append({"protocol": "lambda", "endpoint": function})
    run = run_prod(prod_config)
    [policy] = run.of_type(QUEUE_POLICY)
    assert policy.inputs["queueUrl"] == "https://sqs.eu-west-1.amazonaws.com/555555555555/security-alerts"
    assert policy.inputs["region"] == "eu-west-1"
    topic = next(t for t in run.of_type(TOPIC) if t.inputs["name"] == "cis-security-tooling-alarms")
    assert policy.provider == topic.provider  # the chain's provider, told another Region
    permissions = [
        r for r in run.of_type("aws:lambda/permission:Permission") if r.inputs["function"] == function
    ]
    assert permissions and all(p.inputs["region"] == "eu-west-1" for p in permissions)
    assert {s.inputs["endpoint"] for s in run.of_type(SUBSCRIPTION)} >= {queue, function}


def test_a_queue_in_the_chains_own_region_needs_no_region_of_its_own(prod_config: dict) -> None:
    run = run_prod(with_queue_policy(prod_config, "managed"))
    [policy] = run.of_type(QUEUE_POLICY)
    assert "region" not in policy.inputs
