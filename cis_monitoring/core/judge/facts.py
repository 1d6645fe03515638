"""Plain facts about the resources of one alarm chain, as an adapter observed them.

The pack copies them from the resources a Pulumi program registers; the audit from
boto3's answers. Field names follow the resource's meaning, not either API's spelling.

Every field may be ``UNKNOWN`` (a preview value not known until the update runs): the
judgements never count an unknown as a problem. ``None`` means "not set", so AWS's
default applies (no unit, no dimensions, ``treatMissingData`` "missing" ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cis_monitoring.core.unknown import UNKNOWN


@dataclass(frozen=True)
class MetricFilterFacts:
    """A CloudWatch Logs metric filter and the metric it writes (its one metric transformation)."""

    name: str
    pattern: Any
    """The filter pattern text; None when the filter has none."""
    namespace: Any
    metric_name: Any
    value: Any
    """The metric value as AWS keeps it: a number's text (``"1"``) or a field reference (``"$.count"``)."""
    dimensions: Any = None
    """Dimension name -> field reference (``{"EventName": "$.eventName"}``); None or {} for none."""
    unit: Any = None
    default_value: Any = None
    """What the filter publishes for a period without a matching event (None: nothing)."""
    ref: str | None = None
    """The adapter's handle (URN or ARN), for blame."""
    selection_criteria: Any = None
    """``fieldSelectionCriteria``: which events (by system field) the filter reads; None or "" for all."""
    system_field_dimensions: Any = ()
    """``emitSystemFieldDimensions``: system fields (``@aws.account``, ``@aws.region``) added as dimensions."""
    apply_on_transformed_logs: Any = False
    """``applyOnTransformedLogs``: the pattern runs on the events a log transformer rewrote."""
    transformer: Any = None
    """Whether a log transformer applies to the group: True, False, or None where it was not read."""


@dataclass(frozen=True)
class AlarmFacts:
    """A CloudWatch metric alarm."""

    name: str
    namespace: Any = None
    metric_name: Any = None
    statistic: Any = None
    """``Sum``, ``Average`` ... or an extended statistic such as ``p99``; None when unset."""
    period: Any = None
    threshold: Any = None
    comparison_operator: Any = None
    evaluation_periods: Any = None
    datapoints_to_alarm: Any = None
    actions_enabled: Any = True
    alarm_actions: Any = ()
    """The action ARNs (each may be UNKNOWN), or UNKNOWN as a whole."""
    treat_missing_data: Any = None
    dimensions: Any = None
    """Dimension name -> value the alarm watches; None or {} for none."""
    unit: Any = None
    uses_metric_math: Any = False
    math_metrics: tuple[tuple[Any, Any], ...] = ()
    """(namespace, metric name) of each metric its metric math reads (how it links to a filter)."""
    ref: str | None = None
    description: Any = None
    arn: Any = None
    """The alarm's ARN: CloudWatch's request to publish carries it (and its account), so a topic policy
    is judged for it, and its account and Region are in the notification it sends. None: the adapter
    does not know it (a condition on it cannot be judged)."""
    ok_actions: Any = ()
    insufficient_data_actions: Any = ()


@dataclass(frozen=True)
class TopicFacts:
    """An SNS topic an alarm notifies."""

    name: str
    """How to name it to a user (the pack: its resource name; the audit: its ARN)."""
    arn: Any = None
    kms_master_key_id: Any = None
    policy: Any = UNKNOWN
    """The access policy JSON; UNKNOWN when the adapter cannot see the effective policy (the pack)."""
    ref: str | None = None


@dataclass(frozen=True)
class SubscriptionFacts:
    """A subscription of a topic."""

    name: str
    protocol: Any
    confirmed: Any = None
    """True or False as AWS reports it; None (or UNKNOWN) where it cannot be known, as in a preview."""
    endpoint: Any = None
    ref: str | None = None
    filter_policy: Any = None
    """The subscription's ``FilterPolicy`` JSON; None (or "") when it has none."""
    filter_policy_scope: Any = None
    """``MessageAttributes`` (also when None: SNS's default) or ``MessageBody``."""
