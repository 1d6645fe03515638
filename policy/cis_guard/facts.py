"""The pack's adapter: a registered resource's properties (pulumi-aws names) as the core's facts.

Only copying and renaming happens here; every judgement is the core's. Unknown values
stay ``UNKNOWN`` (``stack_model.plain`` put them there), so the core never counts them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cis_monitoring.core.aws.arns import LogGroupRef, parse_log_group_arn
from cis_monitoring.core.detectors import metric_filter
from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from cis_monitoring.core.judge.mute_rules import MuteRuleFacts
from cis_monitoring.core.unknown import UNKNOWN, is_unknown

from .stack_model import Resource

PROVIDER = "pulumi:providers:aws"
FILTER = metric_filter.LOG_METRIC_FILTER
ALARM = metric_filter.METRIC_ALARM
TOPIC = "aws:sns/topic:Topic"
MUTE_RULE = "aws:cloudwatch/alarmMuteRule:AlarmMuteRule"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def _transformation(resource: Resource) -> Any:
    transformation = resource.get("metricTransformation")
    if isinstance(transformation, list):  # older provider schemas used a one-element list
        transformation = transformation[0] if transformation else None
    return transformation


def filter_facts(resource: Resource) -> MetricFilterFacts:
    transformation = _transformation(resource)
    if is_unknown(transformation):
        known: dict[str, Any] = dict.fromkeys(
            ("namespace", "name", "value", "dimensions", "unit", "defaultValue"), UNKNOWN
        )
    else:
        known = transformation if isinstance(transformation, dict) else {}
    return MetricFilterFacts(
        name=resource.name,
        pattern=resource.get("pattern"),
        namespace=known.get("namespace"),
        metric_name=known.get("name"),
        value=known.get("value"),
        dimensions=known.get("dimensions"),
        unit=known.get("unit"),
        default_value=known.get("defaultValue"),
        ref=resource.urn,
        # pulumi-aws's LogMetricFilter has applyOnTransformedLogs, but no fieldSelectionCriteria nor
        # emitSystemFieldDimensions input: a stack cannot set those (they keep their "not set" default).
        apply_on_transformed_logs=resource.get("applyOnTransformedLogs"),
    )


def _math_metrics(queries: Any) -> tuple[tuple[Any, Any], ...]:
    if is_unknown(queries):
        return ((UNKNOWN, UNKNOWN),)
    metrics = []
    for query in queries or ():
        metric = query.get("metric") if isinstance(query, dict) else UNKNOWN
        if is_unknown(metric):
            metrics.append((UNKNOWN, UNKNOWN))
        elif isinstance(metric, dict):
            metrics.append((metric.get("namespace"), metric.get("metricName")))
    return tuple(metrics)


def _actions(value: Any) -> Any:
    if is_unknown(value):
        return UNKNOWN
    return tuple(value) if isinstance(value, list) else ()


def alarm_facts(resource: Resource) -> AlarmFacts:
    queries = resource.get("metricQueries")
    uses_math = UNKNOWN if is_unknown(queries) else bool(queries)
    enabled = resource.get("actionsEnabled")
    statistic = resource.get("statistic")
    if statistic is None:
        statistic = resource.get("extendedStatistic")
    return AlarmFacts(
        name=resource.name,
        namespace=resource.get("namespace"),
        metric_name=resource.get("metricName"),
        statistic=statistic,
        period=resource.get("period"),
        threshold=resource.get("threshold"),
        comparison_operator=resource.get("comparisonOperator"),
        evaluation_periods=resource.get("evaluationPeriods"),
        datapoints_to_alarm=resource.get("datapointsToAlarm"),
        actions_enabled=True if enabled is None else enabled,  # the provider's (and AWS's) default
        alarm_actions=_actions(resource.get("alarmActions")),
        treat_missing_data=resource.get("treatMissingData"),
        dimensions=resource.get("dimensions"),
        unit=resource.get("unit"),
        uses_metric_math=uses_math,
        math_metrics=_math_metrics(queries),
        ref=resource.urn,
        # What CloudWatch writes into its notification (a subscription's filter policy may test it).
        description=resource.get("alarmDescription"),
        arn=resource.get("arn"),
        ok_actions=_actions(resource.get("okActions")),
        insufficient_data_actions=_actions(resource.get("insufficientDataActions")),
    )


def topic_facts(resource: Resource, arn: str | None, policies: Sequence[Any] = ()) -> TopicFacts:
    """``policies``: the ``policy`` of each TopicPolicy resource of the stack that sets this topic's policy."""
    return TopicFacts(
        name=resource.name,
        arn=arn,
        kms_master_key_id=resource.get("kmsMasterKeyId"),
        policy=effective_policy(resource.get("policy"), policies),
        ref=resource.urn,
    )


