"""Check at preview time that a target's log group exists, through the target's provider."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .config import DeployTarget


def verified_log_group(target: DeployTarget, provider: aws.Provider) -> pulumi.Output[str]:
    """The log group's name, once the provider has found it; a clear error if it has not.

    The lookup is an invoke, so it runs during ``pulumi preview`` too: a typo fails
    the preview instead of a half-finished ``pulumi up``.
    """
    found = aws.cloudwatch.get_log_group_output(
        name=target.log_group, opts=pulumi.InvokeOutputOptions(provider=provider)
    )

    async def checked() -> str:
        try:
            result = await found.future()
        except Exception as error:  # the provider's own error says why (not found, access denied)
            raise pulumi.RunError(
                f"account {target.account_id} ({target.account_name}) region {target.region}: "
                f"CloudTrail log group {target.log_group!r} was not found or cannot be read: {error}"
            ) from error
        if result is None:  # unknown during preview: the name is still the one configured
            return target.log_group
        return result.name

    return pulumi.Output.from_input(checked())
