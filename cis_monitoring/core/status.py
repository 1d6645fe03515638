"""The one status vocabulary: what a finding, a pair, a chain, a proof or a drill came to.

Every module that says PASS or FAIL says it with ``Status``; none retypes the words.
``Status`` is a ``StrEnum``, so it compares equal to its text and serializes as it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    PASS = "PASS"
    """The check was made, and it holds."""
    FAIL = "FAIL"
    """The check was made, and it does not hold: a finding."""
    ERROR = "ERROR"
    """The check could not be made (an AWS error, a role that cannot be assumed): no verdict."""
    NOT_APPLICABLE = "NOT_APPLICABLE"
    """Nothing to check here (e.g. a pair the selected controls do not concern)."""
    NOT_AVAILABLE = "NOT_AVAILABLE"
    """This check cannot be made where it ran (an emulator lacks the API): never a PASS in disguise."""
    SKIPPED = "SKIPPED"
    """Deliberately not run (turned off, or an earlier link already failed): the detail says why."""


VERDICTS = (Status.PASS, Status.FAIL, Status.ERROR)
"""The statuses a pair, a chain or a control's chain can have."""


def worst(statuses: Iterable[Status | str]) -> Status:
    """FAIL before ERROR before PASS: a FAIL is a finding, an ERROR only says we could not tell."""
    found = {Status(s) for s in statuses}
    if Status.FAIL in found:
        return Status.FAIL
    if Status.ERROR in found:
        return Status.ERROR
    return Status.PASS
