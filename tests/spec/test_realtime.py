"""The ``realTime`` key: what it resolves to at each chain, and every bad input named with its key."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.program import naming
from cis_monitoring.spec import ConfigError, load_config, targets
from cis_monitoring.spec.realtime import cis_topic_name, default_regions

EMAIL = [{"protocol": "email", "endpoint": "soc@example.com"}]


def _config(real_time: Any, **more: Any) -> dict[str, Any]:
    return {
        "accounts": [
            {
                "id": "111111111111",
                "name": "sandbox",
                "trail": {"homeRegion": "eu-west-1", "logGroup": "trail"},
            },
            {
                "id": "222222222222",
                "name": "regional",
                "regions": [
                    {"region": "us-east-2", "logGroup": "trail-2"},
                    {"region": "ap-south-1", "logGroup": "trail-ap"},
                ],
            },
        ],
        "notifications": {"subscriptions": EMAIL},
        "realTime": real_time,
        **more,
    }


def _settings(config: dict[str, Any]) -> dict[str, Any]:
    return {t.key: t.real_time for t in targets(load_config(config))}


def _problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    return [str(p) for p in caught.value.problems]


def test_without_the_key_nothing_is_real_time() -> None:
    config = _config({})
    config.pop("realTime")
    assert set(_settings(config).values()) == {None}


def test_the_default_watches_each_chains_region_and_forwards_nothing() -> None:
    settings = _settings(_config({}))
    assert {key: s.forward_regions for key, s in settings.items()} == {
        "111111111111/eu-west-1": (),
        "222222222222/us-east-2": (),
        "222222222222/ap-south-1": (),
    }


def test_a_global_services_control_adds_us_east_1_by_default() -> None:
    names = " || ".join(f"($.eventName = {n})" for n in CONTROLS["4.5"].event_names)
    iam = replace(CONTROLS["4.5"], filter_pattern=f"{{ ($.eventSource = iam.amazonaws.com) && ({names}) }}")
    assert default_regions(["eu-west-1"], [CONTROLS["4.5"]]) == ("eu-west-1",)
    assert default_regions(["eu-west-1"], [CONTROLS["4.5"], iam]) == ("eu-west-1", "us-east-1")
    assert default_regions(["cn-north-1"], [iam]) == (
        "cn-north-1",
    )  # no default guessed in another partition


def test_listed_regions_without_a_chain_forward_to_the_accounts_first_chain() -> None:
    settings = _settings(_config({"regions": ["eu-west-1", "us-east-1", "ap-south-1"]}))
    assert settings["111111111111/eu-west-1"].forward_regions == ("us-east-1", "ap-south-1")
    # the regional account: its first chain (us-east-2) takes the Regions it has no chain in
    assert settings["222222222222/us-east-2"].forward_regions == ("eu-west-1", "us-east-1")
    assert settings["222222222222/ap-south-1"].forward_regions == ()


def test_quiet_roles_high_risk_and_central_bus_reach_every_chain() -> None:
    role = "arn:aws:iam::111111111111:role/automation/deployer"
    settings = _settings(
        _config(
            {
                "quietRoles": [role],
                "highRisk": {"topicArn": "arn:aws:sns:{region}:{accountId}:high-risk"},
                "centralBus": {
                    "accountId": "111111111111",
                    "region": "eu-west-1",
                    "organizationId": "o-abcdefghij",
                },
            }
        )
    )
    sandbox = settings["111111111111/eu-west-1"]
    assert sandbox.quiet_roles == (role,)
    assert sandbox.high_risk.topic_arn == "arn:aws:sns:eu-west-1:111111111111:high-risk"
    assert sandbox.central_bus.bus_name == "cis-realtime" and sandbox.delivers("111111111111", "eu-west-1")
    assert not settings["222222222222/us-east-2"].delivers("222222222222", "us-east-2")


def test_high_risk_subscribers_are_resolved_like_the_chains() -> None:
    settings = _settings(
        _config({"highRisk": {"subscriptions": [{"protocol": "email", "endpoint": "pager@example.com"}]}})
    )
    [subscriber] = settings["111111111111/eu-west-1"].high_risk.subscriptions
    assert subscriber.endpoint == "pager@example.com"


@pytest.mark.parametrize(
    ("real_time", "expected"),
    [
        (
            {"regions": ["eu-west-9", "us-east-1", "moon-1"]},
            ["realTime.regions: [0] 'eu-west-9' is not an AWS Region; [2] 'moon-1'"],
        ),
        (
            {"regions": ["eu-west-1", "ap-east-1"], "enabledRegions": ["eu-west-1"]},
            ["realTime.regions[1]: ap-east-1 is not among realTime.enabledRegions"],
        ),
        (
            {"enabledRegions": ["eu-west-1", "us-east-2"]},
            ["realTime.enabledRegions: the default real-time Region ap-south-1 of account 222222222222"],
        ),
        (
            {
                "quietRoles": [
                    "arn:aws:sts::111111111111:assumed-role/deployer/s",
                    "arn:aws:iam::111111111111:role/*",
                ]
            },
            [
                "realTime.quietRoles: [0] 'arn:aws:sts::111111111111:assumed-role/deployer/s' is not an IAM role ARN",
                "[1] 'arn:aws:iam::111111111111:role/*'",
            ],
        ),
        (
            {"highRisk": {"topicArn": "arn:aws:sns:{region}:{accountId}:cis-sandbox-alarms"}},
            [
                "realTime.highRisk.topicArn: arn:aws:sns:eu-west-1:111111111111:cis-sandbox-alarms is the CIS alarm topic"
            ],
        ),
        (
            {"highRisk": {"topicArn": "arn:aws:sns:us-east-1:111111111111:pager"}},
            [
                "realTime.highRisk.topicArn: for the chain in account 111111111111 eu-west-1 it is in us-east-1"
            ],
        ),
        ({"highRisk": {}}, ["realTime.highRisk: set exactly one of topicArn"]),
        (
            {
                "highRisk": {
                    "subscriptions": [
                        {
                            "protocol": "sqs",
                            "endpoint": "arn:aws:sqs:eu-west-1:999999999999:q",
                            "queuePolicy": "existing",
                        }
                    ]
                }
            },
            ["realTime.highRisk.subscriptions[0].endpoint: the queue is in account 999999999999"],
        ),
        (
            {
                "centralBus": {
                    "accountId": "333333333333",
                    "region": "eu-west-1",
                    "organizationId": "o-abcdefghij",
                }
            },
            ["realTime.centralBus: account 333333333333 has no chain in eu-west-1"],
        ),
        (
            {"centralBus": {"accountId": "111111111111", "region": "eu-west-1", "organizationId": "org-1"}},
            ["realTime.centralBus.organizationId: 'org-1' is not an organization id"],
        ),
        ({"quietRole": []}, ["realTime.quietRole"]),
    ],
    ids=[
        "not-regions",
        "not-enabled",
        "default-not-enabled",
        "not-role-arns",
        "cis-topic",
        "other-region",
        "no-channel",
        "cross-account-queue",
        "bus-without-chain",
        "bad-org-id",
        "typo",
    ],
)
def test_bad_input_names_the_key_and_what_is_accepted(real_time: dict, expected: list[str]) -> None:
    problems = _problems(_config(real_time))
    for text in expected:
        assert any(text in p for p in problems), problems


def test_the_cis_topic_of_a_reused_topic_is_refused_too() -> None:
    config = _config({"highRisk": {"topicArn": "arn:aws:sns:{region}:{accountId}:shared"}})
    config["notifications"] = {"topicArn": "arn:aws:sns:{region}:{accountId}:shared"}
    assert any("is the CIS alarm topic" in p for p in _problems(config))


def test_every_problem_is_reported_together() -> None:
    problems = _problems(_config({"regions": ["nowhere-1"], "quietRoles": ["x"], "highRisk": {}}))
    assert {p.split(":")[0] for p in problems} >= {
        "realTime.regions",
        "realTime.quietRoles",
        "realTime.highRisk",
    }


def test_the_check_uses_the_programs_topic_name() -> None:
    target = targets(load_config(_config({})))[0]
    assert naming.topic_name("cis", target) == cis_topic_name("cis", target.account_name)


def test_the_readmes_control_table_says_which_controls_get_a_rule() -> None:
    """The generated supported-controls table (``make docs``; tests/spec/test_docs.py holds it current)."""
    from cis_monitoring.core.detectors.event_rule import high_risk_pattern, rule_pattern
    from local.program_harness import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- BEGIN GENERATED: supported controls -->", 1)[1].split("<!-- END GENERATED", 1)[
        0
    ]
    lines = table.splitlines()
    heading = next(line for line in lines if line.startswith("| catalog"))
    column = [cell.strip() for cell in heading.split("|")].index("real-time (opt-in)")
    for control in CONTROLS.values():
        row = next(line for line in lines if line.startswith(f"| `{control.control_id}`"))
        cell = [c.strip() for c in row.split("|")][column]
        if rule_pattern(control) is None:
            assert cell.startswith("no: "), control.control_id
        else:
            assert cell == ("rule; high-risk rule" if high_risk_pattern(control) else "rule"), (
                control.control_id
            )
