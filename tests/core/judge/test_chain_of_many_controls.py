"""Every control's filter on one log group: each control's chain is judged on its own filter.

With ``controls: all`` a trail's log group holds fifteen filters. A control whose filter is
missing has no filter, whatever the others are; another control's filter does not count for it
unless it also covers its events.
"""

from __future__ import annotations

import json

import pytest

from cis_monitoring.core.catalog import CONTROLS, Control
from cis_monitoring.core.detectors.metric_filter import registrations
from cis_monitoring.core.judge.chain import StaticLookups, judge_chain
from cis_monitoring.core.judge.facts import AlarmFacts, MetricFilterFacts, SubscriptionFacts, TopicFacts
from cis_monitoring.core.problems import Code, Link

TOPIC = "arn:aws:sns:us-east-1:111111111111:cis-alarms"
POLICY = json.dumps(
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
PLACE = "log group 'trail'"


def _chain(control: Control, pattern: str | None = None) -> tuple[MetricFilterFacts, AlarmFacts]:
    spec_filter, spec_alarm = registrations(
        control, filter_name=f"cis-{control.control_id}", alarm_name=f"cis-{control.control_id}-alarm"
    )
    metric_filter = MetricFilterFacts(
        name=spec_filter.name,
        pattern=pattern or spec_filter.pattern,
        namespace=spec_filter.metric_namespace,
        metric_name=spec_filter.metric_name,
        value=spec_filter.metric_value,
        ref=spec_filter.name,
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
    return metric_filter, alarm


def _group(controls: list[Control]) -> tuple[list[MetricFilterFacts], StaticLookups]:
    chains = [_chain(c) for c in controls]
    lookups = StaticLookups(
        alarms=[alarm for _, alarm in chains],
        topics=[TopicFacts(TOPIC, TOPIC, "alias/cis-alarms", POLICY)],
        subscriptions={TOPIC: [SubscriptionFacts("email", "email", confirmed=True)]},
    )
    return [f for f, _ in chains], lookups


def test_every_control_passes_on_a_group_holding_all_of_them() -> None:
    filters, lookups = _group(list(CONTROLS.values()))
    for control in CONTROLS.values():
        verdict = judge_chain(filters, lookups, control, strict_canonical_text=True, place=PLACE)
        assert verdict.ok, (control.control_id, verdict.summary())
        assert verdict.path.metric_filter is not None
        assert verdict.path.metric_filter.metric_name == control.metric_name
        assert verdict.rejected == (), "the other controls' filters are not problems of this chain"


@pytest.mark.parametrize("missing", list(CONTROLS))
def test_a_missing_filter_is_no_filter_for_that_control_not_a_fault_of_the_others(missing: str) -> None:
    filters, lookups = _group([c for c in CONTROLS.values() if c.control_id != missing])
    verdict = judge_chain(filters, lookups, CONTROLS[missing], place=PLACE)
    assert (verdict.ok, verdict.link, verdict.codes) == (False, Link.FILTER, (Code.FILTER_NONE,))
    assert f"no CloudWatch Logs metric filter for CIS {missing} on {PLACE}" in verdict.summary()


def test_another_controls_filter_counts_if_it_covers_this_control_too() -> None:
    kms, config = CONTROLS["4.7"], CONTROLS["4.9"]
    # 4.7's metric, written by a pattern that also selects every AWS Config event of 4.9.
    both = kms.filter_pattern[:-1] + " || " + config.filter_pattern[1:]
    metric_filter, alarm = _chain(kms, pattern=both)
    lookups = StaticLookups(
        alarms=[alarm],
        topics=[TopicFacts(TOPIC, TOPIC, "alias/cis-alarms", POLICY)],
        subscriptions={TOPIC: [SubscriptionFacts("email", "email", confirmed=True)]},
    )
    assert judge_chain([metric_filter], lookups, config, place=PLACE).ok
    # A filter of its own that is broken is still this control's problem, beside the others.
    own, _ = _chain(config, pattern='{ $.eventSource = "config.amazonaws.com" && $.eventName = "Put*" }')
    filters, lookups = _group([kms])
    verdict = judge_chain([*filters, own], lookups, config, place=PLACE)
    assert not verdict.ok and verdict.codes != (Code.FILTER_NONE,)
    assert all(p.ref == own.ref for p in verdict.problems)
