"""The policy pack through the real analyzer protocol, on stacks the real program registers.

The pack runs in its own process, started as the Pulumi CLI starts it. The stacks
are what ``__main__.py`` registered under mocks for the dev and prod configs, then
mutated link by link.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.protobuf import json_format

from cis_monitoring.core.catalog import CIS_4_5
from local.analyzer_client import (
    PolicyPackServer,
    Violation,
    stack_resources,
    to_analyzer_resource,
    without_no_trail_notes,
)
from local.program_harness import ProgramRun, Registration, decode_provider_inputs, run_program, stack_config

pytestmark = pytest.mark.protocol

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
PREVIEW_UNKNOWNS = {
    ALARM: ["alarmActions", "arn"],
    TOPIC: ["arn"],
    SUBSCRIPTION: ["topic", "arn"],
    "aws:sns/topicPolicy:TopicPolicy": ["arn", "policy"],
    "aws:kms/alias:Alias": ["targetKeyId"],
}


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    run = run_program(stack_config("dev")[0], stack="dev")
    assert run.error is None
    return run


@pytest.fixture(scope="module")
def prod_run() -> ProgramRun:
    from tests.conftest import PAGER_URL

    config = stack_config("prod")[0]
    config["pagerEndpoint"] = PAGER_URL
    run = run_program(config, stack="prod", secret_keys=["pagerEndpoint"])
    assert run.error is None
    return run


def mandatory(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.level == "mandatory"]


def of_policy(violations: list[Violation], name: str) -> list[Violation]:
    return [v for v in violations if v.policy == name]


def no_preview_downgrade(violations: list[Violation]) -> None:
    assert not [v for v in violations if "during preview" in v.message], violations


def target(run: ProgramRun, resource: Registration) -> tuple[str, str]:
    provider = decode_provider_inputs(run.provider_for(resource).inputs)
    return provider["allowedAccountIds"][0], provider["region"]


def mutated(run: ProgramRun, change: Callable[[ProgramRun], None]) -> ProgramRun:
    copied = copy.deepcopy(run)
    change(copied)
    return copied


def in_target(account: str, region: str) -> Callable[[ProgramRun, Registration], bool]:
    return lambda run, r: (
        r.custom and r.type != "pulumi:providers:aws" and target(run, r) == (account, region)
    )


def drop(type_: str, account: str, region: str) -> Callable[[ProgramRun], None]:
    def change(run: ProgramRun) -> None:
        run.resources = [
            r for r in run.resources if not (r.type == type_ and in_target(account, region)(run, r))
        ]

    return change


def set_input(type_: str, account: str, region: str, **values: Any) -> Callable[[ProgramRun], None]:
    def change(run: ProgramRun) -> None:
        hit = False
        for r in run.resources:
            if r.type == type_ and in_target(account, region)(run, r):
                r.inputs.update(values)
                r.outputs.update(values)
                hit = True
        assert hit, (type_, account, region)

    return change


# --- the pack itself ---------------------------------------------------------------------------


def test_pack_describes_its_policies_and_levels(pack: PolicyPackServer) -> None:
    info = pack.info()
    assert info.name == "cis-monitoring-guard"
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels["cis-monitoring-chain"] == 1  # MANDATORY
    assert levels["cis-metric-filter-covers-control"] == 1
    assert levels["cis-filter-canonical-text"] == 0  # ADVISORY
    chain = next(p for p in info.policies if p.name == "cis-monitoring-chain")
    schema = json_format.MessageToDict(chain.configSchema.properties)
    assert {"strictCanonicalText", "allowedExternalTopicArns", "requiredTargets", "controls"} <= set(schema)


# --- compliant stacks --------------------------------------------------------------------------


@pytest.mark.parametrize("run_name", ["dev_run", "prod_run"])
def test_program_stacks_pass_with_no_violation(
    run_name: str, pack: PolicyPackServer, request: pytest.FixtureRequest
) -> None:
    run: ProgramRun = request.getfixturevalue(run_name)
    pack.configure({})
    assert without_no_trail_notes(pack.analyze_stack(stack_resources(run))) == []
    for resource in stack_resources(run):
        assert pack.analyze(resource) == [], resource.name


def test_prod_stack_passes_the_strict_prod_pack_config(prod_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure(json.loads((pack_config_dir() / "prod.json").read_text()))
    assert without_no_trail_notes(pack.analyze_stack(stack_resources(prod_run))) == []


def test_preview_unknowns_do_not_degrade_or_break_a_compliant_stack(
    prod_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({})
    violations = pack.analyze_stack(stack_resources(prod_run, unknown=PREVIEW_UNKNOWNS))
    assert without_no_trail_notes(violations) == []
    for resource in stack_resources(prod_run, unknown=PREVIEW_UNKNOWNS):
        assert pack.analyze(resource) == []


# --- each broken link --------------------------------------------------------------------------

# The chain the rows break: the prod stack's organization-trail chain, in its owner's home Region.
ACCOUNT, REGION = (stack_config("prod")[0]["organizationTrail"][k] for k in ("accountId", "homeRegion"))
WEAK_PATTERN = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }"

BROKEN_LINKS: list[tuple[str, Callable[[ProgramRun], None], str]] = [
    (
        "alarm dropped",
        drop(ALARM, ACCOUNT, REGION),
        "no CloudWatch alarm on metric CISBenchmark/CloudTrailConfigChanges",
    ),
    ("filter dropped", drop(FILTER, ACCOUNT, REGION), "no CloudWatch Logs metric filter for CIS 4.5"),
    (
        "pattern weakened",
        set_input(FILTER, ACCOUNT, REGION, pattern=WEAK_PATTERN),
        "does not cover CIS 4.5: it misses StopLogging",
    ),
    (
        "&& instead of ||",
        set_input(FILTER, ACCOUNT, REGION, pattern=CIS_4_5.filter_pattern.replace("||", "&&")),
        "does not cover CIS 4.5: it misses CreateTrail, UpdateTrail, DeleteTrail, StartLogging, StopLogging",
    ),
    (
        "extra narrowing condition",
        set_input(
            FILTER, ACCOUNT, REGION, pattern=CIS_4_5.filter_pattern[:-1] + "&& ($.errorCode NOT EXISTS) }"
        ),
        "does not cover CIS 4.5",
    ),
    (
        "subscriptions removed",
        drop(SUBSCRIPTION, ACCOUNT, REGION),
        "has no subscription with an allowed protocol",
    ),
    (
        "alarm on another metric",
        set_input(ALARM, ACCOUNT, REGION, metricName="CloudTrailChanges"),
        "no CloudWatch alarm on metric CISBenchmark/CloudTrailConfigChanges",
    ),
    (
        "alarm in another namespace",
        set_input(ALARM, ACCOUNT, REGION, namespace="CIS"),
        "no CloudWatch alarm on metric",
    ),
    (
        "alarm averages",
        set_input(ALARM, ACCOUNT, REGION, statistic="Average"),
        "cannot notify on one event: statistic is 'Average'",
    ),
    (
        "alarm threshold 5",
        set_input(ALARM, ACCOUNT, REGION, threshold=5),
        "GreaterThanOrEqualToThreshold 5 never fires on one event",
    ),
    (
        "alarm needs 3 periods",
        set_input(ALARM, ACCOUNT, REGION, evaluationPeriods=3),
        "it needs 3 breaching periods",
    ),
    (
        "alarm actions disabled",
        set_input(ALARM, ACCOUNT, REGION, actionsEnabled=False),
        "its actions are disabled",
    ),
    ("alarm without actions", set_input(ALARM, ACCOUNT, REGION, alarmActions=[]), "has no alarm action"),
    (
        "alarm notifies an unknown topic",
        set_input(ALARM, ACCOUNT, REGION, alarmActions=[f"arn:aws:sns:{REGION}:888888888888:elsewhere"]),
        "which is no SNS topic in this stack nor an allowed external topic",
    ),
    (
        "topic on alias/aws/sns",
        set_input(TOPIC, ACCOUNT, REGION, kmsMasterKeyId="alias/aws/sns"),
        "encrypted with alias/aws/sns",
    ),
    (
        "http subscription only",
        set_input(SUBSCRIPTION, ACCOUNT, REGION, protocol="http"),
        "has no subscription with an allowed protocol",
    ),
]


@pytest.mark.parametrize(("case", "change", "expected"), BROKEN_LINKS, ids=[c[0] for c in BROKEN_LINKS])
def test_each_broken_link_is_a_mandatory_violation_naming_account_and_region(
    case: str,
    change: Callable[[ProgramRun], None],
    expected: str,
    prod_run: ProgramRun,
    pack: PolicyPackServer,
) -> None:
    pack.configure({})
    violations = of_policy(
        mandatory(pack.analyze_stack(stack_resources(mutated(prod_run, change)))), "cis-monitoring-chain"
    )
    assert len(violations) == 1, violations
    assert f"account {ACCOUNT} region {REGION}: " in violations[0].message
    assert expected in violations[0].message


@pytest.mark.parametrize(
    ("case", "change", "expected"), BROKEN_LINKS[:6], ids=[c[0] for c in BROKEN_LINKS[:6]]
)
def test_broken_links_still_block_when_values_are_unknown(
    case: str,
    change: Callable[[ProgramRun], None],
    expected: str,
    prod_run: ProgramRun,
    pack: PolicyPackServer,
) -> None:
    pack.configure({})
    violations = pack.analyze_stack(stack_resources(mutated(prod_run, change), unknown=PREVIEW_UNKNOWNS))
    no_preview_downgrade(violations)
    chain = of_policy(mandatory(violations), "cis-monitoring-chain")
    assert (
        len(chain) == 1
        and f"account {ACCOUNT} region {REGION}: " in chain[0].message
        and expected in chain[0].message
    )


def test_an_unknown_pattern_is_not_reported_as_broken(prod_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure({})
    violations = pack.analyze_stack(
        stack_resources(prod_run, unknown={**PREVIEW_UNKNOWNS, FILTER: ["pattern"]})
    )
    assert without_no_trail_notes(violations) == []


def test_a_stack_with_no_chain_at_all_is_blocked(pack: PolicyPackServer) -> None:
    pack.configure({})
    violations = mandatory(pack.analyze_stack([]))
    assert len(violations) == 1 and "deploys into no AWS account and region" in violations[0].message


def test_a_provider_without_monitoring_is_blocked(dev_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure({})
    providers = [r for r in dev_run.resources if r.type == "pulumi:providers:aws"]
    by_urn = dev_run.by_urn()
    violations = mandatory(pack.analyze_stack([to_analyzer_resource(p, by_urn) for p in providers]))
    assert sorted(v.message.split("\n")[-1].split(":")[0] for v in violations) == [
        "account 111111111111 region us-east-1",
        "account 222222222222 region us-east-1",
    ]


def test_required_targets_without_a_provider_are_blocked(dev_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure(
        {"cis-monitoring-chain": {"requiredTargets": [{"accountId": "777777777777", "region": "eu-north-1"}]}}
    )
    violations = mandatory(pack.analyze_stack(stack_resources(dev_run)))
    assert len(violations) == 1
    assert "account 777777777777 region eu-north-1: no CloudWatch Logs metric filter" in violations[0].message


# --- resource policies (they also run before each resource is created during `pulumi up`) ------


def _first(run: ProgramRun, type_: str) -> Registration:
    return next(r for r in run.resources if r.type == type_)


def _analyze_one(pack: PolicyPackServer, run: ProgramRun, type_: str, **values: Any) -> list[Violation]:
    resource = copy.deepcopy(_first(run, type_))
    resource.inputs.update(values)
    resource.outputs.update(values)
    return pack.analyze(to_analyzer_resource(resource, run.by_urn()))


def test_resource_policy_blocks_a_catalog_filter_that_does_not_cover(
    dev_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({})
    violations = _analyze_one(pack, dev_run, FILTER, pattern='{ $.eventName = "CreateTrailX" }')
    assert [v.policy for v in mandatory(violations)] == ["cis-metric-filter-covers-control"]
    assert (
        "it misses CreateTrail, UpdateTrail, DeleteTrail, StartLogging, StopLogging" in violations[0].message
    )


def test_resource_policy_ignores_filters_of_other_metrics(
    dev_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({})
    other = {"name": "Errors", "namespace": "App", "value": "1"}
    assert _analyze_one(pack, dev_run, FILTER, pattern="ERROR", metricTransformation=other) == []


@pytest.mark.parametrize(
    "pattern",
    [
        "{($.eventName=CreateTrail)||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)||($.eventName=StartLogging)||($.eventName=StopLogging)}",
        '{ $.eventName = "StopLogging" || $.eventName = "StartLogging" || $.eventName = "DeleteTrail" || $.eventName = "UpdateTrail" || $.eventName = "CreateTrail" }',
        "{ ($.eventName = CreateTrail) ||\n  ($.eventName = UpdateTrail) ||\n  ($.eventName = DeleteTrail) ||\n  ($.eventName = StartLogging) ||\n  ($.eventName = StopLogging) }",
    ],
    ids=["compact", "reordered-quoted-no-parens", "newlines"],
)
def test_harmless_spellings_pass_with_an_advisory_note_only(
    pattern: str, dev_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({})
    violations = _analyze_one(pack, dev_run, FILTER, pattern=pattern)
    assert [(v.policy, v.level) for v in violations] == [("cis-filter-canonical-text", "advisory")]
    strict = json.loads((pack_config_dir() / "prod.json").read_text())
    pack.configure(strict)
    assert [(v.policy, v.level) for v in _analyze_one(pack, dev_run, FILTER, pattern=pattern)] == [
        ("cis-filter-canonical-text", "mandatory")
    ]


def test_too_broad_patterns_are_advisory(dev_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure({})
    for pattern in ("{ $.eventName = * }", CIS_4_5.filter_pattern.replace("= CreateTrail", "= CreateTrail*")):
        violations = _analyze_one(pack, dev_run, FILTER, pattern=pattern)
        assert ("cis-filter-not-too-broad", "advisory") in [(v.policy, v.level) for v in violations], pattern
        assert not mandatory(violations)


def test_resource_policy_blocks_an_alarm_that_cannot_fire(
    dev_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({})
    violations = _analyze_one(pack, dev_run, ALARM, comparisonOperator="GreaterThanThreshold", threshold=1)
    assert [v.policy for v in mandatory(violations)] == ["cis-alarm-fires-on-one-event"]
    assert "GreaterThanThreshold 1 never fires on one event" in violations[0].message


def test_resource_policy_blocks_disallowed_protocols(dev_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure({})
    for protocol in ("http", "sms"):
        violations = _analyze_one(pack, dev_run, SUBSCRIPTION, protocol=protocol)
        assert [v.policy for v in mandatory(violations)] == ["cis-subscription-protocol-allowed"]


def test_resource_policy_blocks_the_aws_managed_sns_key(dev_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure({})
    violations = _analyze_one(pack, dev_run, TOPIC, kmsMasterKeyId="alias/aws/sns")
    assert [v.policy for v in mandatory(violations)] == ["cis-topic-not-aws-managed-key"]


def test_unencrypted_topic_is_advisory(dev_run: ProgramRun, pack: PolicyPackServer) -> None:
    pack.configure({})
    violations = _analyze_one(pack, dev_run, TOPIC, kmsMasterKeyId=None)
    assert [(v.policy, v.level) for v in violations] == [("cis-topic-customer-managed-key", "advisory")]


def test_unknown_resource_values_never_degrade_resource_policies(
    dev_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({})
    for type_, prop in (
        (FILTER, "pattern"),
        (ALARM, "threshold"),
        (SUBSCRIPTION, "protocol"),
        (TOPIC, "kmsMasterKeyId"),
    ):
        resource = to_analyzer_resource(_first(dev_run, type_), dev_run.by_urn(), {prop})
        violations = pack.analyze(resource)
        no_preview_downgrade(violations)
        assert violations == [], (type_, violations)


# --- levels and pack config --------------------------------------------------------------------


def test_dev_pack_config_makes_everything_advisory(dev_run: ProgramRun, pack: PolicyPackServer) -> None:
    # dev.json states the dev stack's topology (cis-monitoring pack-config), so it judges that stack.
    pack.configure(json.loads((pack_config_dir() / "dev.json").read_text()))
    account = stack_config("dev")[0]["accounts"][0]
    broken = mutated(dev_run, drop(ALARM, account["id"], account["trail"]["homeRegion"]))
    violations = pack.analyze_stack(stack_resources(broken))
    assert [(v.policy, v.level) for v in violations] == [("cis-monitoring-chain", "advisory")]
    assert f"{account['id']} (every Region)" in violations[0].message, (
        "it names the account it leaves uncovered"
    )


def test_strict_mode_does_not_count_non_canonical_filters(
    prod_run: ProgramRun, pack: PolicyPackServer
) -> None:
    compact = CIS_4_5.filter_pattern.replace(" = ", "=")
    stack = stack_resources(mutated(prod_run, set_input(FILTER, ACCOUNT, REGION, pattern=compact)))
    pack.configure({})
    assert without_no_trail_notes(pack.analyze_stack(stack)) == []
    pack.configure({"cis-monitoring-chain": {"strictCanonicalText": True}})
    violations = mandatory(pack.analyze_stack(stack))
    assert len(violations) == 1 and "strict canonical-text mode" in violations[0].message


def test_external_topics_count_only_when_allowed(prod_run: ProgramRun, pack: PolicyPackServer) -> None:
    external = f"arn:aws:sns:{REGION}:{ACCOUNT}:aws-controltower-SecurityNotifications"
    stack = stack_resources(mutated(prod_run, set_input(ALARM, ACCOUNT, REGION, alarmActions=[external])))
    pack.configure({})
    assert len(mandatory(pack.analyze_stack(stack))) == 1
    pack.configure(
        {
            "cis-monitoring-chain": {
                "allowedExternalTopicArns": ["arn:aws:sns:*:*:aws-controltower-SecurityNotifications"]
            }
        }
    )
    assert without_no_trail_notes(pack.analyze_stack(stack)) == []


def pack_config_dir() -> Any:
    from local.analyzer_client import POLICY_SOURCE_DIR

    return POLICY_SOURCE_DIR / "config"


def test_an_unknown_filter_metric_links_to_the_targets_alarms(
    prod_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure({})
    unknown = {**PREVIEW_UNKNOWNS, FILTER: ["metricTransformation"]}
    assert without_no_trail_notes(pack.analyze_stack(stack_resources(prod_run, unknown=unknown))) == []
    violations = pack.analyze_stack(
        stack_resources(mutated(prod_run, drop(ALARM, ACCOUNT, REGION)), unknown=unknown)
    )
    no_preview_downgrade(violations)
    chain = of_policy(mandatory(violations), "cis-monitoring-chain")
    assert len(chain) == 1 and f"account {ACCOUNT} region {REGION}: no CloudWatch alarm" in chain[0].message


# --- the one place that reads the SDK's property proxies ---------------------------------------


def test_read_property_pins_the_sdks_unknown_value_behaviour() -> None:
    """What ``stack_model.plain`` relies on; an SDK upgrade that changes any of it fails here."""
    from collections.abc import Mapping, Sequence

    from pulumi_policy import proxy

    from policy.cis_guard.stack_model import UNKNOWN, UNKNOWN_SENTINELS, plain, read_property

    sdk_sentinels = {
        getattr(proxy, name) for name in dir(proxy) if name.startswith("UNKNOWN_") and name.endswith("_VALUE")
    }
    assert sdk_sentinels == UNKNOWN_SENTINELS
    raw = {
        "known": "x",
        "number": 3,
        "unknown": proxy.UNKNOWN_STRING_VALUE,
        "nested": {"list": ["a", proxy.UNKNOWN_STRING_VALUE], "flag": proxy.UNKNOWN_BOOLEAN_VALUE},
        "array": proxy.UNKNOWN_ARRAY_VALUE,
    }
    props = proxy.unknown_checking_proxy(raw)
    # The proxies are the public collection types; listing keys and lengths never reads a value.
    assert isinstance(props, Mapping) and isinstance(props["nested"]["list"], Sequence)
    assert sorted(props) == ["array", "known", "nested", "number", "unknown"]
    assert len(props["nested"]["list"]) == 2
    # Reading an unknown raises the SDK's documented error (what would downgrade a policy).
    with pytest.raises(proxy.UnknownValueError):
        props["unknown"]
    with pytest.raises(proxy.UnknownValueError):
        props["nested"]["list"][1]
    assert read_property(props, "unknown") is UNKNOWN and read_property(props, "known") == "x"
    assert read_property(props["nested"]["list"], 1) is UNKNOWN
    expected = {
        "known": "x",
        "number": 3,
        "unknown": UNKNOWN,
        "nested": {"list": ["a", UNKNOWN], "flag": UNKNOWN},
        "array": UNKNOWN,
    }
    assert plain(props) == expected
    assert plain(raw) == expected  # plain data with the engine's sentinels (recorded states, JSON inputs)


def test_a_target_with_no_declared_trail_gets_a_note_not_a_silent_pass(
    dev_run: ProgramRun, pack: PolicyPackServer
) -> None:
    """With no trail declared (``{}``), the pack cannot tell whether a chain's group is the one a trail
    delivers to: it says so, per target, in the advisory notes; a generated config declares them."""
    pack.configure({})
    notes = [
        v for v in pack.analyze_stack(stack_resources(dev_run)) if v.policy == "cis-monitoring-coverage-notes"
    ]
    accounts = [a["id"] for a in stack_config("dev")[0]["accounts"]]
    assert len(notes) == len(accounts) and {n.level for n in notes} == {"advisory"}
    assert all("no trail is declared for this account" in n.message for n in notes)
    assert {a for a in accounts for n in notes if f"account {a} " in n.message} == set(accounts)
    pack.configure(json.loads((pack_config_dir() / "dev.json").read_text()))
    assert pack.analyze_stack(stack_resources(dev_run)) == []
