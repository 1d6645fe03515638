"""Work on a bounded thread pool, results in input order (the audits' reads are I/O-bound)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")


def in_pool(
    items: Sequence[T],
    work: Callable[[T], U],
    max_workers: int,
    done: Callable[[int, int, U], None] | None = None,
) -> list[U]:
    """``work`` on every item, results in input order; ``done(count, total, result)`` as each ends."""
    if not items:
        return []
    results: dict[int, U] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as pool:
        futures = {pool.submit(work, item): i for i, item in enumerate(items)}
        for count, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if done is not None:
                done(count, len(items), results[futures[future]])
    return [results[i] for i in range(len(items))]
