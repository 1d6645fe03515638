"""The audit's real-time reads (``cis_monitoring.audit.real_time``): moto for the whole path, botocore's
Stubber for AWS's paginated answers; the verdicts are the core's, apart from the CIS chain's."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cis_monitoring.audit.aws import Memo, SessionFactory
from cis_monitoring.audit.findings import REQUIRED_FOR_PASS, real_time_links
from cis_monitoring.audit.real_time import DEFAULT_BUS, AwsRuleLookups, RuleCheck, RulePlace, real_time_sites
from cis_monitoring.audit.report import render_chains, render_text
from cis_monitoring.audit.results import ChainResult, CoverageReport
from cis_monitoring.audit.run import audit_chain
from cis_monitoring.core.access import Access
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.detectors import event_rule
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status
from cis_monitoring.program.policies import topic_policy
from cis_monitoring.spec import load_config
from tests.audit.test_audit_unit import (
    ACCOUNT,
    REGION,
    build_compliant,
    group_of,
    inject_error,
    new_session,
)

FORWARDING = "eu-west-1"
RULE = "cis-4-5-realtime"
HOME = RulePlace(REGION)
ELSEWHERE = RulePlace(FORWARDING, delivers=False)


def _put(region: str, specs: tuple[Any, ...], to: dict[str, str]) -> list[str]:
    """The core's registrations as the program makes them (PutRule, PutTargets); the rule ARNs."""
    events = boto3.client("events", region_name=region)
    made = []
    for spec in specs:
        if isinstance(spec, event_rule.RuleSpec):
            made.append(
                events.put_rule(Name=spec.name, EventPattern=json.dumps(spec.pattern), State=spec.state)[
                    "RuleArn"
                ]
            )
            continue
        target: dict[str, Any] = {"Id": spec.target_id, "Arn": to[spec.to]}
        if spec.transformer is not None:
            paths, template = dict(spec.transformer.paths), spec.transformer.template
            target["InputTransformer"] = {"InputPathsMap": paths, "InputTemplate": template}
        if spec.needs_role:
            target["RoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/cis-forward"
        events.put_targets(Rule=spec.rule, Targets=[target])
    return made


def deploy_real_time() -> str:
    """The compliant CIS chain, plus the program's real-time rules (home and forwarding); the topic ARN."""
    setup = build_compliant()
    add_real_time(setup.topic_arn)
    return setup.topic_arn


def add_real_time(topic_arn: str) -> None:
    """The program's real-time rules for CIS 4.5 beside the chain whose topic is ``topic_arn``."""
    home_bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    arns = _put(
        REGION, event_rule.registrations(CIS_4_5, rule_name=RULE, delivers=True), {"topic": topic_arn}
    )
    _put(FORWARDING, event_rule.registrations(CIS_4_5, rule_name=RULE, delivers=False), {"bus": home_bus})
    boto3.client("sns", region_name=REGION).set_topic_attributes(
        TopicArn=topic_arn,
        AttributeName="Policy",
        AttributeValue=topic_policy(topic_arn, ACCOUNT, REGION, arns),
    )


def _chain(
    places: tuple[RulePlace, ...] = (HOME, ELSEWHERE), session: boto3.Session | None = None
) -> ChainResult:
    sessions = SessionFactory(session or new_session())
    return audit_chain(
        group_of(), Access(ACCOUNT), sessions, [CIS_4_5], account_name="sandbox", real_time=places
    )


def _verdicts(chain: ChainResult) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {place: (str(r.status), r.codes) for place, [r] in chain.real_time.items()}


def test_without_real_time_nothing_is_read_or_reported(aws: None) -> None:
    deploy_real_time()
    chain = _chain(())
    assert chain.real_time == {} and "realTime" not in chain.to_dict()
    assert chain.status == Status.PASS


def test_the_programs_rules_pass_where_they_deliver_and_where_they_forward(aws: None) -> None:
    deploy_real_time()
    chain = _chain()
    assert _verdicts(chain) == {REGION: ("PASS", ()), FORWARDING: ("PASS", ())}
    home = {f["check"]: f for f in chain.to_dict()["realTime"][REGION]["4.5"]["findings"]}
    # Every verdict names what it rests on.
    assert [a["action"] for a in home["real-time rule"]["basis"]] == ["events:ListRules"]
    assert [a["action"] for a in home["real-time target"]["basis"]] == ["events:ListTargetsByRule"]
    assert [a["action"] for a in home["real-time topic policy"]["basis"]] == [
        "sns:GetTopicAttributes",
        "events:ListRules",
    ]
    assert home["real-time subscription"]["ok"] is True
    forwarded = {f["check"]: f for f in chain.to_dict()["realTime"][FORWARDING]["4.5"]["findings"]}
    assert "forwards to event bus" in forwarded["real-time target"]["detail"]
    assert forwarded["real-time topic policy"]["ok"] is None  # judged at the delivery point, not here


def test_the_text_report_shows_the_real_time_rules_apart_from_the_chains(aws: None) -> None:
    deploy_real_time()
    chain = _chain()
    text = render_text(CoverageReport([], {chain.group: chain}, ("4.5",)), width=200)
    section = text.split("Real-time rules (opt-in realTime; not part of the CIS verdict")[1]
    assert f"{REGION}  4.5      PASS" in section and f"{FORWARDING}  4.5      PASS" in section
    assert "forwards to event bus" in section
    # The terminal's chains (what the audit prints above the findings' table) show the same section.
    shown = render_chains(CoverageReport([], {chain.group: chain}, ("4.5",)), 200)
    assert "Real-time rules (opt-in realTime" in shown
    assert f"{REGION}  4.5      PASS" in shown and f"{FORWARDING}  4.5      PASS" in shown
    plain = _chain(())
    assert "Real-time" not in render_text(CoverageReport([], {plain.group: plain}, ("4.5",)), width=200)
    assert "Real-time" not in render_chains(CoverageReport([], {plain.group: plain}, ("4.5",)), 200)


def _transformer_without_who(topic: str) -> None:
    message = event_rule.message(CIS_4_5)
    paths = {k: v for k, v in message.paths.items() if k != "who"}
    boto3.client("events", region_name=REGION).put_targets(
        Rule=RULE,
        Targets=[
            {
                "Id": "topic",
                "Arn": topic,
                "InputTransformer": {
                    "InputPathsMap": paths,
                    "InputTemplate": message.template.replace("<who>", ""),
                },
            }
        ],
    )


BREAKS = [
    (
        "disabled",
        lambda topic: boto3.client("events", region_name=REGION).disable_rule(Name=RULE),
        Code.RULE_DISABLED,
    ),
    (
        "no-target",
        lambda topic: boto3.client("events", region_name=REGION).remove_targets(Rule=RULE, Ids=["topic"]),
        Code.TARGET_NONE,
    ),
    ("message", _transformer_without_who, Code.TARGET_MESSAGE_INCOMPLETE),
    (
        "topic-policy",
        lambda topic: boto3.client("sns", region_name=REGION).set_topic_attributes(
            TopicArn=topic, AttributeName="Policy", AttributeValue=topic_policy(topic, ACCOUNT, REGION)
        ),
        Code.TOPIC_POLICY_NO_EVENTS_ALLOW,
    ),
    (
        "deleted-topic",
        lambda topic: boto3.client("sns", region_name=REGION).delete_topic(TopicArn=topic),
        Code.TARGET_NONE,
    ),
]


@pytest.mark.parametrize(("case", "change", "code"), BREAKS, ids=[b[0] for b in BREAKS])
def test_each_broken_link_is_named_and_the_cis_verdict_stands(
    aws: None, case: str, change: Any, code: Code
) -> None:
    topic = deploy_real_time()
    change(topic)
    chain = _chain((HOME,))
    assert _verdicts(chain) == {REGION: ("FAIL", (code,))}
    if case != "deleted-topic":  # the CIS chain notifies that topic too
        assert chain.status == Status.PASS and chain.intact is True


def test_a_region_without_its_forwarding_rule_fails_with_the_pattern_to_add(aws: None) -> None:
    deploy_real_time()
    boto3.client("events", region_name=FORWARDING).remove_targets(Rule=RULE, Ids=["forward"])
    boto3.client("events", region_name=FORWARDING).delete_rule(Name=RULE)
    [result] = _chain((ELSEWHERE,)).real_time[FORWARDING]
    assert (result.status, result.codes) == (Status.FAIL, (Code.RULE_NONE,))
    assert '"eventName":["CreateTrail"' in result.reasons[0]


def test_an_aws_error_is_the_error_of_the_check_that_read(aws: None) -> None:
    deploy_real_time()
    session = new_session()
    inject_error(session, "before-call.events.ListTargetsByRule", "AccessDeniedException", "not allowed")
    chain = _chain((HOME,), session)
    [result] = chain.real_time[REGION]
    assert result.status == Status.ERROR and result.error is not None
    assert [(f.check, f.ok) for f in result.findings] == [
        ("real-time rule", True),
        ("real-time target", False),
        ("real-time topic policy", None),
        ("real-time subscription", None),
    ]
    assert chain.status == Status.PASS  # the CIS chain's verdict is its own


# ---------------------------------------------------------------- AWS's answers (Stubber)


def test_every_page_of_rules_and_targets_is_read() -> None:
    """AWS pages ListRules and ListTargetsByRule by NextToken (botocore events model, paginators-1.json)."""
    client = boto3.client("events", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    pattern = json.dumps(event_rule.rule_pattern(CIS_4_5))
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{RULE}"
    with Stubber(client) as stub:
        stub.add_response(
            "list_rules",
            {
                "Rules": [{"Name": "other", "Arn": arn + "-other", "ScheduleExpression": "rate(1 day)"}],
                "NextToken": "t",
            },
            {"EventBusName": DEFAULT_BUS},
        )
        stub.add_response(
            "list_rules",
            {
                "Rules": [
                    {
                        "Name": RULE,
                        "Arn": arn,
                        "EventPattern": pattern,
                        "State": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
                        "EventBusName": DEFAULT_BUS,
                    }
                ]
            },
            {"EventBusName": DEFAULT_BUS, "NextToken": "t"},
        )
        stub.add_response(
            "list_targets_by_rule",
            {"Targets": [{"Id": "a", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}], "NextToken": "u"},
            {"Rule": RULE, "EventBusName": DEFAULT_BUS},
        )
        stub.add_response(
            "list_targets_by_rule",
            {"Targets": [{"Id": "forward", "Arn": f"arn:aws:events:eu-west-1:{ACCOUNT}:event-bus/default"}]},
            {"Rule": RULE, "EventBusName": DEFAULT_BUS, "NextToken": "u"},
        )
        lookups = AwsRuleLookups(lambda service, region=None: client, Memo(), HOME)  # type: ignore[arg-type]
        verdict = event_rule.judge(lookups.rules(), lookups, CIS_4_5)
        stub.assert_no_pending_responses()
    assert verdict.ok and verdict.path.rule is not None and verdict.path.rule.name == RULE
    assert "forwards to event bus" in str(verdict.path.trusted)


# ---------------------------------------------------------------- where the stack puts rules


STACK: dict[str, Any] = {
    "accounts": [
        {"id": "111111111111", "name": "sandbox", "trail": {"homeRegion": "eu-west-1", "logGroup": "trail"}}
    ],
    "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
}


def test_the_audit_reads_rules_where_the_program_puts_them() -> None:
    assert real_time_sites(load_config(STACK)) == {}
    with_rules = load_config({**STACK, "realTime": {"regions": ["eu-west-1", "us-east-1"]}})
    assert real_time_sites(with_rules) == {
        ("111111111111", "eu-west-1"): (RulePlace("eu-west-1"), RulePlace("us-east-1", delivers=False))
    }
    central = {"accountId": "111111111111", "region": "eu-west-1", "organizationId": "o-abcdefghij"}
    bus = real_time_sites(load_config({**STACK, "realTime": {"centralBus": central}}))
    assert bus == {
        ("111111111111", "eu-west-1"): (RulePlace("eu-west-1"), RulePlace("eu-west-1", "cis-realtime"))
    }


# ---------------------------------------------------------------- in the findings (reports)


def _pair(account: str, region: str) -> Any:
    """The only fields of a pair ``real_time_links`` reads."""
    return SimpleNamespace(account_id=account, region=region)


def test_the_findings_carry_the_rules_of_their_own_account_and_region(aws: None) -> None:
    deploy_real_time()
    chain = _chain()
    home = real_time_links(chain, CIS_4_5, _pair(ACCOUNT, REGION))
    assert [link.link for link in home] == [f"{check} ({REGION})" for check in RuleCheck]
    assert all(link.status == Status.PASS for link in home)
    assert all(link.basis for link in home if link.link.startswith(str(RuleCheck.RULE)))
    forwarding = real_time_links(chain, CIS_4_5, _pair(ACCOUNT, FORWARDING))
    assert forwarding and all(link.link.endswith(f"({FORWARDING})") for link in forwarding)
    assert real_time_links(chain, CIS_4_5, _pair("999999999999", REGION)) == ()
    # A real-time link can never stand in for a link the CIS verdict needs.
    assert not {link.link for link in (*home, *forwarding)} & set(REQUIRED_FOR_PASS)


def test_a_broken_rule_is_a_failed_link_of_the_finding_not_its_status(aws: None) -> None:
    deploy_real_time()
    boto3.client("events", region_name=REGION).disable_rule(Name=RULE)
    chain = _chain((HOME,))
    links = real_time_links(chain, CIS_4_5, _pair(ACCOUNT, REGION))
    assert links[0].status == Status.FAIL and links[0].link == f"{RuleCheck.RULE} ({REGION})"
    assert chain.status == Status.PASS  # CIS is judged on the metric filter
