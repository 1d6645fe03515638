"""The cyclic garbage collector's policy for the program's process (``__main__`` applies it once).

Why: the Pulumi SDK makes a few dozen objects per output property of every resource (an ``Output``
with its futures and tasks, protobuf messages, asyncio handles), and nearly all of them live until
the program ends. CPython's collector does not know that: with its default thresholds (700, 10, 10)
it runs a young collection every 700 net allocations, a middle one every ten of those, and a full
one whenever the objects promoted since the last one reach a quarter of the old generation, each
full one walking the whole heap. At 1,000 targets that was 18 full collections over a heap of
~800 MB and 52-63% of the program's time (BENCHMARKS.md); with only the full collections moved to a
guard, the young and middle ones still took a third of the time, for little garbage: with the
collector off the peak heap of a 300-target run was 359 MB instead of 315 MB.

The policy: the collector is off while the program registers its resources, and the one source of
cyclic garbage the program's process has, the SDK's ``contains_unknowns``, is replaced by an acyclic
equivalent (sdk_cycles.py): with it, a full collection at 513 MB found 0 garbage objects, and the
peak was 749 MB with or without collections at 1,000 targets. A full collection still walks every
live object (about 1 s of CPU per 256 MB of this program's heap, measured), so collecting while
memory is plentiful buys nothing and makes the evaluation grow faster than the stack. A memory
guard remains as insurance against garbage we do not know of (another SDK version, a provider
package): it runs a full collection when the process's resident memory is above a quarter of the
memory the process may use (physical memory, or its cgroup's limit in a container; at least
``MIN_FLOOR_MB``) and has grown to ``GROWTH_GUARD`` times what it was after the last one. It looks
every ``CHECK_SECONDS`` while the event loop runs and at each ``check_memory()`` (``__main__`` calls it
once per chain site, in the synchronous part that constructs the resources). From the floor on, memory
stays bounded by full collections as with CPython's rule, only the trigger is "the heap doubled"
instead of "the heap grew by a quarter", and the garbage between two of them is at most what the
heap held after the last one.
The setting is per process: the Pulumi language host runs one program per process, and the test
harness (``local/mock_runner.py``) restores the collector after each run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHECK_SECONDS = 0.25
"""How often the guard reads resident memory while the event loop runs."""
GROWTH_GUARD = 2.0
"""Resident memory, relative to just after the last full collection, that triggers the next one."""
MIN_FLOOR_MB = 256.0
"""The guard's floor on a machine or container with little memory (below 1 GB)."""
FLOOR_SHARE = 0.25
"""Share of the memory the process may use below which the guard never asks for a full collection."""
_STATM = Path("/proc/self/statm")
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_NO_LIMIT = 2**60  # cgroup v1 writes "no limit" as a huge page-aligned number
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4 / 1024


def resident_mb() -> float | None:
    """The process's current resident memory (Linux ``/proc/self/statm``); None where unavailable."""
    try:
        return int(_STATM.read_bytes().split()[1]) * _PAGE_MB
    except (OSError, ValueError, IndexError):
        return None


def _cgroup_limits(cgroups: str, root: Path) -> list[float]:
    """Memory limits (bytes) of this process's cgroup, v2 (``memory.max``) and v1
    (``memory.limit_in_bytes``), read where a container usually mounts them."""
    found = []
    for line in cgroups.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            candidates = [root / "memory.max", root / path.lstrip("/") / "memory.max"]
        elif "memory" in controllers.split(","):
            v1 = root / "memory"
            candidates = [v1 / "memory.limit_in_bytes", v1 / path.lstrip("/") / "memory.limit_in_bytes"]
        else:
            continue
        for candidate in candidates:
            try:
                text = candidate.read_text().strip()
            except OSError:
                continue
            if text.isdigit() and int(text) < _NO_LIMIT:
                found.append(float(text))
    return found


def memory_limit_mb(root: Path = _CGROUP_ROOT, cgroups: str | None = None) -> float | None:
    """The memory this process may use: physical memory, or its cgroup's limit where lower; None if unknown."""
    limits: list[float] = []
    if hasattr(os, "sysconf"):
        with contextlib.suppress(ValueError, OSError):
            limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    if cgroups is None:
        try:
            cgroups = Path("/proc/self/cgroup").read_text()
        except OSError:
            cgroups = ""
    limits += _cgroup_limits(cgroups, root)
    return min(limits) / 2**20 if limits else None


def guard_floor_mb(limit_mb: float | None) -> float:
    """A quarter of the memory the process may use, and never below ``MIN_FLOOR_MB``."""
    return max(MIN_FLOOR_MB, FLOOR_SHARE * limit_mb) if limit_mb else MIN_FLOOR_MB


@dataclass
class MemoryGuard:
    """Runs a full collection when resident memory has grown ``growth`` times since the last one."""

    growth: float = GROWTH_GUARD
    floor_mb: float = MIN_FLOOR_MB
    read_mb: Callable[[], float | None] = resident_mb
    baseline_mb: float = 0.0
    full_collections: int = 0

    def check(self) -> bool:
        """A full collection if memory doubled since the last one (and is above the floor); True if so."""
        now = self.read_mb()
        if now is None or now < self.floor_mb or now < self.growth * self.baseline_mb:
            return False
        gc.collect()
        self.full_collections += 1
        self.baseline_mb = self.read_mb() or now
        return True

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Check every ``CHECK_SECONDS`` while ``loop`` runs (the timer ends with the loop)."""

        def tick() -> None:
            self.check()
            loop.call_later(CHECK_SECONDS, tick)

        loop.call_later(CHECK_SECONDS, tick)


_guard: MemoryGuard | None = None


def apply_policy() -> MemoryGuard | None:
    """Collector off, memory guard on (module docstring); None, and nothing changed, outside an event
    loop (the language host runs the program inside one)."""
    global _guard
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    gc.disable()
    _guard = MemoryGuard(floor_mb=guard_floor_mb(memory_limit_mb()), baseline_mb=resident_mb() or 0.0)
    _guard.watch(loop)
    return _guard


def check_memory() -> None:
    """Let the guard look now (for long synchronous stretches, when the event loop cannot run)."""
    if _guard is not None:
        _guard.check()
