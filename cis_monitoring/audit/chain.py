"""One log group's alarm chain, judged by the core: log group -> filter -> alarm -> topic -> subscription.

Three parts, in the order a reader needs them:

- the adapter: boto3's answers (DescribeMetricFilters, DescribeAlarms, SNS) as the core's facts
  (``filter_facts``, ``alarm_facts``, ...). Only copying and renaming happens here;
- ``AwsLookups`` answers the core judge's look-ups with AWS calls, made only when the walk gets
  there, and remembers which check each call belongs to;
- ``ChainChecks`` runs the judge once and tells each check's finding from the verdict; an AWS
  error during the walk becomes the error of the check whose look-up failed.

Every judgement is the core's (``cis_monitoring.core.judge.chain.judge_chain``), the same one the
policy pack makes from a stack's resources, so the audit and the pack cannot disagree on what
"works" means. The run (``cis_monitoring.audit.run.audit_chain``) walks the checks in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from cis_monitoring.audit.aws import AWS_ERRORS, Clients, Memo, error_code
from cis_monitoring.core.aws.arns import LogGroupRef, parse_arn, parse_sns_topic_arn
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import detector_for
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.judge.alarm import sns_actions
from cis_monitoring.core.judge.chain import ChainPath, ChainVerdict, Notified, judge_chain
from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from cis_monitoring.core.judge.notification import READS as NOTIFICATION_READS
from cis_monitoring.core.judge.pattern import judge_pattern
from cis_monitoring.core.problems import Code, Link, describe
from cis_monitoring.core.unknown import UNKNOWN, is_unknown


class Check(StrEnum):
    """The audit's checks of a chain, in the order a notification travels (a finding names its check)."""

    LOG_GROUP = "log group"
    FILTER = "filter"
    ALARM = "alarm"
    TOPIC = "topic policy"
    SUBSCRIPTION = "subscription"


CHAIN_CHECKS = {
    Link.FILTER: Check.FILTER,
    Link.ALARM: Check.ALARM,
    Link.TOPIC: Check.TOPIC,
    Link.SUBSCRIPTION: Check.SUBSCRIPTION,
}
"""The audit's check of each link the core judges, in chain order."""
CHECKS = (Check.LOG_GROUP, *CHAIN_CHECKS.values())
"""Every check of a chain, in order: the log group exists, then the core's four links."""
NOT_CHECKED = "not checked (an earlier link failed)"

LOG_GROUP_READ = AwsRead("logs", "DescribeLogGroups", ("logGroupName",))


def check_basis(check: Check, control: Control) -> tuple[AwsRead, ...]:
    """The AWS calls and fields ``check``'s verdict rests on, for ``control``'s detector kind."""
    if check == Check.LOG_GROUP:
        return (LOG_GROUP_READ,)
    link = next(link for link, named in CHAIN_CHECKS.items() if named == check)
    return detector_for(control).aws_reads.get(link) or NOTIFICATION_READS.get(link, ())


"""The detail of a check after the first that failed or errored."""
TOPIC_NOT_FOUND = {"NotFound", "NotFoundException"}
ENGINE_ONLY_CODES = {Code.FILTER_PATTERN_NOT_COVERING, Code.FILTER_PATTERN_INVALID}
"""Filter problems that are our engine's view of the pattern alone: AWS's own matcher may overrule them."""
AwsCovers = Callable[[MetricFilterFacts], bool]
"""Whether AWS's matcher covers the control with this filter's pattern (``cis_monitoring.audit.proof_run``)."""


@dataclass
class Outcome:
    """What one check found."""

    ok: bool
    detail: str
    codes: tuple[Code, ...] = ()


# ---------------------------------------------------------------- AWS's answers as the core's facts


