"""The ``classic`` world: every account has its own multi-Region trail, home us-east-1 (no organization trail).

What organizations had before AWS Control Tower landing zone 3.0: the management account a
console-made trail (``aws-cloudtrail-logs-<account>-<8 hex>``, the console's default group
name), each member Control Tower's ``aws-controltower-BaselineCloudTrail`` delivering to
``aws-controltower/CloudTrailLogs`` in its own account. Every (account, Region) pair is
covered directly, through the account's own trail.
"""

from __future__ import annotations

import secrets

from local.emulator import DEFAULT_ACCOUNT
from local.worlds.builder import WorldBuilder
from local.worlds.model import World

HOME = "us-east-1"
PROD, DEV = "111111111111", "222222222222"
CT_TRAIL, CT_GROUP = "aws-controltower-BaselineCloudTrail", "aws-controltower/CloudTrailLogs"
DEPLOYER = "cis-monitoring-deployer"


def build(endpoint: str) -> World:
    """Build the world in the emulator at ``endpoint`` (empty: reset it first) and describe it."""
    world = WorldBuilder(endpoint, "classic")
    world.account(PROD, "Production", "Root/Workloads")
    world.account(DEV, "Development", "Root/Workloads")
    console_group = f"aws-cloudtrail-logs-{DEFAULT_ACCOUNT}-{secrets.token_hex(4)}"
    world.trail(DEFAULT_ACCOUNT, "management-events", HOME, log_group=console_group)
    for account_id in (PROD, DEV):
        world.trail(account_id, CT_TRAIL, HOME, log_group=CT_GROUP)
    groups = {
        DEFAULT_ACCOUNT: (console_group, "management-events"),
        PROD: (CT_GROUP, CT_TRAIL),
        DEV: (CT_GROUP, CT_TRAIL),
    }
    accounts = []
    for account in sorted(world.accounts.values(), key=lambda a: a.id):
        group, trail = groups[account.id]
        accounts.append(
            {
                "id": account.id,
                "name": account.config_name,
                "roleArn": f"arn:aws:iam::{account.id}:role/{DEPLOYER}",
                "trail": {"homeRegion": HOME, "logGroup": group, "name": trail},
            }
        )
    return world.build({"accounts": accounts})
