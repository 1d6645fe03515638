"""The alarm chain on the log group, judged by the core: filter -> alarm -> topic -> subscription.

``AwsLookups`` answers the core judge's look-ups with AWS calls, made only when the walk
gets there, and remembers which check each call belongs to. ``ChainChecks`` runs the
judge once and tells each check's finding from the verdict; an AWS error during the walk
becomes the error of the check whose look-up failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from cis_core.aws.arns import parse_sns_topic_arn
from cis_core.catalog import Control
from cis_core.judge.alarm import sns_actions
from cis_core.judge.chain import ChainPath, ChainVerdict, Notified, judge_chain
from cis_core.judge.coverage import judge
from cis_core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from cis_core.judge.problems import Link, describe
from cis_core.unknown import is_unknown
from verify.chain_facts import alarm_facts, filter_facts, metrics_read, subscription_facts, topic_facts
from verify.checks.outcome import Clients, Outcome, paginate
from verify.locations import AuditLocation
from verify.results import AWS_ERRORS, error_code

CHAIN_CHECKS = {
    Link.FILTER: "filter",
    Link.ALARM: "alarm",
    Link.TOPIC: "topic policy",
    Link.SUBSCRIPTION: "subscription",
}
"""The audit's check of each link, in chain order."""
TOPIC_NOT_FOUND = {"NotFound", "NotFoundException"}


class AwsLookups:
    """The judge's look-ups for one target, from AWS; ``check`` and ``path`` say how far the walk got."""

    def __init__(self, aws: Clients) -> None:
        self.aws = aws
        self.check = CHAIN_CHECKS[Link.FILTER]
        self.path = ChainPath()
        self._alarms: list[dict[str, Any]] | None = None

    def alarms_on(self, metric_filter: MetricFilterFacts) -> Sequence[AlarmFacts]:
        self.check, self.path = CHAIN_CHECKS[Link.ALARM], ChainPath(metric_filter)
        if self._alarms is None:
            # DescribeAlarms, not DescribeAlarmsForMetric: that one returns neither metric-math alarms
            # nor alarms whose dimensions were not asked for, and both must be judged, not missed.
            self._alarms = paginate(
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
                attributes = self._sns(arn).get_topic_attributes(TopicArn=arn).get("Attributes", {})
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
        found = paginate(self._sns(arn), "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn)
        return [subscription_facts(s) for s in found]

    def _sns(self, topic_arn: str) -> Any:
        arn = parse_sns_topic_arn(topic_arn)
        return self.aws("sns", arn.region if arn else None)


class ChainChecks:
    """The four chain checks of one target, from one walk of the core judge."""

    def __init__(self, aws: Clients, target: AuditLocation, control: Control) -> None:
        self.aws, self.target, self.control = aws, target, control
        self._verdict: ChainVerdict | None = None
        self._error: tuple[str, Exception, ChainPath] | None = None

    def _judge(self) -> None:
        if self._verdict is not None or self._error is not None:
            return
        name = self.target.log_group
        found = paginate(self.aws("logs"), "describe_metric_filters", "metricFilters", logGroupName=name)
        filters = [facts for f in found for facts in filter_facts(f)]
        lookups = AwsLookups(self.aws)
        try:
            self._verdict = judge_chain(filters, lookups, self.control, place=f"log group {name!r}")
        except AWS_ERRORS as error:
            self._error = (lookups.check, error, lookups.path)

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
        coverage = judge(str(metric_filter.pattern), control)
        text = "the benchmark's exact text" if coverage.canonical else "text differs from the benchmark's"
        broad = f"too broad: {coverage.explain()}" if coverage.too_broad else "not too broad"
        detail = (
            f"filter {metric_filter.name!r} covers CIS {control.control_id} ({text}; {broad}) ->"
            f" metric {metric_filter.namespace}/{metric_filter.metric_name}"
        )
        others = [p for p in (verdict.rejected if verdict else ()) if p.link == Link.FILTER]
        return detail + (f"; other filters: {describe(others)}" if others else "")
