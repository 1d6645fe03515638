"""The program's garbage-collector policy (cis_monitoring/program/collector.py) and the harness's restore."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from cis_monitoring.program import collector

if TYPE_CHECKING:
    from local.program_harness import AwsMocks


@pytest.fixture
def saved_collector() -> Iterator[None]:
    thresholds, callbacks = gc.get_threshold(), list(gc.callbacks)
    yield
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks


def _guard(readings: list[float], baseline: float = 100.0) -> collector.MemoryGuard:
    values = iter(readings)
    return collector.MemoryGuard(
        growth=2.0, floor_mb=150.0, read_mb=lambda: next(values), baseline_mb=baseline
    )


def test_policy_raises_the_young_threshold_and_leaves_full_collections_to_the_guard(
    saved_collector: None,
) -> None:
    guard = collector.apply_policy()
    assert gc.get_threshold() == (
        collector.YOUNG_THRESHOLD,
        collector.MIDDLE_THRESHOLD,
        collector.NO_AUTOMATIC_FULL,
    )
    assert collector.NO_AUTOMATIC_FULL > 10_000  # CPython's default is 10
    again = collector.apply_policy()  # a second program in the same process: still one guard
    assert [c for c in gc.callbacks if isinstance(c, collector.MemoryGuard)] == [again]
    assert guard is not again


def test_guard_asks_for_a_full_collection_once_memory_doubled(saved_collector: None) -> None:
    gc.set_threshold(collector.YOUNG_THRESHOLD, collector.MIDDLE_THRESHOLD, collector.NO_AUTOMATIC_FULL)
    guard = _guard([180.0, 210.0, 250.0])
    guard("start", {"generation": 1})  # nothing is read before a collection
    guard("stop", {"generation": 0})  # nor after a young one
    guard("stop", {"generation": 1})  # 180 MB: not yet twice the 100 MB baseline
    assert gc.get_threshold()[2] == collector.NO_AUTOMATIC_FULL and not guard.full_requested
    guard("stop", {"generation": 1})  # 210 MB: doubled, above the floor
    assert gc.get_threshold()[2] == 0 and guard.full_requested
    guard("stop", {"generation": 1})  # asked once: no more reading until the full collection ran
    guard("stop", {"generation": 2})  # the full collection ran: back to no automatic full, new baseline
    assert gc.get_threshold() == (
        collector.YOUNG_THRESHOLD,
        collector.MIDDLE_THRESHOLD,
        collector.NO_AUTOMATIC_FULL,
    )
    assert guard.baseline_mb == 250.0 and guard.full_collections == 1 and not guard.full_requested


def test_guard_never_asks_below_its_floor(saved_collector: None) -> None:
    guard = _guard([140.0], baseline=10.0)
    guard("stop", {"generation": 1})
    assert not guard.full_requested


def test_guard_in_a_real_collection_restores_its_thresholds(saved_collector: None) -> None:
    guard = collector.apply_policy()
    gc.collect()
    assert guard.full_collections == 1
    assert gc.get_threshold()[2] == collector.NO_AUTOMATIC_FULL


def test_resident_memory_is_read_on_linux() -> None:
    found = collector.resident_mb()
    assert found is None or found > 1.0


def test_a_program_run_in_the_harness_leaves_the_collector_as_it_found_it(saved_collector: None) -> None:
    from local.program_harness import run_program

    gc.set_threshold(700, 10, 10)
    before = list(gc.callbacks)
    config = {
        "accounts": [
            {
                "id": "111111111111",
                "name": "a",
                "trail": {"homeRegion": "us-east-1", "logGroup": "trail/logs"},
            }
        ],
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }
    seen: list[tuple[int, int, int]] = []
    run = run_program(config, mocks=_spying_mocks(seen))
    assert run.error is None, run.error
    assert seen and seen[0][2] == collector.NO_AUTOMATIC_FULL, "the program applies its policy"
    assert gc.get_threshold() == (700, 10, 10) and gc.callbacks == before


def _spying_mocks(seen: list[tuple[int, int, int]]) -> AwsMocks:
    from local.program_harness import AwsMocks

    class Spying(AwsMocks):
        def new_resource(self, args):  # type: ignore[no-untyped-def]
            seen.append(gc.get_threshold())
            return super().new_resource(args)

    return Spying()
