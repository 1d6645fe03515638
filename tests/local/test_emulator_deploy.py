"""The program deployed into the moto emulator, then audited: every link exists, and the audit sees each break.

Each test starts from an empty emulator, builds the organization's side (log group,
trail, role, bucket) with ``organization_fixture``, and deploys a stack config through
the emulator adapter (the real ``__main__.py`` under mocks, each resource created in the
emulator with boto3, in its provider's account and region). Assertions read the
emulator back with boto3, in the target's own account.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from pulumi.runtime.mocks import MockResourceArgs

from components.config import DeployTarget, load_config, targets
from components.policies import topic_policy
from local.emulator import (
    DEFAULT_ACCOUNT,
    Emulator,
    EmulatorSessions,
    TrailSetup,
    organization_fixture,
)
from local.emulator_adapter import EmulatorAdapter, EmulatorDeployError
from local.emulator_deploy import with_emulator_endpoint
from local.program_harness import REPO_ROOT, ProgramRun, run_program, stack_config
from tests.conftest import PAGER_URL
from verify.audit import TargetResult, audit_all
from verify.aws_session import SessionFactory
from verify.locations import stack_locations

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


@dataclass
class Deployed:
    stack: str
    targets: list[DeployTarget]
    """With notification settings resolved (secrets included), as the program saw them."""
    setups: dict[tuple[str, str], TrailSetup]
    run: ProgramRun
    sessions: EmulatorSessions

    def client(self, target: DeployTarget, service: str) -> Any:
        """A client in the target's own account and region."""
        return self.sessions.for_account(service, target.account_id, target.region, target.role_arn)

    def target(self, account_id: str, region: str) -> DeployTarget:
        return next(t for t in self.targets if (t.account_id, t.region) == (account_id, region))


def config_of(stack: str, request: pytest.FixtureRequest, emulator: Emulator) -> dict[str, Any]:
    if stack == "local":
        return with_emulator_endpoint(stack_config("local")[0], emulator.url)
    return request.getfixturevalue(f"{stack}_config")


def resolved_targets(config: dict[str, Any], secret_keys: tuple[str, ...]) -> list[DeployTarget]:
    secrets = {key: config[key] for key in secret_keys}
    validated = load_config(config, secrets=secrets, secret_keys=frozenset(secret_keys))
    return targets(validated, secrets, frozenset(secret_keys))


def deploy(emulator: Emulator, stack: str, config: dict[str, Any]) -> Deployed:
    secret_keys = SECRET_KEYS[stack]
    found = resolved_targets(config, secret_keys)
    setups = organization_fixture(emulator.url, found)
    run = run_program(config, stack=stack, secret_keys=secret_keys, mocks=EmulatorAdapter(emulator.url))
    assert run.error is None, run.error
    return Deployed(stack, found, setups, run, EmulatorSessions(emulator.url))


@functools.cache
def _audit_base() -> boto3.Session:
    # One session for every audit: it loads each service model once (new sessions reload them).
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


def audit(emulator: Emulator, stack: str) -> dict[str, TargetResult]:
    """The audit tool on the stack file's targets, against the emulator, by target key."""
    sessions = SessionFactory(base=_audit_base(), endpoint_url=emulator.url)
    return {r.key: r for r in audit_all(stack_locations(stack, REPO_ROOT), sessions)}


def summary(results: dict[str, TargetResult]) -> dict[str, tuple[str, list[str]]]:
    return {key: (r.status, r.reasons) for key, r in results.items()}


