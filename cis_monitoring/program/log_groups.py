"""Find every chain site's log group at preview time, through the site's provider: by name or by prefix.

The lookups are invokes of ``aws:cloudwatch/getLogGroup`` and ``aws:cloudwatch/getLogGroups``
(pulumi-aws's ``get_log_group`` / ``get_log_groups``), so they run during ``pulumi preview``
too: a typo, or a Control Tower group whose suffix matches nothing, fails the preview instead
of a half-finished ``pulumi up``, with a message naming the account, the Region and what was
looked for. ``find_log_groups`` waits for all of them, so the program registers no chain
while any log group is missing, and one error names every missing one.

Why ``pulumi.runtime.invoke_async`` and not ``get_log_groups_output``: the SDK keeps a failed
output-form invoke on its list of outputs and, at the end of the program, raises the
provider's bare error from it ("couldn't find resource", no account, no Region) ahead of the
program's own, so the explanation below would never be shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from cis_monitoring.core.aws.arns import BY_NAME
from cis_monitoring.core.plan import ORGANIZATION_TRAIL
from cis_monitoring.spec import DeployTarget

GET_LOG_GROUP = "aws:cloudwatch/getLogGroup:getLogGroup"
GET_LOG_GROUPS = "aws:cloudwatch/getLogGroups:getLogGroups"


class LogGroupNotFound(pulumi.RunError):
    """One site's log group was not found (the message says where and what was found)."""


def _where(target: DeployTarget) -> str:
    return f"account {target.account_id} ({target.account_name}) region {target.region}"


def _prefix_key(target: DeployTarget) -> str:
    return "organizationTrail.logGroupPrefix" if target.via == ORGANIZATION_TRAIL else "trail.logGroupPrefix"


def matching_group(target: DeployTarget, prefix: str, names: Sequence[str]) -> str:
    """The one log group whose name starts with ``prefix``, or an error saying what was found."""
    matches = sorted(n for n in names if n.startswith(prefix))  # the API's prefix match, made sure of
    if len(matches) == 1:
        return matches[0]
    key = _prefix_key(target)
    if not matches:
        raise LogGroupNotFound(
            f"{_where(target)}: no CloudWatch Logs group's name starts with {prefix!r} ({key}). The"
            " trail's log group must be in this account and Region (an organization trail's is in its"
            " owner's account, home Region): check the prefix, the account and the trail's home Region,"
            " and that the trail delivers to CloudWatch Logs"
        )
    shown = ", ".join(repr(m) for m in matches)
    raise LogGroupNotFound(
        f"{_where(target)}: {len(matches)} CloudWatch Logs groups' names start with {prefix!r} ({key}):"
        f" {shown}. Name the one the trail delivers to (its CloudWatchLogsLogGroupArn) with logGroup"
        " instead of logGroupPrefix, or give a longer prefix"
    )


async def _lookup(target: DeployTarget, provider: aws.Provider) -> str | None:
    """The group's name; None when the answer is unknown (a preview that cannot ask yet)."""
    options = pulumi.InvokeOptions(provider=provider)
    group = target.log_group
    if group.match == BY_NAME:
        name = group.name
        try:
            found = await pulumi.runtime.invoke_async(
                GET_LOG_GROUP, {"name": name}, options, typ=aws.cloudwatch.GetLogGroupResult
            )
        except Exception as error:  # the provider's own error says why (not found, access denied)
            raise LogGroupNotFound(
                f"{_where(target)}: CloudTrail log group {name!r} was not found or cannot be read: {error}"
            ) from error
        return name if found is None else found.name
    prefix = group.name  # BY_PREFIX: the start of the group's name
    try:
        listed = await pulumi.runtime.invoke_async(
            GET_LOG_GROUPS, {"logGroupNamePrefix": prefix}, options, typ=aws.cloudwatch.GetLogGroupsResult
        )
    except Exception as error:
        raise LogGroupNotFound(
            f"{_where(target)}: cannot list CloudWatch Logs groups starting with {prefix!r}: {error}"
        ) from error
    if listed is None:
        return None
    return matching_group(target, prefix, list(listed.log_group_names or ()))


def _unknown() -> pulumi.Output[str]:
    async def value() -> None:
        return None

    async def known() -> bool:
        return False

    return pulumi.Output(set(), value(), known())  # type: ignore[arg-type]


async def find_log_groups(
    targets: Sequence[DeployTarget], providers: Mapping[str, aws.Provider]
) -> dict[str, pulumi.Output[str]]:
    """Target key -> its log group's name; a RunError naming every site whose group was not found."""
    results = await asyncio.gather(*(_lookup(t, providers[t.key]) for t in targets), return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, LogGroupNotFound)]
    if unexpected:
        raise unexpected[0]
    errors = [str(r) for r in results if isinstance(r, LogGroupNotFound)]
    if len(errors) == 1:
        raise pulumi.RunError(errors[0])
    if errors:
        raise pulumi.RunError(
            f"{len(errors)} log groups were not found:\n" + "\n".join(f"  - {e}" for e in errors)
        )
    return {
        t.key: pulumi.Output.from_input(name) if isinstance(name, str) else _unknown()
        for t, name in zip(targets, results, strict=True)
    }
