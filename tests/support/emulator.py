"""Test support: the moto emulator and the organization fixture the emulator tests deploy into.

Not product code. The implementation lives in ``cis_tools.emulator`` because ``make demo``
(``cis_tools.demo``) starts the same server and builds the same organization, and product
code must not import from ``tests/``. This module is the tests' name for it.
"""

from __future__ import annotations

from cis_tools.emulator import (
    DEFAULT_ACCOUNT,
    Emulator,
    EmulatorSessions,
    TrailSetup,
    free_port,
    organization_fixture,
    trail_name,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "Emulator",
    "EmulatorSessions",
    "TrailSetup",
    "free_port",
    "organization_fixture",
    "trail_name",
]
