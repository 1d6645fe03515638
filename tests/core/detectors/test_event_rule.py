"""The real-time kind: each derived rule selects exactly the control's events, as the metric filter does.

The agreement test iterates ``CONTROLS``, so every catalog entry (those added later too) is held to it:
each sample record, wrapped as the EventBridge event that carries it, matches the rule exactly when
it matches the metric filter.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cis_monitoring.core.catalog import CONTROLS, Control
from cis_monitoring.core.detectors import KINDS, REAL_TIME
from cis_monitoring.core.detectors import event_rule as kind
from cis_monitoring.core.event_pattern import (
    InputTransformer,
    Outcome,
    as_event,
    matches,
    message_text,
    render,
)
from cis_monitoring.core.filter_pattern import compile_pattern
from cis_monitoring.core.filter_pattern import matches as filter_matches
from cis_monitoring.core.judge.event_rule import REQUIRED_PATHS, RuleFacts, StaticRuleLookups, TargetFacts
from cis_monitoring.core.judge.facts import SubscriptionFacts, TopicFacts
from cis_monitoring.core.judge.resource_policies import events_topic_statement

WITH_RULES = [c for c in CONTROLS.values() if kind.rule_pattern(c) is not None]
DEPLOYER = "arn:aws:iam::111122223333:role/deployer"


def _records(control: Control):
    return [*control.target_samples(), *control.unrelated_samples(), *control.probe_samples()]


def test_the_kind_is_registered_as_the_real_time_kind() -> None:
    assert KINDS[REAL_TIME] is kind.DETECTOR and REAL_TIME == "event-rule"
    assert CONTROLS["4.5"] in WITH_RULES


@pytest.mark.parametrize("control", WITH_RULES, ids=lambda c: c.control_id)
@pytest.mark.parametrize("quiet_roles", [(), (DEPLOYER,)], ids=["all", "quiet-roles"])
def test_each_rule_selects_exactly_the_filters_events(control: Control, quiet_roles: tuple[str, ...]) -> None:
    pattern = kind.rule_pattern(control, quiet_roles)
    assert pattern is not None
    metric_filter = compile_pattern(control.filter_pattern)
    for sample in _records(control):
        rule = matches(pattern, as_event(sample.record))
        assert rule.outcome != Outcome.CANNOT, (sample.label, rule.why)
        assert rule.matched == filter_matches(metric_filter, sample.record), (sample.label, rule.why)


@pytest.mark.parametrize("control", WITH_RULES, ids=lambda c: c.control_id)
def test_the_agreement_test_can_fail(control: Control) -> None:
    """A rule that forgets one of the names disagrees with the filter on that name's records."""
    pattern = kind.rule_pattern(control)
    assert pattern is not None
    dropped = control.event_names[0]
    pattern["detail"]["eventName"] = [n for n in pattern["detail"]["eventName"] if n != dropped] or [
        "Nothing"
    ]
    metric_filter = compile_pattern(control.filter_pattern)
    disagree = [
        s.label
        for s in _records(control)
        if matches(pattern, as_event(s.record)).matched != filter_matches(metric_filter, s.record)
    ]
    assert disagree


