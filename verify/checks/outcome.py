"""What one check of the audit found, and the clients it asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verify.aws_session import SessionFactory
from verify.locations import AuditLocation


@dataclass
class Outcome:
    ok: bool
    detail: str
    carry: Any = None
    """What the next check starts from (the trails that deliver to the log group)."""
    codes: tuple[str, ...] = ()


class Clients:
    """The target's clients, created on first use (one per service and region)."""

    def __init__(self, sessions: SessionFactory, target: AuditLocation) -> None:
        self._sessions, self._target = sessions, target
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self._target.region)
        if key not in self._clients:
            self._clients[key] = self._sessions.client(self._target, service, key[1])
        return self._clients[key]


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]
