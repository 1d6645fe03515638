"""Checks that span fields or entries, which pydantic's per-field validators cannot see.

Each takes validated models (or the parts that validated on their own, so one run
shows every problem) and returns Problems with their key paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cis_monitoring.core.aws import arns
from cis_monitoring.core.project import PROJECT

from . import fields
from .errors import Problem
from .schema import AccountConfig, NotificationConfig, OrganizationTrailConfig
from .sites import NotificationLayers, site_contexts

BASE_TAGS = {"ManagedBy": "pulumi", "Project": PROJECT}
"""Tags the program puts on every resource (each provider's default_tags), besides the config's."""
CONTROL_TAG = "cis-control"
"""The tag naming the control on each alarm: the most-tagged resource carries BASE_TAGS plus this."""
_OWN_TAG_KEYS = (*BASE_TAGS, CONTROL_TAG)


def account_problems(
    stack: NotificationConfig | None,
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig | None = None,
) -> list[Problem]:
    """Duplicate accounts, names and Regions; roles in another account; notification settings per site.

    ``stack`` None (invalid stack-wide notifications) skips the notification checks.
    """
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, account in accounts:
        where = f"accounts[{i}]"
        if account.id in seen_ids:
            problems.append(
                Problem(
                    f"{where}.id",
                    f"account {account.id} is already listed at accounts[{seen_ids[account.id]}]",
                )
            )
        seen_ids.setdefault(account.id, i)
        if account.name in seen_names:
            problems.append(
                Problem(
                    f"{where}.name",
                    f"name {account.name!r} is already used by accounts[{seen_names[account.name]}]",
                )
            )
        seen_names.setdefault(account.name, i)
        role = arns.parse_role_arn(account.role_arn) if account.role_arn else None
        if role is not None and role.account != account.id:
            problems.append(
                Problem(
                    f"{where}.roleArn", f"the role is in account {role.account}, not in account {account.id}"
                )
            )
        seen_regions: dict[str, int] = {}
        for k, region in enumerate(account.regions):
            if region.region in seen_regions:
                problems.append(
                    Problem(
                        f"{where}.regions[{k}].region",
                        f"{region.region} is already listed for account {account.id} at regions[{seen_regions[region.region]}]",
                    )
                )
            seen_regions.setdefault(region.region, k)
    if stack is not None:
        for context in site_contexts(stack, accounts, organization):
            problems.extend(
                notification_problems(context.layers, context.site.account_id, context.site.region)
            )
    return problems


def notification_problems(layers: NotificationLayers, account_id: str, region: str) -> list[Problem]:
    """The effective notification settings of one chain site (account, Region) can notify someone."""
    effective = layers.effective()
    problems = []
    if effective.topic_arn is None and not effective.subscriptions:
        problems.append(
            Problem(
                f"{layers.origin('subscriptions')}.subscriptions",
                f"account {account_id} has no subscriber (for its chain in {region}): list at least one"
                " subscription (or reuse an existing topic with topicArn)",
            )
        )
    if effective.topic_arn is not None:
        if effective.kms_key_id is not None:
            problems.append(
                Problem(
                    f"{layers.origin('kms_key_id')}.kmsKeyId",
                    "kmsKeyId applies only to a topic this program creates; it is set together with topicArn",
                )
            )
        topic = arns.parse_sns_topic_arn(effective.topic_arn, placeholders=True)
        if topic is not None and topic.region not in (arns.REGION_PLACEHOLDER, region):
            problems.append(
                Problem(
                    f"{layers.origin('topic_arn')}.topicArn",
                    f"the topic is in {topic.region}, but alarms in account {account_id} region {region}"
                    " can only notify a topic in their own region; use the {region} placeholder",
                )
            )
    return problems


def tag_problems(
    stack_tags: Mapping[str, str], accounts: Sequence[tuple[int, AccountConfig]]
) -> list[Problem]:
    """AWS's tag rules, for the stack's tags, each account's, and what one resource ends up with."""
    problems = [Problem(f"tags.{key}", why) for key, why in fields.tag_problems(dict(stack_tags))]
    base = ", ".join(_OWN_TAG_KEYS)
    own = dict.fromkeys(_OWN_TAG_KEYS, "")
    stack_total = len({**own, **stack_tags})
    if stack_total > fields.TAGS_MAX:
        problems.append(
            Problem(
                "tags",
                f"the alarms would get {stack_total} tags: these {len(stack_tags)} plus the program's"
                f" own {base}; AWS allows at most {fields.TAGS_MAX} per resource",
            )
        )
    for i, account in accounts:
        problems.extend(
            Problem(f"accounts[{i}].tags.{key}", why) for key, why in fields.tag_problems(dict(account.tags))
        )
        total = len({**own, **stack_tags, **account.tags})
        if stack_total <= fields.TAGS_MAX < total:
            problems.append(
                Problem(
                    f"accounts[{i}].tags",
                    f"account {account.id}'s alarms would get {total} tags: its {len(account.tags)} merged"
                    f" with the stack's {len(stack_tags)} and the program's own {base};"
                    f" AWS allows at most {fields.TAGS_MAX} per resource",
                )
            )
    return problems
