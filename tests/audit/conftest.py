"""Fixtures every moto-backed audit test module shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.core.models import MockAWS

from tests.audit.test_audit_unit import moto_for_module


@pytest.fixture(scope="module")
def _moto() -> Iterator[MockAWS]:
    """moto, started once per test module (each module gets its own)."""
    yield from moto_for_module()


@pytest.fixture
def aws(_moto: MockAWS) -> None:
    """An empty moto account for each test (starting moto once per module keeps the suite fast)."""
    _moto.reset()
