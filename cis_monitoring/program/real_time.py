"""What the program's wiring needs for the opt-in real-time channel (``realTime``) at a chain site.

- ``kinds``: the detector kinds a control gets at a site: its own (the CIS metric filter), and the
  real-time rule beside it where the stack opts in and the control has a rule;
- ``publishers``: the ARNs of the rules that publish to the site's topics, which the topic policies
  admit exactly (``policies.topic_policy``): the chain's topic and the high-risk topic;
- ``central_bus_at``: the central bus, at the one site that holds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cis_monitoring.core.aws import arns, regions
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import REAL_TIME
from cis_monitoring.core.detectors.event_rule import high_risk_pattern, rule_pattern
from cis_monitoring.spec import DeployTarget
from cis_monitoring.spec.realtime import CentralBus

from . import naming


def kinds(target: DeployTarget, control: Control) -> tuple[str, ...]:
    """The control's own detector, then the real-time one where the stack opts in and it applies."""
    if target.real_time is None or rule_pattern(control) is None:
        return (control.detector,)
    return (control.detector, REAL_TIME)


def publishers(prefix: str, target: DeployTarget, controls: Sequence[Control]) -> tuple[list[str], list[str]]:
    """(rules that publish to the chain's topic, rules that publish to the high-risk topic) at ``target``.

    Only the delivery point's rules publish: on the default bus, and on the central bus where it is.
    """
    settings = target.real_time
    if settings is None or not settings.delivers(target.account_id, target.region):
        return [], []
    partition = regions.partition_of(target.region) or "aws"
    buses = ["default"] + ([settings.central_bus.bus_name] if settings.central_bus is not None else [])

    def arn(name: str, bus: str) -> str:
        return arns.event_rule_arn(target.account_id, target.region, name, partition, bus)

    with_rules = [c for c in controls if rule_pattern(c) is not None]
    cis = [arn(naming.real_time_rule_name(prefix, c), bus) for c in with_rules for bus in buses]
    risky = [c for c in with_rules if high_risk_pattern(c) is not None] if settings.high_risk else []
    high = [arn(naming.high_risk_rule_name(prefix, c), bus) for c in risky for bus in buses]
    return cis, high


def central_bus_at(target: DeployTarget) -> CentralBus | None:
    """The central bus, if ``target`` is the site that holds it."""
    settings = target.real_time
    bus = settings.central_bus if settings is not None else None
    if bus is None or (bus.account_id, bus.region) != (target.account_id, target.region):
        return None
    return bus
