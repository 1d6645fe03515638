"""Advanced event selectors that leave some of a control's events out are named with what they leave out.

The selectors are CloudTrail's GetEventSelectors answer (``AdvancedEventSelectors``: a Name and
FieldSelectors with Field and the Equals / StartsWith / EndsWith / NotEquals / NotStartsWith /
NotEndsWith operators, botocore cloudtrail 2013-11-01 ``AdvancedFieldSelector``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.judge.selectors import management_coverage

ROOT_USAGE = replace(CIS_4_5, control_id="4.3", event_source=None, event_names=())


def advanced(*fields: dict[str, Any], name: str = "management") -> dict[str, Any]:
    return {"AdvancedEventSelectors": [{"Name": name, "FieldSelectors": list(fields)}]}


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


@pytest.mark.parametrize(
    ("response", "control", "note"),
    [
        (
            advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["cloudtrail.amazonaws.com"]}),
            CIS_4_5,
            "advanced selector 'management' leaves out cloudtrail.amazonaws.com"
            " (eventSource NotEquals cloudtrail.amazonaws.com)",
        ),
        (
            advanced(MANAGEMENT, {"Field": "eventName", "NotEquals": ["StopLogging", "DeleteTrail"]}),
            CIS_4_5,
            "advanced selector 'management' leaves out DeleteTrail, StopLogging"
            " (eventName NotEquals StopLogging, DeleteTrail)",
        ),
        (
            advanced(MANAGEMENT, {"Field": "eventName", "StartsWith": ["Create", "Update"]}),
            CIS_4_5,
            "advanced selector 'management' leaves out DeleteTrail, StartLogging, StopLogging"
            " (eventName StartsWith Create, Update)",
        ),
        (
            advanced(MANAGEMENT, {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}),
            ROOT_USAGE,
            "advanced selector 'management' logs only some event sources (eventSource Equals s3.amazonaws.com);"
            " the control needs any service",
        ),
        (
            advanced(
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                name="s3 data",
            ),
            CIS_4_5,
            "advanced selector 's3 data' logs no management events (eventCategory Equals Data)",
        ),
        (
            advanced({"Field": "eventCategory", "NotEquals": ["Management"]}, name="not management"),
            CIS_4_5,
            "advanced selector 'not management' logs no management events (eventCategory NotEquals Management)",
        ),
    ],
    ids=[
        "event source",
        "event names",
        "event name prefixes",
        "only some sources",
        "data only",
        "not management",
    ],
)
def test_what_an_advanced_selector_leaves_out_is_named(
    response: dict[str, Any], control: Any, note: str
) -> None:
    covered, notes = management_coverage(response, control)
    assert covered == set()
    assert notes == [note]


def test_a_selector_that_admits_every_event_the_control_needs_has_no_note() -> None:
    response = advanced(MANAGEMENT, {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]})
    assert management_coverage(response, CIS_4_5) == ({"read", "write"}, [])
