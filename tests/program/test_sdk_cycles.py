"""The acyclic replacement of the SDK's ``contains_unknowns`` (cis_monitoring/program/sdk_cycles.py)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import UNKNOWN
from pulumi.runtime import known_types, rpc

from cis_monitoring.program import sdk_cycles


def _sdk_function() -> Callable[[Any], bool]:
    """The SDK's own function, whether or not a program run in this process has replaced it."""
    sdk_cycles.apply()
    assert sdk_cycles.replaced is not None, "the SDK's contains_unknowns no longer has the cyclic shape"
    return sdk_cycles.replaced


@pytest.fixture
def collector_off() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if enabled:
        gc.enable()


def _cyclic_garbage_after(function: Callable[[Any], bool], calls: int) -> int:
    gc.collect()
    value = {"a": [1, {"b": "x"}], "c": [UNKNOWN]}
    for _ in range(calls):
        function(value)
    return gc.collect()


def test_the_sdks_function_leaves_a_cycle_per_call(collector_off: None) -> None:
    # The premise of the replacement: if a new SDK stops leaving cycles, this fails, and the
    # replacement (and this module) can go.
    assert sdk_cycles.makes_cycles(_sdk_function())
    assert _cyclic_garbage_after(_sdk_function(), 1000) >= 1000


def test_the_replacement_leaves_no_cyclic_garbage(collector_off: None) -> None:
    replacement = sdk_cycles.acyclic_contains_unknowns(known_types.is_unknown)
    assert not sdk_cycles.makes_cycles(replacement)
    assert _cyclic_garbage_after(replacement, 1000) == 0


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.just(UNKNOWN))
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_values, st.booleans())
def test_the_replacement_answers_as_the_sdks_function(value: Any, shared: bool) -> None:
    if shared:  # the same container reached twice (and itself inside itself): visited once, as the SDK does
        container: list[Any] = [value]
        container.append(container)
        value = {"first": container, "again": container}
    replacement = sdk_cycles.acyclic_contains_unknowns(known_types.is_unknown)
    assert replacement(value) == _sdk_function()(value)


def test_an_sdk_function_without_the_cycle_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    def contains_unknowns(val: Any) -> bool:
        return known_types.is_unknown(val)

    monkeypatch.setattr(rpc, "contains_unknowns", contains_unknowns)
    assert not sdk_cycles.apply()
    assert rpc.contains_unknowns is contains_unknowns


def test_the_program_runs_with_the_replacement_installed() -> None:
    from local.program_harness import run_program

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
    run = run_program(config)
    assert run.error is None, run.error
    assert not sdk_cycles.makes_cycles(rpc.contains_unknowns), "__main__ installs it before any resource"
