"""The core's Region list (data, standard library only) must stay equal to what the installed botocore knows."""

from __future__ import annotations

import botocore.session

from cis_monitoring.core.aws.regions import REGIONS_BY_PARTITION


def test_the_region_list_matches_botocores_endpoint_data() -> None:
    session = botocore.session.get_session()
    expected = {
        partition: sorted(session.get_available_regions("logs", partition_name=partition))
        for partition in session.get_available_partitions()
    }
    ours = {partition: sorted(regions) for partition, regions in REGIONS_BY_PARTITION.items()}
    assert ours == {p: r for p, r in expected.items() if r}, (
        "update cis_monitoring/core/aws/regions.py from botocore"
    )
