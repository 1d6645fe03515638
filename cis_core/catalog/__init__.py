"""The control catalog: what each CIS section-4 monitoring control requires.

One entry per control. The Pulumi program, the policy pack and the audit all
read these entries, so the pattern text, metric name and alarm settings exist
in exactly one place. Adding a CIS 4.x control means adding an entry (and its
sample records under ``samples/``); no component or rule changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

CATALOG_VERSION = "2026.11.1"
"""Bumped whenever any entry changes; stacks export it so rollouts can gate on it."""

NAMESPACE = "CISBenchmark"

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
"""CloudWatch alarms cannot publish to a topic encrypted with this key (its policy cannot admit them)."""


def is_aws_managed_sns_key(key_id: object) -> bool:
    """Whether a topic's KMS key id (alias or alias ARN) is the AWS-managed SNS key."""
    return isinstance(key_id, str) and (
        key_id == AWS_MANAGED_SNS_KEY or key_id.endswith(":" + AWS_MANAGED_SNS_KEY)
    )


@dataclass(frozen=True)
class AlarmSettings:
    """The CloudWatch alarm the benchmark asks for on a control's metric."""

    statistic: str = "Sum"
    period: int = 300
    threshold: float = 1.0
    comparison_operator: str = "GreaterThanOrEqualToThreshold"
    evaluation_periods: int = 1
    treat_missing_data: str = "notBreaching"


@dataclass(frozen=True)
class SampleRecord:
    """A CloudTrail management event as CloudWatch Logs receives it (one JSON object)."""

    label: str
    record: dict[str, Any]

    @property
    def event_name(self) -> str:
        return str(self.record.get("eventName", ""))

    @property
    def message(self) -> str:
        return json.dumps(self.record, separators=(",", ":"))


@dataclass(frozen=True)
class Control:
    """One CIS monitoring control: metric filter + alarm + notification."""

    control_id: str
    title: str
    benchmark: str
    filter_pattern: str
    metric_name: str
    slug: str
    event_names: tuple[str, ...]
    namespace: str = NAMESPACE
    metric_value: str = "1"
    alarm: AlarmSettings = field(default_factory=AlarmSettings)
    samples_file: str = ""

    @property
    def alarm_description(self) -> str:
        return f"{self.benchmark} {self.control_id}: {self.title}"

    def target_samples(self) -> tuple[SampleRecord, ...]:
        """Records the filter must match (each targeted event, succeeded and failed)."""
        return _load_samples(self.samples_file)[0]

    def unrelated_samples(self) -> tuple[SampleRecord, ...]:
        """Records the filter must not match (alert noise if it does)."""
        return _load_samples(self.samples_file)[1]


@cache
def _load_samples(name: str) -> tuple[tuple[SampleRecord, ...], tuple[SampleRecord, ...]]:
    text = resources.files(__package__).joinpath("samples", name).read_text(encoding="utf-8")
    data = json.loads(text)
    target = tuple(SampleRecord(s["label"], s["record"]) for s in data["target"])
    unrelated = tuple(SampleRecord(s["label"], s["record"]) for s in data["unrelated"])
    return target, unrelated


CIS_4_5 = Control(
    control_id="4.5",
    title="Ensure CloudTrail configuration changes are monitored",
    benchmark="CIS AWS Foundations Benchmark v3.0.0",
    # Byte-identical to the benchmark's remediation text: string-comparing audit
    # tools (and Security Hub's CloudWatch.5) accept nothing else.
    filter_pattern=(
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
        "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
        "($.eventName = StopLogging) }"
    ),
    metric_name="CloudTrailConfigChanges",
    slug="cloudtrail-changes",
    event_names=("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
    samples_file="cis_4_5.json",
)

CONTROLS: dict[str, Control] = {c.control_id: c for c in (CIS_4_5,)}
"""Every control the product knows, by id."""

DEFAULT_CONTROL_IDS: tuple[str, ...] = ("4.5",)


def get_control(control_id: str) -> Control:
    try:
        return CONTROLS[control_id]
    except KeyError:
        known = ", ".join(sorted(CONTROLS))
        raise KeyError(f"unknown control {control_id!r}; known controls: {known}") from None


def control_for_metric(namespace: str, metric_name: str) -> Control | None:
    """The catalog control whose metric this is, if any (how the pack spots 'meant for 4.5')."""
    return _BY_METRIC.get((namespace, metric_name))


_BY_METRIC: dict[tuple[str, str], Control] = {(c.namespace, c.metric_name): c for c in CONTROLS.values()}
