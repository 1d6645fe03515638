"""The shipped stacks deployed into the moto emulator, then audited: every link exists, and the audit sees each break.

Each test starts from an empty emulator and builds what AWS would have for the stack file:

- ``local``: ``Pulumi.local.yaml`` is the ``organization`` world's config (``local.worlds``; the
  test checks that the file says exactly what the world says discover would write);
- ``dev`` and ``prod``: no world has their account ids, so ``stack_world`` builds, with the
  worlds' own builder, exactly the trails and log groups the stack file names (see its docstring).

Then it deploys the stack config through the emulator adapter (the real ``__main__.py`` under
mocks, each resource created in the emulator with boto3, in its provider's account and Region)
and runs ``cis-monitoring audit`` on the stack file itself against the emulator. Assertions read
the emulator back with boto3, in each account.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime.mocks import MockResourceArgs

from cis_monitoring.core.catalog import get_control
from cis_monitoring.program.naming import control_tag
from cis_monitoring.program.policies import topic_policy
from cis_monitoring.program.real_time import publishers
from cis_monitoring.spec import DeployTarget, load_config, targets
from local.emulator import DEFAULT_ACCOUNT, MEMBER_ROLE, Emulator
from local.emulator_adapter import EmulatorAdapter, EmulatorDeployError
from local.emulator_deploy import with_emulator_endpoint
from local.program_harness import REPO_ROOT, ProgramRun, run_program, stack_config
from local.worlds import REGIONS, World, build_world
from local.worlds.builder import WorldBuilder
from local.worlds.organization import random_suffix
from tests.conftest import PAGER_URL
from tests.local import test_world_audit as world_audit
from tests.local.test_world_audit import Row, expected, table

pytestmark = pytest.mark.emulator

# The CIS benchmark's remediation text, copied by hand.
SEED_PATTERN = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) }"
)
WEAKENED_PATTERN = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) }"
)
FILTER_NAME = "cis-4-5-cloudtrail-changes"
SECRET_KEYS = {"local": (), "dev": (), "prod": ("pagerEndpoint",)}
AUDIT_FLAGS = {
    # Members of the organization trail have no roleArn in the stack: enter them with the role an
    # organization creates in each member. dev's accounts all name their own role (and externalId).
    "local": ("--role-name", MEMBER_ROLE),
    "dev": (),
    "prod": ("--role-name", MEMBER_ROLE),
}


def stack_world(stack: str, config: Mapping[str, Any], endpoint: str) -> World:
    """What AWS would have for ``dev`` or ``prod``: exactly the trails and log groups the stack file names.

    Every account of the stack becomes an ACTIVE member of one organization (OU ``Root``). Each
    ``accounts[].trail`` becomes a multi-Region trail of that account, logging all management
    events, delivering to its ``logGroup`` in its ``homeRegion``; ``organizationTrail`` becomes a
    multi-Region organization trail of its ``accountId``, delivering to ``logGroup`` or, for a
    ``logGroupPrefix``, to a Control Tower style ``<prefix>-<random suffix>`` group. Members see it
    as a shadow (``local.worlds.shadows``). One difference from the real thing, which neither the
    program nor the stack-mode audit reads: moto's organization is always managed by its default
    account (123456789012, in no shipped stack), while in AWS the organization trail's owner is the
    management account (CloudTrail keeps the management account the owner even of what a delegated
    administrator creates). So the stack's owner account stands in for the management account here,
    registered as CloudTrail's delegated administrator only so that moto lets it hold an organization
    trail. Keys this builder does not model fail the test.
    """
    accounts = config["accounts"]
    unmodelled = [
        f"accounts[{i}]"
        for i, e in enumerate(accounts)
        if "regions" in e or "logGroupPrefix" in e.get("trail", {})
    ]
    assert not unmodelled, f"stack_world does not build per-Region or prefixed account trails: {unmodelled}"
    world = WorldBuilder(endpoint, f"stack-{stack}")
    for entry in accounts:
        if entry["id"] != DEFAULT_ACCOUNT:
            world.account(entry["id"], entry["name"])
    organization = config.get("organizationTrail")
    if organization is not None:
        owner = organization["accountId"]
        if owner != DEFAULT_ACCOUNT:
            world.delegate_cloudtrail(owner)
        group = organization.get("logGroup") or f"{organization['logGroupPrefix']}-{random_suffix()}"
        name = organization.get("name") or "organization-trail"
        world.trail(owner, name, organization["homeRegion"], log_group=group, organization=True)
    for entry in accounts:
        trail = entry.get("trail")
        if trail is not None:
            name = trail.get("name") or f"{entry['name']}-trail"
            world.trail(entry["id"], name, trail["homeRegion"], log_group=trail["logGroup"])
    return world.build({k: config[k] for k in ("accounts", "organizationTrail") if k in config})


def existing_queues(world: World, config: Mapping[str, Any]) -> None:
    """The SQS queues the stack says already exist (``queuePolicy: existing``), granting their topic.

    As README "Subscribers" tells the user to write it: SNS may send from the account's alarm
    topic, whose name is ``<namePrefix>-<account name>-alarms``.
    """
    prefix = config.get("namePrefix", "cis")
    for entry in config["accounts"]:
        for subscription in (entry.get("notifications") or {}).get("subscriptions", ()):
            if subscription.get("queuePolicy") != "existing":
                continue
            _arn, _aws, _sqs, region, account, queue = subscription["endpoint"].split(":")
            topic = f"arn:aws:sns:{region}:{account}:{prefix}-{entry['name']}-alarms"
            grant = {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": subscription["endpoint"],
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
            }
            policy = json.dumps({"Version": "2012-10-17", "Statement": [grant]})
            world.client("sqs", account, region).create_queue(QueueName=queue, Attributes={"Policy": policy})


@dataclass
class Deployed:
    stack: str
    world: World
    targets: list[DeployTarget]
    """With notification settings resolved (secrets included), as the program saw them."""
    run: ProgramRun

    @property
    def chains(self) -> dict[str, Any]:
        return dict(self.run.outputs["chains"])

    def client(self, service: str, account_id: str, region: str) -> Any:
        return self.world.client(service, account_id, region)

    def chain_client(self, chain_key: str, service: str) -> Any:
        chain = self.chains[chain_key]
        return self.client(service, chain["accountId"], chain["region"])

    def stack_accounts(self) -> set[str]:
        return {e["id"] for e in self.world.expected_config["accounts"]}

    def expected(self) -> dict[tuple[str, str], Row]:
        """The world's expected rows for the stack's own accounts (the ones the audit reports)."""
        return {pair: row for pair, row in expected(self.world).items() if pair[0] in self.stack_accounts()}


def config_of(stack: str, request: pytest.FixtureRequest, emulator: Emulator) -> dict[str, Any]:
    if stack == "local":
        return with_emulator_endpoint(stack_config("local")[0], emulator.url)
    return request.getfixturevalue(f"{stack}_config")


def build_for(stack: str, config: Mapping[str, Any], emulator: Emulator) -> World:
    if stack != "local":
        return stack_world(stack, config, emulator.url)
    world = build_world("organization", emulator.url)
    described = {k: config[k] for k in ("accounts", "organizationTrail")}
    assert described == world.expected_config, "Pulumi.local.yaml no longer describes the organization world"
    return world


def resolved_targets(config: dict[str, Any], secret_keys: tuple[str, ...]) -> list[DeployTarget]:
    secrets = {key: config[key] for key in secret_keys}
    validated = load_config(config, secrets=secrets, secret_keys=frozenset(secret_keys))
    return targets(validated, secrets, frozenset(secret_keys))


def deploy(emulator: Emulator, stack: str, config: dict[str, Any]) -> Deployed:
    secret_keys = SECRET_KEYS[stack]
    world = build_for(stack, config, emulator)
    existing_queues(world, config)
    run = run_program(config, stack=stack, secret_keys=secret_keys, mocks=EmulatorAdapter(emulator.url))
    assert run.error is None, run.error
    return Deployed(stack, world, resolved_targets(config, secret_keys), run)


def audit(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """``cis-monitoring audit --stack <the shipped stack file> --json`` in the worlds' Regions, against the emulator."""
    stack_file = REPO_ROOT / f"Pulumi.{deployed.stack}.yaml"
    on = world_audit.Deployed(deployed.world, stack_file, {})
    flags = ("--endpoint-url", deployed.world.endpoint, *AUDIT_FLAGS[deployed.stack])
    return world_audit.audit(on, capsys, *flags)


