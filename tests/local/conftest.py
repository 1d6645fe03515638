"""Emulator tests: one moto server on loopback for the session, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.emulator import DEFAULT_REGION, EMULATOR_KEY, Emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The session's emulator with no resources in any account (each test builds its own)."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def management_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The environment of a user whose default credentials are the management account's.

    For tools that take their credentials from boto3's default chain (``cis-monitoring
    discover``): the emulator's keys act in its default account, the organization's management
    account. No profile, config file or endpoint of the machine running the tests leaks in.
    """
    missing = tmp_path / "no-aws-config"
    for name, value in {
        "AWS_ACCESS_KEY_ID": EMULATOR_KEY,
        "AWS_SECRET_ACCESS_KEY": EMULATOR_KEY,
        "AWS_DEFAULT_REGION": DEFAULT_REGION,
        "AWS_CONFIG_FILE": str(missing),
        "AWS_SHARED_CREDENTIALS_FILE": str(missing),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