# ---------------------------------------------------------------- deploy


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_deploy_builds_the_whole_chain_in_every_account_and_region(
    stack: str, request: pytest.FixtureRequest, emulator: Emulator
) -> None:
    deployed = deploy(emulator, stack, config_of(stack, request, emulator))
    monitoring = deployed.run.outputs["monitoring"]
    assert set(monitoring) == {t.key for t in deployed.targets}
    endpoints: set[str] = set()

    for target in deployed.targets:
        where = target.key
        account, region = target.account_id, target.region
        result = monitoring[where]

        filters = deployed.client(target, "logs").describe_metric_filters(logGroupName=target.log_group)
        assert [(f["filterName"], f["filterPattern"]) for f in filters["metricFilters"]] == [
            (FILTER_NAME, SEED_PATTERN)
        ], where
        (transformation,) = filters["metricFilters"][0]["metricTransformations"]
        assert (
            transformation["metricNamespace"],
            transformation["metricName"],
            transformation["metricValue"],
        ) == (
            "CISBenchmark",
            "CloudTrailConfigChanges",
            "1",
        ), where

        topic_arn = result["topicArn"]
        assert topic_arn == f"arn:aws:sns:{region}:{account}:cis-{target.account_name}-alarms", where
        cloudwatch = deployed.client(target, "cloudwatch")
        (alarm,) = cloudwatch.describe_alarms(AlarmNames=[result["controls"]["4.5"]["alarmName"]])[
            "MetricAlarms"
        ]
        assert alarm["AlarmArn"] == result["controls"]["4.5"]["alarmArn"], (
            "the program got the emulator's ARN"
        )
        assert (alarm["Namespace"], alarm["MetricName"]) == (
            transformation["metricNamespace"],
            transformation["metricName"],
        ), where
        assert (
            alarm["Statistic"],
            alarm["Period"],
            alarm["Threshold"],
            alarm["ComparisonOperator"],
            alarm["EvaluationPeriods"],
        ) == ("Sum", 300, 1.0, "GreaterThanOrEqualToThreshold", 1), where
        assert alarm["ActionsEnabled"] is True
        assert alarm["AlarmActions"] == [topic_arn], where
        assert alarm["OKActions"] == ([topic_arn] if target.notifications.notify_on_ok else []), where

        sns = deployed.client(target, "sns")
        attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        kms = deployed.client(target, "kms")
        key = kms.describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]
        assert key["Arn"] == attributes["KmsMasterKeyId"] and f":{account}:key/" in key["Arn"], where
        assert key["KeyManager"] == "CUSTOMER"
        assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
        assert aliases[f"alias/cis-{target.account_name}-alarms"] == key["KeyId"]
        assert json.loads(attributes["Policy"]) == json.loads(topic_policy(topic_arn, account, region))

        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
        assert {(s["Protocol"], s["Endpoint"]) for s in subscriptions} == {
            (s.protocol, s.endpoint) for s in target.notifications.subscriptions
        }, where
        assert all(s["SubscriptionArn"].startswith(f"{topic_arn}:") for s in subscriptions)
        endpoints |= {s["Endpoint"] for s in subscriptions}

    # The pager endpoint is a secret in the config: it still reaches SNS, unmasked.
    assert (PAGER_URL in endpoints) == (stack == "prod")

    if DEFAULT_ACCOUNT not in {t.account_id for t in deployed.targets}:
        # Every resource went through its provider's role: nothing landed in the caller's own account.
        assert (
            deployed.sessions.for_account("sns", DEFAULT_ACCOUNT, "us-east-1").list_topics()["Topics"] == []
        )


# ---------------------------------------------------------------- audit


@pytest.mark.parametrize("stack", ["local", "dev", "prod"])
def test_audit_passes_every_target_after_deploy(
    stack: str, request: pytest.FixtureRequest, emulator: Emulator
) -> None:
    deployed = deploy(emulator, stack, config_of(stack, request, emulator))
    results = audit(emulator, stack)
    assert set(results) == {t.key for t in deployed.targets}
    assert {key: r.status for key, r in results.items()} == dict.fromkeys(results, "PASS"), summary(results)


Break = Callable[[Deployed, DeployTarget], None]


def delete_alarm(deployed: Deployed, target: DeployTarget) -> None:
    name = deployed.run.outputs["monitoring"][target.key]["controls"]["4.5"]["alarmName"]
    deployed.client(target, "cloudwatch").delete_alarms(AlarmNames=[name])


def weaken_filter(deployed: Deployed, target: DeployTarget) -> None:
    logs = deployed.client(target, "logs")
    (current,) = logs.describe_metric_filters(logGroupName=target.log_group)["metricFilters"]
    # AWS's PutMetricFilter replaces the group's filter of that name; moto appends a second
    # one instead, so delete first to leave what AWS would: only the weakened filter.
    logs.delete_metric_filter(logGroupName=target.log_group, filterName=current["filterName"])
    logs.put_metric_filter(
        logGroupName=target.log_group,
        filterName=current["filterName"],
        filterPattern=WEAKENED_PATTERN,
        metricTransformations=current["metricTransformations"],
    )


