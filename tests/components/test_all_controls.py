"""``controls: all`` under Pulumi mocks: every control of the catalog, through the same code paths as 4.5.

One full chain per control per monitored log group (filter with the control's text and metric, an
alarm on exactly that metric notifying the site's topic); every name unique and within AWS's limits;
and names stable when controls are added or removed, replayed through the engine model
(tests/components/engine_model.py, as tests/components/test_renames.py does).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from typing import Any

import pytest

from cis_monitoring.core.aws.regions import known_regions
from cis_monitoring.core.catalog import CONTROLS, get_control
from cis_monitoring.spec import CONTROL_TAG
from cis_monitoring.spec.fields import NAME_PREFIX_MAX, TAGS_MAX
from local.program_harness import ProgramRun, decode_provider_inputs, run_program
from tests.components.engine_model import ALARM, FILTER, leftovers, losses, record, update, world_of
from tests.conftest import PAGER_URL

TOPIC = "aws:sns/topic:Topic"
MONITOR = "cis-monitoring:aws:ControlMonitor"
REAL_TIME_TYPES = {
    "cis-monitoring:aws:RealTimeMonitor",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
}
"""What a control's real-time channel registers (Pulumi.prod.yaml has realTime)."""
ALL = list(CONTROLS)
# AWS's limits on the names the program makes (botocore's service models): cloudwatch
# PutMetricAlarm AlarmName 1-255; logs PutMetricFilter filterName 1-512, pattern [^:*]*.
ALARM_NAME_MAX, FILTER_NAME_MAX = 255, 512


def _run(config: dict[str, Any], stack: str) -> ProgramRun:
    run = run_program(config, stack=stack, secret_keys=["pagerEndpoint"])
    assert run.error is None, run.error
    return run


def _with(config: dict[str, Any], controls: Any) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    changed["controls"] = controls
    return changed


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    from local.program_harness import stack_config

    config = copy.deepcopy(stack_config("prod")[0])
    config["pagerEndpoint"] = PAGER_URL
    assert config["controls"] == "all", "Pulumi.prod.yaml shows controls: all"
    return config


@pytest.fixture(scope="module")
def prod_run(prod: dict[str, Any]) -> ProgramRun:
    return _run(prod, "prod")


def test_one_full_chain_per_control_per_monitored_log_group(prod_run: ProgramRun) -> None:
    chains = prod_run.outputs["chains"]
    assert len(chains) == 2
    by_urn = prod_run.by_urn()
    topics = {
        prod_run.provider_site(t): t.outputs["arn"]
        for t in prod_run.of_type(TOPIC)
        if not t.parent.rsplit("::", 1)[-1].endswith("-high-risk")  # the CIS topic, not realTime.highRisk
    }
    groups = {(c["accountId"], c["region"]): c["logGroup"] for c in chains.values()}
    filters: Counter[tuple[str, str, str]] = Counter()
    for alarm in prod_run.of_type(ALARM):
        site = prod_run.provider_site(alarm)
        control = get_control(alarm.inputs["tags"][CONTROL_TAG])
        [metric_filter] = [by_urn[u] for u in alarm.dependencies if by_urn[u].type == FILTER]
        assert metric_filter.inputs["pattern"] == control.filter_pattern
        assert metric_filter.inputs["logGroupName"] == groups[site]
        assert metric_filter.inputs["metricTransformation"]["name"] == alarm.inputs["metricName"]
        assert alarm.inputs["metricName"] == control.metric_name
        assert alarm.inputs["alarmActions"] == [topics[site]]
        filters[(*site, control.control_id)] += 1
    assert filters == Counter({(*site, c): 1 for site in groups for c in ALL})
    assert len(prod_run.of_type(FILTER)) == len(groups) * len(ALL)
    for chain in chains.values():
        assert set(chain["controls"]) == set(ALL)
        for control_id, entry in chain["controls"].items():
            assert entry["controlId"] == control_id and entry["detector"] == get_control(control_id).detector
    summary = prod_run.outputs["summary"]
    assert summary["controls"] == ALL and summary["monitors"] == len(groups) * len(ALL)


