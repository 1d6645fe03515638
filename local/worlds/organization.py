"""The ``organization`` world: an AWS Control Tower landing zone (>= 4.0) with one organization trail.

The management account owns ``aws-controltower-BaselineCloudTrail``, a multi-Region organization
trail, home us-east-1, delivering to ``aws-controltower/CloudTrailLogs-<suffix>`` (Control Tower
adds a random suffix since landing zone 4.0; the world draws one each build). The Log Archive,
Audit and Payments accounts see that trail only as a shadow (its ARN and log group name the
management account); the Sandbox account also has a multi-Region trail of its own, home
eu-west-1, delivering to a group in its own account.

Coverage: the management account directly (it owns the trail and the group), Log Archive, Audit
and Payments by the organization trail, Sandbox directly through its own trail (and by the
organization trail too: direct wins).
"""

from __future__ import annotations

import secrets
import string

from local.emulator import DEFAULT_ACCOUNT
from local.worlds.builder import WorldBuilder
from local.worlds.model import World

HOME = "us-east-1"
LOG_ARCHIVE, AUDIT, PAYMENTS, SANDBOX = "111111111111", "222222222222", "333333333333", "444444444444"
CT_TRAIL = "aws-controltower-BaselineCloudTrail"
CT_PREFIX = "aws-controltower/CloudTrailLogs"
SANDBOX_TRAIL, SANDBOX_GROUP, SANDBOX_HOME = "sandbox-team-trail", "sandbox-team/cloudtrail", "eu-west-1"
DEPLOYER = "cis-monitoring-deployer"


def random_suffix() -> str:
    """Like Control Tower's, e.g. ``tfw-qeb``."""
    letters = string.ascii_lowercase
    return "-".join("".join(secrets.choice(letters) for _ in range(3)) for _ in range(2))


def build(endpoint: str, suffix: str | None = None) -> World:
    """Build the world in the emulator at ``endpoint`` (empty: reset it first) and describe it."""
    world = WorldBuilder(endpoint, "organization")
    world.account(LOG_ARCHIVE, "Log Archive", "Root/Security")
    world.account(AUDIT, "Audit", "Root/Security")
    world.account(PAYMENTS, "Payments", "Root/Workloads/Prod")
    world.account(SANDBOX, "Sandbox", "Root/Sandbox")
    group = f"{CT_PREFIX}-{suffix or random_suffix()}"
    world.trail(DEFAULT_ACCOUNT, CT_TRAIL, HOME, log_group=group, organization=True)
    world.trail(SANDBOX, SANDBOX_TRAIL, SANDBOX_HOME, log_group=SANDBOX_GROUP)
    accounts: list[dict[str, object]] = []
    for account in sorted(world.accounts.values(), key=lambda a: a.id):
        entry: dict[str, object] = {"id": account.id, "name": account.config_name}
        if account.id == SANDBOX:
            entry["roleArn"] = f"arn:aws:iam::{SANDBOX}:role/{DEPLOYER}"
            entry["trail"] = {"homeRegion": SANDBOX_HOME, "logGroup": SANDBOX_GROUP, "name": SANDBOX_TRAIL}
        accounts.append(entry)
    organization_trail = {
        "accountId": DEFAULT_ACCOUNT,
        "homeRegion": HOME,
        "logGroupPrefix": CT_PREFIX,
        "name": CT_TRAIL,
        "roleArn": f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/{DEPLOYER}",
    }
    return world.build({"accounts": accounts, "organizationTrail": organization_trail})
