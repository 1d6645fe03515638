"""What a judgement returns: problems with a stable code, the chain link they break, and a message.

Callers decide by ``code`` (and ``link``), never by matching message text: the text is for
people and may be reworded, the codes are an interface (the pack prints them after its
message, the audit puts them in its JSON document).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Link(IntEnum):
    """The links of an alarm chain, in the order a notification travels them."""

    # From 1: a link is never falsy.
    FILTER = 1
    ALARM = 2
    TOPIC = 3
    SUBSCRIPTION = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Problem:
    """One reason a link cannot do its job, and what to do about it."""

    code: str
    """Stable, dotted: ``filter.value.zero``, ``alarm.treat_missing_data``, ``topic.aws_managed_key`` ..."""
    link: Link
    detail: str
    """What is wrong and what to do, as a clause that follows ``lead``."""
    lead: str = ""
    """Whom the detail is about ("alarm 'x' on the filter's metric cannot notify on one event");
    problems with the same lead are told in one sentence."""
    ref: str | None = None
    """The adapter's handle of the resource to blame (a URN in the pack, an ARN in the audit)."""

    @property
    def message(self) -> str:
        return f"{self.lead}: {self.detail}" if self.lead else self.detail


def describe(problems: Iterable[Problem]) -> str:
    """The problems as one text: details that share a lead are joined after it once."""
    groups: dict[str, list[str]] = {}
    for problem in problems:
        details = groups.setdefault(problem.lead, [])
        if problem.detail not in details:
            details.append(problem.detail)
    return "; ".join(
        f"{lead}: {'; '.join(details)}" if lead else "; ".join(details) for lead, details in groups.items()
    )


def codes(problems: Iterable[Problem]) -> tuple[str, ...]:
    """The distinct codes, in order of first appearance."""
    return tuple(dict.fromkeys(p.code for p in problems))
