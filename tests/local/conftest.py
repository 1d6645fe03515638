"""Emulator tests: one moto server on loopback for the session, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.emulator import Emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The session's emulator with no resources in any account (each test builds its own)."""
    emulator_server.reset()
    return emulator_server
