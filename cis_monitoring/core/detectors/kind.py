"""What a detector kind is (``Detector``), and what an audit verdict rests on (``AwsRead``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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
