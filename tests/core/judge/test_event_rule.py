"""The core's judgement of a control's real-time rules: each problem it names, and the deepest break."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.detectors import event_rule as kind
from cis_monitoring.core.event_pattern import InputTransformer
from cis_monitoring.core.judge.event_rule import (
    Reached,
    RuleFacts,
    StaticRuleLookups,
    TargetFacts,
    judge_rules,
)
from cis_monitoring.core.judge.facts import SubscriptionFacts, TopicFacts
from cis_monitoring.core.judge.resource_policies import events_topic_statement
from cis_monitoring.core.problems import Code, Link
from cis_monitoring.core.unknown import UNKNOWN

CONTROL = CONTROLS["4.5"]
TOPIC = "arn:aws:sns:us-east-1:111122223333:cis-alarms"
RULE_ARN = "arn:aws:events:us-east-1:111122223333:rule/r"
PATTERN = json.dumps(kind.rule_pattern(CONTROL))
GRANT = {"Version": "2012-10-17", "Statement": [events_topic_statement(TOPIC, [RULE_ARN])]}
CONFIRMED = [SubscriptionFacts("email", "email", confirmed=True)]


def _judge(
    rules: list[RuleFacts] | None = None,
    target: TargetFacts | None = None,
    policy: object = GRANT,
    key: str | None = "alias/cis",
    subscriptions: list[SubscriptionFacts] = CONFIRMED,
):
    rules = rules if rules is not None else [RuleFacts("r", PATTERN, "ENABLED", RULE_ARN)]
    target = target or TargetFacts("topic", TOPIC, transformer=kind.message(CONTROL))
    lookups = StaticRuleLookups(
        targets={"r": [target]},
        topics=[TopicFacts(TOPIC, TOPIC, key, json.dumps(policy) if isinstance(policy, dict) else policy)],
        subscriptions={TOPIC: subscriptions},
    )
    return judge_rules(rules, lookups, CONTROL)


def test_the_programs_own_rule_passes() -> None:
    verdict = _judge()
    assert verdict.ok and verdict.path.rule is not None and verdict.path.subscriptions == tuple(CONFIRMED)


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ([], Code.RULE_NONE),
        # another control's rule is not this control's: no problem of its own, and no rule for 4.5
        ([RuleFacts("r", json.dumps({"detail": {"eventName": ["CreatePolicy"]}}))], Code.RULE_NONE),
        ([RuleFacts("r", PATTERN, "DISABLED", RULE_ARN)], Code.RULE_DISABLED),
        (
            [
                RuleFacts(
                    "r", json.dumps({"detail": {"eventName": ["StopLogging", "DeleteTrail"]}}), arn=RULE_ARN
                )
            ],
            Code.RULE_PATTERN_MISSES,
        ),
        (
            [
                RuleFacts(
                    "r", json.dumps({"detail": {"eventName": [{"suffix": "Trail"}, {"suffix": "Logging"}]}})
                )
            ],
            Code.RULE_PATTERN_UNJUDGED,
        ),
        ([RuleFacts("r", "{not json")], Code.RULE_PATTERN_INVALID),
    ],
    ids=["no-rule", "another-controls-rule", "disabled", "misses", "cannot-judge", "invalid"],
)
def test_rule_problems(rules: list[RuleFacts], code: Code) -> None:
    verdict = _judge(rules)
    assert not verdict.ok and verdict.link == Link.RULE and verdict.codes == (code,)


def test_no_rule_names_the_pattern_to_add() -> None:
    verdict = kind.DETECTOR.judge([], StaticRuleLookups(), CONTROL)
    assert '"eventName":["CreateTrail"' in verdict.summary()


def test_an_anything_but_exclusion_without_exists_false_misses_iam_users() -> None:
    pattern = json.loads(PATTERN)
    pattern["detail"]["userIdentity"] = {
        "sessionContext": {"sessionIssuer": {"arn": [{"anything-but": ["arn:aws:iam::1:role/x"]}]}}
    }
    verdict = _judge([RuleFacts("r", json.dumps(pattern), arn=RULE_ARN)])
    assert verdict.codes == (Code.RULE_PATTERN_MISSES,) and "IAM user" in verdict.summary()


@pytest.mark.parametrize(
    ("target", "code"),
    [
        (
            TargetFacts("topic", TOPIC, input='{"alert": "CloudTrail changed"}'),
            Code.TARGET_MESSAGE_INCOMPLETE,
        ),
        (TargetFacts("topic", TOPIC, input_path="$.detail.eventName"), Code.TARGET_MESSAGE_INCOMPLETE),
        (
            TargetFacts(
                "topic",
                TOPIC,
                transformer=InputTransformer('"<what> happened"', {"what": "$.detail.eventName"}),
            ),
            Code.TARGET_MESSAGE_INCOMPLETE,
        ),
        (
            TargetFacts(
                "topic",
                TOPIC,
                transformer=replace(
                    kind.message(CONTROL),
                    template='{"e": <error>, "w": "<who> <what> <account> <region> <ip> <when>"}',
                ),
            ),
            Code.TARGET_MESSAGE_UNJUDGED,
        ),
        (
            TargetFacts(
                "topic", "arn:aws:sns:us-east-1:111122223333:gone", transformer=kind.message(CONTROL)
            ),
            Code.TARGET_NONE,
        ),
    ],
    ids=[
        "constant-input",
        "partial-input-path",
        "transformer-leaves-out",
        "transformer-unrenderable",
        "no-such-topic",
    ],
)
def test_target_problems(target: TargetFacts, code: Code) -> None:
    verdict = _judge(target=target)
    assert verdict.link == Link.TARGET and verdict.codes == (code,)


@pytest.mark.parametrize(
    "target", [TargetFacts("topic", TOPIC), TargetFacts("topic", TOPIC, input_path="$.detail")]
)
def test_the_whole_event_carries_every_field(target: TargetFacts) -> None:
    assert _judge(target=target).ok


def test_the_missing_fields_are_named() -> None:
    transformer = InputTransformer(
        '"<what> by <who>"', {"what": "$.detail.eventName", "who": "$.detail.userIdentity.arn"}
    )
    summary = _judge(target=TargetFacts("topic", TOPIC, transformer=transformer)).summary()
    assert (
        "whether it failed (errorCode)" in summary
        and "who" not in summary.split("leaves out")[1].split(",")[0]
    )


def _statement(**changes: object) -> dict:
    return {"Version": "2012-10-17", "Statement": [{**events_topic_statement(TOPIC, [RULE_ARN]), **changes}]}


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        (
            _statement(
                Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/other"}}
            ),
            Code.TOPIC_POLICY_NO_EVENTS_ALLOW,
        ),
        (_statement(Principal={"Service": "cloudwatch.amazonaws.com"}), Code.TOPIC_POLICY_NO_EVENTS_ALLOW),
        (
            {
                "Version": "2012-10-17",
                "Statement": [
                    events_topic_statement(TOPIC, [RULE_ARN]),
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sns:Publish",
                        "Resource": TOPIC,
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}},
                    },
                ],
            },
            Code.TOPIC_POLICY_DENIES_EVENTS,
        ),
        (
            _statement(Condition={"StringEquals": {"aws:SourceOwner": "111122223333"}}),
            Code.TOPIC_POLICY_EVENTS_UNDECIDED,
        ),
        ("", Code.TOPIC_POLICY_NONE),
    ],
    ids=["another-rule", "cloudwatch-only", "org-perimeter", "source-owner-undocumented", "no-policy"],
)
def test_topic_policy_problems(policy: object, code: Code) -> None:
    verdict = _judge(policy=policy)
    assert verdict.link == Link.TOPIC and verdict.codes == (code,)


def test_an_aws_managed_key_is_a_problem_for_eventbridge_too() -> None:
    assert _judge(key="alias/aws/sns").codes == (Code.TOPIC_AWS_MANAGED_KEY,)


def test_a_topic_nobody_subscribed_to_reaches_nobody() -> None:
    verdict = _judge(subscriptions=[])
    assert verdict.link == Link.SUBSCRIPTION and verdict.codes == (Code.SUBSCRIPTION_NONE,)


def test_the_deepest_break_is_reported_and_a_working_rule_wins() -> None:
    broken = RuleFacts("broken", PATTERN, "DISABLED", RULE_ARN)
    verdict = _judge([broken, RuleFacts("r", PATTERN, "ENABLED", RULE_ARN)])
    assert verdict.ok and Code.RULE_DISABLED in {p.code for p in verdict.rejected}


def test_preview_values_are_not_held_against_the_rule() -> None:
    rules = [RuleFacts("r", UNKNOWN, UNKNOWN, UNKNOWN)]
    target = TargetFacts("topic", TOPIC, transformer=UNKNOWN)
    assert _judge(rules, target, policy=UNKNOWN).ok


def test_a_rule_arn_not_known_yet_still_renders_the_message() -> None:
    assert _judge([RuleFacts("r", PATTERN, "ENABLED", UNKNOWN)]).ok


class _Forwarding(StaticRuleLookups):
    def reached(self, target: TargetFacts) -> Reached:
        return Reached(trusted="it forwards to the delivery point's bus, judged there")


def test_a_forwarding_rule_is_followed_by_the_adapter() -> None:
    lookups = _Forwarding(
        targets={"r": [TargetFacts("forward", "arn:aws:events:us-east-1:1:event-bus/default")]}
    )
    verdict = judge_rules([RuleFacts("r", PATTERN, arn=RULE_ARN)], lookups, CONTROL)
    assert verdict.ok and verdict.path.trusted
