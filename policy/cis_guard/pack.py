"""Build the CrossGuard policy pack (starting it serves gRPC and blocks)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyPack

from .rules import policies

PACK_NAME = "cis-monitoring-guard"


def build_pack() -> PolicyPack:
    return PolicyPack(
        name=PACK_NAME,
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=policies(),
        description="CIS AWS Foundations v3.0.0 section 4 monitoring (4.5: CloudTrail configuration changes).",
    )
