"""The cyclic garbage collector's policy for the program's process (``__main__`` applies it once).

Why: the Pulumi SDK makes a few hundred long-lived objects per resource (an ``Output`` with its
futures and tasks per output property, protobuf messages, asyncio handles), and nearly all of them
live until the program ends. CPython's collector does not know that: with its default thresholds
(700, 10, 10) it runs a young collection every 700 net allocations and a full collection whenever
the objects promoted since the last one reach a quarter of the old generation, each full one walking
the whole heap. At 1,000 targets that was 18 full collections over a heap of ~800 MB and 52-63% of
the program's time (BENCHMARKS.md), for little garbage: with the collector off the peak heap of a
300-target run was 359 MB instead of 315 MB.

The policy changes one thing, when a full collection runs. Young and middle collections stay as
CPython makes them (short-lived cycles, such as an ``apply``'s intermediate outputs, are freed as
soon as before); no full collection by CPython's rule, and a memory guard instead: after a
middle-generation collection, when the process's resident memory
has grown to ``GROWTH_GUARD`` times what it was after the last full collection (and is above
``GUARD_FLOOR_MB``), the next collection is a full one. Memory is bounded by the same mechanism as
before (a full collection frees any cyclic garbage), only the trigger is "the heap doubled" instead
of "the heap grew by a quarter", so the number of full collections grows with the logarithm of the
heap instead of being ~18 per run, and their total work stays proportional to the final heap.
The thresholds are per process: the Pulumi language host runs one program per process, and the test
harness (``local/mock_runner.py``) restores the previous settings after each run.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The young and middle thresholds stay CPython's: at 300 targets, 50,000/20, 2,000/10 and 5,000 with no
# middle collections all spent the same time in young collections as 700/10, within the run-to-run noise.
YOUNG_THRESHOLD = 700
"""Net container allocations between young collections (CPython's default)."""
MIDDLE_THRESHOLD = 10
"""Young collections between middle-generation collections (CPython's default)."""
NO_AUTOMATIC_FULL = 1_000_000
"""A third threshold CPython never reaches in one run: full collections come from the guard only."""
GROWTH_GUARD = 2.0
"""Resident memory, relative to just after the last full collection, that triggers the next one."""
GUARD_FLOOR_MB = 256.0
"""Below this resident size the guard never asks for a full collection (small stacks, tests)."""
_STATM = Path("/proc/self/statm")
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4 / 1024


def resident_mb() -> float | None:
    """The process's current resident memory (Linux ``/proc/self/statm``); None where unavailable."""
    try:
        return int(_STATM.read_bytes().split()[1]) * _PAGE_MB
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class MemoryGuard:
    """Asks for a full collection when resident memory has grown ``growth`` times since the last one."""

    growth: float = GROWTH_GUARD
    floor_mb: float = GUARD_FLOOR_MB
    read_mb: Callable[[], float | None] = resident_mb
    baseline_mb: float = 0.0
    full_requested: bool = False
    full_collections: int = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop":
            return
        generation = info["generation"]
        if generation == 2:
            # CPython cannot call gc.collect() from a callback; the full collection just happened.
            self.full_collections += 1
            self.full_requested = False
            self.baseline_mb = self.read_mb() or self.baseline_mb
            gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, NO_AUTOMATIC_FULL)
            return
        if generation != 1 or self.full_requested:
            return  # memory is read every ~7,000 allocations, not at every young collection
        now = self.read_mb()
        if now is not None and now >= self.floor_mb and now >= self.growth * self.baseline_mb:
            # Threshold 0: the next collection is a full one (CPython's own quarter rule still
            # applies; a heap that doubled satisfies it).
            self.full_requested = True
            gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, 0)


def apply_policy() -> MemoryGuard:
    """Set the program's collector policy (module docstring) for this process; returns its guard."""
    for callback in list(gc.callbacks):
        if isinstance(callback, MemoryGuard):
            gc.callbacks.remove(callback)  # a second program in the same process: one guard
    guard = MemoryGuard(baseline_mb=resident_mb() or 0.0)
    gc.callbacks.append(guard)
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, NO_AUTOMATIC_FULL)
    return guard