# ---------------------------------------------------------------- deploy


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_deploy_builds_the_whole_chain_in_every_monitored_log_group_and_none_elsewhere(
    stack: str, request: pytest.FixtureRequest, emulator: Emulator
) -> None:
    deployed = deploy(emulator, stack, config_of(stack, request, emulator))
    world = deployed.world
    chains = deployed.chains
    monitored = {g.key: g for g in world.monitored_log_groups}
    assert set(chains) == set(monitored) and len(chains) == len(deployed.targets) >= 2
    endpoints: set[str] = set()

    for target in deployed.targets:
        account, region = target.account_id, target.region
        (key,) = [k for k in chains if k.startswith(f"{target.key}/")]
        result, group = chains[key], monitored[key]
        assert (result["accountId"], result["region"], result["logGroup"]) == (account, region, group.name)

        logs = deployed.client("logs", account, region)
        filters = logs.describe_metric_filters(logGroupName=group.name)["metricFilters"]
        # One filter per control the stack selects (prod: all), each with its catalog pattern.
        expected = {
            f"cis-{control_tag(get_control(c))}": get_control(c).filter_pattern for c in result["controls"]
        }
        assert {f["filterName"]: f["filterPattern"] for f in filters} == expected, key
        assert expected[FILTER_NAME] == SEED_PATTERN
        (cis_4_5_filter,) = [f for f in filters if f["filterName"] == FILTER_NAME]
        (transformation,) = cis_4_5_filter["metricTransformations"]
        assert (
            transformation["metricNamespace"],
            transformation["metricName"],
            transformation["metricValue"],
        ) == ("CISBenchmark", "CloudTrailConfigChanges", "1"), key

        topic_arn = result["topicArn"]
        assert topic_arn == f"arn:aws:sns:{region}:{account}:cis-{target.account_name}-alarms", key
        cloudwatch = deployed.client("cloudwatch", account, region)
        control = result["controls"]["4.5"]
        (alarm,) = cloudwatch.describe_alarms(AlarmNames=[control["alarmName"]])["MetricAlarms"]
        assert alarm["AlarmArn"] == control["alarmArn"], "the program got the emulator's ARN"
        assert (alarm["Namespace"], alarm["MetricName"]) == (
            transformation["metricNamespace"],
            transformation["metricName"],
        ), key
        assert (
            alarm["Statistic"],
            alarm["Period"],
            alarm["Threshold"],
            alarm["ComparisonOperator"],
            alarm["EvaluationPeriods"],
        ) == ("Sum", 300, 1.0, "GreaterThanOrEqualToThreshold", 1), key
        assert alarm["ActionsEnabled"] is True
        assert alarm["AlarmActions"] == [topic_arn], key
        assert alarm["OKActions"] == ([topic_arn] if target.notifications.notify_on_ok else []), key

        sns = deployed.client("sns", account, region)
        attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        kms = deployed.client("kms", account, region)
        key_metadata = kms.describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]
        assert (
            key_metadata["Arn"] == attributes["KmsMasterKeyId"] and f":{account}:key/" in key_metadata["Arn"]
        )
        assert key_metadata["KeyManager"] == "CUSTOMER"
        assert kms.get_key_rotation_status(KeyId=key_metadata["KeyId"])["KeyRotationEnabled"] is True
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
        assert aliases[f"alias/cis-{target.account_name}-alarms"] == key_metadata["KeyId"]
        # With realTime (prod), the policy also admits exactly this site's publishing rules.
        rule_arns = publishers("cis", target, [get_control(c) for c in result["controls"]])[0]
        assert json.loads(attributes["Policy"]) == json.loads(
            topic_policy(topic_arn, account, region, rule_arns)
        )
        assert (rule_arns != []) == (stack == "prod")
        for rule_arn in rule_arns:
            described = deployed.client("events", account, region).describe_rule(
                Name=rule_arn.rsplit("/", 1)[1]
            )
            assert described["Arn"] == rule_arn and described["State"] == "ENABLED"

        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
        assert {(s["Protocol"], s["Endpoint"]) for s in subscriptions} == {
            (s.protocol, s.endpoint) for s in target.notifications.subscriptions
        }, key
        assert all(s["SubscriptionArn"].startswith(f"{topic_arn}:") for s in subscriptions)
        endpoints |= {s["Endpoint"] for s in subscriptions}

    # The pager endpoint is a secret in the config: it still reaches SNS, unmasked.
    assert (PAGER_URL in endpoints) == (stack == "prod")

    # None elsewhere: no alarm or topic in any other account or Region, no filter on any other group.
    sites = {(c["accountId"], c["region"]) for c in chains.values()}
    for account in world.accounts:
        for region in REGIONS:
            alarms = deployed.client("cloudwatch", account.id, region).describe_alarms()["MetricAlarms"]
            topics = deployed.client("sns", account.id, region).list_topics()["Topics"]
            wanted = {
                control["alarmName"]
                for c in chains.values()
                for control in c["controls"].values()
                if (c["accountId"], c["region"]) == (account.id, region)
            }
            assert {a["AlarmName"] for a in alarms} == wanted, (account.id, region)
            assert bool(topics) == ((account.id, region) in sites), (account.id, region, topics)
    for group in world.log_groups:
        if group.key not in monitored:
            logs = deployed.client("logs", group.account_id, group.region)
            assert logs.describe_metric_filters(logGroupName=group.name)["metricFilters"] == [], group.key

    # What the outputs state each account's coverage is, is what AWS shows once the chains are there.
    truth = world.expected_coverage()
    stated = {entry["accountId"]: entry for entry in deployed.run.outputs["coverage"].values()}
    assert set(stated) == deployed.stack_accounts()
    for account_id, entry in stated.items():
        assert entry["region"] == "*", entry
        for region in REGIONS:
            found = truth[(account_id, region)]
            assert found.log_group is not None, found
            assert (entry["coverage"], entry["code"], entry["chain"]) == (
                found.kind,
                found.code,
                found.log_group.key,
            ), (account_id, region)


