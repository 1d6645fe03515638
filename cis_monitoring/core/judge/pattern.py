"""Judge a filter pattern by what it matches: covers, too broad, canonical.

A pattern **covers** a control when it matches every target sample record of the
control's catalog entry (each event, succeeded and denied, from several principals and
regions). It is **too broad** when it also matches one of the entry's unrelated records
or near-miss probes: the probes in its samples file, plus, for a control that names its
events, hypothetical events whose names merely extend a target name (what a
``CreateTrail*`` wildcard would also catch). A control without event names (root usage)
is judged by its own records only. It is **canonical** when its text equals the
catalog's byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cis_monitoring.core.catalog import Control, SampleRecord
from cis_monitoring.core.filter_pattern import FilterPatternError, compile_pattern, matches


@dataclass(frozen=True)
class PatternVerdict:
    control_id: str
    pattern: str
    covers: bool
    canonical: bool
    too_broad: bool
    missed: tuple[str, ...]
    """Labels of target records the pattern does not match."""
    missed_events: tuple[str, ...]
    """Target event names with at least one record missed."""
    wrongly_matched: tuple[str, ...]
    """Labels of unrelated or probe records the pattern matches."""
    error: str | None = None
    """The parse error, when the text is not a valid filter pattern."""

    def explain(self) -> str:
        """One sentence for a violation message or an audit row."""
        if self.error:
            return f"the pattern is not valid filter-pattern syntax ({self.error})"
        parts = []
        if not self.covers:
            what = ", ".join(self.missed_events) or "target records"
            parts.append(
                f"it misses {what} ({len(self.missed)} of the control's sample records: "
                f"{'; '.join(self.missed[:4])}{'; ...' if len(self.missed) > 4 else ''})"
            )
        if self.too_broad:
            shown = "; ".join(self.wrongly_matched[:4]) + ("; ..." if len(self.wrongly_matched) > 4 else "")
            parts.append(f"it also matches {len(self.wrongly_matched)} unrelated record(s): {shown}")
        if not parts:
            return "it covers the control" + (
                "" if self.canonical else " (text differs from the benchmark's)"
            )
        return " and ".join(parts)


def probe_records(control: Control) -> tuple[SampleRecord, ...]:
    """Near-miss records the pattern must not match, as the control's entry defines them."""
    return control.probe_samples()


@cache
def _negative_records(control: Control) -> tuple[SampleRecord, ...]:
    return control.unrelated_samples() + probe_records(control)


@cache
def judge_pattern(pattern_text: str, control: Control) -> PatternVerdict:
    """The verdict on ``pattern_text`` for ``control`` (cached: the pack sees repeats)."""
    canonical = pattern_text == control.filter_pattern
    try:
        pattern = compile_pattern(pattern_text)
    except FilterPatternError as error:
        missed = tuple(s.label for s in control.target_samples())
        events = _event_names(control.target_samples())
        return PatternVerdict(
            control.control_id, pattern_text, False, False, False, missed, events, (), str(error)
        )
    missed = [s for s in control.target_samples() if not matches(pattern, s.record)]
    wrong = [s for s in _negative_records(control) if matches(pattern, s.record)]
    missed_events = _event_names(missed)
    return PatternVerdict(
        control_id=control.control_id,
        pattern=pattern_text,
        covers=not missed,
        canonical=canonical,
        too_broad=bool(wrong),
        missed=tuple(s.label for s in missed),
        missed_events=missed_events,
        wrongly_matched=tuple(s.label for s in wrong),
    )


def _event_names(records: tuple[SampleRecord, ...] | list[SampleRecord]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.event_name for s in records if s.event_name))
