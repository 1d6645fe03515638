"""What a control is, as the program, the pack and the audit read it (built from a catalog entry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from .benchmarks import Requirement
from .samples import PACKAGED, SampleRecord, derived_probes, samples_of

NAMESPACE = "CISBenchmark"
DETECTORS = ("metric-filter", "event-rule")
"""Detector kinds the product can provision and judge. The CIS entries use ``metric-filter``: the benchmark
asks for it. ``event-rule`` is the real-time channel a stack adds beside it (``realTime``)."""


@dataclass(frozen=True)
class AlarmSettings:
    """The CloudWatch alarm the benchmark asks for on a control's metric."""

    statistic: str = "Sum"
    period: int = 300
    threshold: float = 1.0
    comparison_operator: str = "GreaterThanOrEqualToThreshold"
    evaluation_periods: int = 1
    treat_missing_data: str = "notBreaching"

    def describe(self) -> str:
        """The settings in a user's words (advice: "use <this>")."""
        periods = "period" if self.evaluation_periods == 1 else "periods"
        return (
            f"{self.statistic}, period {self.period} s, {self.comparison_operator} {self.threshold:g},"
            f" {self.evaluation_periods} evaluation {periods}, treatMissingData {self.treat_missing_data}"
        )


@dataclass(frozen=True)
class Control:
    """One CIS monitoring control: metric filter + alarm + notification."""

    control_id: str
    title: str
    benchmark: str
    filter_pattern: str
    """Byte-identical to the benchmark's text: string-comparing audit tools accept nothing else."""
    metric_name: str
    slug: str
    """Short name for resource names (``cis-4-5-cloudtrail-changes``)."""
    event_names: tuple[str, ...]
    """The events the pattern selects by name; empty when it selects by other fields (root usage)."""
    namespace: str = NAMESPACE
    metric_value: str = "1"
    alarm: AlarmSettings = field(default_factory=AlarmSettings)
    samples_file: str = ""
    event_source: str | None = None
    """The service whose management events the control watches (None: any service, e.g. root usage)."""
    detector: str = "metric-filter"
    security_hub_id: str | None = None
    """The Security Hub control that checks the same thing (``CloudWatch.5`` for 4.5), if any."""
    risk: str = ""
    remediation: str = ""
    default: bool = False
    """Provisioned and enforced when a stack or pack config names no controls."""
    severity: str = "medium"
    """How bad a FAIL is (``benchmarks.SEVERITIES``), with the entry's reason in its ``$comment``."""
    frameworks: tuple[Requirement, ...] = ()
    """The control's id, title and rating in every benchmark version that has it, oldest first."""
    security_hub_source: str | None = None
    """Where ``security_hub_id`` comes from (Security Hub's control reference)."""
    origin: str = PACKAGED
    """The directory of the entry: the packaged catalog, or an extension directory."""

    def requirement(self, benchmark: str) -> Requirement | None:
        """How ``benchmark`` (a ``Benchmark.key``) numbers this control; None where it does not have it."""
        return next((r for r in self.frameworks if r.benchmark == benchmark), None)

    @property
    def alarm_description(self) -> str:
        return f"{self.benchmark} {self.control_id}: {self.title}"

    def target_samples(self) -> tuple[SampleRecord, ...]:
        """Records the filter must match (each targeted event, succeeded and failed)."""
        return samples_of(self.origin, self.samples_file, self.control_id).target

    def unrelated_samples(self) -> tuple[SampleRecord, ...]:
        """Records the filter must not match (alert noise if it does)."""
        return samples_of(self.origin, self.samples_file, self.control_id).unrelated

    def probe_samples(self) -> tuple[SampleRecord, ...]:
        """Near misses the filter must not match: the file's probes, plus event-name variants."""
        return _probes(self)


@cache
def _probes(control: Control) -> tuple[SampleRecord, ...]:
    explicit = samples_of(control.origin, control.samples_file, control.control_id).probes
    return explicit + derived_probes(control.event_names, control.target_samples())


def clear_cache() -> None:
    _probes.cache_clear()
