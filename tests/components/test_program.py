"""The real __main__.py under Pulumi mocks: what it asks pulumi-aws to create, and with what."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import yaml

from cis_monitoring.core.catalog import CIS_4_5, CONTROLS, DEFAULT_CONTROL_IDS, get_control
from cis_monitoring.spec import DEFAULT_NAME_PREFIX
from local.program_harness import REPO_ROOT, AwsMocks, ProgramRun, decode_provider_inputs, run_program
from tests.conftest import PAGER_URL

# Copied by hand from the CIS benchmark's remediation text (the seed document).
SEED_PATTERN = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) }"
)

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
PROVIDER = "pulumi:providers:aws"


def expected_targets(config: dict[str, Any]) -> set[tuple[str, str]]:
    """The chain sites the config names: each trail's (account, home Region), each per-Region trail's."""
    sites = {(a["id"], a["trail"]["homeRegion"]) for a in config["accounts"] if "trail" in a}
    sites |= {(a["id"], r["region"]) for a in config["accounts"] for r in a.get("regions", ())}
    organization = config.get("organizationTrail")
    if organization:
        sites.add((organization["accountId"], organization["homeRegion"]))
    return sites


def controls_of(config: dict[str, Any]) -> list[str]:
    """The control ids a config selects (``all``: every control of the catalog)."""
    selected = config.get("controls", list(DEFAULT_CONTROL_IDS))
    return list(CONTROLS) if selected == "all" else list(selected)


def account_entry(config: dict[str, Any], account_id: str) -> dict[str, Any]:
    return next(a for a in config["accounts"] if a["id"] == account_id)


def run_ok(config: dict[str, Any], **kwargs: Any) -> ProgramRun:
    run = run_program(config, **kwargs)
    assert run.error is None, run.error
    return run


def chain_side(run: ProgramRun, type_: str) -> list[Any]:
    """The CIS chain's resources of ``type_``: not those of a high-risk topic (``realTime.highRisk``)."""
    return [r for r in run.of_type(type_) if not r.parent.rsplit("::", 1)[-1].endswith("-high-risk")]


def high_risk_side(run: ProgramRun, type_: str) -> list[Any]:
    return [r for r in run.of_type(type_) if r.parent.rsplit("::", 1)[-1].endswith("-high-risk")]


def test_metric_filter_pattern_is_byte_identical_to_the_benchmark(dev_config: dict[str, Any]) -> None:
    run = run_ok(dev_config)
    filters = run.of_type(FILTER)
    assert filters
    assert {f.inputs["pattern"] for f in filters} == {SEED_PATTERN}
    assert CIS_4_5.filter_pattern == SEED_PATTERN


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_chain_per_monitored_log_group(stack: str, dev_config: dict, prod_config: dict) -> None:
    config = dev_config if stack == "dev" else prod_config
    run = run_ok(config, stack=stack, secret_keys=["pagerEndpoint"])
    wanted = expected_targets(config)
    assert len(wanted) == 2  # dev: two accounts' own trails; prod: the organization trail and one own trail
    for type_ in (TOPIC, KEY, TOPIC_POLICY):
        found = Counter(run.provider_site(r) for r in chain_side(run, type_))
        assert found == Counter(wanted), type_
        # With realTime.highRisk subscribers (prod), each site has its own high-risk topic too.
        risky = Counter(run.provider_site(r) for r in high_risk_side(run, type_))
        assert risky == (Counter(wanted) if config.get("realTime", {}).get("highRisk") else Counter()), type_
    # One filter and one alarm per control the stack selects (prod: all of them), in each site.
    per_site = len(controls_of(config))
    for type_ in (FILTER, ALARM):
        found = Counter(run.provider_site(r) for r in run.of_type(type_))
        assert found == Counter(dict.fromkeys(wanted, per_site)), type_
    assert len(run.of_type(PROVIDER)) == len(wanted)


def test_alarm_watches_exactly_the_metric_its_filter_writes(prod_config: dict) -> None:
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    by_urn = run.by_urn()
    assert len(run.of_type(ALARM)) == 2 * len(controls_of(prod_config))
    for alarm in run.of_type(ALARM):
        # The filter the alarm waits for: its own control's, in its own chain.
        [metric_filter] = [by_urn[u] for u in alarm.dependencies if by_urn[u].type == FILTER]
        assert run.provider_site(metric_filter) == run.provider_site(alarm)
        transformation = metric_filter.inputs["metricTransformation"]
        control = get_control(alarm.inputs["tags"]["cis-control"])
        assert alarm.inputs["metricName"] == transformation["name"] == control.metric_name
        assert alarm.inputs["namespace"] == transformation["namespace"] == "CISBenchmark"
        assert metric_filter.inputs["pattern"] == control.filter_pattern
        assert transformation["value"] == "1"