def test_every_name_is_unique(prod_run: ProgramRun) -> None:
    urns = [r.urn for r in prod_run.resources]
    assert len(urns) == len(set(urns))
    alarms = [a.inputs["name"] for a in prod_run.of_type(ALARM)]
    assert len(alarms) == len(set(alarms)) == 2 * len(ALL)
    # Metric filter names are unique per log group (the scope AWS keys them by).
    per_group = [(f.inputs["logGroupName"], f.inputs["name"]) for f in prod_run.of_type(FILTER)]
    assert len(per_group) == len(set(per_group))
    assert len({name for _, name in per_group}) == len(ALL)
    metrics = [
        (f.inputs["logGroupName"], f.inputs["metricTransformation"]["name"]) for f in prod_run.of_type(FILTER)
    ]
    assert len(metrics) == len(set(metrics))


def test_names_and_tags_stay_within_aws_limits_at_their_longest(prod: dict[str, Any]) -> None:
    longest_region = max(known_regions(), key=len)
    config = copy.deepcopy(prod)
    config["namePrefix"] = "c" + "x" * (NAME_PREFIX_MAX - 1)
    config["tags"] = {f"Tag{n:02d}": "v" for n in range(TAGS_MAX - 3)}  # the most a stack may set
    owner = config["accounts"][0]
    owner["name"] = "a" * 40  # the longest account name the config accepts
    config["organizationTrail"]["homeRegion"] = longest_region
    run = _run(config, "prod")
    alarms = run.of_type(ALARM)
    assert len(alarms) == 2 * len(ALL)
    longest = max((a.inputs["name"] for a in alarms), key=len)
    tags = [f"{c.control_id.replace('.', '-')}-{c.slug}" for c in CONTROLS.values()]
    assert longest == f"{config['namePrefix']}-{max(tags, key=len)}-{'a' * 40}-{longest_region}"
    assert len(longest) <= ALARM_NAME_MAX, longest
    for metric_filter in run.of_type(FILTER):
        name = metric_filter.inputs["name"]
        assert len(name) <= FILTER_NAME_MAX and not set(name) & {":", "*"}, name
    for alarm in alarms:
        provider = run.provider_for(alarm)
        assert provider is not None
        default_tags = decode_provider_inputs(provider.inputs)["defaultTags"]["tags"]
        assert len({**default_tags, **alarm.inputs["tags"]}) <= TAGS_MAX


# ---------------------------------------------------------------- stable names: the engine's diff


@pytest.fixture(scope="module")
def every_control(prod: dict[str, Any]) -> list[Any]:
    return record(_with(prod, "all"), stack="prod", secret_keys=["pagerEndpoint"])


def _monitor_urns(resources: list[Any], control_id: str) -> set[str]:
    """The control's components and what they hold, in every chain: its filter and alarm, and (the prod
    stack has realTime) its real-time rules, their targets and its forwarding role."""
    name = re.compile(rf"-control-{re.escape(control_id)}(-filter|-alarm|-event-rule(-.+)?)?$")
    return {r.urn for r in resources if name.search(r.urn.rsplit("::", 1)[1])}


def test_adding_every_control_to_4_5_only_creates_the_new_ones(
    prod: dict[str, Any], every_control: list[Any]
) -> None:
    before = record(_with(prod, ["4.5"]), stack="prod", secret_keys=["pagerEndpoint"])
    world = world_of(before)
    result = update(world, "prod", before, every_control)
    assert not result.replaced and not result.removed and not result.conflicts
    assert len(result.kept) == len(before), "everything of 4.5's chains is kept, under the same URN"
    assert all(old.urn == new.urn for old, new in result.kept)
    new = {r.urn for r in result.created}
    assert new == set().union(*(_monitor_urns(every_control, c) for c in ALL if c != "4.5"))
    assert {r.type for r in result.created} == {MONITOR, FILTER, ALARM, *REAL_TIME_TYPES}
    assert losses(world, result.state) == []


@pytest.mark.parametrize("removed", ALL)
def test_removing_one_control_touches_nothing_else(
    removed: str, prod: dict[str, Any], every_control: list[Any]
) -> None:
    after = record(_with(prod, [c for c in ALL if c != removed]), stack="prod", secret_keys=["pagerEndpoint"])
    world = world_of(every_control)
    result = update(world, "prod", every_control, after)
    assert not result.created and not result.replaced and not result.conflicts
    assert {r.urn for r in result.removed} == _monitor_urns(every_control, removed)
    assert all(old.urn == new.urn for old, new in result.kept)
    # Its filters and alarms are retained (retain_on_delete), never deleted: README says how to remove them.
    control = get_control(removed)
    assert {r.type for r in result.retained} == {FILTER, ALARM}
    left = leftovers(world, result.state)
    assert len(left) == 2 * 2 and all(f"{removed.replace('.', '-')}-{control.slug}" in item for item in left)
    assert losses(world, result.state) == []
