"""The control catalog: what each CIS section-4 monitoring control requires, as data.

One JSON entry per control in ``controls/`` (pattern text, metric, alarm, detector kind,
event source and names, Security Hub id, risk and remediation text, whether it is a
default control) beside its sample records (``<name>.samples.json``). The Pulumi
program, the policy pack and the audit all read these entries, so each fact exists in
exactly one place. Adding a control means adding an entry and its samples; no component
or rule changes. An organization's own controls can live outside the repository, in
directories named by ``CIS_MONITORING_EXTRA_CONTROLS`` (see ``registry``).

The packaged entries are CIS AWS Foundations v3.0.0 4.1-4.15, every metric-filter control of
the monitoring section; 4.5 is the default. 4.16 ("Ensure AWS Security Hub is enabled") is not
in the catalog: it is a service setting per account and Region, not an event to alert on, so
there is no filter, alarm or rule to provision or judge, and an entry would have no pattern and
no samples. Whether Security Hub is enabled is a posture check (``securityhub:DescribeHub``),
which posture tools such as Security Hub's own CIS standard and Prowler already make.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import registry
from .errors import CatalogError
from .model import DETECTORS, NAMESPACE, AlarmSettings, Control
from .registry import ALL_CONTROLS, EXTRA_CONTROLS_ENV
from .samples import SampleRecord, Samples

__all__ = [
    "ALL_CONTROLS",
    "AWS_MANAGED_SNS_KEY",
    "CATALOG_VERSION",
    "CIS_4_5",
    "CONTROLS",
    "DEFAULT_CONTROL_IDS",
    "DETECTORS",
    "EXTRA_CONTROLS_ENV",
    "NAMESPACE",
    "AlarmSettings",
    "CatalogError",
    "Control",
    "SampleRecord",
    "Samples",
    "control_for_metric",
    "default_control_ids",
    "get_control",
    "is_aws_managed_sns_key",
    "reload",
    "select_controls",
]

CATALOG_VERSION = "2026.12.2"
"""Bumped whenever any packaged entry or its samples change; stacks export it so rollouts can gate on it."""

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
"""CloudWatch alarms cannot publish to a topic encrypted with this key (its policy cannot admit them)."""


def is_aws_managed_sns_key(key_id: object) -> bool:
    """Whether a topic's KMS key id (alias or alias ARN) is the AWS-managed SNS key."""
    return isinstance(key_id, str) and (
        key_id == AWS_MANAGED_SNS_KEY or key_id.endswith(":" + AWS_MANAGED_SNS_KEY)
    )


CONTROLS: Mapping[str, Control] = registry.ControlsView()
"""Every control the product knows, by id, in benchmark order (packaged and extension entries)."""

# The entries are read on first use, not on import: importing the package (e.g. for CatalogError,
# to report a bad extension entry as a usage error) never fails.
CIS_4_5: Control
DEFAULT_CONTROL_IDS: tuple[str, ...]
"""The entries marked ``default: true``. A ``from`` import binds the value once; ``default_control_ids()`` is live."""

_LAZY = {
    "CIS_4_5": lambda: CONTROLS["4.5"],
    "DEFAULT_CONTROL_IDS": lambda: registry.current().default_ids,
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return _LAZY[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_control_ids() -> tuple[str, ...]:
    return registry.current().default_ids


def get_control(control_id: str) -> Control:
    try:
        return CONTROLS[control_id]
    except KeyError:
        known = ", ".join(CONTROLS)
        raise KeyError(f"unknown control {control_id!r}; known controls: {known}") from None


def select_controls(value: str | Sequence[str]) -> tuple[str, ...]:
    """``all`` or a list of distinct catalog ids, as the ids (``registry.select``); ValueError otherwise."""
    return registry.select(value)


def control_for_metric(namespace: str, metric_name: str) -> Control | None:
    """The catalog control whose metric this is, if any (how the pack spots 'meant for 4.5')."""
    return registry.current().by_metric.get((namespace, metric_name))


def reload() -> None:
    """Read the catalog again (after ``CIS_MONITORING_EXTRA_CONTROLS`` changed); clears its caches."""
    registry.reload()
