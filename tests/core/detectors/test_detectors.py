"""Detector kinds: every catalog kind has one, and what the program registers passes the core's own judgement."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cis_monitoring.core.catalog import CONTROLS, DETECTORS, Control
from cis_monitoring.core.detectors import KINDS, detector_for
from cis_monitoring.core.detectors.metric_filter import AlarmSpec, MetricFilterSpec
from cis_monitoring.core.judge.chain import StaticLookups
from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from cis_monitoring.core.problems import Code

TOPIC = "arn:aws:sns:us-east-1:111111111111:cis-alarms"
TOPIC_POLICY = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": TOPIC,
            }
        ]
    }
)


def test_the_catalog_names_exactly_the_detector_kinds() -> None:
    assert set(DETECTORS) == set(KINDS)
    assert all(detector_for(control).kind == control.detector for control in CONTROLS.values())


def _facts(control: Control, spec_filter: MetricFilterSpec, spec_alarm: AlarmSpec):
    metric_filter = MetricFilterFacts(
        name=spec_filter.name,
        pattern=spec_filter.pattern,
        namespace=spec_filter.metric_namespace,
        metric_name=spec_filter.metric_name,
        value=spec_filter.metric_value,
    )
    alarm = AlarmFacts(
        name=spec_alarm.name,
        namespace=spec_alarm.namespace,
        metric_name=spec_alarm.metric_name,
        statistic=spec_alarm.statistic,
        period=spec_alarm.period,
        threshold=spec_alarm.threshold,
        comparison_operator=spec_alarm.comparison_operator,
        evaluation_periods=spec_alarm.evaluation_periods,
        treat_missing_data=spec_alarm.treat_missing_data,
        alarm_actions=(TOPIC,),
    )
    lookups = StaticLookups(
        alarms=[alarm],
        topics=[TopicFacts(TOPIC, TOPIC, "alias/cis-alarms", TOPIC_POLICY)],
        subscriptions={TOPIC: [SubscriptionFacts("email", "email", confirmed=True)]},
    )
    return metric_filter, lookups


@pytest.mark.parametrize("control", list(CONTROLS.values()), ids=lambda c: c.control_id)
def test_what_the_program_registers_passes_the_judgement_the_pack_and_the_audit_make(
    control: Control,
) -> None:
    detector = detector_for(control)
    spec_filter, spec_alarm = detector.registrations(control, filter_name="f", alarm_name="a")
    metric_filter, lookups = _facts(control, spec_filter, spec_alarm)
    verdict = detector.judge([metric_filter], lookups, control, strict_canonical_text=True)
    assert verdict.ok, verdict.summary()
    assert spec_filter.pattern == control.filter_pattern  # byte-identical to the catalog's text


def test_the_judgement_would_catch_an_alarm_on_another_metric() -> None:
    control = CONTROLS["4.5"]
    detector = detector_for(control)
    spec_filter, spec_alarm = detector.registrations(control, filter_name="f", alarm_name="a")
    metric_filter, lookups = _facts(control, spec_filter, replace(spec_alarm, metric_name="Other"))
    verdict = detector.judge([metric_filter], lookups, control)
    assert not verdict.ok and verdict.codes == (Code.ALARM_NONE,)


def test_every_aws_read_names_its_iam_action() -> None:
    for detector in KINDS.values():
        reads = [read for link_reads in detector.aws_reads.values() for read in link_reads]
        assert reads and all(":" in read.action and read.fields for read in reads)
