"""What one check of the audit found, and the clients it asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cis_monitoring.audit.aws_session import Identity, SessionFactory
from cis_monitoring.audit.locations import AuditLocation


@dataclass
class Outcome:
    ok: bool
    detail: str
    carry: Any = None
    """What the next check starts from (the trail check: its ``cis_monitoring.audit.trails.Delivery``)."""
    codes: tuple[str, ...] = ()


class Clients:
    """The clients of one account, created on first use (one per service and region).

    ``who`` is an audit location (its Region is the default) or an ``Identity`` with ``region``.
    It has the shape of ``cis_monitoring.audit.proofs.ClientFor``, so the proofs share its cache.
    """

    def __init__(
        self, sessions: SessionFactory, who: AuditLocation | Identity, region: str | None = None
    ) -> None:
        self._sessions, self._who = sessions, who
        default = region or getattr(who, "region", None)
        if not default:
            raise ValueError("Clients needs a default region")
        self.region: str = default
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self._sessions.client(self._who, service, key[1])
        return self._clients[key]


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


class Memo:
    """Answers of read calls for one chain, shared by the checks of every control (each call made once)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[Any, ...], Any] = {}

    def paginate(self, client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        wanted = (id(client), operation, key, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if wanted not in self._answers:
            self._answers[wanted] = paginate(client, operation, key, **kwargs)
        return list(self._answers[wanted])

    def call(self, client: Any, operation: str, **kwargs: Any) -> Any:
        """One call's answer (an error is not remembered: the next caller asks again)."""
        wanted = (id(client), operation, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if wanted not in self._answers:
            self._answers[wanted] = getattr(client, operation)(**kwargs)
        return self._answers[wanted]
