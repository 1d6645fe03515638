"""The path AFTER the pattern, in LocalStack: log event -> metric -> alarm -> encrypted topic -> SQS.

What this tier proves: the resources the program really registers (deployed through the
emulator adapter, ``local.emulator_deploy``) carry an event written into the CloudTrail log group
all the way to a subscriber. A CloudTrail StopLogging record (the catalog's own sample) becomes a
datapoint of the control's metric, the control's alarm goes to ALARM, publishes to the topic
encrypted with the program's customer-managed KMS key, and the on-call SQS queue receives the
ALARM notification. The drill (SetAlarmState ALARM with a drill reason) reaches the same queue.

What it does not prove:

- **The pattern.** LocalStack's free edition applies metric filters on PutLogEvents but ignores
  their pattern and log group: every event counts (``test_localstack_counts_every_event...``
  checks that this is still so). The pattern is judged by the core engine
  (``cis_monitoring.core.filter_pattern``, ``tests/core``) and, in real accounts, by AWS's
  TestMetricFilter (the audit). LocalStack has no TestMetricFilter and no CloudTrail.
- **The policies.** LocalStack enforces neither KMS key policies nor SQS queue policies: the
  message would arrive without them. The key policy the program deployed is judged here by the
  core (``cis_monitoring.core.judge.resource_policies``), not by LocalStack.
- **Timing.** LocalStack evaluates an alarm at creation and then every period x evaluation
  periods (300 s here). The test re-creates the deployed alarm, unchanged, after the datapoint
  exists, so that it is evaluated at once (``chain.recreate_alarm``). No time is asserted.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cis_monitoring.core.catalog import Control, get_control
from cis_monitoring.core.filter_pattern import compile_pattern, matches
from cis_monitoring.core.judge.resource_policies import cloudwatch_key_grant, judge_grant
from tests.localstack.chain import (
    Chain,
    metric_sum,
    receive_notifications,
    recreate_alarm,
    wait_for,
    write_record,
)

pytestmark = pytest.mark.localstack

CONTROL = get_control("4.5")


def stop_logging_record(control: Control) -> str:
    """The catalog's StopLogging target sample, as CloudTrail writes it to CloudWatch Logs."""
    return next(s for s in control.target_samples() if s.event_name == "StopLogging").message


def alarm_messages(chain: Chain) -> list[dict[str, Any]] | None:
    """ALARM notifications that have reached the subscriber queue, or None (others are dropped)."""
    found = receive_notifications(chain) or []
    alarms = [n for n in found if json.loads(n["Message"]).get("NewStateValue") == "ALARM"]
    return alarms or None


def assert_chain_is_the_catalogs(chain: Chain, control: Control) -> None:
    """What LocalStack holds is the program's registration of the catalog's control."""
    logs = chain.client("logs")
    (found,) = logs.describe_metric_filters(logGroupName=chain.monitoring["logGroup"])["metricFilters"]
    (transformation,) = found["metricTransformations"]
    assert (found["filterPattern"], transformation["metricNamespace"], transformation["metricName"]) == (
        control.filter_pattern,
        control.namespace,
        control.metric_name,
    )
    assert transformation["metricValue"] == control.metric_value
    alarm = chain.describe_alarm(control)
    settings = control.alarm
    assert (
        alarm["Namespace"],
        alarm["MetricName"],
        alarm["Statistic"],
        alarm["Period"],
        alarm["EvaluationPeriods"],
        alarm["Threshold"],
        alarm["ComparisonOperator"],
        alarm["TreatMissingData"],
    ) == (
        control.namespace,
        control.metric_name,
        settings.statistic,
        settings.period,
        settings.evaluation_periods,
        settings.threshold,
        settings.comparison_operator,
        settings.treat_missing_data,
    )
    assert alarm["AlarmActions"] == [chain.topic_arn]
    assert alarm["StateValue"] != "ALARM", "the alarm fired before any event was written"

    # The topic is encrypted with a customer-managed key (CloudWatch cannot use alias/aws/sns) ...
    topic = chain.client("sns").get_topic_attributes(TopicArn=chain.topic_arn)["Attributes"]
    key = chain.client("kms").describe_key(KeyId=topic["KmsMasterKeyId"])["KeyMetadata"]
    assert (key["KeyManager"], key["KeyState"]) == ("CUSTOMER", "Enabled")
    # ... whose policy lets CloudWatch use it: judged by the core, as LocalStack does not enforce it.
    policy = chain.client("kms").get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    verdict = judge_grant(policy, cloudwatch_key_grant(key["Arn"], chain.account_id, alarm["AlarmArn"]))
    assert verdict.granted, verdict.explain()

    (subscription,) = chain.client("sns").list_subscriptions_by_topic(TopicArn=chain.topic_arn)[
        "Subscriptions"
    ]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("sqs", chain.queue_arn)


