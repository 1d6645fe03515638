"""The program's ComponentResources: one per module.

``AlarmNotification`` (notification.py) is the chain's topic, key and subscribers; a detector
kind has one component each, and ``MONITORS`` maps the kind (``cis_monitoring.core.detectors``)
to its component's ``for_site``, so ``__main__`` never knows a kind's shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from cis_monitoring.core.detectors import event_rule, metric_filter

from .control_monitor import ControlMonitor
from .monitor import Monitor, MonitorArgs
from .real_time import RealTimeMonitor

__all__ = ["MONITORS", "Monitor", "MonitorArgs"]


MONITORS: Mapping[str, Monitor] = {
    metric_filter.KIND: ControlMonitor.for_site,
    event_rule.KIND: RealTimeMonitor.for_site,
}
"""Detector kind -> its component (tests/test_architecture.py holds it equal to the core's kinds)."""
