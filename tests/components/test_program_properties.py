"""Property: for any valid set of accounts and regions, exactly one chain per (account, region, control)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.program_harness import decode_provider_inputs, run_program

REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"]


@st.composite
def stack_configs(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(st.integers(10**11, 10**12 - 1), min_size=1, max_size=5, unique=True))
    accounts = []
    for index, number in enumerate(ids):
        regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
        account: dict[str, Any] = {
            "id": str(number),
            "name": draw(st.sampled_from(["acct", "team-a", "x"])) + f"-{index}",
            "regions": [
                {"region": r, "logGroup": draw(st.sampled_from(["org-trail", "aws/ct/logs"]))}
                for r in regions
            ],
        }
        if draw(st.booleans()):
            account["roleArn"] = f"arn:aws:iam::{number}:role/deployer"
        accounts.append(account)
    return {
        "accounts": accounts,
        "namePrefix": draw(st.sampled_from(["cis", "sec", "a1"])),
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=stack_configs())
def test_exactly_one_chain_per_target_and_unique_names(config: dict[str, Any]) -> None:
    run = run_program(config)
    assert run.error is None, run.error
    wanted = Counter((a["id"], r["region"]) for a in config["accounts"] for r in a["regions"])

    def targets_of(type_: str) -> Counter:
        found = Counter()
        for resource in run.of_type(type_):
            provider = decode_provider_inputs(run.provider_for(resource).inputs)
            found[(provider["allowedAccountIds"][0], provider["region"])] += 1
        return found

    for type_ in (
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:sns/topic:Topic",
        "aws:sns/topicSubscription:TopicSubscription",
    ):
        assert targets_of(type_) == wanted, type_
    urns = [r.urn for r in run.resources]
    assert len(urns) == len(set(urns))
    alarm_names = [r.inputs["name"] for r in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    assert len(alarm_names) == len(set(alarm_names))
    assert set(run.outputs["monitoring"]) == {f"{a}/{r}" for a, r in wanted}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    config=stack_configs(), suffix=st.sampled_from(["-renamed", "-b"]), prefix=st.sampled_from(["cis", "zz"])
)
def test_logical_names_survive_renaming_accounts_and_changing_the_prefix(
    config: dict[str, Any], suffix: str, prefix: str
) -> None:
    """URNs depend on account ids, Regions and controls only: see test_renames.py for why."""
    before = run_program(config)
    changed = {**config, "namePrefix": prefix, "accounts": [dict(a) for a in config["accounts"]]}
    for account in changed["accounts"]:
        account["name"] += suffix
    after = run_program(changed)
    assert before.error is None and after.error is None, (before.error, after.error)
    assert sorted(r.urn for r in before.resources) == sorted(r.urn for r in after.resources)
