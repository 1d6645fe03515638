"""Emulator worlds that look like AWS: ``classic``, ``organization`` and ``mixed``.

Each ``build(endpoint)`` creates, in an EMPTY emulator (``Emulator.reset()`` first), what AWS
would show for that kind of organization (accounts, OUs, trails, log groups) and returns a
``World``: what was built, the stack config discover should write for it (``expected_config``),
the coverage to expect per (account, Region) once that config is deployed
(``expected_coverage``), and helpers to break things (``break_owner_chain``, ``break_chain``,
``stop_trail``).

moto keeps one backend per account and has no API for a member's view of an organization
trail, so that view (a shadow trail) is shaped in-process: see ``local.worlds.shadows``.
"""

from __future__ import annotations

from collections.abc import Callable

from local.worlds import classic, mixed, organization
from local.worlds.model import REGIONS, World, WorldAccount, WorldTrail

WORLDS: dict[str, Callable[[str], World]] = {
    "classic": classic.build,
    "organization": organization.build,
    "mixed": mixed.build,
}


def build_world(name: str, endpoint: str) -> World:
    """Build world ``name`` (one of ``WORLDS``) in the emulator at ``endpoint``."""
    if name not in WORLDS:
        raise KeyError(f"no world {name!r}; the worlds are {', '.join(WORLDS)}")
    return WORLDS[name](endpoint)


__all__ = ["REGIONS", "WORLDS", "World", "WorldAccount", "WorldTrail", "build_world"]
