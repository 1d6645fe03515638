"""A value that is not known yet (``pulumi preview``): judgements never treat it as broken."""

from __future__ import annotations

from typing import Any


class _Unknown:
    """A value that is not known until the update runs."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("an unknown value has no truth value; test `is UNKNOWN` first")


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN
