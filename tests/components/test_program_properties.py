"""Property: for any valid mix of trails, exactly one chain per monitored log group, and coverage stated
for every account (issue 10's shape: own trails, per-Region trails, an organization trail)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.program_harness import AwsMocks, decode_provider_inputs, run_program
from tests.components.topology_data import expected_sites

REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"]
OWNER = "100000000000"
PREFIX = "aws-controltower/CloudTrailLogs"
MOCKS = {PREFIX: [f"{PREFIX}-abc-def"]}


@st.composite
def stack_configs(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(st.integers(2 * 10**11, 10**12 - 1), min_size=1, max_size=5, unique=True))
    organization = draw(st.booleans())
    kinds = ["trail", "regions", *(["none"] if organization else [])]
    accounts = []
    for index, number in enumerate(ids):
        account: dict[str, Any] = {
            "id": str(number),
            "name": draw(st.sampled_from(["acct", "team-a", "x"])) + f"-{index}",
        }
        kind = draw(st.sampled_from(kinds))
        if kind == "trail":
            group = draw(st.sampled_from([{"logGroup": "org-trail"}, {"logGroup": "aws/ct/logs"}]))
            account["trail"] = {"homeRegion": draw(st.sampled_from(REGIONS)), **group}
        elif kind == "regions":
            regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
            account["regions"] = [{"region": r, "logGroup": f"trail-{r}"} for r in regions]
        if draw(st.booleans()):
            account["roleArn"] = f"arn:aws:iam::{number}:role/deployer"
        accounts.append(account)
    config: dict[str, Any] = {
        "accounts": accounts,
        "namePrefix": draw(st.sampled_from(["cis", "sec", "a1"])),
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }
    if organization:
        accounts.append({"id": OWNER, "name": "management"})
        config["organizationTrail"] = {
            "accountId": OWNER,
            "homeRegion": draw(st.sampled_from(REGIONS)),
            "logGroupPrefix": PREFIX,
            "members": draw(st.sampled_from(["accounts", "all"])),
        }
    return config


def expected_coverage_keys(config: dict[str, Any]) -> set[str]:
    """By hand: an own trail states every Region, per-Region trails their Regions, the organization
    trail every other account of the stack (and every account, for members: all)."""
    keys = set()
    organization = config.get("organizationTrail")
    for account in config["accounts"]:
        if "trail" in account or (organization and account["id"] != organization["accountId"]):
            keys.add(f"{account['id']}/*")
        keys |= {f"{account['id']}/{r['region']}" for r in account.get("regions", ())}
    if organization:
        keys.add(f"{organization['accountId']}/*")
        if organization["members"] == "all":
            keys.add("*/*")
    return keys


def run(config: dict[str, Any]) -> Any:
    return run_program(config, mocks=AwsMocks(log_groups_by_prefix=MOCKS))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=stack_configs())
def test_exactly_one_chain_per_monitored_log_group_and_unique_names(config: dict[str, Any]) -> None:
    result = run(config)
    assert result.error is None, result.error
    sites = expected_sites(config, MOCKS)
    wanted = Counter(list(sites))

    def targets_of(type_: str) -> Counter:
        found = Counter()
        for resource in result.of_type(type_):
            provider = decode_provider_inputs(result.provider_for(resource).inputs)
            found[(provider["allowedAccountIds"][0], provider["region"])] += 1
        return found

    for type_ in (
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:sns/topic:Topic",
        "aws:sns/topicSubscription:TopicSubscription",
    ):
        assert targets_of(type_) == wanted, type_
    assert len(result.of_type("pulumi:providers:aws")) == len(sites)
    urns = [r.urn for r in result.resources]
    assert len(urns) == len(set(urns))
    alarm_names = [r.inputs["name"] for r in result.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    assert len(alarm_names) == len(set(alarm_names))
    assert set(result.outputs["chains"]) == {f"{a}/{r}/{g}" for (a, r), g in sites.items()}
    assert set(result.outputs["coverage"]) == expected_coverage_keys(config)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    config=stack_configs(), suffix=st.sampled_from(["-renamed", "-b"]), prefix=st.sampled_from(["cis", "zz"])
)
def test_logical_names_survive_renaming_accounts_and_changing_the_prefix(
    config: dict[str, Any], suffix: str, prefix: str
) -> None:
    """URNs depend on account ids, Regions and controls only: see test_renames.py for why."""
    before = run(config)
    changed = {**config, "namePrefix": prefix, "accounts": [dict(a) for a in config["accounts"]]}
    for account in changed["accounts"]:
        account["name"] += suffix
    after = run(changed)
    assert before.error is None and after.error is None, (before.error, after.error)
    assert sorted(r.urn for r in before.resources) == sorted(r.urn for r in after.resources)
