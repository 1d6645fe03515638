"""The stack outputs: one entry per (account, region), and a summary.

Other stacks read these through stack references (the organization rollup, the
promotion gate), so the shape is versioned: bump RESULTS_SCHEMA_VERSION on any
change that is not a pure addition. Readers ignore keys they do not know, so
additions keep the version: ``subscriptions`` per target was one (version 1 still).

``subscriptions[].pendingConfirmation`` is what AWS said at the last ``pulumi up`` or
``pulumi refresh``: a confirmation clicked later shows only after a refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from cis_core.catalog import CATALOG_VERSION, Control

from .config import DeployTarget, StackConfig
from .control_monitor import ControlMonitor
from .notification import AlarmNotification

RESULTS_SCHEMA_VERSION = 1


def target_result(
    target: DeployTarget,
    log_group: pulumi.Input[str],
    notification: AlarmNotification,
    monitors: Mapping[str, tuple[Control, ControlMonitor]],
) -> dict[str, Any]:
    return {
        "accountId": target.account_id,
        "accountName": target.account_name,
        "region": target.region,
        "logGroup": log_group,
        "topicArn": notification.topic_arn,
        # [{protocol, endpoint (masked if secret), pendingConfirmation, confirmationRequired}]
        "subscriptions": notification.subscriptions,
        "controls": {
            control_id: {
                "controlId": control_id,
                "alarmName": monitor.alarm_name,
                "alarmArn": monitor.alarm_arn,
                "metricFilterName": monitor.metric_filter_name,
                "metricName": control.metric_name,
                "namespace": control.namespace,
                "filterPattern": control.filter_pattern,
            }
            for control_id, (control, monitor) in monitors.items()
        },
    }


def summary(
    config: StackConfig, all_targets: Sequence[DeployTarget], controls: Sequence[Control]
) -> dict[str, Any]:
    return {
        "schemaVersion": RESULTS_SCHEMA_VERSION,
        "catalogVersion": CATALOG_VERSION,
        "accounts": len({t.account_id for t in all_targets}),
        "regions": len({t.region for t in all_targets}),
        "targets": len(all_targets),
        "controls": [c.control_id for c in controls],
        # What later waves compare against before they deploy (promoteAfter).
        "controlPatterns": {c.control_id: c.filter_pattern for c in controls},
        "chains": len(all_targets) * len(controls),
        "namePrefix": config.name_prefix,
    }
