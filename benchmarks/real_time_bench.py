"""``python -m benchmarks.real_time_bench``: what pulumi-aws v7's per-resource ``region`` saves the real-time rules.

Counts, not time: the real program under Pulumi mocks (``local.program_harness``) on ``Pulumi.prod.yaml``
(``controls: all``, ``realTime`` with three Regions and the high-risk split), registered two ways:

- ``per-resource region`` (what the program does): one provider per chain site (account and chain
  Region); each rule and target outside the provider's Region names its own Region;
- ``provider per Region`` (what it would take without v7's ``region``): the same resources, each outside
  the chain's Region under a provider of its own (account, Region), created once per pair.

Printed as JSON: providers, registrations (every resource, components included) and EventBridge rules in
each mode, and the difference. The second mode is made by wrapping the component's rule and target
constructors in this process only; the providers it adds carry the Region and account, not the roles and
tags a real one would (they do not change the count).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pulumi_aws as aws

from components import real_time
from local.program_harness import ProgramRun, run_program, stack_config

PROVIDER = "pulumi:providers:aws"
RULE = "aws:cloudwatch/eventRule:EventRule"
PAGER_URL = "https://events.pagerduty.com/integration/bench/enqueue"
"""The prod stack's secret pager endpoint (any https URL: it is not called)."""


@contextmanager
def provider_per_region() -> Iterator[None]:
    """Rules and targets outside the chain's Region under a provider of their own (account, Region)."""
    made: dict[tuple[str, str], aws.Provider] = {}
    original_rule, original_target = real_time.RealTimeMonitor._rule, real_time.RealTimeMonitor._target

    def provider(monitor: real_time.RealTimeMonitor, region: str) -> aws.Provider:
        account = monitor._args.account_id
        if (account, region) not in made:
            made[(account, region)] = aws.Provider(
                f"bench-{account}-{region}", region=region, allowed_account_ids=[account]
            )
        return made[(account, region)]

    def moved(place: Any) -> Any:
        return real_time._Place(None, place.bus, place.delivers)

    def rule(monitor: real_time.RealTimeMonitor, place: Any, spec: Any, tags: Any) -> Any:
        if place.region is None:
            return original_rule(monitor, place, spec, tags)
        opts = pulumi.ResourceOptions(parent=monitor, provider=provider(monitor, place.region))
        with _child_options(monitor, opts):
            return original_rule(monitor, _Keyed(moved(place), place.key), spec, tags)

    def target(monitor: real_time.RealTimeMonitor, place: Any, spec: Any, made_rule: Any) -> None:
        if place.region is None:
            return original_target(monitor, place, spec, made_rule)
        opts = pulumi.ResourceOptions(parent=monitor, provider=provider(monitor, place.region))
        with _child_options(monitor, opts):
            return original_target(monitor, _Keyed(moved(place), place.key), spec, made_rule)

    real_time.RealTimeMonitor._rule = rule  # type: ignore[method-assign]
    real_time.RealTimeMonitor._target = target  # type: ignore[method-assign]
    try:
        yield
    finally:
        real_time.RealTimeMonitor._rule = original_rule  # type: ignore[method-assign]
        real_time.RealTimeMonitor._target = original_target  # type: ignore[method-assign]


class _Keyed:
    """A place without a Region (the provider carries it) that keeps its name in logical names."""

    def __init__(self, place: Any, key: str) -> None:
        self.region, self.bus, self.delivers, self.key = place.region, place.bus, place.delivers, key


@contextmanager
def _child_options(monitor: real_time.RealTimeMonitor, opts: pulumi.ResourceOptions) -> Iterator[None]:
    original = monitor._child
    monitor._child = lambda: opts  # type: ignore[method-assign]
    try:
        yield
    finally:
        monitor._child = original  # type: ignore[method-assign]


def counts(run: ProgramRun) -> dict[str, int]:
    assert run.error is None, run.error
    return {
        "providers": len(run.of_type(PROVIDER)),
        "registrations": len(run.resources),
        "event_rules": len(run.of_type(RULE)),
        "rules_naming_a_region": sum(1 for r in run.of_type(RULE) if r.inputs.get("region")),
    }


def measure() -> dict[str, Any]:
    config = stack_config("prod")[0]
    config["pagerEndpoint"] = PAGER_URL

    def run() -> ProgramRun:
        return run_program(config, stack="prod", secret_keys=["pagerEndpoint"])

    without = dict(config)
    without.pop("realTime")
    without_real_time = counts(run_program(without, stack="prod", secret_keys=["pagerEndpoint"]))
    with_region = counts(run())
    with provider_per_region():
        per_region = counts(run())
    return {
        "stack": "Pulumi.prod.yaml",
        "controls": config["controls"],
        "realTimeRegions": config["realTime"]["regions"],
        "without realTime": without_real_time,
        "per-resource region": with_region,
        "provider per Region": per_region,
        "providers saved": per_region["providers"] - with_region["providers"],
        "registrations saved": per_region["registrations"] - with_region["registrations"],
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
