"""No resource or invoke may fall back to the CLI's default AWS provider.

The shipped stacks set ``pulumi:disable-default-providers: ["aws"]``, so the engine
refuses one that forgot its provider; under mocks there is no engine to refuse, so
these tests check every registration and invoke of the program for an explicit one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from local.program_harness import REPO_ROOT, ProgramRun, run_program, stack_config
from tests.conftest import PAGER_URL

STACKS = ("dev", "prod", "local")


def missing_providers(run: ProgramRun) -> list[str]:
    """AWS resources and invokes registered without an explicit ``pulumi:providers:aws`` provider."""
    providers = {r.urn for r in run.of_type("pulumi:providers:aws")}
    missing = [
        r.urn
        for r in run.resources
        if r.custom and r.type.startswith("aws:") and r.provider.rsplit("::", 1)[0] not in providers
    ]
    missing += [
        f"invoke {i.token}"
        for i in run.invokes
        if i.token.startswith("aws:") and (i.provider or "").rsplit("::", 1)[0] not in providers
    ]
    return missing


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_disable_the_default_aws_provider(stack: str) -> None:
    document = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    assert document["config"]["pulumi:disable-default-providers"] == ["aws"]


def _every_resource_type(config: dict[str, Any]) -> dict[str, Any]:
    """The stack's config plus a managed queue policy and a Lambda subscriber: every type the program has.

    They go to the first account with a trail of its own (one chain, in the trail's home Region).
    """
    index, account = next((i, a) for i, a in enumerate(config["accounts"]) if "trail" in a)
    region = account["trail"]["homeRegion"]
    config["accounts"][index] = {
        **account,
        "notifications": {
            "subscriptions": [
                {
                    "protocol": "sqs",
                    "endpoint": f"arn:aws:sqs:{region}:{account['id']}:alerts",
                    "queuePolicy": "managed",
                },
                {"protocol": "lambda", "endpoint": f"arn:aws:lambda:{region}:{account['id']}:function:pager"},
            ]
        },
    }
    return config


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_and_invoke_has_an_explicit_provider(stack: str) -> None:
    config = _every_resource_type(stack_config(stack)[0])
    secrets = ["pagerEndpoint"] if stack == "prod" else []
    config.update(dict.fromkeys(secrets, PAGER_URL))
    run = run_program(config, stack=stack, secret_keys=secrets)
    assert run.error is None, run.error
    types = {r.type for r in run.resources}
    assert {"aws:sqs/queuePolicy:QueuePolicy", "aws:lambda/permission:Permission"} <= types
    assert [i for i in run.invokes if i.token.startswith("aws:")], "the log group lookup is an invoke"
    if "organizationTrail" in config:  # found by prefix: the getLogGroups invoke needs its provider too
        assert "aws:cloudwatch/getLogGroups:getLogGroups" in {i.token for i in run.invokes}
    assert missing_providers(run) == []


def test_the_check_finds_a_resource_and_an_invoke_without_provider(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(
        "import pulumi_aws as aws\n"
        "aws.sns.Topic('forgot', name='forgot')\n"
        "aws.cloudwatch.get_log_group(name='org-trail/cloudtrail')\n"
    )
    run = run_program({}, program=program)
    assert run.error is None, run.error
    assert missing_providers(run) == [
        "urn:pulumi:test::cis-monitoring::pulumi:pulumi:Stack$aws:sns/topic:Topic::forgot",
        "invoke aws:cloudwatch/getLogGroup:getLogGroup",
    ]