def test_the_quiet_roles_leave_out_only_those_roles_sessions() -> None:
    control = CONTROLS["4.5"]
    pattern = kind.rule_pattern(control, [DEPLOYER])
    assert pattern is not None
    target = control.target_samples()[2].record  # UpdateTrail by an assumed role
    quiet = json.loads(json.dumps(target))
    quiet["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = DEPLOYER
    assert not matches(pattern, as_event(quiet)).matched
    assert matches(pattern, as_event(target)).matched
    assert "sessionContext" not in control.target_samples()[0].record["userIdentity"]  # an IAM user's event
    assert matches(pattern, as_event(control.target_samples()[0].record)).matched


@pytest.mark.parametrize(
    ("control_id", "pattern", "why"),
    [
        (
            "4.1",
            '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
            "more than event names",
        ),
        (
            "4.2",
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
            "more than event names",
        ),
        (
            "4.3",
            '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
            "more than",
        ),
        (
            "4.6",
            '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
            "more than event names",
        ),
        ("4.x", "{ ($.eventName = Create*) }", "more than event names"),
    ],
)
def test_controls_a_rule_cannot_select_exactly_get_none(control_id: str, pattern: str, why: str) -> None:
    control = replace(CONTROLS["4.5"], control_id=control_id, filter_pattern=pattern)
    found = kind.selection(control)
    assert isinstance(found, str) and why in found
    assert kind.rule_pattern(control) is None
    assert kind.registrations(control, rule_name="r", delivers=True) == ()


def test_a_filter_that_names_the_service_gives_it_to_the_rule() -> None:
    control = replace(
        CONTROLS["4.5"],
        filter_pattern="{ ($.eventSource = cloudtrail.amazonaws.com) && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) }",
    )
    chosen = kind.selection(control)
    assert isinstance(chosen, kind.Selection) and chosen.event_source == "cloudtrail.amazonaws.com"


def test_the_4_5_rule_is_the_one_the_events_reference_shows() -> None:
    assert kind.rule_pattern(CONTROLS["4.5"]) == {
        "source": ["aws.cloudtrail"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["cloudtrail.amazonaws.com"],
            "eventName": ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"],
        },
    }


# ---------------------------------------------------------------- the high-risk split


def test_the_4_5_high_risk_rule_selects_exactly_the_blinding_events() -> None:
    control = CONTROLS["4.5"]
    pattern = kind.high_risk_pattern(control)
    assert pattern is not None

    def blinding(record: dict) -> bool:
        parameters = record.get("requestParameters") or {}
        return record.get("eventName") in ("StopLogging", "DeleteTrail") or (
            record.get("eventName") == "UpdateTrail"
            and (
                parameters.get("isMultiRegionTrail") is False
                or parameters.get("cloudWatchLogsLogGroupArn") == ""
            )
        )

    chosen = [s for s in _records(control) if matches(pattern, as_event(s.record)).matched]
    assert [s.label for s in chosen] == [s.label for s in _records(control) if blinding(s.record)]
    names = {s.record["eventName"] for s in chosen}
    assert names == {"StopLogging", "DeleteTrail", "UpdateTrail"}  # the samples hold each kind
    assert not any(
        s.record["eventName"] == "UpdateTrail" and s.record["requestParameters"] == {"name": "myTrail2"}
        for s in chosen
    )


def test_every_high_risk_entry_names_events_of_its_control() -> None:
    for control_id, entry in kind.HIGH_RISK.items():
        control = CONTROLS.get(control_id)
        if control is None:
            continue  # its catalog entry is not in this catalog (yet)
        assert set(entry.names) <= set(control.event_names), control_id
        assert kind.high_risk_pattern(control) is not None


# ---------------------------------------------------------------- what the program registers


def test_the_delivery_point_gets_the_rule_the_message_and_the_high_risk_rule() -> None:
    control = CONTROLS["4.5"]
    specs = kind.registrations(control, rule_name="r", delivers=True, high_risk_rule_name="hr")
    rules = [s for s in specs if isinstance(s, kind.RuleSpec)]
    targets = [s for s in specs if isinstance(s, kind.TargetSpec)]
    assert [(r.name, r.high_risk, r.state) for r in rules] == [
        ("r", False, "ENABLED"),
        ("hr", True, "ENABLED"),
    ]
    assert [(t.rule, t.to, t.needs_role) for t in targets] == [
        ("r", kind.TOPIC, False),
        ("hr", kind.HIGH_RISK_TOPIC, False),
    ]
    assert all(isinstance(t.transformer, InputTransformer) for t in targets)


def test_another_region_forwards_the_raw_event_with_a_role() -> None:
    specs = kind.registrations(CONTROLS["4.5"], rule_name="r", delivers=False, high_risk_rule_name="hr")
    assert [type(s).__name__ for s in specs] == ["RuleSpec", "TargetSpec"]
    forward = specs[1]
    assert isinstance(forward, kind.TargetSpec) and forward.to == kind.BUS and forward.needs_role
    assert forward.transformer is None


def test_the_message_says_who_what_where_when_and_whether_it_failed() -> None:
    control = CONTROLS["4.5"]
    transformer = kind.message(control)
    assert set(REQUIRED_PATHS) <= set(transformer.used_paths())
    denied = next(
        s.record
        for s in control.target_samples()
        if s.record.get("errorCode") and s.record["eventName"] == "StopLogging"
    )
    text = message_text(
        render(transformer, as_event(denied), rule_name="cis-4-5-cloudtrail-changes-realtime")
    )
    for value in (
        denied["userIdentity"]["arn"],
        "StopLogging",
        denied["requestParameters"]["name"],
        denied["recipientAccountId"],
        denied["awsRegion"],
        denied["sourceIPAddress"],
        denied["eventTime"],
        f'"{denied["errorCode"]}"',
        "cis-4-5-cloudtrail-changes-realtime",
    ):
        assert value in text


@pytest.mark.parametrize("control", WITH_RULES, ids=lambda c: c.control_id)
def test_what_the_program_registers_passes_the_judgement_the_pack_and_the_audit_make(
    control: Control,
) -> None:
    specs = kind.registrations(control, rule_name="r", delivers=True)
    [rule] = [s for s in specs if isinstance(s, kind.RuleSpec)]
    [target] = [s for s in specs if isinstance(s, kind.TargetSpec)]
    topic_arn = "arn:aws:sns:us-east-1:111122223333:cis-alarms"
    rule_arn = "arn:aws:events:us-east-1:111122223333:rule/r"
    policy = json.dumps(
        {"Version": "2012-10-17", "Statement": [events_topic_statement(topic_arn, [rule_arn])]}
    )
    lookups = StaticRuleLookups(
        targets={"r": [TargetFacts("topic", topic_arn, transformer=target.transformer)]},
        topics=[TopicFacts(topic_arn, topic_arn, "alias/cis", policy)],
        subscriptions={topic_arn: [SubscriptionFacts("email", "email", confirmed=True)]},
    )
    facts = RuleFacts(rule.name, json.dumps(rule.pattern), rule.state, rule_arn)
    verdict = kind.DETECTOR.judge([facts], lookups, control)
    assert verdict.ok, verdict.summary()
