"""Large stacks for the policy-pack and engine benchmarks, built from the program's own registrations.

The real ``__main__.py`` runs once under the test harness's mocks at ``SEED_TARGETS`` targets
(10 registrations each: provider, 2 components, kms Key + Alias, sns Topic + TopicPolicy +
TopicSubscription, LogMetricFilter, MetricAlarm). A stack of N resources is N / 10 targets:
target ``j`` is a copy of seed target ``j % SEED_TARGETS`` with that target's account id and
account name replaced by target ``j``'s everywhere (URNs, names, inputs, outputs, provider
references, dependencies), so every copy is a distinct, consistent (account, region) chain.

Some targets are made non-compliant so the pack's failure path runs: ``WEAKENED_SHARE`` get a
filter pattern that misses one event (five distinct texts, each judged once per process), and
``MISSING_ALARM_SHARE`` lose their MetricAlarm.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from benchmarks import targets as t
from cis_monitoring.core.catalog import CIS_4_5

# Repo test support (not product code): runs __main__.py under Pulumi mocks.
from local.program_harness import ProgramRun, Registration, run_program

SEED_TARGETS = 100
RESOURCES_PER_TARGET = 10
WEAKENED_SHARE = 0.02
MISSING_ALARM_SHARE = 0.01
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@dataclass(frozen=True)
class StackShape:
    resources: int
    targets: int
    weakened_targets: int
    targets_without_alarm: int


def seed_run(targets: int = SEED_TARGETS) -> ProgramRun:
    """The real program's registrations for ``targets`` targets (raises on a program error)."""
    run = run_program(t.program_config(targets))
    if run.error is not None:
        raise RuntimeError(f"the program failed under mocks: {run.error}") from run.error
    return run


def weakened_pattern(variant: int) -> str:
    """The canonical 4.5 pattern without one of its five events (so it misses that event)."""
    events = list(CIS_4_5.event_names)
    del events[variant % len(events)]
    return "{ " + " || ".join(f"($.eventName = {e})" for e in events) + " }"


def _substitute(value: Any, swap: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return swap(value)
    if isinstance(value, dict):
        return {k: _substitute(v, swap) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, swap) for v in value]
    return value


def _groups(run: ProgramRun, seed_targets: int) -> list[list[Registration]]:
    """The seed run's registrations grouped by target (every logical name starts with the account id)."""
    by_name = {f"{t.account_id(i)}-": i for i in range(seed_targets)}
    groups: list[list[Registration]] = [[] for _ in range(seed_targets)]
    for resource in run.resources:
        owner = next((i for marker, i in by_name.items() if resource.name.startswith(marker)), None)
        if owner is None:
            raise RuntimeError(f"cannot tell which target {resource.urn} belongs to")
        groups[owner].append(resource)
    return groups


def _copy_group(group: Sequence[Registration], source: int, target: int) -> list[Registration]:
    if source == target:
        return [copy.deepcopy(r) for r in group]
    pairs = ((t.account_id(source), t.account_id(target)), (t.account_name(source), t.account_name(target)))

    def swap(text: str) -> str:
        for old, new in pairs:
            text = text.replace(old, new)
        return text

    return [
        replace(
            r,
            name=swap(r.name),
            urn=swap(r.urn),
            inputs=_substitute(r.inputs, swap),
            raw_inputs={},
            outputs=_substitute(r.outputs, swap),
            provider=swap(r.provider),
            parent=swap(r.parent),
            dependencies=[swap(d) for d in r.dependencies],
            property_dependencies={k: [swap(u) for u in v] for k, v in r.property_dependencies.items()},
            id=swap(r.id) if r.id else r.id,
        )
        for r in group
    ]


def _every(share: float, targets: int) -> int:
    """Spacing of the non-compliant targets (0: none at this size)."""
    count = int(targets * share)
    return targets // count if count else 0


def build_stack(
    resources: int, seed: ProgramRun, seed_targets: int = SEED_TARGETS
) -> tuple[ProgramRun, StackShape]:
    """A ProgramRun with ``resources`` registrations (a multiple of 10), replicated from ``seed``."""
    targets = max(1, resources // RESOURCES_PER_TARGET)
    groups = _groups(seed, seed_targets)
    weaken_every, drop_every = _every(WEAKENED_SHARE, targets), _every(MISSING_ALARM_SHARE, targets)
    out: list[Registration] = []
    weakened = dropped = 0
    for j in range(targets):
        group = _copy_group(groups[j % seed_targets], j % seed_targets, j)
        # Offsets keep the two kinds of breakage on different targets.
        if weaken_every and j % weaken_every == 1:
            for r in group:
                if r.type == FILTER:
                    r.inputs["pattern"] = r.outputs["pattern"] = weakened_pattern(weakened)
            weakened += 1
        if drop_every and j % drop_every == 2:
            group = [r for r in group if r.type != ALARM]
            dropped += 1
        out.extend(group)
    run = ProgramRun(resources=out, outputs={}, invokes=[])
    return run, StackShape(len(out), targets, weakened, dropped)
