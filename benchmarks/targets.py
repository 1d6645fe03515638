"""The synthetic organization every benchmark uses: N accounts with one region each.

Shared by the program benchmark (as stack config for the real ``__main__.py``) and the
baseline program (which generates the same targets in a plain loop), so both register
resources with identical inputs.
"""

from __future__ import annotations

from typing import Any

PREFIX = "cis"
REGION = "us-east-1"
LOG_GROUP = "org-trail/cloudtrail"
EMAIL = "cloud-security@example.com"
STACK_TAGS = {"Environment": "bench"}
FIRST_ACCOUNT = 100_000_000_000
FORWARD_REGION = "eu-west-1"
REAL_TIME = {"regions": [REGION, FORWARD_REGION]}
"""The real-time variants' ``realTime``: the chain's Region (where the rules notify the topic) and one more
Region whose rules forward to it. The default (the chain's Region, plus us-east-1 for IAM's events) would be
us-east-1 alone here, with no forwarding rule, target role or role policy: a second Region registers every
kind of resource the real-time component makes for a chain site (no high-risk channel, no central bus)."""


def account_id(index: int) -> str:
    return f"{FIRST_ACCOUNT + index:012d}"


def account_name(index: int) -> str:
    return f"acct-{index:05d}"


def role_arn(index: int) -> str:
    return f"arn:aws:iam::{account_id(index)}:role/cis-monitoring-deployer"


def program_config(targets: int) -> dict[str, Any]:
    """Project config (keys without namespace) for ``targets`` (account, region) pairs, control 4.5."""
    return {
        "namePrefix": PREFIX,
        "controls": ["4.5"],
        "tags": dict(STACK_TAGS),
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": EMAIL}]},
        "accounts": [
            {
                "id": account_id(i),
                "name": account_name(i),
                "roleArn": role_arn(i),
                "regions": [{"region": REGION, "logGroup": LOG_GROUP}],
            }
            for i in range(targets)
        ],
    }
