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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cis_monitoring.core.catalog import Control


@dataclass(frozen=True)
class AwsRead:
    """One AWS call a verdict rests on, and the response fields it reads (evidence for auditors)."""

    service: str
    """The IAM service prefix: ``logs``, ``cloudwatch``, ``sns``, ``cloudtrail`` ..."""
    operation: str
    """The API operation as AWS names it: ``DescribeMetricFilters``."""
    fields: tuple[str, ...]

    @property
    def action(self) -> str:
        """The IAM action that authorizes the call (``logs:DescribeMetricFilters``)."""
        return f"{self.service}:{self.operation}"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "fields": list(self.fields)}


@dataclass(frozen=True)
class Detector:
    """One detector kind (see the package docstring)."""

    kind: str
    title: str
    pulumi_types: tuple[str, ...]
    """The Pulumi resource types the program registers for one control (and the pack indexes)."""
    aws_reads: tuple[AwsRead, ...]
    """What the audit reads to judge one control's chain, in chain order."""
    registrations: Callable[..., tuple[Any, ...]]
    """``registrations(control, **names)``: the specs of what the program registers, in order."""
    judge: Callable[..., Any]
    """Facts (through the adapter's look-ups) in, a ``ChainVerdict`` out."""


def _kinds() -> Mapping[str, Detector]:
    from . import metric_filter  # the kind modules import the judge, which imports the catalog

    return {metric_filter.DETECTOR.kind: metric_filter.DETECTOR}


KINDS: Mapping[str, Detector] = _kinds()
"""Every detector kind, by the name the catalog uses."""


def detector_for(control: Control) -> Detector:
    """The detector of ``control``'s catalog entry."""
    return KINDS[control.detector]
