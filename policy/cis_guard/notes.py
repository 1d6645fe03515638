"""Hand the chain policy's advisory notes to the advisory notes policy, within one analysis.

A policy reports at one enforcement level, and the chain policy is mandatory; a pair covered
by an organization trail judged in another stack deserves a note, not a block. The notes
policy cannot read the chain policy's config (each policy gets only its own), and asking
users to write ``organizationTrails`` twice would let the two drift apart. So the chain
policy leaves its notes here and the notes policy, which the SDK runs next in the same
``AnalyzeStack`` call on the same thread, takes them.

Notes are tied to the stack they were made for (its resources' URNs) and taken once, so a
stale note never reaches another analysis: with the chain policy disabled, there are none.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

_pending = threading.local()


def stack_key(urns: Iterable[str]) -> tuple[str, ...]:
    return tuple(urns)


def leave(key: tuple[str, ...], notes: Sequence[str]) -> None:
    _pending.notes = (key, tuple(notes))


def take(key: tuple[str, ...]) -> tuple[str, ...]:
    stored = getattr(_pending, "notes", None)
    _pending.notes = None
    if stored is None or stored[0] != key:
        return ()
    return stored[1]
