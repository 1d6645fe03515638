"""Each Region's long name, as CloudWatch writes it into an alarm's SNS message (standard library only).

An alarm notification carries ``"Region": "US East (N. Virginia)"``, not the code; a subscription
filter policy on the message body may test that value, so the core must know it. The table is
data, copied from botocore's endpoint data (each Region's ``description``);
``tests/core/test_region_names.py`` holds it equal to the installed botocore's.
"""

from __future__ import annotations

LONG_NAMES: dict[str, str] = {
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-east-2": "Asia Pacific (Taipei)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)",
    "ap-southeast-5": "Asia Pacific (Malaysia)",
    "ap-southeast-6": "Asia Pacific (New Zealand)",
    "ap-southeast-7": "Asia Pacific (Thailand)",
    "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)",
    "cn-north-1": "China (Beijing)",
    "cn-northwest-1": "China (Ningxia)",
    "eu-central-1": "Europe (Frankfurt)",
    "eu-central-2": "Europe (Zurich)",
    "eu-isoe-west-1": "EU ISOE West",
    "eu-north-1": "Europe (Stockholm)",
    "eu-south-1": "Europe (Milan)",
    "eu-south-2": "Europe (Spain)",
    "eu-west-1": "Europe (Ireland)",
    "eu-west-2": "Europe (London)",
    "eu-west-3": "Europe (Paris)",
    "eusc-de-east-1": "AWS European Sovereign Cloud (Germany)",
    "il-central-1": "Israel (Tel Aviv)",
    "me-central-1": "Middle East (UAE)",
    "me-south-1": "Middle East (Bahrain)",
    "mx-central-1": "Mexico (Central)",
    "sa-east-1": "South America (Sao Paulo)",
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-gov-east-1": "AWS GovCloud (US-East)",
    "us-gov-west-1": "AWS GovCloud (US-West)",
    "us-iso-east-1": "US ISO East",
    "us-iso-west-1": "US ISO WEST",
    "us-isob-east-1": "US ISOB East (Ohio)",
    "us-isob-west-1": "US ISOB West",
    "us-isof-east-1": "US ISOF EAST",
    "us-isof-south-1": "US ISOF SOUTH",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
}


def long_name(region: str) -> str | None:
    """``US East (N. Virginia)`` for ``us-east-1``; None for a Region this table does not know."""
    return LONG_NAMES.get(region)
