"""The program's garbage-collector policy (cis_monitoring/program/collector.py) and the harness's restore."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cis_monitoring.program import collector

if TYPE_CHECKING:
    from local.program_harness import AwsMocks


@pytest.fixture
def saved_collector() -> Iterator[None]:
    enabled, thresholds, callbacks = gc.isenabled(), gc.get_threshold(), list(gc.callbacks)
    yield
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks
    if enabled:
        gc.enable()


def _guard(readings: list[float], baseline: float = 100.0) -> collector.MemoryGuard:
    values = iter(readings)
    return collector.MemoryGuard(
        growth=2.0, floor_mb=150.0, read_mb=lambda: next(values), baseline_mb=baseline
    )


def test_guard_collects_only_once_memory_doubled(saved_collector: None) -> None:
    full: list[int] = []
    gc.callbacks.append(lambda phase, info: phase == "stop" and full.append(info["generation"]))
    guard = _guard([180.0, 210.0, 120.0, 230.0])
    assert not guard.check() and full == []  # 180 MB: not yet twice the 100 MB baseline
    assert guard.check() and full == [2]  # 210 MB: doubled, above the floor: one full collection
    assert guard.baseline_mb == 120.0 and guard.full_collections == 1  # measured after it
    assert not guard.check()  # 230 MB: less than twice the new baseline


def test_guard_never_collects_below_its_floor(saved_collector: None) -> None:
    guard = _guard([140.0], baseline=10.0)
    assert not guard.check() and guard.full_collections == 0


def test_policy_turns_the_collector_off_inside_an_event_loop_and_the_guard_keeps_watching(
    saved_collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert collector.apply_policy() is None and gc.isenabled(), "no event loop: nothing changes"
    monkeypatch.setattr(collector, "CHECK_SECONDS", 0.01)
    checks: list[int] = []

    async def program() -> collector.MemoryGuard | None:
        guard = collector.apply_policy()
        assert guard is not None
        monkeypatch.setattr(guard, "check", lambda: checks.append(1) or False)
        await asyncio.sleep(0.1)
        return guard

    asyncio.run(program())
    assert not gc.isenabled()
    assert len(checks) >= 3, "the guard looks at memory while the loop runs"


def test_resident_memory_is_read_on_linux() -> None:
    found = collector.resident_mb()
    assert found is None or found > 1.0


def test_a_program_run_in_the_harness_leaves_the_collector_as_it_found_it(saved_collector: None) -> None:
    from local.program_harness import run_program

    gc.enable()
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
    seen: list[bool] = []
    run = run_program(config, mocks=_spying_mocks(seen))
    assert run.error is None, run.error
    assert seen and not any(seen), "the program turns the collector off while it registers"
    assert gc.isenabled() and gc.get_threshold() == (700, 10, 10) and gc.callbacks == before


def _spying_mocks(seen: list[bool]) -> AwsMocks:
    from local.program_harness import AwsMocks

    class Spying(AwsMocks):
        def new_resource(self, args):  # type: ignore[no-untyped-def]
            seen.append(gc.isenabled())
            return super().new_resource(args)

    return Spying()


def test_the_guard_floor_is_a_quarter_of_the_memory_the_process_may_use() -> None:
    assert collector.guard_floor_mb(24_000.0) == 6_000.0
    assert collector.guard_floor_mb(512.0) == collector.MIN_FLOOR_MB, "never below the minimum"
    assert collector.guard_floor_mb(None) == collector.MIN_FLOOR_MB, "unknown: the minimum"


def test_a_containers_cgroup_limit_lowers_the_memory_the_process_may_use(tmp_path: Path) -> None:
    (tmp_path / "ci" / "job").mkdir(parents=True)
    (tmp_path / "ci" / "job" / "memory.max").write_text("2147483648\n")  # cgroup v2: 2 GiB
    physical = collector.memory_limit_mb(root=tmp_path, cgroups="")
    assert physical is not None and physical > 0
    limited = collector.memory_limit_mb(root=tmp_path, cgroups="0::/ci/job\n")
    assert limited == min(physical, 2048.0)


def test_cgroup_v1_limits_and_no_limit(tmp_path: Path) -> None:
    v1 = tmp_path / "memory" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text("1073741824\n")  # 1 GiB
    cgroups = "4:memory:/docker/abc\n1:cpu:/docker/abc\n"
    assert collector.memory_limit_mb(root=tmp_path, cgroups=cgroups) == 1024.0
    (v1 / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    (tmp_path / "memory.max").write_text("max\n")  # v2's "no limit"
    unlimited = collector.memory_limit_mb(root=tmp_path, cgroups=cgroups + "0::/\n")
    assert unlimited == collector.memory_limit_mb(root=tmp_path, cgroups="")


def test_the_policy_sets_the_guard_floor_from_the_memory_limit(
    saved_collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "memory_limit_mb", lambda: 4_000.0)

    async def program() -> collector.MemoryGuard | None:
        return collector.apply_policy()

    guard = asyncio.run(program())
    assert guard is not None and guard.floor_mb == 1_000.0
