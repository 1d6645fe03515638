"""The core's Region long names (what CloudWatch writes into an alarm's message) equal the installed botocore's."""

from __future__ import annotations

from cis_monitoring.audit.drill import region_names
from cis_monitoring.core.aws.region_names import LONG_NAMES
from cis_monitoring.core.aws.regions import known_regions


def test_the_long_names_match_botocores_endpoint_data() -> None:
    assert region_names() == LONG_NAMES, "update cis_monitoring/core/aws/region_names.py from botocore"


def test_every_known_region_has_a_long_name() -> None:
    assert known_regions() <= set(LONG_NAMES)