# ---------------------------------------------------------------- audit


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_audit_passes_every_account_and_region_after_deploy(
    stack: str, request: pytest.FixtureRequest, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = deploy(emulator, stack, config_of(stack, request, emulator))
    code, document = audit(deployed, capsys)
    rows = table(document)
    assert set(rows) == {(a, r) for a in deployed.stack_accounts() for r in REGIONS}
    assert rows == deployed.expected()
    assert {row[4] for row in rows.values()} == {"PASS"} and code == 0
    assert sorted(document["chains"]) == sorted(deployed.chains)
    assert document["summary"]["pairs"] == document["summary"]["pass"] == len(rows)
    # realTime (prod): the audit read each chain's rules where the program put them, and each passed.
    real_time = {
        (key, place, control): result["status"]
        for key, chain in document["chains"].items()
        for place, results in chain.get("realTime", {}).items()
        for control, result in results.items()
    }
    assert bool(real_time) == (stack == "prod")
    assert set(real_time.values()) <= {"PASS"}, {k: v for k, v in real_time.items() if v != "PASS"}


Break = Callable[[Deployed, str], None]
"""Breaks one link of a chain (by chain key) or of a trail (by trail name)."""


def delete_alarm(deployed: Deployed, chain_key: str) -> None:
    name = deployed.chains[chain_key]["controls"]["4.5"]["alarmName"]
    deployed.chain_client(chain_key, "cloudwatch").delete_alarms(AlarmNames=[name])


def weaken_filter(deployed: Deployed, chain_key: str) -> None:
    logs = deployed.chain_client(chain_key, "logs")
    group = deployed.chains[chain_key]["logGroup"]
    (current,) = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    # AWS's PutMetricFilter replaces the group's filter of that name; moto appends a second
    # one instead, so delete first to leave what AWS would: only the weakened filter.
    logs.delete_metric_filter(logGroupName=group, filterName=current["filterName"])
    logs.put_metric_filter(
        logGroupName=group,
        filterName=current["filterName"],
        filterPattern=WEAKENED_PATTERN,
        metricTransformations=current["metricTransformations"],
    )


def remove_subscriptions(deployed: Deployed, chain_key: str) -> None:
    sns = deployed.chain_client(chain_key, "sns")
    topic_arn = deployed.chains[chain_key]["topicArn"]
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])


