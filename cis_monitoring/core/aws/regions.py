"""Which Region names are real, and which partition each belongs to (standard library only).

The list is data, copied from botocore's endpoint data (CloudWatch Logs, which every chain
needs, is offered in every Region). ``tests/audit/test_regions_botocore.py`` compares it with
the installed botocore, so a new AWS Region fails that test until it is added here.
"""

from __future__ import annotations

REGIONS_BY_PARTITION: dict[str, tuple[str, ...]] = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
        "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
    "aws-eusc": ("eusc-de-east-1",),
    "aws-iso": ("us-iso-east-1", "us-iso-west-1"),
    "aws-iso-b": ("us-isob-east-1", "us-isob-west-1"),
    "aws-iso-e": ("eu-isoe-west-1",),
    "aws-iso-f": ("us-isof-east-1", "us-isof-south-1"),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
}  # fmt: skip

_PARTITION_OF = {
    region: partition for partition, regions in REGIONS_BY_PARTITION.items() for region in regions
}


def known_regions() -> frozenset[str]:
    return frozenset(_PARTITION_OF)


def is_known_region(name: str) -> bool:
    return name in _PARTITION_OF


def partition_of(region: str) -> str | None:
    """The ARN partition of a Region (``aws``, ``aws-cn``, ``aws-us-gov``, ...), or None if unknown."""
    return _PARTITION_OF.get(region)