def filter_facts(metric_filter: Mapping[str, Any]) -> list[MetricFilterFacts]:
    """One fact per metric transformation of a DescribeMetricFilters entry (AWS allows one; none is possible)."""
    name, pattern = str(metric_filter.get("filterName", "?")), metric_filter.get("filterPattern", "")
    transformations = metric_filter.get("metricTransformations") or [{}]
    return [
        MetricFilterFacts(
            name=name,
            pattern=pattern,
            namespace=t.get("metricNamespace"),
            metric_name=t.get("metricName"),
            value=t.get("metricValue"),
            dimensions=t.get("dimensions"),
            unit=t.get("unit"),
            default_value=t.get("defaultValue"),
            ref=name,
            # DescribeMetricFilters' MetricFilter shape (logs service model, 2014-03-28).
            selection_criteria=metric_filter.get("fieldSelectionCriteria"),
            system_field_dimensions=tuple(metric_filter.get("emitSystemFieldDimensions") or ()),
            apply_on_transformed_logs=metric_filter.get("applyOnTransformedLogs") is True,
            transformer=None,  # not read: where applyOnTransformedLogs is true, the core does not judge it
        )
        for t in transformations
    ]


def _dimensions(dimensions: Any) -> dict[str, Any]:
    return {d.get("Name"): d.get("Value") for d in dimensions or () if isinstance(d, Mapping)}


def math_metrics(alarm: Mapping[str, Any]) -> tuple[tuple[Any, Any], ...]:
    """(namespace, metric name) of each metric a metric-math alarm reads."""
    metrics = []
    for query in alarm.get("Metrics") or ():
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric:
            metrics.append((metric.get("Namespace"), metric.get("MetricName")))
    return tuple(metrics)


def metrics_read(alarm: Mapping[str, Any]) -> set[tuple[Any, Any]]:
    """Every metric the alarm reads, directly or in its metric math (how it is found for a filter)."""
    return {(alarm.get("Namespace"), alarm.get("MetricName")), *math_metrics(alarm)}


def alarm_facts(alarm: Mapping[str, Any]) -> AlarmFacts:
    """A DescribeAlarms ``MetricAlarms`` entry."""
    enabled = alarm.get("ActionsEnabled")
    return AlarmFacts(
        name=str(alarm.get("AlarmName", "?")),
        namespace=alarm.get("Namespace"),
        metric_name=alarm.get("MetricName"),
        statistic=alarm.get("Statistic") or alarm.get("ExtendedStatistic"),
        period=alarm.get("Period"),
        threshold=alarm.get("Threshold"),
        comparison_operator=alarm.get("ComparisonOperator"),
        evaluation_periods=alarm.get("EvaluationPeriods"),
        datapoints_to_alarm=alarm.get("DatapointsToAlarm"),
        actions_enabled=True if enabled is None else enabled,
        alarm_actions=tuple(alarm.get("AlarmActions") or ()),
        treat_missing_data=alarm.get("TreatMissingData"),
        dimensions=_dimensions(alarm.get("Dimensions")),
        unit=alarm.get("Unit"),
        uses_metric_math=bool(alarm.get("Metrics")),
        math_metrics=math_metrics(alarm),
        ref=alarm.get("AlarmArn"),
        description=alarm.get("AlarmDescription"),
        arn=alarm.get("AlarmArn"),
        ok_actions=tuple(alarm.get("OKActions") or ()),
        insufficient_data_actions=tuple(alarm.get("InsufficientDataActions") or ()),
    )


def topic_facts(arn: str, attributes: Mapping[str, Any]) -> TopicFacts:
    """A topic from its GetTopicAttributes ``Attributes``."""
    return TopicFacts(
        name=arn,
        arn=arn,
        kms_master_key_id=attributes.get("KmsMasterKeyId"),
        policy=attributes.get("Policy"),
        ref=arn,
    )


def subscription_facts(
    subscription: Mapping[str, Any], attributes: Mapping[str, Any] | None = None
) -> SubscriptionFacts:
    """A ListSubscriptionsByTopic entry: pending and deleted ones show a status word instead of an ARN.

    ``attributes`` are its GetSubscriptionAttributes ``Attributes`` (read for a confirmed one): its
    ``FilterPolicy`` and ``FilterPolicyScope`` (sns service model, GetSubscriptionAttributesResponse).
    """
    arn = str(subscription.get("SubscriptionArn", ""))
    attributes = attributes or {}
    return SubscriptionFacts(
        name=arn
        if arn.startswith("arn:")
        else f"{subscription.get('Protocol')}:{subscription.get('Endpoint')}",
        protocol=subscription.get("Protocol"),
        confirmed=arn.startswith("arn:"),
        endpoint=subscription.get("Endpoint"),
        ref=arn or None,
        filter_policy=attributes.get("FilterPolicy"),
        filter_policy_scope=attributes.get("FilterPolicyScope"),
    )


