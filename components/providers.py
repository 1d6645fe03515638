"""One explicit AWS provider per (account, region).

``allowed_account_ids`` makes the provider refuse to act if the credentials (or
the assumed role) land in any other account, so a wrong profile can never deploy
one account's monitoring into another.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi_aws as aws

from cis_core.project import PROJECT

from .config import EmulatorConfig, Target

# The services the program and its provider call; all are redirected to an emulator.
EMULATED_SERVICES = ("cloudtrail", "cloudwatch", "cloudwatchlogs", "iam", "kms", "lambda_", "sns", "sts")

BASE_TAGS = {"ManagedBy": "pulumi", "Project": PROJECT}


def aws_provider(
    name: str, target: Target, stack_tags: Mapping[str, str], emulator: EmulatorConfig | None = None
) -> aws.Provider:
    assume_roles = None
    if target.role_arn:
        assume_roles = [
            aws.ProviderAssumeRoleArgs(
                role_arn=target.role_arn,
                external_id=target.external_id,
                session_name=target.session_name,
            )
        ]
    emulated: dict[str, object] = {}
    if emulator is not None:
        emulated = {
            "endpoints": [aws.ProviderEndpointArgs(**dict.fromkeys(EMULATED_SERVICES, emulator.endpoint))],
            "access_key": emulator.access_key,
            "secret_key": emulator.secret_key,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
        }
    return aws.Provider(
        name,
        region=target.region,
        allowed_account_ids=[target.account_id],
        assume_roles=assume_roles,
        default_tags=aws.ProviderDefaultTagsArgs(tags={**BASE_TAGS, **stack_tags, **target.tags}),
        **emulated,
    )