def effective_policy(topic_policy: Any, policies: Sequence[Any]) -> Any:
    """The access policy the topic has after the update, where the stack shows it; else UNKNOWN.

    A TopicPolicy resource sets the topic's ``Policy`` attribute after the topic exists (it needs its
    ARN), so it is what the topic ends up with; without one, the topic's own ``policy`` input is.
    Neither: SNS gives the topic its default policy, unless something outside the stack sets one,
    which the pack cannot see (UNKNOWN: not judged; the audit reads the policy AWS holds). Two
    TopicPolicy resources with different documents: which one AWS keeps is not known (UNKNOWN).
    """
    distinct = list(
        dict.fromkeys(json.dumps(p, sort_keys=True) if isinstance(p, dict) else p for p in policies)
    )
    if len(distinct) > 1:
        return UNKNOWN
    if policies:
        return policies[0]
    return UNKNOWN if topic_policy is None or topic_policy == "" else topic_policy


def subscription_facts(resource: Resource) -> SubscriptionFacts:
    return SubscriptionFacts(
        name=resource.name,
        protocol=resource.get("protocol"),
        # Confirmation happens after deployment (email, https): a policy cannot know it.
        confirmed=None,
        endpoint=resource.get("endpoint"),
        ref=resource.urn,
        # pulumi-aws TopicSubscription: filterPolicy (JSON text) and filterPolicyScope.
        filter_policy=resource.get("filterPolicy"),
        filter_policy_scope=resource.get("filterPolicyScope"),
    )


def mute_rule_facts(resource: Resource) -> MuteRuleFacts:
    """pulumi-aws's AlarmMuteRule: ``muteTargets.alarmNames``, ``rule.schedule`` {expression, duration,
    timezone}, ``startDate``, ``expireDate``; ``status`` is an output (None before the first deploy)."""
    targets = resource.get("muteTargets")
    schedule = (
        (resource.get("rule") or {}).get("schedule") if isinstance(resource.get("rule"), dict) else None
    )
    schedule = schedule if isinstance(schedule, dict) else {}
    return MuteRuleFacts(
        name=resource.name,
        status=resource.get("status"),
        alarm_names=UNKNOWN if is_unknown(targets) else (targets or {}).get("alarmNames"),
        expression=schedule.get("expression"),
        duration=schedule.get("duration"),
        timezone=schedule.get("timezone"),
        mute_type=resource.get("muteType"),
        start_date=resource.get("startDate"),
        expire_date=resource.get("expireDate"),
        ref=resource.urn,
    )


# ---------------------------------------------------------------- a trail the stack manages

TRAIL = "aws:cloudtrail/trail:Trail"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# pulumi-aws's names for CloudTrail's selector fields (the provider's schema lower-cases the first letter).
_CLASSIC = {
    "readWriteType": "ReadWriteType",
    "includeManagementEvents": "IncludeManagementEvents",
    "excludeManagementEventSources": "ExcludeManagementEventSources",
}
_FIELD = {
    "field": "Field",
    "equals": "Equals",
    "startsWith": "StartsWith",
    "endsWith": "EndsWith",
    "notEquals": "NotEquals",
    "notStartsWith": "NotStartsWith",
    "notEndsWith": "NotEndsWith",
}


def trail_log_group(resource: Resource, account: str | None, region: str | None, group_name: Any) -> Any:
    """The trail's ``cloudWatchLogsGroupArn`` as the core's ``LogGroupRef``, or None (no CloudWatch Logs).

    A preview may not know the ARN yet (the group is made in the same stack): then ``group_name``,
    the name of the log group resource the ARN depends on, if the caller found one; else UNKNOWN.
    """
    arn = resource.get("cloudWatchLogsGroupArn")
    if arn is None or arn == "":
        return None
    if not is_unknown(arn):
        return parse_log_group_arn(arn) or UNKNOWN
    if isinstance(group_name, str) and account and region:
        return LogGroupRef(account, region, group_name)
    return UNKNOWN


def trail_selectors(resource: Resource) -> Any:
    """The trail's selectors in GetEventSelectors's shape (what the core's selector judge reads), or UNKNOWN.

    No selectors at all: CloudTrail's default for a trail, every management event, read and write
    (botocore cloudtrail 2013-11-01, PutEventSelectors: "By default, trails created without specific
    event selectors are configured to log all read and write management events").
    """
    classic, advanced = resource.get("eventSelectors"), resource.get("advancedEventSelectors")
    if is_unknown(classic) or is_unknown(advanced):
        return UNKNOWN
    if not classic and not advanced:
        return {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}
    response: dict[str, Any] = {}
    if classic:
        response["EventSelectors"] = [
            {
                aws: selector[key]
                for key, aws in _CLASSIC.items()
                if isinstance(selector, dict) and key in selector
            }
            for selector in classic
        ]
    if advanced:
        response["AdvancedEventSelectors"] = [
            {
                "Name": selector.get("name"),
                "FieldSelectors": [
                    {aws: field[key] for key, aws in _FIELD.items() if key in field}
                    for field in selector.get("fieldSelectors") or ()
                    if isinstance(field, dict)
                ],
            }
            for selector in advanced
            if isinstance(selector, dict)
        ]
    return response
