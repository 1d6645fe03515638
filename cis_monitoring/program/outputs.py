"""The stack outputs (``resultsSchemaVersion`` 3): one entry per chain, coverage per (account, Region), a summary.

Other stacks read these through stack references (the organization rollup, the
promotion gate), so the shape is versioned: bump RESULTS_SCHEMA_VERSION on any change
that is not a pure addition. Readers ignore keys they do not know.

Version 2 (issue 10) replaced version 1's ``monitoring`` (one entry per account and Region)
with ``chains`` (one per monitored log group, key ``<account>/<region>/<log group>``) and
``coverage`` (key ``<account>/<region>``, either may be ``*``: what each chain is stated to
cover). ``subscriptions[].pendingConfirmation`` is what AWS said at the last ``pulumi up``
or ``pulumi refresh``: a confirmation clicked later shows only after a refresh.

Version 3 (issue 15) words a per-Region trail's pairs as the core does: ``coverage: none``, code
``coverage.none.single_region`` (CIS 4.x needs a multi-Region trail), where version 2 said
``direct``; their chains are still deployed and exported. ``summary.coverage`` counts ``none`` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from cis_monitoring.core.catalog import CATALOG_VERSION, Control
from cis_monitoring.core.plan import CoveragePlan
from cis_monitoring.spec import DeployTarget, StackConfig

RESULTS_SCHEMA_VERSION = 3


def chain_key(target: DeployTarget, log_group: pulumi.Input[str]) -> pulumi.Output[str]:
    """``<account>/<region>/<log group>``: the log group's name is known once it was looked up."""
    return pulumi.Output.concat(target.account_id, "/", target.region, "/", log_group)


def chain_result(
    target: DeployTarget,
    log_group: pulumi.Input[str],
    notification: Any,
    monitors: Mapping[str, Mapping[str, Any]],
    real_time: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """``notification``: the chain's AlarmNotification (``topic_arn``, ``subscriptions``);
    ``monitors``: control id -> its monitor component's ``result()`` (the entry of each kind);
    ``real_time``: control id -> its real-time rules' entry (a pure addition: only with ``realTime``)."""
    extra = {"realTime": {c: dict(entry) for c, entry in real_time.items()}} if real_time else {}
    return {
        "accountId": target.account_id,
        "accountName": target.account_name,
        "region": target.region,
        "logGroup": log_group,
        "via": target.via,
        "trail": target.trail_name,
        "topicArn": notification.topic_arn,
        # [{protocol, endpoint (masked if secret), pendingConfirmation, confirmationRequired}]
        "subscriptions": notification.subscriptions,
        "controls": {control_id: dict(entry) for control_id, entry in monitors.items()},
        **extra,
    }


def keyed(entries: Sequence[tuple[pulumi.Output[str], dict[str, Any]]]) -> pulumi.Output[dict[str, Any]]:
    """A map whose keys are outputs (a prefix site's log group name is known only after its lookup)."""
    keys = pulumi.Output.all(*(key for key, _ in entries))
    return keys.apply(lambda names: {name: entry for name, (_, entry) in zip(names, entries, strict=True)})


def coverage_result(
    config: StackConfig,
    plan: CoveragePlan,
    targets: Sequence[DeployTarget],
    chain_keys: Mapping[str, pulumi.Output[str]],
) -> dict[str, Any]:
    """One entry per coverage claim: which chain covers the pair, through which trail.

    ``chain_keys``: site key (``<account>/<region>``) -> that site's chain key.
    """
    names = {a.id: a.name for a in config.accounts}
    by_site = {t.key: t for t in targets}
    result = {}
    for claim in plan.claims:
        target = by_site[claim.site]
        result[claim.key] = {
            "accountId": claim.account_id,
            "accountName": names.get(claim.account_id),
            "region": claim.region,
            "coverage": claim.kind,
            "code": claim.code,
            "chain": chain_keys[claim.site],
            "via": target.via,
            "trail": target.trail_name,
            "trailAccountId": target.account_id,
            "trailHomeRegion": target.region,
        }
    return result


def summary(
    config: StackConfig,
    plan: CoveragePlan,
    targets: Sequence[DeployTarget],
    controls: Sequence[Control],
) -> dict[str, Any]:
    return {
        "schemaVersion": RESULTS_SCHEMA_VERSION,
        "catalogVersion": CATALOG_VERSION,
        "accounts": len(config.accounts),
        "regions": len({t.region for t in targets}),
        "chains": len(targets),
        "monitors": len(targets) * len(controls),
        "controls": [c.control_id for c in controls],
        # What later waves compare against before they deploy (promoteAfter).
        "controlPatterns": {c.control_id: c.filter_pattern for c in controls},
        "coverage": plan.totals(),
        "namePrefix": config.name_prefix,
    }
