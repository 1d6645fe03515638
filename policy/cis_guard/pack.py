"""Build the CrossGuard policy pack and serve it (serving blocks), recording its verdicts (``verdicts``)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel

from .recording import pack_version, serve
from .rules import CHAIN_POLICY, policies
from .verdict_files import RECORDER
from .verdicts import PACK_NAME

__all__ = ["PACK_NAME", "build_pack"]


def build_pack() -> None:
    RECORDER.version = pack_version()
    serve(
        RECORDER,
        CHAIN_POLICY,
        name=PACK_NAME,
        enforcement_level=EnforcementLevel.MANDATORY,
        policies=policies(),
        description="CIS AWS Foundations v3.0.0 section 4 monitoring (4.5: CloudTrail configuration changes).",
    )
