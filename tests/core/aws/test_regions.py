"""The core's Region list is data (standard library only); botocore's copy is compared in tests/audit."""

from __future__ import annotations

from cis_monitoring.core.aws.regions import is_known_region, partition_of


def test_regions_and_partitions() -> None:
    assert is_known_region("eu-west-1") and not is_known_region("us-east-9")
    assert partition_of("cn-north-1") == "aws-cn" and partition_of("us-gov-west-1") == "aws-us-gov"
    assert partition_of("mars-1") is None
