"""Checks that span fields or entries, which pydantic's per-field validators cannot see.

Each takes validated models (or the parts that validated on their own, so one run
shows every problem) and returns ConfigProblems with their key paths: accounts (duplicates,
roles in another account), the notification settings at each chain site, tags (AWS's
limits, counting the program's own), and the trail keys.

The trail keys: every account has one of ``trail`` (its own multi-Region trail),
``regions`` (per-Region trails), or neither (only the organization trail covers it, so
one must be configured and must count it among its members). No two chain sites may
share an account and Region: the program derives a site's logical names from them
(program/naming.py). The organization trail's owner must be an account this stack knows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from cis_monitoring.core.aws import arns

from . import fields
from .accounts import AccountConfig, OrganizationTrailConfig
from .model import BASE_TAGS, CONTROL_TAG, OWN_TAG_KEYS
from .notifications import NotificationConfig
from .problems import ConfigProblem
from .resolve import ORGANIZATION_TRAIL_KEY as ORG
from .resolve import NotificationLayers, site_contexts

_TRAIL_FORM = "trail: {homeRegion: <its trail's home Region>, logGroup: <the group it delivers to>}"


def account_problems(
    stack: NotificationConfig | None,
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig | None = None,
    *,
    require_subscribers: bool = True,
) -> list[ConfigProblem]:
    """Duplicate accounts, names and Regions; roles in another account; notification settings per site.

    ``stack`` None (invalid stack-wide notifications) skips the notification checks;
    ``require_subscribers`` False (a read-only audit) accepts a site with no subscriber.
    """
    problems: list[ConfigProblem] = []
    seen_ids: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for i, account in accounts:
        where = f"accounts[{i}]"
        if account.id in seen_ids:
            problems.append(
                ConfigProblem(
                    f"{where}.id",
                    f"account {account.id} is already listed at accounts[{seen_ids[account.id]}]",
                )
            )
        seen_ids.setdefault(account.id, i)
        if account.name in seen_names:
            problems.append(
                ConfigProblem(
                    f"{where}.name",
                    f"name {account.name!r} is already used by accounts[{seen_names[account.name]}]",
                )
            )
        seen_names.setdefault(account.name, i)
        role = arns.parse_role_arn(account.role_arn) if account.role_arn else None
        if role is not None and role.account != account.id:
            problems.append(
                ConfigProblem(
                    f"{where}.roleArn", f"the role is in account {role.account}, not in account {account.id}"
                )
            )
        seen_regions: dict[str, int] = {}
        for k, region in enumerate(account.regions):
            if region.region in seen_regions:
                problems.append(
                    ConfigProblem(
                        f"{where}.regions[{k}].region",
                        f"{region.region} is already listed for account {account.id} at regions[{seen_regions[region.region]}]",
                    )
                )
            seen_regions.setdefault(region.region, k)
    if stack is not None:
        for context in site_contexts(stack, accounts, organization):
            problems.extend(
                notification_problems(
                    context.layers, context.site.account_id, context.site.region, require_subscribers
                )
            )
    return problems


def notification_problems(
    layers: NotificationLayers, account_id: str, region: str, require_subscribers: bool = True
) -> list[ConfigProblem]:
    """The effective notification settings of one chain site (account, Region) can notify someone.

    ``require_subscribers`` False: a site without a subscriber is accepted. The program needs one
    (a chain must notify someone); a read-only audit does not: it judges what AWS shows, and the
    stack ``discover --write`` produced, before anyone adds a subscriber, is the baseline to audit.
    """
    effective = layers.effective()
    problems = []
    if require_subscribers and effective.topic_arn is None and not effective.subscriptions:
        problems.append(
            ConfigProblem(
                f"{layers.origin('subscriptions')}.subscriptions",
                f"account {account_id} has no subscriber (for its chain in {region}): list at least one"
                " subscription (or reuse an existing topic with topicArn)",
            )
        )
    if effective.topic_arn is not None:
        if effective.kms_key_id is not None:
            problems.append(
                ConfigProblem(
                    f"{layers.origin('kms_key_id')}.kmsKeyId",
                    "kmsKeyId applies only to a topic this program creates; it is set together with topicArn",
                )
            )
        topic = arns.parse_sns_topic_arn(effective.topic_arn, placeholders=True)
        if topic is not None and topic.region not in (arns.REGION_PLACEHOLDER, region):
            problems.append(
                ConfigProblem(
                    f"{layers.origin('topic_arn')}.topicArn",
                    f"the topic is in {topic.region}, but alarms in account {account_id} region {region}"
                    " can only notify a topic in their own region; use the {region} placeholder",
                )
            )
    return problems


_OWN_TAG = (
    f"the program sets this tag itself ({', '.join(f'{k}={v}' for k, v in BASE_TAGS.items())} on every resource,"
    f" {CONTROL_TAG} on each alarm) and the deployer policy relies on Project; remove it from your tags"
)


def tag_problems(
    stack_tags: Mapping[str, str], accounts: Sequence[tuple[int, AccountConfig]]
) -> list[ConfigProblem]:
    """AWS's tag rules, for the stack's tags, each account's, and what one resource ends up with.

    A user tag may not reuse a key the program sets itself (``OWN_TAG_KEYS``): it would override the
    program's value in each provider's ``default_tags`` (``Project`` is what the deployer policy's
    ``aws:ResourceTag/Project`` relies on), or be overridden on the alarms (``cis-control``).
    """
    problems = [ConfigProblem(f"tags.{key}", why) for key, why in fields.tag_problems(dict(stack_tags))]
    problems += [ConfigProblem(f"tags.{key}", _OWN_TAG) for key in stack_tags if key in OWN_TAG_KEYS]
    base = ", ".join(OWN_TAG_KEYS)
    own = dict.fromkeys(OWN_TAG_KEYS, "")
    stack_total = len({**own, **stack_tags})
    if stack_total > fields.TAGS_MAX:
        problems.append(
            ConfigProblem(
                "tags",
                f"the alarms would get {stack_total} tags: these {len(stack_tags)} plus the program's"
                f" own {base}; AWS allows at most {fields.TAGS_MAX} per resource",
            )
        )
    for i, account in accounts:
        problems.extend(
            ConfigProblem(f"accounts[{i}].tags.{key}", why)
            for key, why in fields.tag_problems(dict(account.tags))
        )
        problems.extend(
            ConfigProblem(f"accounts[{i}].tags.{key}", _OWN_TAG)
            for key in account.tags
            if key in OWN_TAG_KEYS
        )
        total = len({**own, **stack_tags, **account.tags})
        if stack_total <= fields.TAGS_MAX < total:
            problems.append(
                ConfigProblem(
                    f"accounts[{i}].tags",
                    f"account {account.id}'s alarms would get {total} tags: its {len(account.tags)} merged"
                    f" with the stack's {len(stack_tags)} and the program's own {base};"
                    f" AWS allows at most {fields.TAGS_MAX} per resource",
                )
            )
    return problems


def trail_problems(
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig | None,
    *,
    organization_given: bool,
    listed_ids: Collection[str],
) -> list[ConfigProblem]:
    """``organization_given``: the key is set (when it is invalid, ``organization`` is None and its
    own problems are reported; accounts that rely on it are not blamed too). ``listed_ids``: every
    account id in ``accounts``, valid entries or not."""
    problems: list[ConfigProblem] = []
    for i, account in accounts:
        problems.extend(_account_problems(i, account, organization, organization_given))
    if organization is not None:
        problems.extend(_organization_problems(accounts, organization, listed_ids))
    return problems


def _account_problems(
    i: int, account: AccountConfig, organization: OrganizationTrailConfig | None, organization_given: bool
) -> list[ConfigProblem]:
    where = f"accounts[{i}]"
    given = account.model_fields_set
    problems = []
    if account.trail is not None and account.regions:
        problems.append(
            ConfigProblem(
                where,
                "set at most one of trail (the account's multi-Region trail: one log group, in its home Region)"
                " and regions (per-Region trails, one log group in each Region)",
            )
        )
    if "regions" in given and not account.regions:
        problems.append(
            ConfigProblem(
                f"{where}.regions",
                "must list at least one entry; remove the key if the account has no per-Region trails",
            )
        )
    if "covered_regions" in given and account.trail is None:
        problems.append(
            ConfigProblem(
                f"{where}.coveredRegions",
                "applies only to an account with a trail (the Regions its multi-Region trail is stated to"
                f" cover); add {_TRAIL_FORM}, or remove coveredRegions",
            )
        )
    owner = organization is not None and organization.account_id == account.id
    if account.trail is not None or account.regions or owner:
        return problems
    if not organization_given:
        problems.append(
            ConfigProblem(
                where,
                f"account {account.id} has no trail and no regions, so only an organization trail can cover it,"
                f" and no {ORG} is configured. Write {_TRAIL_FORM} if the account has a multi-Region"
                f" trail of its own, or configure {ORG} (the trail that records every member account)",
            )
        )
    elif organization is not None and _left_out(organization, account.id):
        problems.append(
            ConfigProblem(
                where,
                f"account {account.id} has no trail and no regions, so only the organization trail can"
                f' cover it, but {ORG}.members lists account ids without it: add "{account.id}" to'
                f" {ORG}.members (or write members: accounts), or give the account a trail",
            )
        )
    return problems


def _left_out(organization: OrganizationTrailConfig, account_id: str) -> bool:
    """Whether ``members`` is a list of ids without this account (``all``/``accounts`` leave none out)."""
    return isinstance(organization.members, tuple) and account_id not in organization.members


def _organization_problems(
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig,
    listed_ids: Collection[str],
) -> list[ConfigProblem]:
    owner_id, home = organization.account_id, organization.home_region
    problems = []
    if owner_id not in listed_ids:
        problems.append(
            ConfigProblem(
                f"{ORG}.accountId",
                f"account {owner_id} owns the organization trail but is not in accounts (nor among the"
                " accounts this stack selects from its organization inventory): list it under accounts"
                " with its name (and roleArn), so its chain has a name and a way in",
            )
        )
    role = arns.parse_role_arn(organization.role_arn) if organization.role_arn else None
    if role is not None and role.account != owner_id:
        problems.append(
            ConfigProblem(
                f"{ORG}.roleArn", f"the role is in account {role.account}, not in account {owner_id}"
            )
        )
    clash = (
        f"account {owner_id} owns the organization trail, whose chain is in {owner_id} {home}; a second"
        " log group there cannot get a chain of its own (one chain per account and Region), and the"
        " organization trail records this account's events already."
    )
    for i, account in accounts:
        if account.id != owner_id:
            continue
        if account.trail is not None and account.trail.home_region == home:
            problems.append(
                ConfigProblem(
                    f"accounts[{i}].trail",
                    f"{clash} Remove accounts[{i}].trail (if it is the same trail, {ORG} says it all)",
                )
            )
        problems.extend(
            ConfigProblem(f"accounts[{i}].regions[{k}]", f"{clash} Remove this entry")
            for k, region in enumerate(account.regions)
            if region.region == home
        )
    return problems