def test_alarm_parameters_fire_on_a_single_event(dev_config: dict) -> None:
    run = run_ok(dev_config)
    for alarm in run.of_type(ALARM):
        inputs = alarm.inputs
        assert inputs["statistic"] == "Sum"
        assert inputs["period"] == 300
        assert inputs["threshold"] == 1
        assert inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert inputs["evaluationPeriods"] == 1
        assert inputs["treatMissingData"] == "notBreaching"
        assert inputs["actionsEnabled"] is True
        assert inputs["tags"]["cis-control"] == "4.5"


def test_alarm_actions_point_at_the_topic_of_the_same_target(prod_config: dict) -> None:
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    by_urn = run.by_urn()
    topics = {run.provider_site(t): t for t in chain_side(run, TOPIC)}
    for alarm in run.of_type(ALARM):
        topic = topics[run.provider_site(alarm)]
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
        # The engine sees the link even while the ARN is unknown (preview).
        assert [by_urn[u].type for u in alarm.property_dependencies["alarmActions"]] == [TOPIC]
        assert alarm.property_dependencies["alarmActions"] == [topic.urn]
        # The alarm waits for its metric filter.
        assert any(by_urn[u].type == FILTER for u in alarm.dependencies)


def test_prod_notifies_on_ok_too(prod_config: dict) -> None:
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    for alarm in run.of_type(ALARM):
        assert alarm.inputs["okActions"] == alarm.inputs["alarmActions"]


def test_every_resource_uses_the_provider_of_its_own_account_and_region(prod_config: dict) -> None:
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    accounts = {a["id"]: a for a in prod_config["accounts"]}
    assert len(run.of_type(PROVIDER)) == 2
    for provider in run.of_type(PROVIDER):
        inputs = decode_provider_inputs(provider.inputs)
        account = accounts[inputs["allowedAccountIds"][0]]
        assert inputs["allowedAccountIds"] == [account["id"]]
        assert inputs["assumeRoles"][0]["roleArn"] == account["roleArn"]
        assert inputs["assumeRoles"][0].get("externalId") == account.get("externalId")
        # Logical names hold only stable identifiers (see test_renames.py), never the account's name.
        assert provider.name == f"{account['id']}-{inputs['region']}"
        assert inputs["defaultTags"]["tags"]["Environment"] == "prod"
    for resource in run.resources:
        if resource.custom and resource.type != PROVIDER:
            provider = run.provider_for(resource)
            assert provider is not None, resource.name
            # Child names derive from the same (account, region) stem as their provider.
            assert resource.name.startswith(provider.name + "-"), (resource.name, provider.name)


def test_log_group_is_looked_up_through_the_targets_provider(dev_config: dict) -> None:
    run = run_ok(dev_config)
    lookups = [i for i in run.invokes if i.token == "aws:cloudwatch/getLogGroup:getLogGroup"]
    assert sorted(i.args["name"] for i in lookups) == sorted(
        a["trail"]["logGroup"] for a in dev_config["accounts"]
    )
    assert all(i.provider for i in lookups)
    filters = run.of_type(FILTER)
    assert sorted(f.inputs["logGroupName"] for f in filters) == sorted(i.args["name"] for i in lookups)


def test_organization_trail_group_is_found_by_prefix_through_the_owners_provider(prod_config: dict) -> None:
    suffixed = "aws-controltower/CloudTrailLogs-tfw-qeb"
    mocks = AwsMocks(log_groups_by_prefix={"aws-controltower/CloudTrailLogs": [suffixed]})
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"], mocks=mocks)
    [lookup] = [i for i in run.invokes if i.token == "aws:cloudwatch/getLogGroups:getLogGroups"]
    assert lookup.args["logGroupNamePrefix"] == "aws-controltower/CloudTrailLogs"
    owner = run.by_urn()[lookup.provider.rsplit("::", 1)[0]]
    assert decode_provider_inputs(owner.inputs)["allowedAccountIds"] == ["999999999999"]
    filters = {run.provider_site(f): f.inputs["logGroupName"] for f in run.of_type(FILTER)}
    assert filters == {
        ("999999999999", "us-east-1"): suffixed,
        ("555555555555", "us-east-1"): "security-tooling/cloudtrail",
    }


