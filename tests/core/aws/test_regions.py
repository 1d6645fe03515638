"""The core's Region list is data; it must stay equal to what the installed botocore knows."""

from __future__ import annotations

import botocore.session

from cis_monitoring.core.aws.regions import REGIONS_BY_PARTITION, is_known_region, partition_of


def test_the_region_list_matches_botocores_endpoint_data() -> None:
    session = botocore.session.get_session()
    expected = {
        partition: sorted(session.get_available_regions("logs", partition_name=partition))
        for partition in session.get_available_partitions()
    }
    ours = {partition: sorted(regions) for partition, regions in REGIONS_BY_PARTITION.items()}
    assert ours == {p: r for p, r in expected.items() if r}, "update cis_core/aws/regions.py from botocore"


def test_regions_and_partitions() -> None:
    assert is_known_region("eu-west-1") and not is_known_region("us-east-9")
    assert partition_of("cn-north-1") == "aws-cn" and partition_of("us-gov-west-1") == "aws-us-gov"
    assert partition_of("mars-1") is None
