"""Small measurement helpers: medians, a GC clock, growth factors, versions and the machine."""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.inf


def growth_per_10x(size_a: float, seconds_a: float, size_b: float, seconds_b: float) -> float:
    """Time factor per 10x size between two points, on a power law through both (exact for a 10x step)."""
    if seconds_a <= 0 or size_b == size_a:
        return math.inf
    exponent = math.log(seconds_b / seconds_a) / math.log(size_b / size_a)
    return 10**exponent


@dataclass
class GcClock:
    """Wall time the cyclic garbage collector ran, by generation, while installed."""

    seconds: dict[int, float] = field(default_factory=lambda: {0: 0.0, 1: 0.0, 2: 0.0})
    collections: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0, 2: 0})
    _started: float = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = int(info["generation"])
        self.seconds[generation] += time.perf_counter() - self._started
        self.collections[generation] += 1

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    @contextmanager
    def running(self) -> Iterator[GcClock]:
        gc.callbacks.append(self._callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._callback)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("pulumi", "pulumi-aws", "pulumi-policy", "grpcio", "protobuf"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "implementation": platform.python_implementation(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
