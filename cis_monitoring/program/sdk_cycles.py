"""The one source of cyclic garbage in the program's process: the Pulumi SDK's ``contains_unknowns``.

Why: ``pulumi.runtime.rpc.contains_unknowns`` (pulumi 3.272.0, the newest release on 2026-12-07)
defines a recursive helper ``impl`` inside itself on every call. A nested function that calls
itself holds itself through its closure cell (function -> cell -> function), so each call leaves a
reference cycle that reference counting cannot free: a function, a cell, the annotations' tuples and
a ``set[int]`` alias, about six objects. The SDK calls it for every output value it resolves, so a
1,000-target stack makes ~140,000 such cycles (BENCHMARKS.md: at the collector's first full
collection 100% of the 252,104 garbage objects were these, and after the replacement 0 of 0). Only
the cyclic collector frees them, and running it means walking the whole heap of live resources
(cis_monitoring/program/collector.py).

The replacement computes the same answer with a module-level recursive function (no closure, no
cycle); tests hold it equal to the SDK's on generated values. It is installed only while the SDK's
function still has the cyclic shape (a nested function that names itself among its free variables):
an SDK that changes the function keeps its own, and the collector's guard still bounds memory.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

_NESTED_NAME = "impl"
"""The SDK's nested helper; its self-reference through a closure cell is the cycle."""
replaced: Callable[[Any], bool] | None = None
"""The SDK's own function once ``apply`` has replaced it (tests compare the two)."""


def _contains_unknowns_in(value: Any, seen_ids: set[int], is_unknown: Callable[[Any], bool]) -> bool:
    # The SDK's algorithm step for step (pulumi/runtime/rpc.py): an unknown anywhere in nested dict
    # values and list items, each container visited once.
    if is_unknown(value):
        return True
    value_id = id(value)
    if value_id in seen_ids:
        return False
    seen_ids.add(value_id)
    if isinstance(value, dict):
        return any(_contains_unknowns_in(value[key], seen_ids, is_unknown) for key in value)
    if isinstance(value, list):
        return any(_contains_unknowns_in(item, seen_ids, is_unknown) for item in value)
    return False


def makes_cycles(function: Callable[..., Any]) -> bool:
    """True when ``function`` defines a nested function that refers to itself through a closure cell."""
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    return any(
        isinstance(const, types.CodeType)
        and const.co_name == _NESTED_NAME
        and const.co_name in const.co_freevars
        for const in code.co_consts
    )


def acyclic_contains_unknowns(is_unknown: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``contains_unknowns`` without a per-call closure, using the SDK's own ``is_unknown``."""

    def contains_unknowns(val: Any) -> bool:
        return _contains_unknowns_in(val, set(), is_unknown)

    return contains_unknowns


def apply() -> bool:
    """Install the acyclic ``contains_unknowns`` in the SDK if its own makes cycles; True if installed.

    Every caller reaches it through the module attribute (``rpc.contains_unknowns(...)`` in
    ``output.py`` and ``invoke.py``, a global lookup inside ``rpc.py``), so replacing the attribute
    replaces it for all of them.
    """
    global replaced
    from pulumi.runtime import known_types, rpc

    if not makes_cycles(rpc.contains_unknowns):
        return False
    replaced = rpc.contains_unknowns
    rpc.contains_unknowns = acyclic_contains_unknowns(known_types.is_unknown)
    return True
