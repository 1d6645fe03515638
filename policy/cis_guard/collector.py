"""The pack process's policy for CPython's cyclic garbage collector, measured in ``benchmarks/pack_bench.py``.

An ``AnalyzeStack`` call builds a large, short-lived and acyclic structure: the request decoded
(a dict per resource and per property object, a ``Resource`` each), the index, the verdicts.
Reference counting frees all of it when the call returns. With the collector on, building it
triggers a young collection every 700 allocations and a full one each time the heap grows by a
quarter, and each walks objects that are all still alive: at 50,000 resources that was about half
of the SDK's own time for the same request (BENCHMARKS.md, "Where the time goes").

So, as measured there (time and peak RSS at 1k, 10k and 50k resources, with and without):

- ``freeze_imports``: after the imports, ``gc.freeze()`` moves the modules' objects (pulumi,
  grpc, protobuf, the catalog) into the permanent generation, so no full collection walks them again.
- ``paused``: the collector is off for the length of an ``AnalyzeStack`` call and back on after
  it. The memory guard is the call itself: while paused, the only memory the collector could have
  given back is cyclic garbage made by this call, which the call's code does not make (the
  decoded stack is plain dicts, lists and dataclasses, freed by reference counting; the peak RSS
  with and without the pause is the same within a few MB in the benchmark), and the pause ends
  with the call, so nothing accumulates across calls. Nested or concurrent calls (the SDK serves
  on four threads) share one pause: the collector is back on when the last of them ends, and only
  if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_imports", "paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


def freeze_imports() -> None:
    """Move everything alive now (the imported modules) out of the collector's reach for good."""
    gc.collect()
    gc.freeze()


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
