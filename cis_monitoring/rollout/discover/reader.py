"""Read one account: the trails it sees (organization trails as shadows too) and its own trails' groups.

Read-only calls only: DescribeTrails (with shadow trails) in each Region asked, ListTrails (and
GetTrail in a trail's home Region for one DescribeTrails did not show, e.g. a single-Region
trail elsewhere), and DescribeLogGroups for the groups of the account's own trails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

import boto3
import botocore.exceptions

from cis_monitoring.core.errors import Interrupted
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.topology import TrailFacts, trail_from_description
from cis_monitoring.rollout.discover.aws import Aws
from cis_monitoring.rollout.discover.model import (
    ACCESS_DENIED,
    CONTROL_TOWER_PREFIX,
    ERROR,
    AccountResult,
    GroupCheck,
    OrgAccount,
    Skip,
)
from cis_monitoring.rollout.discover.plan import is_control_tower_suffixed


def inspect_account(aws: Aws, account: OrgAccount) -> AccountResult:
    """What the account shows; never raises for AWS errors (they become ``error``)."""
    result = AccountResult(account)
    step = "assuming role " + aws.role_arn(account.id)
    try:
        session = aws.session_for(account.id)
        step = "listing its enabled Regions (ec2:DescribeRegions)"
        regions = aws.trail_regions(session)
        step = "reading trails"
        trails = read_trails(aws, session, account.id, regions)
        step = "checking log groups"
        groups = {}
        for trail in trails:
            group = trail.log_group
            if trail.owner_account == account.id and group is not None and group.account_id == account.id:
                groups[group] = check_group(aws.client(session, "logs", group.region), group.name)
        result.trails, result.groups = trails, groups
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Error")
        message = error.response.get("Error", {}).get("Message", str(error))
        kind = ACCESS_DENIED if "AccessDenied" in code else ERROR
        result.error = Skip(kind, f"{code} {step}: {message}")
    except botocore.exceptions.BotoCoreError as error:
        result.error = Skip(ERROR, f"{step}: {error}")
    return result


def read_trails(
    aws: Aws, session: boto3.Session, account_id: str, regions: Sequence[str]
) -> list[TrailFacts]:
    """Every trail the account sees in ``regions``, once each (by ARN); ListTrails asked in the first."""
    seen: dict[str, TrailFacts] = {}

    def add(description: dict[str, Any]) -> None:
        facts = trail_from_description(description)
        if not facts.owner_account:  # no ARN: the trail is the account's own
            facts = replace(facts, owner_account=account_id)
        seen.setdefault(facts.arn or f"{facts.owner_account}/{facts.home_region}/{facts.name}", facts)

    for region in regions:
        cloudtrail = aws.client(session, "cloudtrail", region)
        for description in cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []):
            add(description)
    listing = aws.client(session, "cloudtrail", regions[0])
    for page in listing.get_paginator("list_trails").paginate():
        for info in page.get("Trails", []):
            if info.get("TrailARN") in seen:
                continue
            home = info.get("HomeRegion") or regions[0]
            try:
                trail = aws.client(session, "cloudtrail", home).get_trail(Name=info["TrailARN"])["Trail"]
            except botocore.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") == "TrailNotFoundException":
                    continue  # deleted meanwhile
                raise
            add({"HomeRegion": home, **trail})
    return sorted(seen.values(), key=lambda t: (t.owner_account != account_id, t.name, t.arn))


def _group_names(logs: Any, prefix: str) -> list[str]:
    pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
    return [g["logGroupName"] for page in pages for g in page["logGroups"]]


def check_group(logs: Any, name: str) -> GroupCheck:
    """Whether the group exists; for Control Tower's group, every group its prefix finds."""
    try:
        exists = name in _group_names(logs, name)
        matches = (
            tuple(sorted(_group_names(logs, CONTROL_TOWER_PREFIX)))
            if is_control_tower_suffixed(name)
            else None
        )
        return GroupCheck(exists, matches)
    except botocore.exceptions.ClientError as error:
        if "AccessDenied" in error.response.get("Error", {}).get("Code", ""):
            return GroupCheck(None)
        raise


def inspect_all(
    aws: Aws, accounts: Sequence[OrgAccount], names: dict[str, str], progress: Callable[[str], None]
) -> list[AccountResult]:
    """Inspect every account, ``max_workers`` at a time; one progress line per account as it finishes.

    Ctrl-C cancels the accounts not started yet (those being read finish their current call) and
    raises ``Interrupted``: nothing was written, so one line says how far it got.
    """
    results: list[AccountResult] = []
    pool = ThreadPoolExecutor(max_workers=aws.options.max_workers)
    try:
        futures = {pool.submit(inspect_account, aws, account): account for account in accounts}
        for done, future in enumerate(as_completed(futures), start=1):
            account = futures[future]
            try:
                result = future.result()
            except Exception as error:  # a bug or an odd response must not stop the other accounts
                result = AccountResult(account, error=Skip(ERROR, f"{type(error).__name__}: {error}"))
            results.append(result)
            progress(f"[{done}/{len(accounts)}] {account.id} {names[account.id]}: {seen(result)}")
    except KeyboardInterrupt:
        # The default shutdown would wait for every queued account, which is what Ctrl-C means to stop.
        pool.shutdown(wait=False, cancel_futures=True)
        raise Interrupted(
            f"{PROJECT} discover: interrupted after reading {len(results)} of {len(accounts)} account(s);"
            " nothing was written"
        ) from None
    pool.shutdown(wait=True)
    return sorted(results, key=lambda r: r.account.id)


def seen(result: AccountResult) -> str:
    """What the account showed, in one line."""
    if result.error is not None:
        return f"not read: {result.error.reason}"
    if not result.trails:
        return "no trail"
    parts = []
    for trail in result.trails:
        owner = (
            "own" if trail.owner_account == result.account.id else f"shadow of account {trail.owner_account}"
        )
        kind = "organization trail" if trail.organization else "trail"
        scope = "multi-Region" if trail.multi_region else "single-Region"
        target = f" -> {trail.log_group.name}" if trail.log_group else " -> no CloudWatch Logs"
        parts.append(f"{kind} {trail.name} ({owner}, {scope}, home {trail.home_region}{target})")
    return "; ".join(parts)
