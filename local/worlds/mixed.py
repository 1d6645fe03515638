"""The ``mixed`` world: an organization trail managed by a delegated administrator, and accounts of every kind.

- Security Tooling is CloudTrail's delegated administrator and manages ``org-trail``, a
  multi-Region organization trail, home eu-west-1, delivering to ``org-trail/cloudtrail`` there.
  As AWS does, the management account owns it (CloudTrail User Guide, "Organization delegated
  administrator": the management account remains the owner of the organization resources a
  delegated administrator creates, and the trail's ARN names it), so the trail and its log group
  are the management account's, and Security Tooling sees it as a shadow like every member.
- Shared Services (home us-east-1) and Web Shop (home ap-southeast-2) also have a multi-Region
  trail of their own delivering to CloudWatch Logs in their own account: covered directly.
- Data Platform has a multi-Region trail of its own that writes to S3 only: covered by the
  organization trail.
- Legacy Billing has only a single-Region trail (us-east-1, delivering to CloudWatch Logs), which
  CIS 4.x does not accept: covered by the organization trail.
"""

from __future__ import annotations

from local.emulator import DEFAULT_ACCOUNT
from local.worlds.builder import WorldBuilder
from local.worlds.model import World

SECURITY, SHARED, DATA, WEB, LEGACY = (
    "555555555555",
    "666666666666",
    "777777777777",
    "888888888888",
    "999999999999",
)
ORG_TRAIL, ORG_GROUP, ORG_HOME = "org-trail", "org-trail/cloudtrail", "eu-west-1"
SHARED_TRAIL, SHARED_GROUP = "shared-services", f"aws-cloudtrail-logs-{SHARED}"
WEB_TRAIL, WEB_GROUP, WEB_HOME = "web-shop-trail", "web-shop/cloudtrail", "ap-southeast-2"
DATA_TRAIL = "data-archive"
LEGACY_TRAIL, LEGACY_GROUP = "legacy-billing", "legacy-billing/cloudtrail"
DEPLOYER = "cis-monitoring-deployer"


def build(endpoint: str) -> World:
    """Build the world in the emulator at ``endpoint`` (empty: reset it first) and describe it."""
    world = WorldBuilder(endpoint, "mixed")
    world.account(SECURITY, "Security Tooling", "Root/Security")
    world.account(SHARED, "Shared Services", "Root/Infrastructure")
    world.account(DATA, "Data Platform", "Root/Workloads")
    world.account(WEB, "Web Shop", "Root/Workloads")
    world.account(LEGACY, "Legacy Billing", "Root/Workloads")
    world.delegate_cloudtrail(SECURITY)
    world.trail(DEFAULT_ACCOUNT, ORG_TRAIL, ORG_HOME, log_group=ORG_GROUP, organization=True)
    world.trail(SHARED, SHARED_TRAIL, "us-east-1", log_group=SHARED_GROUP)
    world.trail(WEB, WEB_TRAIL, WEB_HOME, log_group=WEB_GROUP)
    world.trail(DATA, DATA_TRAIL, "us-east-1")
    world.trail(LEGACY, LEGACY_TRAIL, "us-east-1", log_group=LEGACY_GROUP, multi_region=False)
    own = {
        SHARED: {"homeRegion": "us-east-1", "logGroup": SHARED_GROUP, "name": SHARED_TRAIL},
        WEB: {"homeRegion": WEB_HOME, "logGroup": WEB_GROUP, "name": WEB_TRAIL},
    }
    accounts: list[dict[str, object]] = []
    for account in sorted(world.accounts.values(), key=lambda a: a.id):
        entry: dict[str, object] = {"id": account.id, "name": account.config_name}
        if account.id in own:
            entry["roleArn"] = f"arn:aws:iam::{account.id}:role/{DEPLOYER}"
            entry["trail"] = own[account.id]
        accounts.append(entry)
    organization_trail = {
        "accountId": DEFAULT_ACCOUNT,
        "homeRegion": ORG_HOME,
        "logGroup": ORG_GROUP,
        "name": ORG_TRAIL,
        "roleArn": f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/{DEPLOYER}",
    }
    assert DEFAULT_ACCOUNT not in own  # the management account is covered by the organization trail only
    return world.build({"accounts": accounts, "organizationTrail": organization_trail})