def remove_subscriptions(deployed: Deployed, target: DeployTarget) -> None:
    sns = deployed.client(target, "sns")
    topic_arn = deployed.run.outputs["monitoring"][target.key]["topicArn"]
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])


def stop_logging(deployed: Deployed, target: DeployTarget) -> None:
    setup = deployed.setups[(target.account_id, target.region)]
    deployed.client(target, "cloudtrail").stop_logging(Name=setup.trail_name)


def selectors(read_write: str, management: bool) -> Break:
    def put(deployed: Deployed, target: DeployTarget) -> None:
        setup = deployed.setups[(target.account_id, target.region)]
        deployed.client(target, "cloudtrail").put_event_selectors(
            TrailName=setup.trail_name,
            EventSelectors=[{"ReadWriteType": read_write, "IncludeManagementEvents": management}],
        )

    return put


MEMBER = ("111111111111", "us-east-1")
MAIN_US = ("123456789012", "us-east-1")
MAIN_EU = ("123456789012", "eu-west-1")


@pytest.mark.parametrize(
    ("break_link", "where", "check", "reason"),
    [
        pytest.param(delete_alarm, MEMBER, "alarm", "no CloudWatch alarm on metric", id="alarm-deleted"),
        pytest.param(weaken_filter, MAIN_EU, "filter", "StopLogging", id="filter-without-StopLogging"),
        pytest.param(
            remove_subscriptions, MAIN_US, "subscription", "it has no subscription at all", id="unsubscribed"
        ),
        pytest.param(stop_logging, MEMBER, "trail", "not logging", id="logging-stopped"),
        pytest.param(
            selectors("WriteOnly", True), MAIN_EU, "selectors", "write-only", id="selectors-write-only"
        ),
        pytest.param(
            selectors("All", False), MAIN_US, "selectors", "no management events", id="no-management-events"
        ),
    ],
)
def test_breaking_one_link_fails_that_target_alone(
    break_link: Break,
    where: tuple[str, str],
    check: str,
    reason: str,
    request: pytest.FixtureRequest,
    emulator: Emulator,
) -> None:
    deployed = deploy(emulator, "local", config_of("local", request, emulator))
    broken = deployed.target(*where)
    break_link(deployed, broken)

    results = audit(emulator, "local")
    failed = results.pop(broken.key)
    assert failed.status == "FAIL", summary({broken.key: failed})
    assert len(failed.reasons) == 1 and failed.reasons[0].startswith(f"{check}: "), failed.reasons
    assert reason in failed.reasons[0], failed.reasons
    assert {key: r.status for key, r in results.items()} == dict.fromkeys(results, "PASS"), summary(results)


# ---------------------------------------------------------------- program errors and adapter limits


def test_missing_log_group_fails_the_run_naming_account_region_and_group(
    dev_config: dict[str, Any], emulator: Emulator
) -> None:
    organization_fixture(emulator.url, resolved_targets(dev_config, ()))
    dev_config["accounts"][1]["regions"][0]["logGroup"] = "org-trail/cloudtrial"  # a typo

    run = run_program(dev_config, stack="dev", mocks=EmulatorAdapter(emulator.url))

    assert run.error is not None
    message = str(run.error)
    assert "account 222222222222 (shared-dev) region us-east-1" in message, message
    assert "'org-trail/cloudtrial'" in message and "couldn't find resource" in message, message


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
    emulator: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    from local import demo

    assert demo.main(["--adapter"]) == 0
    printed = capfd.readouterr().out
    for number in range(1, 6):
        assert f"[{number}/5]" in printed
    assert demo.ADAPTER_NOTICE in printed
    # The organization world: 5 accounts x 3 Regions, two chains; moto's gaps are n/a, never PASS.
    words = " ".join(printed.split())
    assert "CIS 4.5: 15 account-Region pair(s): 15 PASS, 0 FAIL, 0 ERROR" in words
    assert "MATCHER KEY SUBS HISTORY DRILL" in words
    assert "n/a (not available in this emulator): aws matcher, alarm history, drill" in words


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
