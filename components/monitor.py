"""What every detector kind's component gets at a chain site for one control (``MonitorArgs``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi

from cis_monitoring.core.catalog import Control
from cis_monitoring.spec import DeployTarget


@dataclass(frozen=True)
class MonitorArgs:
    """What every kind's component gets at a chain site for one control."""

    control: Control
    target: DeployTarget
    log_group_name: pulumi.Input[str]
    """The site's log group, as found at preview time (nothing here creates or deletes it)."""
    name_prefix: str
    alarm_actions: Sequence[pulumi.Input[str]]
    ok_actions: Sequence[pulumi.Input[str]] = ()
    insufficient_data_actions: Sequence[pulumi.Input[str]] = ()
    high_risk_topic_arn: pulumi.Input[str] | None = None
    """The real-time kind's high-risk channel at the site (``realTime.highRisk``), if any."""


Monitor = Callable[..., pulumi.ComponentResource]
"""``for_site(name, MonitorArgs, opts, legacy_name=...)`` of a kind's component."""
