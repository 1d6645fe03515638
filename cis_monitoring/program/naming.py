"""Deterministic names: every logical and physical name comes from here.

Two kinds of name, with different rules:

- **Logical names** (the last part of a resource's URN) decide what Pulumi thinks a
  resource *is*. A changed logical name is a delete of the old resource and a create of
  a new one, even when the physical name stays the same: PutMetricFilter and
  PutMetricAlarm then overwrite the live resource, and the delete removes it. So logical
  names are built only from identifiers nobody edits: account id, Region, control id,
  and (for a subscription) what it delivers to. Not from the account's ``name`` (a
  label), not from ``namePrefix`` (one value per stack, so it adds no uniqueness; a
  prefix change then only renames physical resources, and keeps the topic's KMS key),
  not from the shard stack (so ``pulumi state move`` between shards matches).
- **Physical names** (what AWS calls the resource) carry the prefix, the account's
  name and the Region, so an alert tells its reader where it came from. They are the
  names of earlier releases, unchanged, so upgrading renames nothing in AWS. Renaming
  an account is a real physical rename: a new alarm, topic and key alias under the new
  names, then removal of the old ones; the metric filter's name has no account name in
  it and stays.

``legacy_*`` give the logical names of releases before this scheme, for ``aliases``.
"""

from __future__ import annotations

import hashlib

from cis_monitoring.core.catalog import Control
from cis_monitoring.spec import DeployTarget, Subscription

# ---------------------------------------------------------------- logical names (stable)


def target_base(target: DeployTarget) -> str:
    """Logical-name stem for everything of one (account, Region); unique in any stack."""
    return f"{target.account_id}-{target.region}"


def provider_name(target: DeployTarget) -> str:
    return target_base(target)


def monitor_name(target: DeployTarget, control: Control, kind: str | None = None) -> str:
    """The control's monitor at the site; another detector kind than the control's own (the real-time
    rule beside the CIS filter) gets its kind as a suffix, so the CIS monitor's name never changes."""
    base = f"{target_base(target)}-control-{control.control_id}"
    return base if kind is None or kind == control.detector else f"{base}-{kind}"


def notification_name(target: DeployTarget) -> str:
    return f"{target_base(target)}-notify"


def high_risk_notification_name(target: DeployTarget) -> str:
    """The high-risk topic (``realTime.highRisk.subscriptions``) at the site."""
    return f"{target_base(target)}-high-risk"


def subscription_key(subscription: Subscription) -> str:
    """Identifies a subscription by what it delivers to, not by its place in the list.

    SNS itself keys a subscription by (topic, protocol, endpoint), so reordering the list
    or removing one entry must change nothing else. A digest, because an endpoint may be
    a secret (an https URL with a token): 48 bits of SHA-256 reveal nothing of it.
    """
    digest = hashlib.sha256(f"{subscription.protocol}\0{subscription.endpoint}".encode()).hexdigest()
    return f"{subscription.protocol}-{digest[:12]}"


# ---------------------------------------------------------------- logical names of earlier releases


def control_tag(control: Control) -> str:
    return f"{control.control_id.replace('.', '-')}-{control.slug}"


def legacy_target_base(prefix: str, target: DeployTarget) -> str:
    return f"{prefix}-{target.account_name}-{target.region}"


def legacy_provider_name(prefix: str, target: DeployTarget) -> str:
    return legacy_target_base(prefix, target)


# The catalog's controls that no release with account-name logical names could deploy: its catalog
# had only 4.5, and an organization's own control (CIS_MONITORING_EXTRA_CONTROLS) may share neither id
# nor slug with a catalog control (cis_monitoring/core/catalog/registry.py), so no state holds an old
# name of theirs and an alias would only cost time.
CONTROLS_AFTER_LEGACY_NAMES = frozenset(f"4.{n}" for n in range(1, 16)) - {"4.5"}


def legacy_monitor_name(prefix: str, target: DeployTarget, control: Control) -> str | None:
    """None for a control no earlier release could deploy (``CONTROLS_AFTER_LEGACY_NAMES``)."""
    if control.control_id in CONTROLS_AFTER_LEGACY_NAMES:
        return None
    return f"{legacy_target_base(prefix, target)}-{control_tag(control)}"


def legacy_notification_name(prefix: str, target: DeployTarget) -> str:
    return f"{legacy_target_base(prefix, target)}-notify"


# ---------------------------------------------------------------- physical names (what AWS sees)


def alarm_name(prefix: str, target: DeployTarget, control: Control) -> str:
    return f"{prefix}-{control_tag(control)}-{target.account_name}-{target.region}"


def metric_filter_name(prefix: str, control: Control) -> str:
    # Unique within the log group, which is per account and Region already.
    return f"{prefix}-{control_tag(control)}"


def topic_name(prefix: str, target: DeployTarget) -> str:
    return f"{prefix}-{target.account_name}-alarms"


def key_alias(prefix: str, target: DeployTarget) -> str:
    return f"alias/{prefix}-{target.account_name}-alarms"


def high_risk_topic_name(prefix: str, target: DeployTarget) -> str:
    return f"{prefix}-{target.account_name}-high-risk"


def high_risk_key_alias(prefix: str, target: DeployTarget) -> str:
    return f"alias/{prefix}-{target.account_name}-high-risk"


def real_time_rule_name(prefix: str, control: Control) -> str:
    """One per control in each Region (a rule's name is unique per Region and bus; at most 64 characters)."""
    return f"{prefix}-{control_tag(control)}-realtime"


def high_risk_rule_name(prefix: str, control: Control) -> str:
    return f"{prefix}-{control_tag(control)}-high-risk"


def forward_role_name(prefix: str, control: Control) -> str:
    """The role EventBridge assumes to forward the control's events to the delivery bus (IAM: one per account)."""
    return f"{prefix}-{control_tag(control)}-forward"


# ---------------------------------------------------------------- member accounts (real-time forwarding only)


def member_base(account_id: str) -> str:
    """A member account covered only by the organization trail: its id alone, so neither the Regions it
    watches nor the delivery bus renames its forwarding rules."""
    return f"{account_id}-realtime-member"


def member_monitor_name(account_id: str, control: Control) -> str:
    return f"{member_base(account_id)}-control-{control.control_id}"


def member_admission_name(bus_account_id: str, bus_region: str, member_account_id: str) -> str:
    """The delivery bus's statement that admits one member account (its own resource, in the bus's account)."""
    return f"{bus_account_id}-{bus_region}-admit-{member_account_id}"


def member_statement_id(prefix: str, member_account_id: str) -> str:
    """The statement's id on the bus (``PutPermission`` ``StatementId``: letters, digits, ``-`` and ``_``)."""
    return f"{prefix}-realtime-{member_account_id}"
