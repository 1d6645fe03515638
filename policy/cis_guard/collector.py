"""The pack process's policy for CPython's cyclic garbage collector: paused during ``AnalyzeStack``.

An ``AnalyzeStack`` call builds a large, short-lived structure: the request decoded (a dict per
resource and per property object, a ``Resource`` each), the index, the verdicts. All of it is
alive until the call returns, and then reference counting frees it: it holds no reference
cycles (plain dicts, lists, tuples and dataclasses that point down, never back). With the
collector on, building it triggers a young collection every 700 allocations and a full one each
time the heap grows by a quarter, and each walks objects that are all still alive, so each is
pure cost, and the full ones grow with the stack.

So the collector is off for the length of the call and back on after it. The memory guard is
the call itself: while paused, the only memory the collector could have given back is cyclic
garbage made by this call, which its code does not make, and the pause ends with the call, so
nothing can accumulate across calls. Nested or concurrent calls (the SDK serves on four threads)
share one pause: the collector is back on when the last of them ends, and only if it was on when
the first began. Per-resource ``Analyze`` calls keep the default collector (each is small).

Measured over gRPC on the built pack (BENCHMARKS.md, "Collector policy"; 2 cores under load,
median of 5 calls, peak RSS of the pack process) at 1k / 10k / 50k resources:

- CPython's default: 0.23 / 2.02 / 7.40 s, peak 78 / 188 / 560 MB;
- paused during the call: 0.18 / 2.43 / 5.88 s, peak 75 / 183 / 496 MB;
- ``gc.freeze()`` after the imports as well: 0.15 / 1.85 / 6.71 s, peak 74 / 191 / 523 MB, no
  better than the pause alone beyond the noise, so it is not done.

The peak is no higher with the pause (the call makes no cyclic garbage to keep), and the time
saved grows with the stack, as the collector's full passes do.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """The collector off while the block runs (and any other block paused with it), then as it was."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
