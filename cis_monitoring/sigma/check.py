"""A control's Sigma detection against its sample records, verdict for verdict with the core's.

Every record of the control's samples (``target``, ``unrelated``, ``probes``, and the derived
event-name probes) is judged three times:

- by the core's filter-pattern evaluator, as CloudWatch Logs would (``core``);
- by the same evaluator with the pattern's values and the record's string values in lower case
  (``folded``): the filter as Sigma's case-insensitive matching reads it;
- by ``cis_monitoring.sigma.matcher`` over the translated detection (``sigma``).

The translation is right when ``sigma`` equals ``folded`` on every record. Where ``core`` and
``folded`` differ, the record differs from what the filter selects only in letter case (the
derived probes ``stoplogging``, ``STOPLOGGING``): the Sigma rule selects it and the filter does
not. That difference is stated in every rule's description and counted here, never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cis_monitoring.core.catalog import Control, SampleRecord
from cis_monitoring.core.filter_pattern import And, Compare, Or, Pattern, StringValue, matches

from .matcher import selects
from .translate import Detection


@dataclass(frozen=True)
class RecordVerdict:
    label: str
    group: str
    """``target``, ``unrelated`` or ``probe``."""
    core: bool
    folded: bool
    sigma: bool


@dataclass(frozen=True)
class SampleCheck:
    """The three verdicts on every sample record of one control."""

    verdicts: tuple[RecordVerdict, ...]

    @property
    def disagreements(self) -> tuple[RecordVerdict, ...]:
        """Records where the rule and the case-insensitive filter differ: a wrong translation."""
        return tuple(v for v in self.verdicts if v.sigma != v.folded)

    @property
    def case_only(self) -> tuple[RecordVerdict, ...]:
        """Records the filter and the rule judge differently only because Sigma ignores letter case."""
        return tuple(v for v in self.verdicts if v.sigma == v.folded and v.core != v.folded)

    @property
    def agreeing(self) -> int:
        return sum(1 for v in self.verdicts if v.sigma == v.core)

    def problem(self) -> str | None:
        """Why the rule must not be written (it would select other records than the filter), or None."""
        if not self.disagreements:
            return None
        shown = "; ".join(
            f"{v.group} record {v.label!r}: the rule {'selects' if v.sigma else 'misses'} it, the filter "
            f"{'selects' if v.folded else 'does not'}"
            for v in self.disagreements[:3]
        )
        return f"the translated rule disagrees with the filter pattern on {len(self.disagreements)} sample records ({shown})"


def check_detection(control: Control, pattern: Pattern, detection: Detection) -> SampleCheck:
    folded_pattern = fold_pattern(pattern)
    groups = (
        ("target", control.target_samples()),
        ("unrelated", control.unrelated_samples()),
        ("probe", control.probe_samples()),
    )
    data = detection.as_yaml_data()
    return SampleCheck(
        tuple(
            _verdict(sample, group, pattern, folded_pattern, data)
            for group, samples in groups
            for sample in samples
        )
    )


def _verdict(
    sample: SampleRecord, group: str, pattern: Pattern, folded: Pattern, detection: Mapping[str, Any]
) -> RecordVerdict:
    return RecordVerdict(
        label=sample.label,
        group=group,
        core=matches(pattern, sample.record),
        folded=matches(folded, fold_record(sample.record)),
        sigma=selects(detection, sample.record),
    )


def fold_pattern(pattern: Pattern) -> Pattern:
    """The pattern with every string value in lower case (numbers and regexes as they are)."""
    return replace(pattern, body=_fold_node(pattern.body))


def _fold_node(node: Any) -> Any:
    if isinstance(node, And | Or):
        return replace(node, items=tuple(_fold_node(item) for item in node.items))
    if isinstance(node, Compare) and isinstance(node.value, StringValue):
        return replace(node, value=StringValue(node.value.text.lower()))
    return node


def fold_record(value: Any) -> Any:
    """The record with every string value (not key) in lower case."""
    if isinstance(value, Mapping):
        return {key: fold_record(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fold_record(item) for item in value]
    return value.lower() if isinstance(value, str) else value