def stop_logging(deployed: Deployed, trail_name: str) -> None:
    trail = deployed.world.trail(trail_name)
    deployed.world.stop_trail(trail.owner, trail_name)


def selectors(read_write: str, management: bool) -> Break:
    def put(deployed: Deployed, trail_name: str) -> None:
        trail = deployed.world.trail(trail_name)
        deployed.client("cloudtrail", trail.owner, trail.facts.home_region).put_event_selectors(
            TrailName=trail_name,
            EventSelectors=[{"ReadWriteType": read_write, "IncludeManagementEvents": management}],
        )

    return put


LOCAL_ORG = ("local", "aws-controltower-BaselineCloudTrail")
PROD_ORG = ("prod", "aws-controltower-BaselineCloudTrail")
DEV_SANDBOX = ("dev", "management-events")
DEV_SHARED = ("dev", "shared-dev-trail")


@pytest.mark.parametrize(
    ("break_link", "site", "of_chain", "code", "link"),
    [
        # A chain link: every pair whose events reach that log group FAILs, naming the check.
        pytest.param(
            delete_alarm,
            LOCAL_ORG,
            True,
            "chain_broken",
            "alarm: no CloudWatch alarm on metric",
            id="alarm-deleted",
        ),
        pytest.param(
            weaken_filter,
            DEV_SANDBOX,
            True,
            "chain_broken",
            "filter: metric filter 'cis-4-5-cloudtrail-changes' does not cover CIS 4.5: it misses StopLogging",
            id="filter-without-StopLogging",
        ),
        pytest.param(
            remove_subscriptions,
            PROD_ORG,
            True,
            "chain_broken",
            "CIS 4.5: subscription: topic arn:aws:sns:us-east-1:999999999999:cis-management-alarms",
            id="unsubscribed",  # prod selects every control: each reason names its control
        ),
        # A trail link: every pair that trail covers FAILs, naming the trail.
        pytest.param(
            stop_logging,
            LOCAL_ORG,
            False,
            "not_logging",
            "is not logging (StopLogging was called)",
            id="logging-stopped",
        ),
        pytest.param(
            selectors("WriteOnly", True),
            DEV_SHARED,
            False,
            "selectors",
            "records write-only management events",
            id="selectors-write-only",
        ),
        pytest.param(
            selectors("All", False),
            PROD_ORG,
            False,
            "selectors",
            "records no management events",
            id="no-management-events",
        ),
    ],
)
def test_breaking_one_link_fails_exactly_the_pairs_that_depend_on_it(
    break_link: Break,
    site: tuple[str, str],
    of_chain: bool,
    code: str,
    link: str,
    request: pytest.FixtureRequest,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stack, trail_name = site
    deployed = deploy(emulator, stack, config_of(stack, request, emulator))
    trail = deployed.world.trail(trail_name)
    assert trail.log_group is not None
    before = deployed.expected()
    # Who depends on it: the pairs whose events reach that trail's log group (the same set, since no
    # account these breaks touch has another working trail to fall back on).
    depends = {pair for pair, row in before.items() if row[3] == trail.log_group.key}
    assert depends and depends != set(before), "the break must leave some pairs alone"

    break_link(deployed, trail.log_group.key if of_chain else trail_name)
    exit_code, document = audit(deployed, capsys)

    assert exit_code == 1
    rows = table(document)
    assert {pair for pair, row in rows.items() if row[4] == "FAIL"} == depends
    assert {pair: row for pair, row in rows.items() if pair not in depends} == {
        pair: row for pair, row in before.items() if pair not in depends
    }
    by_pair = {(p["accountId"], p["region"]): p for p in document["coverage"]}
    for pair in depends:
        found = by_pair[pair]
        assert (found["code"], found["trail"], found["trailAccountId"]) == (
            f"coverage.none.{code}",
            trail_name,
            trail.owner,
        ), pair
        words = " ".join(found["reasons"])
        if of_chain:
            group = trail.log_group
            assert f"chain in account {group.account_id} ({group.name}): {link}" in words, words
        else:
            seen = next(t for t in found["trails"] if t["name"] == trail_name)
            assert link in f"{words} {seen['selectors']}", (words, seen)


# ---------------------------------------------------------------- program errors and adapter limits


def test_a_missing_log_group_fails_the_run_naming_account_region_and_group(
    dev_config: dict[str, Any], emulator: Emulator
) -> None:
    stack_world("dev", dev_config, emulator.url)
    dev_config["accounts"][1]["trail"]["logGroup"] = "shared-dev/cloudtrial"  # a typo
    adapter = EmulatorAdapter(emulator.url)

    run = run_program(dev_config, stack="dev", mocks=adapter)

    assert run.error is not None
    message = str(run.error)
    assert "account 222222222222 (shared-dev) region us-east-1" in message, message
    assert "'shared-dev/cloudtrial'" in message and "couldn't find resource" in message, message
    assert adapter.created == [], "the lookups fail before anything is created"


@pytest.mark.parametrize("found", ["none", "several"])
def test_a_control_tower_prefix_must_match_exactly_one_group_in_the_owners_account(
    found: str, prod_config: dict[str, Any], emulator: Emulator
) -> None:
    world = stack_world("prod", prod_config, emulator.url)
    owner = prod_config["organizationTrail"]["accountId"]
    logs = world.client("logs", owner, "us-east-1")
    (group,) = [g for g in world.log_groups if g.account_id == owner]
    if found == "none":
        logs.delete_log_group(logGroupName=group.name)
    else:
        logs.create_log_group(logGroupName="aws-controltower/CloudTrailLogs")  # left from landing zone 3.x
    adapter = EmulatorAdapter(emulator.url)

    run = run_program(prod_config, stack="prod", secret_keys=SECRET_KEYS["prod"], mocks=adapter)

    assert run.error is not None
    message = str(run.error)
    assert message.startswith(f"account {owner} (management) region us-east-1: "), message
    prefix = "'aws-controltower/CloudTrailLogs' (organizationTrail.logGroupPrefix)"
    if found == "none":
        assert f"no CloudWatch Logs group's name starts with {prefix}" in message, message
    else:
        names = f"'aws-controltower/CloudTrailLogs', '{group.name}'"
        assert f"2 CloudWatch Logs groups' names start with {prefix}: {names}" in message, message
    assert adapter.created == [], "the lookups fail before anything is created"


def _provider_args(name: str, **inputs: Any) -> MockResourceArgs:
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in inputs.items()}
    return MockResourceArgs(typ="pulumi:providers:aws", name=name, inputs=encoded, provider="", custom=True)


