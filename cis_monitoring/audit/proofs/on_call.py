"""What the on-call person receives when an alarm fires (so a drill can say it beforehand).

CloudWatch publishes to the alarm's topic with the subject ``ALARM: "<alarm name>" in
<Region name>``, where the Region name is the long one ("US East (N. Virginia)"), and a
message that carries the state reason. Emulators use the Region code instead.
"""

from __future__ import annotations

from functools import cache

import botocore.session


@cache
def region_names() -> dict[str, str]:
    """Region code -> long name, from botocore's endpoint data (updated with botocore)."""
    data = botocore.session.get_session().get_data("endpoints")
    return {
        code: str(region.get("description") or code)
        for partition in data.get("partitions", ())
        for code, region in partition.get("regions", {}).items()
    }


def region_name(region: str) -> str:
    return region_names().get(region, region)


def alarm_subject(alarm_name: str, region: str, state: str = "ALARM") -> str:
    return f'{state}: "{alarm_name}" in {region_name(region)}'


def notification_preview(alarm_name: str, region: str, reason: str) -> dict[str, str]:
    """The parts of the SNS message a person reads first."""
    return {"subject": alarm_subject(alarm_name, region), "reason": reason}
