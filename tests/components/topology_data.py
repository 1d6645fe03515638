"""Test data: the stack configs of the three emulator worlds (classic, organization, mixed), and the
chain sites a config names, read off it by hand (independently of cis_monitoring.core.plan).

The worlds' facts are copied from local/worlds/ (accounts, trails, log groups); a prefix site
resolves to the world's suffixed group through the mocks' ``log_groups_by_prefix``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOTIFICATIONS = {"subscriptions": [{"protocol": "email", "endpoint": "cloud-security@example.com"}]}
DEPLOYER = "cis-monitoring-deployer"
MANAGEMENT = "123456789012"
CT_TRAIL, CT_PREFIX = "aws-controltower-BaselineCloudTrail", "aws-controltower/CloudTrailLogs"
CT_SUFFIXED = f"{CT_PREFIX}-tfw-qeb"


def _role(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{DEPLOYER}"


def _own(account_id: str, name: str, home: str, group: str, trail: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "name": name,
        "roleArn": _role(account_id),
        "trail": {"homeRegion": home, "logGroup": group, "name": trail},
    }


CONSOLE_GROUP = f"aws-cloudtrail-logs-{MANAGEMENT}-0a1b2c3d"

CLASSIC: dict[str, Any] = {
    "notifications": NOTIFICATIONS,
    "accounts": [
        _own("111111111111", "production", "us-east-1", "aws-controltower/CloudTrailLogs", CT_TRAIL),
        _own(MANAGEMENT, "management", "us-east-1", CONSOLE_GROUP, "management-events"),
        _own("222222222222", "development", "us-east-1", "aws-controltower/CloudTrailLogs", CT_TRAIL),
    ],
}

ORGANIZATION: dict[str, Any] = {
    "notifications": NOTIFICATIONS,
    "organizationTrail": {
        "accountId": MANAGEMENT,
        "homeRegion": "us-east-1",
        "logGroupPrefix": CT_PREFIX,
        "name": CT_TRAIL,
        "roleArn": _role(MANAGEMENT),
    },
    "accounts": [
        {"id": "111111111111", "name": "log-archive"},
        {"id": MANAGEMENT, "name": "management"},
        {"id": "222222222222", "name": "audit"},
        {"id": "333333333333", "name": "payments"},
        _own("444444444444", "sandbox", "eu-west-1", "sandbox-team/cloudtrail", "sandbox-team-trail"),
    ],
}

SECURITY = "555555555555"
MIXED: dict[str, Any] = {
    "notifications": NOTIFICATIONS,
    # CloudTrail's delegated administrator owns the organization trail, home eu-west-1.
    "organizationTrail": {
        "accountId": SECURITY,
        "homeRegion": "eu-west-1",
        "logGroup": "org-trail/cloudtrail",
        "name": "org-trail",
        "roleArn": _role(SECURITY),
    },
    "accounts": [
        {"id": MANAGEMENT, "name": "management"},
        {"id": SECURITY, "name": "security-tooling"},
        _own(
            "666666666666",
            "shared-services",
            "us-east-1",
            "aws-cloudtrail-logs-666666666666",
            "shared-services",
        ),
        {"id": "777777777777", "name": "data-platform"},  # its own trail writes to S3 only
        _own("888888888888", "web-shop", "ap-southeast-2", "web-shop/cloudtrail", "web-shop-trail"),
        {"id": "999999999999", "name": "legacy-billing"},  # only a single-Region trail: not configured
    ],
}

WORLDS = {"classic": CLASSIC, "organization": ORGANIZATION, "mixed": MIXED}
PREFIX_MATCHES = {CT_PREFIX: [CT_SUFFIXED]}


def expected_sites(
    config: dict[str, Any], prefix_matches: Mapping[str, list[str]] = PREFIX_MATCHES
) -> dict[tuple[str, str], str]:
    """(account, Region) -> the log group of every chain site the config names (a prefix resolved
    through ``prefix_matches``, as the mocks answer it)."""

    def group(site: Mapping[str, Any]) -> str:
        if "logGroup" in site:
            return site["logGroup"]
        [name] = prefix_matches[site["logGroupPrefix"]]
        return name

    sites = {}
    for account in config["accounts"]:
        if "trail" in account:
            sites[(account["id"], account["trail"]["homeRegion"])] = group(account["trail"])
        for region in account.get("regions", ()):
            sites[(account["id"], region["region"])] = region["logGroup"]
    organization = config.get("organizationTrail")
    if organization:
        sites[(organization["accountId"], organization["homeRegion"])] = group(organization)
    return sites