def test_adapter_refuses_what_it_does_not_model(emulator: Emulator) -> None:
    adapter = EmulatorAdapter(emulator.url)
    adapter.new_resource(_provider_args("p", region="us-east-1", allowedAccountIds=[DEFAULT_ACCOUNT]))
    provider_ref = "urn:pulumi:test::cis-monitoring::pulumi:providers:aws::p::p-id"

    def resource(typ: str, **inputs: Any) -> MockResourceArgs:
        return MockResourceArgs(typ=typ, name="r", inputs=inputs, provider=provider_ref, custom=True)

    with pytest.raises(EmulatorDeployError, match="no handler for this resource type"):
        adapter.new_resource(resource("aws:s3/bucket:Bucket", bucket="b"))
    with pytest.raises(EmulatorDeployError, match="does not model input"):
        adapter.new_resource(resource("aws:sns/topic:Topic", name="t", fifoTopic=True))
    with pytest.raises(EmulatorDeployError, match="without a known explicit provider"):
        adapter.new_resource(
            MockResourceArgs(typ="aws:sns/topic:Topic", name="t", inputs={"name": "t"}, custom=True)
        )
    with pytest.raises(EmulatorDeployError, match="account ID not allowed"):
        adapter.new_resource(_provider_args("q", region="us-east-1", allowedAccountIds=["999999999999"]))
    with pytest.raises(EmulatorDeployError, match="points at http://elsewhere"):
        adapter.new_resource(
            _provider_args("r", region="us-east-1", endpoints=[{"sns": "http://elsewhere:4566"}])
        )
    # Component resources are Pulumi-only: returned unchanged, nothing created.
    assert adapter.new_resource(
        MockResourceArgs(typ="cis-monitoring:aws:X", name="c", inputs={"a": 1}, custom=False)
    ) == ("", {"a": 1})


