"""Detector kinds: how a control's events become an alert. One module per kind.

A kind says, once, everything the adapters would otherwise each assume about its shape:

- what the program registers at a chain site for one control (``registrations``: plain specs;
  the program's component for the kind turns them into resources);
- which facts the pack and the audit read (``pulumi_types``: the resource types the pack
  indexes; ``aws_reads``: the AWS calls and fields the audit's verdict rests on);
- how those facts are judged (``judge``: facts in, a chain verdict with coded problems out).

The catalog's ``detector`` names a control's kind (``catalog.DETECTORS`` lists the names; a
test keeps it equal to ``KINDS``). Each adapter maps a kind to one function of its own: the
program to a component class, the pack to its fact reader, the audit to its chain reader
(tests/test_architecture.py holds every adapter's map equal to ``KINDS``, and holds the number
of files a new kind touches).
"""

from __future__ import annotations

from collections.abc import Mapping

from cis_monitoring.core.catalog import Control
from cis_monitoring.core.evidence import AwsRead

from . import event_rule, metric_filter
from .kind import Detector

__all__ = ["KINDS", "REAL_TIME", "AwsRead", "Detector", "detector_for"]


KINDS: Mapping[str, Detector] = {
    metric_filter.DETECTOR.kind: metric_filter.DETECTOR,
    event_rule.DETECTOR.kind: event_rule.DETECTOR,
}
"""Every detector kind, by the name the catalog uses."""
REAL_TIME = event_rule.KIND
"""The additive kind a stack's ``realTime`` key adds beside each control's own (CIS) detector."""


def detector_for(control: Control) -> Detector:
    """The detector of ``control``'s catalog entry."""
    return KINDS[control.detector]
