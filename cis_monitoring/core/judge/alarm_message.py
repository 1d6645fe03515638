"""The SNS message CloudWatch publishes when an alarm goes to ALARM, built from the alarm's facts.

A subscription filter policy is judged against this message (``filter_policy.judge_message``).
Its shape, as AWS's own test data and a message captured from CloudWatch in 2025 show it
(aws/aws-lambda-go ``events/testdata/cloudwatch-alarm-sns-payload-single-metric.json``, which
also shows ``"MessageAttributes": {}``: CloudWatch sets no message attributes)::

    {"AlarmName": "...", "AlarmDescription": "..." | null, "AWSAccountId": "123456789012",
     "AlarmConfigurationUpdatedTimestamp": "2025-02-02T11:48:52.788+0000",
     "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed: ...",
     "StateChangeTime": "2025-02-02T12:06:35.472+0000", "Region": "Asia Pacific (Tokyo)",
     "AlarmArn": "arn:aws:cloudwatch:...:alarm:...", "OldStateValue": "INSUFFICIENT_DATA",
     "OKActions": [...], "AlarmActions": [...], "InsufficientDataActions": [],
     "Trigger": {"MetricName": "...", "Namespace": "...", "StatisticType": "Statistic",
                 "Statistic": "SUM", "Unit": null, "Dimensions": [{"value": "...", "name": "..."}],
                 "Period": 60, "EvaluationPeriods": 1, "ComparisonOperator": "...",
                 "Threshold": 1.0, "TreatMissingData": "missing",
                 "EvaluateLowSampleCountPercentile": ""}}

What CloudWatch sets anew per notification (times, the reason, the state it leaves) is a
``Varies``; so is what the sources render differently (``TreatMissingData`` was once
``"- TreatMissingData:  missing"``) or do not show (a statistic other than SUM or AVERAGE,
``DatapointsToAlarm``). A policy that tests those is not judged, never passed.
"""

from __future__ import annotations

from typing import Any

from cis_monitoring.core.aws.arns import parse_arn
from cis_monitoring.core.aws.region_names import long_name
from cis_monitoring.core.unknown import UNKNOWN, is_unknown

from .facts import AlarmFacts
from .filter_policy import Varies

NEW_STATE = "ALARM"
OLD_STATES = ("OK", "INSUFFICIENT_DATA")
"""The states an alarm can leave for ALARM (a real breach from either; a drill too)."""
STATISTICS = {"Sum": "SUM", "Average": "AVERAGE"}
"""How the message writes a statistic, for those the sources show."""


def _known(value: Any) -> Any:
    """``value`` as JSON would carry it; UNKNOWN when it (or a part) is a preview value."""
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, list | tuple):
        items = [_known(v) for v in value]
        return UNKNOWN if any(is_unknown(v) for v in items) else items
    return value


def _actions(actions: Any) -> Any:
    return [] if actions is None else _known(actions)


def _dimensions(dimensions: Any) -> Any:
    if is_unknown(dimensions):
        return UNKNOWN
    pairs = dict(dimensions or {})
    if any(is_unknown(v) for v in pairs.values()):
        return UNKNOWN
    return [{"value": value, "name": name} for name, value in pairs.items()]


def alarm_message(alarm: AlarmFacts) -> dict[str, Any]:
    """The JSON body of ``alarm``'s notification on going to ALARM (``Varies`` where it varies)."""
    arn = alarm.arn
    parsed = parse_arn(arn)
    account: Any
    region_name: Any
    if is_unknown(arn):
        account = region_name = UNKNOWN
    elif parsed is None:
        account, region_name = Varies("the alarm's account"), Varies("the alarm's Region")
    else:
        account = parsed.account
        region_name = long_name(parsed.region) or Varies(f"the long name of Region {parsed.region}")
    statistic = alarm.statistic
    shown_statistic: Any = (
        UNKNOWN if is_unknown(statistic) else STATISTICS.get(str(statistic)) or Varies("the statistic")
    )
    threshold = alarm.threshold
    datapoints = alarm.datapoints_to_alarm
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": _known(alarm.description),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": Varies("CloudWatch (the time of the last change)"),
        "NewStateValue": NEW_STATE,
        "NewStateReason": Varies("CloudWatch (the reason)"),
        "StateChangeTime": Varies("CloudWatch (the time)"),
        "Region": region_name,
        "AlarmArn": Varies("the alarm's ARN") if arn is None else _known(arn),
        "OldStateValue": Varies("OldStateValue", OLD_STATES),
        "OKActions": _actions(alarm.ok_actions),
        "AlarmActions": _actions(alarm.alarm_actions),
        "InsufficientDataActions": _actions(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": _known(alarm.metric_name),
            "Namespace": _known(alarm.namespace),
            "StatisticType": "Statistic",
            "Statistic": shown_statistic,
            "Unit": _known(alarm.unit),
            "Dimensions": _dimensions(alarm.dimensions),
            "Period": _known(alarm.period),
            "EvaluationPeriods": _known(alarm.evaluation_periods),
            "DatapointsToAlarm": (
                Varies("DatapointsToAlarm (whether it is written when unset)", present=False)
                if datapoints is None
                else _known(datapoints)
            ),
            "ComparisonOperator": _known(alarm.comparison_operator),
            "Threshold": float(threshold) if isinstance(threshold, int | float) else _known(threshold),
            "TreatMissingData": Varies("CloudWatch (its rendering of treatMissingData)"),
            "EvaluateLowSampleCountPercentile": "",
        },
    }
