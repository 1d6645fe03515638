"""Which region names are real, from botocore's endpoint data (updated with botocore)."""

from __future__ import annotations

from functools import cache

import botocore.session


@cache
def known_regions() -> frozenset[str]:
    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        # CloudWatch Logs is what every target needs; its endpoint list is the region list.
        regions.update(session.get_available_regions("logs", partition_name=partition))
    return frozenset(regions)


def is_known_region(name: str) -> bool:
    return name in known_regions()
