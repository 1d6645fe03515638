"""The audit run raises the garbage collector's young threshold while it lasts, and puts it back.

Clients are large graphs of small objects; with CPython's default threshold the collector's scans
were a third of the audit's CPU (BENCHMARKS.md, "Levers"). Only the collector's timing changes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cis_monitoring.audit.aws import YOUNG_COLLECTION_THRESHOLD, FewerCollections
from tests.audit.test_audit_unit import build_compliant, pairs

PROCESS_SETTING = (900, 11, 12)


@pytest.fixture
def process_setting() -> Iterator[None]:
    found = gc.get_threshold()
    gc.set_threshold(*PROCESS_SETTING)
    yield
    gc.set_threshold(*found)


def test_a_run_collects_less_often_and_puts_the_setting_back(aws: None, process_setting: None) -> None:
    build_compliant()
    during: list[tuple[int, int, int]] = []
    pairs(progress=lambda _step: during.append(gc.get_threshold()))
    assert during and set(during) == {(YOUNG_COLLECTION_THRESHOLD, *PROCESS_SETTING[1:])}
    assert gc.get_threshold() == PROCESS_SETTING


def test_overlapping_runs_share_one_change_the_last_puts_it_back(process_setting: None) -> None:
    first, second = FewerCollections(), FewerCollections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == PROCESS_SETTING


@pytest.mark.parametrize("young", [0, YOUNG_COLLECTION_THRESHOLD * 2], ids=["collection off", "higher"])
def test_a_process_setting_of_0_or_higher_is_kept(process_setting: None, young: int) -> None:
    gc.set_threshold(young, 10, 10)
    with FewerCollections():
        assert gc.get_threshold() == (young, 10, 10)
    assert gc.get_threshold() == (young, 10, 10)
