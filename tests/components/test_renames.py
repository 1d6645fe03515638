"""Renames, upgrades and moves between shard stacks never delete monitoring that is still wanted.

Each test runs the real program twice under mocks (before/after) and replays both runs
through the engine model (tests/components/engine_model.py): URNs and aliases decide
what Pulumi keeps, replaces, creates and deletes; physical identities decide what that
does to AWS. A "loss" is a resource some stack's state holds that AWS no longer has.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.components.engine_model import (
    ALARM,
    FILTER,
    KEY,
    KEY_ALIAS,
    PROVIDER,
    SUBSCRIPTION,
    TOPIC,
    TOPIC_POLICY,
    Resource,
    from_recorded,
    leftovers,
    losses,
    moved,
    record,
    update,
    world_of,
)
from tests.conftest import PAGER_URL

SANDBOX = "111111111111"
_CONFIG: dict[str, Any] = {
    "namePrefix": "cis",
    "notifications": {
        "subscriptions": [
            {"protocol": "email", "endpoint": "soc@example.com"},
            {"protocol": "https", "endpointSecretKey": "pagerEndpoint"},
        ]
    },
    "accounts": [
        {
            "id": SANDBOX,
            "name": "sandbox",
            "roleArn": "arn:aws:iam::111111111111:role/cis-monitoring-deployer",
            # What the earlier release deployed: a chain in each Region, on a group of the same name in
            # each (its lookups succeeded, so the groups existed): per-Region trails, as issue 10 says it.
            "regions": [
                {"region": "us-east-1", "logGroup": "org-trail/cloudtrail", "perRegionTrail": True},
                {"region": "eu-west-1", "logGroup": "org-trail/cloudtrail", "perRegionTrail": True},
            ],
        },
        {
            "id": "222222222222",
            "name": "shared-dev",
            "regions": [{"region": "us-east-1", "logGroup": "aws-controltower/CloudTrailLogs"}],
            "notifications": {
                "subscriptions": [
                    {"protocol": "email", "endpoint": "dev-team@example.com"},
                    {
                        "protocol": "lambda",
                        "endpoint": "arn:aws:lambda:us-east-1:222222222222:function:page-oncall",
                    },
                ]
            },
        },
    ],
    "pagerEndpoint": PAGER_URL,
}
TOOLING = {
    "id": "333333333333",
    "name": "tooling",
    "regions": [{"region": "us-east-1", "logGroup": "org-trail/cloudtrail"}],
}

# The state an earlier release (logical names built from prefix and account name) wrote for
# _CONFIG in stack "dev": (URN, account/Region, physical identity, other replace-on-change inputs).
# Recorded from that release's program with tests/components/engine_model.record and as_rows.
_D = "urn:pulumi:dev::cis-monitoring::"
_N = f"{_D}cis-monitoring:aws:AlarmNotification$"
_M = f"{_D}cis-monitoring:aws:ControlMonitor$"
_SB_E, _SB_W, _SD_E = "111111111111/us-east-1", "111111111111/eu-west-1", "222222222222/us-east-1"
_TOPIC_SB_E = "arn:aws:sns:us-east-1:111111111111:cis-sandbox-alarms"
_TOPIC_SB_W = "arn:aws:sns:eu-west-1:111111111111:cis-sandbox-alarms"
_TOPIC_SD_E = "arn:aws:sns:us-east-1:222222222222:cis-shared-dev-alarms"
_LAMBDA = "arn:aws:lambda:us-east-1:222222222222:function:page-oncall"
# fmt: off
LEGACY_STATE = [
    (f"{_N}aws:kms/alias:Alias::cis-sandbox-eu-west-1-notify-key-alias", _SB_W, f"{_SB_W} key-alias alias/cis-sandbox-alarms", ()),
    (f"{_N}aws:kms/alias:Alias::cis-sandbox-us-east-1-notify-key-alias", _SB_E, f"{_SB_E} key-alias alias/cis-sandbox-alarms", ()),
    (f"{_N}aws:kms/alias:Alias::cis-shared-dev-us-east-1-notify-key-alias", _SD_E, f"{_SD_E} key-alias alias/cis-shared-dev-alarms", ()),
    (f"{_N}aws:kms/key:Key::cis-sandbox-eu-west-1-notify-key", _SB_W, None, ()),
    (f"{_N}aws:kms/key:Key::cis-sandbox-us-east-1-notify-key", _SB_E, None, ()),
    (f"{_N}aws:kms/key:Key::cis-shared-dev-us-east-1-notify-key", _SD_E, None, ()),
    (f"{_N}aws:lambda/permission:Permission::cis-shared-dev-us-east-1-notify-sub-1-invoke", _SD_E, None, ("lambda:InvokeFunction", _LAMBDA, "sns.amazonaws.com", _TOPIC_SD_E)),
    (f"{_N}aws:sns/topic:Topic::cis-sandbox-eu-west-1-notify-topic", _SB_W, f"{_SB_W} topic cis-sandbox-alarms", ()),
    (f"{_N}aws:sns/topic:Topic::cis-sandbox-us-east-1-notify-topic", _SB_E, f"{_SB_E} topic cis-sandbox-alarms", ()),
    (f"{_N}aws:sns/topic:Topic::cis-shared-dev-us-east-1-notify-topic", _SD_E, f"{_SD_E} topic cis-shared-dev-alarms", ()),
    (f"{_N}aws:sns/topicPolicy:TopicPolicy::cis-sandbox-eu-west-1-notify-topic-policy", _SB_W, f"{_SB_W} topic-policy {_TOPIC_SB_W}", ()),
    (f"{_N}aws:sns/topicPolicy:TopicPolicy::cis-sandbox-us-east-1-notify-topic-policy", _SB_E, f"{_SB_E} topic-policy {_TOPIC_SB_E}", ()),
    (f"{_N}aws:sns/topicPolicy:TopicPolicy::cis-shared-dev-us-east-1-notify-topic-policy", _SD_E, f"{_SD_E} topic-policy {_TOPIC_SD_E}", ()),
    (f"{_N}aws:sns/topicSubscription:TopicSubscription::cis-sandbox-eu-west-1-notify-sub-0", _SB_W, f"{_SB_W} subscription {_TOPIC_SB_W} email soc@example.com", ()),
    (f"{_N}aws:sns/topicSubscription:TopicSubscription::cis-sandbox-eu-west-1-notify-sub-1", _SB_W, f"{_SB_W} subscription {_TOPIC_SB_W} https {PAGER_URL}", ()),
    (f"{_N}aws:sns/topicSubscription:TopicSubscription::cis-sandbox-us-east-1-notify-sub-0", _SB_E, f"{_SB_E} subscription {_TOPIC_SB_E} email soc@example.com", ()),
    (f"{_N}aws:sns/topicSubscription:TopicSubscription::cis-sandbox-us-east-1-notify-sub-1", _SB_E, f"{_SB_E} subscription {_TOPIC_SB_E} https {PAGER_URL}", ()),
    (f"{_N}aws:sns/topicSubscription:TopicSubscription::cis-shared-dev-us-east-1-notify-sub-0", _SD_E, f"{_SD_E} subscription {_TOPIC_SD_E} email dev-team@example.com", ()),
    (f"{_N}aws:sns/topicSubscription:TopicSubscription::cis-shared-dev-us-east-1-notify-sub-1", _SD_E, f"{_SD_E} subscription {_TOPIC_SD_E} lambda {_LAMBDA}", ()),
    (f"{_D}cis-monitoring:aws:AlarmNotification::cis-sandbox-eu-west-1-notify", None, None, ()),
    (f"{_D}cis-monitoring:aws:AlarmNotification::cis-sandbox-us-east-1-notify", None, None, ()),
    (f"{_D}cis-monitoring:aws:AlarmNotification::cis-shared-dev-us-east-1-notify", None, None, ()),
    (f"{_M}aws:cloudwatch/logMetricFilter:LogMetricFilter::cis-sandbox-eu-west-1-4-5-cloudtrail-changes-filter", _SB_W, f"{_SB_W} metric-filter org-trail/cloudtrail cis-4-5-cloudtrail-changes", ()),
    (f"{_M}aws:cloudwatch/logMetricFilter:LogMetricFilter::cis-sandbox-us-east-1-4-5-cloudtrail-changes-filter", _SB_E, f"{_SB_E} metric-filter org-trail/cloudtrail cis-4-5-cloudtrail-changes", ()),
    (f"{_M}aws:cloudwatch/logMetricFilter:LogMetricFilter::cis-shared-dev-us-east-1-4-5-cloudtrail-changes-filter", _SD_E, f"{_SD_E} metric-filter aws-controltower/CloudTrailLogs cis-4-5-cloudtrail-changes", ()),
    (f"{_M}aws:cloudwatch/metricAlarm:MetricAlarm::cis-sandbox-eu-west-1-4-5-cloudtrail-changes-alarm", _SB_W, f"{_SB_W} alarm cis-4-5-cloudtrail-changes-sandbox-eu-west-1", ()),
    (f"{_M}aws:cloudwatch/metricAlarm:MetricAlarm::cis-sandbox-us-east-1-4-5-cloudtrail-changes-alarm", _SB_E, f"{_SB_E} alarm cis-4-5-cloudtrail-changes-sandbox-us-east-1", ()),
    (f"{_M}aws:cloudwatch/metricAlarm:MetricAlarm::cis-shared-dev-us-east-1-4-5-cloudtrail-changes-alarm", _SD_E, f"{_SD_E} alarm cis-4-5-cloudtrail-changes-shared-dev-us-east-1", ()),
    (f"{_D}cis-monitoring:aws:ControlMonitor::cis-sandbox-eu-west-1-4-5-cloudtrail-changes", None, None, ()),
    (f"{_D}cis-monitoring:aws:ControlMonitor::cis-sandbox-us-east-1-4-5-cloudtrail-changes", None, None, ()),
    (f"{_D}cis-monitoring:aws:ControlMonitor::cis-shared-dev-us-east-1-4-5-cloudtrail-changes", None, None, ()),
    (f"{_D}pulumi:providers:aws::cis-sandbox-eu-west-1", None, None, ()),
    (f"{_D}pulumi:providers:aws::cis-sandbox-us-east-1", None, None, ()),
    (f"{_D}pulumi:providers:aws::cis-shared-dev-us-east-1", None, None, ()),
]
# fmt: on


def config(**changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(_CONFIG)
    result.update(copy.deepcopy(changes))
    return result


def run(cfg: dict[str, Any], stack: str = "dev") -> list[Resource]:
    return record(cfg, stack=stack, secret_keys=["pagerEndpoint"])


def of_type(resources: list[Resource], type_: str) -> list[Resource]:
    return [r for r in resources if r.type == type_]


def test_upgrading_from_account_name_logical_names_changes_nothing_in_aws() -> None:
    before = from_recorded("dev", LEGACY_STATE)
    after = run(config())
    world = world_of(before)
    result = update(world, "dev", before, after)
    # Every resource of the earlier release is matched through an alias: no create, replace or delete.
    assert result.aws_changes() == []
    assert not result.created and not result.removed
    assert len(result.kept) == len(before) == len(after)
    assert all(old.urn != new.urn for old, new in result.kept), "the test must exercise aliases"
    assert losses(world, result.state) == [] and leftovers(world, result.state) == set()


def test_renaming_an_account_keeps_its_metric_filter_and_renames_the_rest_new_before_old() -> None:
    before = run(config())
    renamed = config()
    renamed["accounts"][0]["name"] = "sandbox-eu"
    after = run(renamed)
    world = world_of(before)
    result = update(world, "dev", before, after)

    assert losses(world, result.state) == []
    assert result.conflicts == [] and not result.created and not result.removed
    kept = {new.type for old, new in result.kept if old.custom}
    assert FILTER in kept and KEY in kept  # same URN, same physical name: untouched
    # A real physical rename: the new name is created first, the old one removed after, never the same name.
    assert {new.type for _, new in result.replaced} == {ALARM, TOPIC, KEY_ALIAS, SUBSCRIPTION, TOPIC_POLICY}
    for old, new in result.replaced:
        assert old.identity and new.identity and "sandbox-eu" in new.identity
        assert old.identity != new.identity and "sandbox" in old.identity
    # The old alarms are retained (never deleted by Pulumi): README says how to remove them.
    assert leftovers(world, result.state) == {
        f"{SANDBOX}/us-east-1 alarm cis-4-5-cloudtrail-changes-sandbox-us-east-1",
        f"{SANDBOX}/eu-west-1 alarm cis-4-5-cloudtrail-changes-sandbox-eu-west-1",
    }


def test_changing_the_name_prefix_renames_physical_resources_and_keeps_the_keys() -> None:
    before = run(config())
    after = run(config(namePrefix="sec"))
    world = world_of(before)
    result = update(world, "dev", before, after)

    assert losses(world, result.state) == [] and result.conflicts == []
    assert not result.created and not result.removed  # no logical name holds the prefix
    assert KEY not in {new.type for _, new in result.replaced}  # the topics' keys stay
    for old, new in result.replaced:
        if old.identity:  # the Lambda permission has no name: replaced because its source topic is
            assert old.identity != new.identity and "cis-" in old.identity and "sec-" in (new.identity or "")
    left = leftovers(world, result.state)
    assert left == {r.identity for r in of_type(before, FILTER) + of_type(before, ALARM)}


def test_reordering_or_removing_subscriptions_touches_no_other_subscription() -> None:
    before = run(config())
    changed = config()
    changed["notifications"]["subscriptions"].reverse()
    del changed["accounts"][1]["notifications"]["subscriptions"][0]  # the email; the lambda stays
    after = run(changed)
    world = world_of(before)
    result = update(world, "dev", before, after)

    assert result.aws_changes() == [
        f"delete {r.urn}"
        for r in of_type(before, SUBSCRIPTION)
        if r.identity and r.identity.endswith("email dev-team@example.com")
    ]
    assert losses(world, result.state) == []


# ---------------------------------------------------------------- the trail topology (issue 10)


def _as_multi_region_trail(cfg: dict[str, Any]) -> dict[str, Any]:
    """The sandbox account said as it is: one multi-Region trail, home us-east-1."""
    sandbox = cfg["accounts"][0]
    del sandbox["regions"]
    sandbox["trail"] = {"homeRegion": "us-east-1", "logGroup": "org-trail/cloudtrail"}
    return cfg


def test_rewriting_regions_as_a_trail_keeps_the_home_regions_chain_and_retires_the_others() -> None:
    before = run(config())
    after = run(_as_multi_region_trail(config()))
    world = world_of(before)
    result = update(world, "dev", before, after)

    assert losses(world, result.state) == [] and result.conflicts == []
    # Nothing of the home Region's chain (or of any other account) changes ...
    home = f"{SANDBOX}/us-east-1"
    assert not result.created and not result.replaced
    assert all(r.target == (SANDBOX, "eu-west-1") or r.target is None for r in result.removed)
    assert {r.target for r in result.removed if r.custom and r.type != PROVIDER} == {(SANDBOX, "eu-west-1")}
    assert not [r for r in result.removed if r.identity and r.identity.startswith(home)]
    # ... and the other Region's detection part is retired, not deleted: README says how to remove it.
    assert leftovers(world, result.state) == {
        f"{SANDBOX}/eu-west-1 metric-filter org-trail/cloudtrail cis-4-5-cloudtrail-changes",
        f"{SANDBOX}/eu-west-1 alarm cis-4-5-cloudtrail-changes-sandbox-eu-west-1",
    }


def test_adopting_the_organization_trail_in_its_owners_home_region_changes_nothing_in_aws() -> None:
    """The chain's logical names come from the site's account and Region, not from how it is configured."""
    before = run(_as_multi_region_trail(config()))
    adopted = _as_multi_region_trail(config())
    del adopted["accounts"][0]["trail"]
    adopted["organizationTrail"] = {
        "accountId": SANDBOX,
        "homeRegion": "us-east-1",
        "logGroup": "org-trail/cloudtrail",
        "name": "org-trail",
    }
    after = run(adopted)
    world = world_of(before)
    result = update(world, "dev", before, after)
    assert result.aws_changes() == []
    assert losses(world, result.state) == [] and leftovers(world, result.state) == set()


# ---------------------------------------------------------------- moving an account between shard stacks


def _shard_runs() -> tuple[list[Resource], list[Resource], list[Resource], list[Resource]]:
    """Shard s0 loses the sandbox account to shard s1: (before s0, after s0, before s1, after s1)."""
    sandbox, shared = _CONFIG["accounts"]
    return (
        run(config(), "s0"),
        run(config(accounts=[shared]), "s0"),
        run(config(accounts=[TOOLING]), "s1"),
        run(config(accounts=[TOOLING, sandbox]), "s1"),
    )


def _sandbox(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if r.urn.rsplit("::", 1)[1].startswith(f"{SANDBOX}-")]


def test_moving_an_account_losing_stack_first_loses_nothing() -> None:
    before_0, after_0, before_1, after_1 = _shard_runs()
    world = world_of(before_0, before_1)
    first = update(world, "s0", before_0, after_0)
    second = update(world, "s1", before_1, after_1)

    assert losses(world, first.state, second.state) == []
    assert first.conflicts == second.conflicts == []
    # Shard 0 forgot the filters and alarms without deleting them; shard 1 took them over.
    assert {r.type for r in first.retained} == {FILTER, ALARM}
    assert leftovers(world, first.state, second.state) == set()


def test_moving_an_account_gaining_stack_first_keeps_filters_and_alarms_only() -> None:
    """The unsafe order, shown: README "Moving an account between stacks" says to avoid it."""
    before_0, after_0, before_1, after_1 = _shard_runs()
    world = world_of(before_0, before_1)
    gaining = update(world, "s1", before_1, after_1)
    losing = update(world, "s0", before_0, after_0)

    lost_types = {r.type for r in _sandbox(gaining.state) if r.identity and r.identity not in world}
    # retain_on_delete keeps the chain's detection part whatever the order ...
    assert FILTER not in lost_types and ALARM not in lost_types
    # ... but the losing stack still deletes the topic (and its policy and subscriptions) that the
    # gaining stack took over, and the key alias collides loudly.
    assert lost_types == {TOPIC, SUBSCRIPTION, TOPIC_POLICY}
    assert {r.type for r in gaining.conflicts} == {KEY_ALIAS}
    assert losing.conflicts == []


@pytest.mark.parametrize("losing_first", [True, False])
def test_moving_an_account_with_pulumi_state_move_changes_nothing_in_either_order(losing_first: bool) -> None:
    before_0, after_0, before_1, after_1 = _shard_runs()
    world = world_of(before_0, before_1)
    # pulumi state move --source s0 --dest s1 <the account's components>: children move with them,
    # the provider they use is copied.
    leaving = [r for r in _sandbox(before_0) if r.type != PROVIDER]
    state_0 = [r for r in before_0 if r not in leaving]
    state_1 = before_1 + moved(_sandbox(before_0), "s1")
    steps = [("s0", state_0, after_0), ("s1", state_1, after_1)]
    results = [update(world, *step) for step in (steps if losing_first else steps[::-1])]

    assert [r.aws_changes() for r in results] == [[], []]
    assert losses(world, *(r.state for r in results)) == []


# ---------------------------------------------------------------- aliases only where an old name can exist


def test_after_one_update_with_the_aliases_dropping_them_changes_nothing() -> None:
    """legacyAliases: false is safe once the state holds today's names (any successful update)."""
    before = from_recorded("dev", LEGACY_STATE)
    world = world_of(before)
    upgraded = update(world, "dev", before, run(config()))
    without = update(world, "dev", upgraded.state, run(config(legacyAliases=False)))
    assert without.aws_changes() == [] and not without.created and not without.removed
    assert all(old.urn == new.urn for old, new in without.kept)
    assert losses(world, without.state) == []


def test_without_the_aliases_a_stack_of_an_earlier_release_would_lose_its_chains() -> None:
    """Why legacyAliases defaults to true: the same upgrade without them deletes and recreates."""
    before = from_recorded("dev", LEGACY_STATE)
    after = run(config(legacyAliases=False))
    assert all(not r.aliases for r in after)
    result = update(world_of(before), "dev", before, after)
    assert {r.type for r in result.removed if r.custom} >= {TOPIC, SUBSCRIPTION, KEY, KEY_ALIAS}
    assert result.aws_changes() != []


def test_controls_no_earlier_release_could_deploy_get_no_alias() -> None:
    resources = run(config(controls="all"))
    monitors = {
        r.urn.rsplit("::", 1)[1]: r for r in resources if r.type == "cis-monitoring:aws:ControlMonitor"
    }
    aliased = {name.rsplit("-control-", 1)[1] for name, r in monitors.items() if r.aliases}
    assert aliased == {"4.5"}
    children = [r for r in resources if r.type in (FILTER, ALARM)]
    assert {bool(r.aliases) for r in children if "-control-4.5-" in r.urn} == {True}
    assert {bool(r.aliases) for r in children if "-control-4.5-" not in r.urn} == {False}
