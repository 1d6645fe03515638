"""One explicit AWS provider per chain site (the account and Region of a monitored log group).

``allowed_account_ids`` makes the provider refuse to act if the credentials (or
the assumed role) land in any other account, so a wrong profile can never deploy
one account's monitoring into another. The shipped stacks also set
``pulumi:disable-default-providers: ["aws"]``: a resource or invoke that forgot its
provider fails instead of landing in whatever account the CLI's credentials reach.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi_aws as aws

from cis_monitoring.spec import BASE_TAGS, DeployTarget, EmulatorConfig, MemberForwarding

from .aliases import own_options

PROVIDER_TYPE = "pulumi:providers:aws"

# The services the program and its provider call; all are redirected to an emulator.
EMULATED_SERVICES = (
    "cloudtrail",
    "cloudwatch",
    "cloudwatchlogs",
    "events",
    "iam",
    "kms",
    "lambda_",
    "sns",
    "sqs",
    "sts",
)


def aws_provider(
    name: str,
    target: DeployTarget | MemberForwarding,
    stack_tags: Mapping[str, str],
    emulator: EmulatorConfig | None = None,
    *,
    legacy_name: str | None = None,
) -> aws.Provider:
    """``legacy_name``: the provider's logical name in releases that built it from the account name.

    Aliasing an existing explicit provider keeps its resources (instead of replacing
    them all) only on a Pulumi CLI with pulumi/pulumi#18509 (February 2025); README
    "Upgrading" says to check the preview for "0 to replace" first.
    """
    assume_roles = None
    access = target.access
    assert access is not None, "a member account without roleArn gets no provider (spec.MemberForwarding)"
    if access.role_arn:
        assume_roles = [
            aws.ProviderAssumeRoleArgs(
                role_arn=access.role_arn,
                external_id=access.external_id,
                session_name=access.session_name,
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
        opts=own_options(None, PROVIDER_TYPE, legacy_name),
    )
