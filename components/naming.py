"""Deterministic names: every physical and logical name comes from here.

Names carry the prefix, the account's name and the region, so an alert tells its
reader where it came from, and no name depends on a random suffix.
"""

from __future__ import annotations

from cis_core.catalog import Control

from .config import Target


def target_base(prefix: str, target: Target) -> str:
    """Logical-name stem for everything of one (account, region); unique in the stack."""
    return f"{prefix}-{target.account_name}-{target.region}"


def control_tag(control: Control) -> str:
    return f"{control.control_id.replace('.', '-')}-{control.slug}"


def provider_name(prefix: str, target: Target) -> str:
    return target_base(prefix, target)


def monitor_name(prefix: str, target: Target, control: Control) -> str:
    return f"{target_base(prefix, target)}-{control_tag(control)}"


def notification_name(prefix: str, target: Target) -> str:
    return f"{target_base(prefix, target)}-notify"


def alarm_name(prefix: str, target: Target, control: Control) -> str:
    return f"{prefix}-{control_tag(control)}-{target.account_name}-{target.region}"


def metric_filter_name(prefix: str, control: Control) -> str:
    # Unique within the log group, which is per account and region already.
    return f"{prefix}-{control_tag(control)}"


def topic_name(prefix: str, target: Target) -> str:
    return f"{prefix}-{target.account_name}-alarms"


def key_alias(prefix: str, target: Target) -> str:
    return f"alias/{prefix}-{target.account_name}-alarms"