def _plain(value: Any) -> Any:
    """A fact's value as JSON holds it (tuples as lists; anything odd as its text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def chain_evidence(path: ChainPath, group: LogGroupRef, lookups: AwsLookups) -> dict[Check, dict[str, Any]]:
    """What AWS answered for each check the walk reached, for auditors: the deployed filter text, the
    alarm's settings, the topic's policy and key, and every subscription the topic lists (pending ones
    too) with its state and filter policy."""
    found: dict[Check, dict[str, Any]] = {
        Check.LOG_GROUP: {"logGroup": group.name, "accountId": group.account_id, "region": group.region}
    }
    deployed = path.metric_filter
    if deployed is not None:
        found[Check.FILTER] = _plain(
            {
                "filterName": deployed.name,
                "filterPattern": deployed.pattern,
                "metricNamespace": deployed.namespace,
                "metricName": deployed.metric_name,
                "metricValue": deployed.value,
                "dimensions": deployed.dimensions,
                "defaultValue": deployed.default_value,
            }
        )
    alarm = path.alarm
    if alarm is not None:
        found[Check.ALARM] = _plain(
            {
                "alarmName": alarm.name,
                "alarmArn": alarm.arn,
                "namespace": alarm.namespace,
                "metricName": alarm.metric_name,
                "statistic": alarm.statistic,
                "period": alarm.period,
                "threshold": alarm.threshold,
                "comparisonOperator": alarm.comparison_operator,
                "evaluationPeriods": alarm.evaluation_periods,
                "datapointsToAlarm": alarm.datapoints_to_alarm,
                "treatMissingData": alarm.treat_missing_data,
                "actionsEnabled": alarm.actions_enabled,
                "alarmActions": alarm.alarm_actions,
                "usesMetricMath": alarm.uses_metric_math,
            }
        )
    topic = path.topic
    if topic is not None:
        found[Check.TOPIC] = _plain(
            {"topicArn": topic.arn, "kmsMasterKeyId": topic.kms_master_key_id, "policy": topic.policy}
        )
        listed = lookups.subscriptions.get(str(topic.arn))
        every = (
            [subscription_facts(s, lookups.attributes.get(str(s.get("SubscriptionArn")))) for s in listed]
            if listed is not None
            else list(path.subscriptions)
        )
        found[Check.SUBSCRIPTION] = {
            "topicArn": _plain(topic.arn),
            "subscriptions": [
                _plain(
                    {
                        "subscription": s.name,
                        "protocol": s.protocol,
                        "endpoint": s.endpoint,
                        "confirmed": s.confirmed,
                        "filterPolicy": s.filter_policy,
                        "filterPolicyScope": s.filter_policy_scope,
                    }
                )
                for s in every
            ],
        }
    return found


# ---------------------------------------------------------------- the judge's look-ups and the checks


class AwsLookups:
    """The judge's look-ups for one chain, from AWS; ``check`` and ``path`` say how far the walk got."""

    def __init__(self, aws: Clients, memo: Memo) -> None:
        self.aws, self.memo = aws, memo
        self.check: Check = CHAIN_CHECKS[Link.FILTER]
        self.path = ChainPath()
        self._alarms: list[dict[str, Any]] | None = None
        self.subscriptions: dict[str, list[dict[str, Any]]] = {}
        """Topic ARN -> its ListSubscriptionsByTopic entries as AWS gave them (for the proofs)."""
        self.attributes: dict[str, Mapping[str, Any]] = {}
        """Subscription ARN -> its GetSubscriptionAttributes ``Attributes`` (for the emulator flag)."""

    def alarms_on(self, metric_filter: MetricFilterFacts) -> Sequence[AlarmFacts]:
        self.check, self.path = CHAIN_CHECKS[Link.ALARM], ChainPath(metric_filter)
        if self._alarms is None:
            # DescribeAlarms, not DescribeAlarmsForMetric: that one returns neither metric-math alarms
            # nor alarms whose dimensions were not asked for, and both must be judged, not missed.
            self._alarms = self.memo.paginate(
                self.aws("cloudwatch"), "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"]
            )
        wanted = (metric_filter.namespace, metric_filter.metric_name)
        return [alarm_facts(a) for a in self._alarms if wanted in metrics_read(a)]

    def notified_topics(self, alarm: AlarmFacts) -> Notified:
        self.check = CHAIN_CHECKS[Link.TOPIC]
        self.path = ChainPath(self.path.metric_filter, alarm)
        topics, missing = [], []
        for arn in dict.fromkeys(a for a in sns_actions(alarm) if not is_unknown(a)):
            try:
                answer = self.memo.call(self._sns(arn), "get_topic_attributes", TopicArn=arn)
                attributes = answer.get("Attributes", {})
            except ClientError as error:
                if error_code(error) not in TOPIC_NOT_FOUND:
                    raise
                missing.append(arn)
                continue
            topics.append(topic_facts(arn, attributes))
        return Notified(tuple(topics), tuple(missing), "does not exist (SNS says NotFound)")

    def subscriptions_of(self, topic: TopicFacts) -> Sequence[SubscriptionFacts]:
        self.check = CHAIN_CHECKS[Link.SUBSCRIPTION]
        self.path = ChainPath(self.path.metric_filter, self.path.alarm, topic)
        arn = str(topic.arn)
        found = self.memo.paginate(
            self._sns(arn), "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn
        )
        self.subscriptions[arn] = found
        return [subscription_facts(s, self._attributes(s)) for s in found]

    def _attributes(self, subscription: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """A confirmed subscription's attributes (its filter policy); a pending one has none to read."""
        arn = str(subscription.get("SubscriptionArn", ""))
        if not arn.startswith("arn:"):
            return None
        where = parse_arn(arn)
        client = self.aws("sns", where.region if where is not None and where.region else None)
        answer = self.memo.call(client, "get_subscription_attributes", SubscriptionArn=arn)
        attributes: Mapping[str, Any] = answer.get("Attributes", {})
        self.attributes[arn] = attributes
        return attributes

    def raw_alarm(self, alarm: AlarmFacts) -> Mapping[str, Any] | None:
        """The DescribeAlarms entry of ``alarm`` (what the drill starts from)."""
        return next((a for a in self._alarms or () if a.get("AlarmArn") == alarm.ref), None)

    def _sns(self, topic_arn: str) -> Any:
        arn = parse_sns_topic_arn(topic_arn)
        return self.aws("sns", arn.region if arn else None)


class ChainChecks:
    """The checks of one log group's chain for one control, from one walk of the core judge.

    ``aws_covers`` (the proofs' matcher, when it runs) may overrule our engine: a filter the
    engine rejects only for its pattern, but which AWS's own matcher finds covering, is
    judged again with its pattern trusted, and the filter finding says that they disagree.
    """

    def __init__(
        self, aws: Clients, group: LogGroupRef, control: Control, memo: Memo, aws_covers: AwsCovers | None
    ) -> None:
        self.aws, self.group, self.control, self.memo = aws, group, control, memo
        self.aws_covers = aws_covers
        self.lookups = AwsLookups(aws, self.memo)
        self.overruled: set[str] = set()
        """Filters whose pattern our engine rejects and AWS's matcher accepts."""
        self._verdict: ChainVerdict | None = None
        self._error: tuple[Check, Exception, ChainPath] | None = None

    @property
    def verdict(self) -> ChainVerdict | None:
        """The core's verdict (None until judged, or when an AWS error ended the walk)."""
        return self._verdict

    def log_group(self) -> Outcome:
        """The log group exists (else the ResourceNotFoundException AWS gives for a missing group)."""
        name, group = self.group.name, self.group
        groups = self.memo.paginate(
            self.aws("logs"), "describe_log_groups", "logGroups", logGroupNamePrefix=name
        )
        if not any(g.get("logGroupName") == name for g in groups):
            # DescribeLogGroups answers an empty list, not an error: report it as the API would.
            where = f"account {group.account_id} region {group.region}"
            error = {
                "Code": "ResourceNotFoundException",
                "Message": f"log group {name!r} does not exist in {where}",
            }
            raise ClientError({"Error": error}, "DescribeLogGroups")
        return Outcome(True, f"log group {name!r} exists")

    def _judge(self) -> None:
        if self._verdict is not None or self._error is not None:
            return
        name = self.group.name
        try:
            found = self.memo.paginate(
                self.aws("logs"), "describe_metric_filters", "metricFilters", logGroupName=name
            )
            filters = [facts for f in found for facts in filter_facts(f)]
            verdict = judge_chain(filters, self.lookups, self.control, place=f"log group {name!r}")
            if not verdict.ok and verdict.link == Link.FILTER and self.aws_covers is not None:
                verdict = self._ask_aws(filters, verdict)
            self._verdict = verdict
        except AWS_ERRORS as error:
            self._error = (self.lookups.check, error, self.lookups.path)

    def _ask_aws(self, filters: list[MetricFilterFacts], verdict: ChainVerdict) -> ChainVerdict:
        """The verdict with AWS's matcher as the judge of patterns our engine alone rejects."""
        assert self.aws_covers is not None
        engine_only = {
            p.ref for p in verdict.rejected if p.link == Link.FILTER and p.code in ENGINE_ONLY_CODES
        }
        self.overruled = {f.name for f in filters if f.ref in engine_only and self.aws_covers(f)}
        if not self.overruled:
            return verdict
        trusted = [replace(f, pattern=UNKNOWN) if f.name in self.overruled else f for f in filters]
        self.lookups = AwsLookups(self.aws, self.memo)
        again = judge_chain(trusted, self.lookups, self.control, place=f"log group {self.group.name!r}")
        if again.path.metric_filter is not None and again.path.metric_filter.name in self.overruled:
            # Keep the deployed text in the path (the trusted copy carries UNKNOWN).
            original = next(f for f in filters if f.name == again.path.metric_filter.name)
            again = replace(again, path=replace(again.path, metric_filter=original))
        return again

    def outcome(self, link: Link) -> Outcome:
        """The finding of ``link``'s check (raises the AWS error of a look-up made for it)."""
        self._judge()
        if self._error is not None:
            check, error, path = self._error
            if check == CHAIN_CHECKS[link]:
                raise error
            return Outcome(True, self._passed(link, path, None))
        verdict = self._verdict
        assert verdict is not None
        if verdict.link == link:
            return Outcome(False, verdict.summary(), codes=verdict.codes)
        return Outcome(True, self._passed(link, verdict.path, verdict))

    def _passed(self, link: Link, path: ChainPath, verdict: ChainVerdict | None) -> str:
        """What a check that passed saw, from the (working or partial) path."""
        if link == Link.FILTER:
            return self._filter_detail(path.metric_filter, verdict)
        if link == Link.ALARM and path.alarm is not None:
            where = path.trusted or ", ".join(sns_actions(path.alarm))
            return f"alarm {path.alarm.name!r} fires on one event and notifies {where}"
        if link == Link.TOPIC and path.topic is not None:
            return f"topic {path.topic.name} lets CloudWatch publish"
        if link == Link.SUBSCRIPTION and path.topic is not None:
            protocols = ", ".join(sorted({str(s.protocol) for s in path.subscriptions}))
            return f"topic {path.topic.name} has {len(path.subscriptions)} confirmed subscription(s) ({protocols})"
        return "passed"

    def _filter_detail(self, metric_filter: MetricFilterFacts | None, verdict: ChainVerdict | None) -> str:
        if metric_filter is None:
            return "passed"
        control = self.control
        coverage = judge_pattern(str(metric_filter.pattern), control)
        metric = f" -> metric {metric_filter.namespace}/{metric_filter.metric_name}"
        if metric_filter.name in self.overruled:
            return (
                f"filter {metric_filter.name!r}: AWS's matcher covers CIS {control.control_id}; our engine"
                f" disagrees ({coverage.explain()}){metric}"
            )
        text = "the benchmark's exact text" if coverage.canonical else "text differs from the benchmark's"
        broad = f"too broad: {coverage.explain()}" if coverage.too_broad else "not too broad"
        detail = f"filter {metric_filter.name!r} covers CIS {control.control_id} ({text}; {broad}){metric}"
        others = [p for p in (verdict.rejected if verdict else ()) if p.link == Link.FILTER]
        return detail + (f"; other filters: {describe(others)}" if others else "")