def test_missing_log_group_fails_naming_account_region_and_group(dev_config: dict) -> None:
    run = run_program(dev_config, mocks=AwsMocks(missing_log_groups={"shared-dev/cloudtrail"}))
    assert run.error is not None
    message = str(run.error)
    assert "222222222222" in message and "us-east-1" in message and "'shared-dev/cloudtrail'" in message
    # The lookups run before any chain is registered: only the providers (nothing in AWS) are.
    assert {r.type for r in run.resources} == {PROVIDER}


def test_every_missing_log_group_is_named_in_one_error(dev_config: dict) -> None:
    missing = {"shared-dev/cloudtrail", "aws-cloudtrail-logs-111111111111"}
    run = run_program(dev_config, mocks=AwsMocks(missing_log_groups=missing))
    message = str(run.error)
    assert message.startswith("2 log groups were not found:"), message
    assert "account 111111111111 (sandbox) region us-east-1" in message
    assert "account 222222222222 (shared-dev) region us-east-1" in message


def _policy_of(resource: Any) -> dict:
    return json.loads(resource.inputs["policy"])


def test_topic_policy_admits_only_this_accounts_alarms_over_tls(prod_config: dict) -> None:
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    topics = {t.outputs["arn"]: t for t in chain_side(run, TOPIC)}
    assert len(chain_side(run, TOPIC_POLICY)) == len(topics)
    real_time = "realTime" in prod_config
    for topic_policy in chain_side(run, TOPIC_POLICY):
        account, region = run.provider_site(topic_policy)
        statements = {s["Sid"]: s for s in _policy_of(topic_policy)["Statement"]}
        assert topic_policy.inputs["arn"] in topics
        allow = statements["AllowCloudWatchAlarmsOfThisAccount"]
        assert allow["Effect"] == "Allow"
        assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert allow["Action"] == "sns:Publish"
        assert allow["Resource"] == topic_policy.inputs["arn"]
        assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
        assert allow["Condition"]["ArnLike"] == {
            "aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:*"
        }
        deny = statements["DenyInsecureTransport"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # realTime (prod): EventBridge too, for exactly this site's rules (tests/components/test_real_time.py).
        events = statements.pop("AllowTheRealTimeRulesOfThisStack", None)
        assert (events is not None) == real_time
        if events is not None:
            assert events["Principal"] == {"Service": "events.amazonaws.com"}
            rule_arns = events["Condition"]["ArnEquals"]["aws:SourceArn"]
            assert rule_arns and all(
                a.startswith(f"arn:aws:events:{region}:{account}:rule/") for a in rule_arns
            )
        assert len(statements) == 2


def test_topic_is_encrypted_with_a_customer_key_cloudwatch_may_use(dev_config: dict) -> None:
    run = run_ok(dev_config)
    keys = {run.provider_site(k): k for k in run.of_type(KEY)}
    for topic in run.of_type(TOPIC):
        key = keys[run.provider_site(topic)]
        assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
        assert "alias/aws/sns" not in topic.inputs["kmsMasterKeyId"]
        assert key.inputs["enableKeyRotation"] is True
        account, _ = run.provider_site(key)
        statements = {s["Sid"]: s for s in _policy_of(key)["Statement"]}
        cloudwatch = statements["AllowCloudWatchAlarmsOfThisAccount"]
        assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
        admin = statements["EnableIamPoliciesOfThisAccount"]
        assert admin["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}


def test_subscriptions_follow_config_and_https_endpoints_are_secret(prod_config: dict) -> None:
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    subscriptions = chain_side(run, SUBSCRIPTION)
    by_target: dict[tuple[str, str], list] = {}
    for sub in subscriptions:
        by_target.setdefault(run.provider_site(sub), []).append(sub)
    assert set(by_target) == expected_targets(prod_config)
    # Stack-wide: email + the pager (the organization trail's chain, in the management
    # account); the security account overrides with email + SQS.
    for (account, _), subs in by_target.items():
        protocols = sorted(s.inputs["protocol"] for s in subs)
        assert protocols == (["email", "sqs"] if account == "555555555555" else ["email", "https"])
    pager = [s for s in subscriptions if s.inputs["protocol"] == "https"]
    assert pager and all(s.inputs["endpoint"] == PAGER_URL for s in pager)
    for sub in pager:
        raw = sub.raw_inputs["endpoint"]
        assert isinstance(raw, dict) and raw.get("value") == PAGER_URL, (
            "https endpoint was not sent as a secret"
        )
    email = [s for s in subscriptions if s.inputs["protocol"] == "email"]
    assert all(s.raw_inputs["endpoint"] == "soc@example.com" for s in email)
    topics = {t.outputs["arn"] for t in chain_side(run, TOPIC)}
    assert {s.inputs["topic"] for s in subscriptions} == topics
    # The high-risk topics' own subscribers (realTime.highRisk.subscriptions): the on-call list only.
    risky = high_risk_side(run, SUBSCRIPTION)
    assert [s.raw_inputs["endpoint"] for s in risky] == ["security-oncall@example.com"] * len(
        expected_targets(prod_config)
    )


def test_names_are_unique_deterministic_and_carry_account_and_region(prod_config: dict) -> None:
    first = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    second = run_ok(prod_config, secret_keys=["pagerEndpoint"])
    urns = [r.urn for r in first.resources]
    assert len(urns) == len(set(urns))
    assert sorted(urns) == sorted(r.urn for r in second.resources)
    alarm_names = [a.inputs["name"] for a in first.of_type(ALARM)]
    assert len(alarm_names) == len(set(alarm_names))
    for alarm in first.of_type(ALARM):
        account, region = first.provider_site(alarm)
        name = account_entry(prod_config, account)["name"]
        control = get_control(alarm.inputs["tags"]["cis-control"])
        tag = f"{control.control_id.replace('.', '-')}-{control.slug}"
        assert alarm.inputs["name"] == f"cis-{tag}-{name}-{region}"
    assert "cis-4-5-cloudtrail-changes-management-us-east-1" in alarm_names
    for topic in chain_side(first, TOPIC):
        account, _ = first.provider_site(topic)
        name = account_entry(prod_config, account)["name"]
        assert topic.inputs["name"] == f"cis-{name}-alarms"
    assert {t.inputs["name"] for t in first.of_type(TOPIC)} == {
        "cis-management-alarms",
        "cis-security-tooling-alarms",
        "cis-management-high-risk",
        "cis-security-tooling-high-risk",
    }


def test_every_child_has_a_component_parent(dev_config: dict) -> None:
    run = run_ok(dev_config)
    types_by_urn = {r.urn: r.type for r in run.resources}
    for resource in run.resources:
        if resource.type in (FILTER, ALARM):
            assert types_by_urn[resource.parent] == "cis-monitoring:aws:ControlMonitor"
        elif resource.type in (TOPIC, KEY, TOPIC_POLICY, SUBSCRIPTION):
            assert types_by_urn[resource.parent] == "cis-monitoring:aws:AlarmNotification"


def test_outputs_have_one_chain_per_log_group_and_coverage_per_account(prod_config: dict) -> None:
    suffixed = "aws-controltower/CloudTrailLogs-tfw-qeb"
    mocks = AwsMocks(log_groups_by_prefix={"aws-controltower/CloudTrailLogs": [suffixed]})
    run = run_ok(prod_config, secret_keys=["pagerEndpoint"], mocks=mocks)
    assert run.outputs["resultsSchemaVersion"] == run.outputs["summary"]["schemaVersion"] == 3
    assert "monitoring" not in run.outputs  # version 1's per-(account, Region) map is gone
    org_chain = f"999999999999/us-east-1/{suffixed}"
    own_chain = "555555555555/us-east-1/security-tooling/cloudtrail"
    chains = run.outputs["chains"]
    assert set(chains) == {org_chain, own_chain}
    alarms = {a.inputs["name"]: a for a in run.of_type(ALARM)}
    for key, entry in chains.items():
        assert key == f"{entry['accountId']}/{entry['region']}/{entry['logGroup']}"
        assert set(entry["controls"]) == set(controls_of(prod_config))  # a map: the engine sorts its keys
        for control_id, control in entry["controls"].items():
            alarm = alarms[control["alarmName"]]
            assert control["alarmArn"] == alarm.outputs["arn"]
            assert entry["topicArn"] == alarm.inputs["alarmActions"][0]
            assert control["filterPattern"] == get_control(control_id).filter_pattern
        assert entry["controls"]["4.5"]["metricFilterName"] == "cis-4-5-cloudtrail-changes"
        assert entry["controls"]["4.5"]["filterPattern"] == SEED_PATTERN
        assert [s["protocol"] for s in entry["subscriptions"]] in (["email", "https"], ["email", "sqs"])
    assert (chains[org_chain]["via"], chains[org_chain]["trail"]) == (
        "organization-trail",
        "aws-controltower-BaselineCloudTrail",
    )
    assert (chains[own_chain]["via"], chains[own_chain]["trail"]) == (
        "account-trail",
        "security-tooling-trail",
    )

    def claim(account: str, name: str, kind: str, chain: str, via: str, trail: str) -> dict[str, Any]:
        owner, home = chain.split("/")[:2]
        return {
            "accountId": account,
            "accountName": name,
            "region": "*",
            "coverage": kind,
            "code": f"coverage.{kind}",
            "chain": chain,
            "via": via,
            "trail": trail,
            "trailAccountId": owner,
            "trailHomeRegion": home,
        }

    org_trail = ("organization-trail", "aws-controltower-BaselineCloudTrail")
    assert run.outputs["coverage"] == {
        "999999999999/*": claim("999999999999", "management", "direct", org_chain, *org_trail),
        "333333333333/*": claim("333333333333", "prod-payments", "organization", org_chain, *org_trail),
        "444444444444/*": claim("444444444444", "prod-data", "organization", org_chain, *org_trail),
        # Its own trail covers it directly; it is a member of the organization trail too (direct wins).
        "555555555555/*": claim(
            "555555555555", "security-tooling", "direct", own_chain, "account-trail", "security-tooling-trail"
        ),
    }
    summary = run.outputs["summary"]
    selected = controls_of(prod_config)
    assert len(selected) == 15, "Pulumi.prod.yaml selects every control (controls: all)"
    assert summary["chains"] == 2 and summary["monitors"] == 2 * 15 and summary["accounts"] == 4
    assert summary["coverage"] == {"direct": 2, "organization": 2, "none": 0}
    assert summary["controls"] == selected and summary["regions"] == 1
    assert summary["controlPatterns"] == {c: get_control(c).filter_pattern for c in selected}


def test_existing_topic_is_reused_and_no_topic_or_key_is_created(dev_config: dict) -> None:
    dev_config["notifications"] = {"topicArn": "arn:aws:sns:{region}:{accountId}:security-team-alerts"}
    run = run_ok(dev_config)
    assert not run.of_type(TOPIC) and not run.of_type(KEY) and not run.of_type(TOPIC_POLICY)
    assert not run.of_type(SUBSCRIPTION)
    for alarm in run.of_type(ALARM):
        account, region = run.provider_site(alarm)
        assert alarm.inputs["alarmActions"] == [f"arn:aws:sns:{region}:{account}:security-team-alerts"]


def test_existing_customer_key_is_used_instead_of_a_new_one(dev_config: dict) -> None:
    key_arn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    dev_config["accounts"][0]["notifications"] = {"kmsKeyId": key_arn}
    run = run_ok(dev_config)
    topics = {run.provider_site(t): t for t in run.of_type(TOPIC)}
    assert topics[("111111111111", "us-east-1")].inputs["kmsMasterKeyId"] == key_arn
    assert [run.provider_site(k) for k in run.of_type(KEY)] == [("222222222222", "us-east-1")]


def test_lambda_subscription_in_the_same_account_gets_an_invoke_permission(dev_config: dict) -> None:
    function = "arn:aws:lambda:us-east-1:111111111111:function:page-oncall"
    dev_config["accounts"][0]["notifications"] = {
        "subscriptions": [{"protocol": "lambda", "endpoint": function}]
    }
    run = run_ok(dev_config)
    permissions = run.of_type("aws:lambda/permission:Permission")
    assert len(permissions) == 1
    permission = permissions[0]
    assert permission.inputs["function"] == function
    assert permission.inputs["principal"] == "sns.amazonaws.com"
    assert permission.inputs["sourceArn"] == "arn:aws:sns:us-east-1:111111111111:cis-sandbox-alarms"


def test_pulumi_yaml_declares_the_same_defaults_as_the_models() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["config"]["namePrefix"]["default"] == DEFAULT_NAME_PREFIX
    assert tuple(project["config"]["controls"]["default"]) == DEFAULT_CONTROL_IDS
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