# ---------------------------------------------------------------- make demo


def test_demo_without_pulumi_deploys_through_the_adapter_and_passes(
    emulator: Emulator, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from local import demo

    assert demo.main(["--adapter", "--output-dir", str(tmp_path)]) == 0
    printed = capfd.readouterr().out
    # It ends with the reports the audit wrote: the HTML page, the findings, OCSF and JUnit.
    written = sorted(tmp_path.iterdir())
    assert [p.name.split(".", 1)[1] for p in written] == ["html", "json", "junit.xml", "ocsf.json"]
    assert printed.rstrip().splitlines()[-4:] == [f"  {p}" for p in written]
    findings = json.loads(written[1].read_text())
    assert findings["summary"]["byStatus"]["PASS"] == 15 and findings["status"] == "PASS"
    for number in range(1, 6):
        assert f"[{number}/5]" in printed
    assert demo.ADAPTER_NOTICE in printed
    # The organization world: 5 accounts x 3 Regions, two chains; moto's gaps are n/a, never PASS.
    words = " ".join(printed.split())
    assert "15 account-Region pair(s): 15 PASS, 0 FAIL, 0 ERROR" in words
    assert "MATCHER KEY SUBS HISTORY MUTE DRILL" in words
    assert "n/a (not available in this emulator): aws matcher, alarm history, mute rules, drill" in words


def test_demo_with_pulumi_runs_the_cli_on_a_copy_in_a_scratch_backend(
    emulator: Emulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from local import demo

    # A stand-in `pulumi` that only records how it was called (the real CLI cannot run here).
    log = tmp_path / "calls.log"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(
        '#!/bin/sh\necho "$PWD|$PULUMI_HOME|$(test -L .venv && echo venv)|$*" >> "$FAKE_PULUMI_LOG"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))

    # Nothing was really deployed, so the audit finds no metric filter and the demo fails with it.
    assert demo.main([]) == 1
    calls = [line.split("|") for line in log.read_text().splitlines()]
    assert [args.split()[0] for *_, args in calls] == ["login", "stack", "config", "up"]
    cwd, home, venv, _ = calls[0]
    assert not cwd.startswith(str(REPO_ROOT)) and home.startswith(str(Path(cwd).parent)) and venv == "venv"
    assert calls[2][3].split()[-3:] == [
        capfd.readouterr().out.split("listening at ")[1].split()[0],
        "--stack",
        "local",
    ]
    assert calls[3][3] == "up --stack local --yes"
