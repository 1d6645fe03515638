"""What a detector kind is (``Detector``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.problems import Link


@dataclass(frozen=True)
class Detector:
    """One detector kind (see the package docstring)."""

    kind: str
    title: str
    pulumi_types: tuple[str, ...]
    """The Pulumi resource types the program registers for one control (and the pack indexes)."""
    aws_reads: Mapping[Link, tuple[AwsRead, ...]]
    """What the audit reads to judge each of the kind's links (the notification path's are shared)."""
    registrations: Callable[..., tuple[Any, ...]]
    """``registrations(control, **names)``: the specs of what the program registers, in order."""
    judge: Callable[..., Any]
    """Facts (through the adapter's look-ups) in, a ``ChainVerdict`` out."""