def assert_alarm_notification(chain: Chain, control: Control, notification: dict[str, Any]) -> dict[str, Any]:
    """The SNS envelope and the CloudWatch alarm message in it; returns the message."""
    name = chain.alarm_name(control)
    assert notification["TopicArn"] == chain.topic_arn
    # AWS writes the Region's long name here ("US East (N. Virginia)"); LocalStack writes its code.
    assert notification["Subject"] == f'ALARM: "{name}" in {chain.region}'
    message = json.loads(notification["Message"])
    assert (message["AlarmName"], message["NewStateValue"], message["AWSAccountId"]) == (
        name,
        "ALARM",
        chain.account_id,
    )
    assert (message["Trigger"]["Namespace"], message["Trigger"]["MetricName"]) == (
        control.namespace,
        control.metric_name,
    )
    return message


def test_a_stop_logging_event_reaches_the_sqs_subscriber_as_an_alarm(chain: Chain) -> None:
    """StopLogging written into the log group -> metric -> alarm -> KMS-encrypted topic -> SQS.

    LocalStack does not apply the filter pattern (every event counts): this proves the path after
    the pattern, which the core engine and, in AWS, TestMetricFilter judge.
    """
    assert_chain_is_the_catalogs(chain, CONTROL)
    assert receive_notifications(chain) is None, "the subscriber got a message before any event"

    written = time.monotonic()
    write_record(chain, stop_logging_record(CONTROL))
    total = wait_for("a datapoint of the control's metric", lambda: metric_sum(chain, CONTROL) or None)
    assert total == float(CONTROL.metric_value)
    # LocalStack's evaluation at creation can miss a datapoint of the same second: 1 s after writing.
    time.sleep(max(0.0, 1.0 - (time.monotonic() - written)))
    recreate_alarm(chain, CONTROL)

    (notification,) = wait_for("the ALARM notification in the SQS subscriber", lambda: alarm_messages(chain))
    message = assert_alarm_notification(chain, CONTROL, notification)
    assert message["NewStateReason"].startswith("Threshold Crossed")
    assert chain.describe_alarm(CONTROL)["StateValue"] == "ALARM"


def test_the_drill_reaches_the_sqs_subscriber_with_its_reason(chain: Chain) -> None:
    """SetAlarmState ALARM on the program's alarm runs its action: the queue gets the drill's reason.

    This is the path the audit's ``--drill`` uses in AWS, from the alarm on; no event and no
    pattern is involved.
    """
    assert_chain_is_the_catalogs(chain, CONTROL)
    name = chain.alarm_name(CONTROL)
    reason = f"DRILL by cis-monitoring (run localstack-tier-{chain.account_id}): not a real CloudTrail change"

    chain.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=reason)

    (notification,) = wait_for(
        "the drill's notification in the SQS subscriber", lambda: alarm_messages(chain)
    )
    message = assert_alarm_notification(chain, CONTROL, notification)
    assert message["NewStateReason"] == reason
    assert message["OldStateValue"] != "ALARM"
    history = chain.client("cloudwatch").describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")
    assert any(
        json.loads(i["HistoryData"])["newState"]["stateReason"] == reason
        for i in history["AlarmHistoryItems"]
    )


def test_localstack_counts_every_event_whatever_the_pattern_and_log_group(chain: Chain) -> None:
    """A tripwire for what this tier claims: LocalStack does not judge the pattern.

    A record the core engine says the pattern must NOT match (ConsoleLogin), written into another
    log group, still increments the control's metric. If this starts failing, LocalStack began
    applying patterns: the tier could then prove the pattern too, and the README must say so.
    """
    unrelated = next(s for s in CONTROL.unrelated_samples() if s.event_name == "ConsoleLogin")
    assert not matches(compile_pattern(CONTROL.filter_pattern), unrelated.record)
    chain.client("logs").create_log_group(logGroupName="some-application")

    write_record(chain, unrelated.message, log_group="some-application")

    total = wait_for("a datapoint from an unrelated event", lambda: metric_sum(chain, CONTROL) or None)
    assert total == float(CONTROL.metric_value)
