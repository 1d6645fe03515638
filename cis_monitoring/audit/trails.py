"""The trails an account sees in a Region, as the core's ``TrailFacts`` (logging and selectors read).

``DescribeTrails`` with shadow trails lists the account's own trails, its multi-Region trails
homed elsewhere, and the organization trails that record it (a member's shadow names the
OWNER's account and log group). For each trail that records the account and delivers to
CloudWatch Logs, ``GetTrailStatus`` says whether it is logging and when it last delivered to
CloudWatch Logs, or with which error it failed (``LatestCloudWatchLogsDeliveryTime``,
``LatestCloudWatchLogsDeliveryError``: the core's ``CloudWatchDelivery``, read at the reader's
``clock``), and ``GetEventSelectors`` whether it records every audited control's management events
(``cis_monitoring.core.judge.selectors``). Both are asked by ARN (AWS wants the ARN for another
account's trail), in the trail's home Region, and once per viewing account and trail: a
multi-Region trail answers the same in every Region. Nothing is judged here: the coverage
audit (``cis_monitoring.audit.run``) hands these facts to the core's ``coverage_of``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.core.access import Access
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.judge.selectors import management_coverage
from cis_monitoring.core.topology import CloudWatchDelivery, TrailFacts, records, trail_from_description

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def cloudwatch_delivery(status: Mapping[str, Any], read_at: datetime) -> CloudWatchDelivery:
    """GetTrailStatus's CloudWatch Logs fields (botocore parses the time into a datetime)."""
    latest = status.get("LatestCloudWatchLogsDeliveryTime")
    error = status.get("LatestCloudWatchLogsDeliveryError")
    return CloudWatchDelivery(
        read_at, latest if isinstance(latest, datetime) else None, str(error) if error else None
    )


@dataclass(frozen=True)
class TrailReading:
    """One trail as an account sees it, and what its selectors record (a sentence)."""

    facts: TrailFacts
    selectors: str | None = None
    """How its event selectors judge, in words; None when they were not read."""

    def to_dict(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "name": facts.name,
            "arn": facts.arn,
            "ownerAccountId": facts.owner_account,
            "homeRegion": facts.home_region,
            "multiRegion": facts.multi_region,
            "organization": facts.organization,
            "logGroup": facts.log_group.key if facts.log_group else None,
            "logging": facts.logging,
            "allManagementEvents": facts.all_management_events,
            "cloudWatchLogsDelivery": facts.delivery.to_dict() if facts.delivery else None,
            "selectors": self.selectors,
        }


def selector_verdict(response: Mapping[str, Any], controls: Sequence[Control]) -> tuple[bool, str]:
    """Whether the selectors record all management events every control watches, and how they judge."""
    kind = "advanced" if response.get("AdvancedEventSelectors") else "classic"
    gaps = []
    for control in controls:
        covered, notes = management_coverage(response, control)
        if covered == {"read", "write"}:
            continue
        if not response.get("EventSelectors") and not response.get("AdvancedEventSelectors"):
            what = "no event selectors, so no management events"
        elif covered == {"write"}:
            what = "write-only management events (read events are dropped)"
        elif covered == {"read"}:
            what = "read-only management events (write events such as StopLogging are dropped)"
        else:
            what = f"no management events from {control.event_source or 'any service'}"
        extra = f" ({'; '.join(notes)})" if notes else ""
        gaps.append(f"CIS {control.control_id}: records {what}{extra}")
    if gaps:
        return False, "; ".join(gaps) + "; CIS wants all management events (ReadWriteType All)"
    return True, f"all management events ({kind} selectors)"


class TrailReader:
    """Reads the trails accounts see; thread-safe, one status and selector read per (account, trail)."""

    def __init__(self, sessions: SessionFactory, controls: Sequence[Control], clock: Clock = utc_now) -> None:
        self.sessions, self.controls, self.clock = sessions, tuple(controls), clock
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._details: dict[tuple[str, str], tuple[bool, CloudWatchDelivery, bool, str]] = {}

    def seen(self, who: Access, region: str) -> list[TrailReading]:
        """Every trail ``who``'s account sees in ``region``; AWS errors propagate (the pair is ERROR)."""
        cloudtrail = self.sessions.client(who, "cloudtrail", region)
        listed = cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", [])
        readings = []
        for description in listed:
            facts = trail_from_description(description)
            if facts.log_group is None or not records(facts, who.account_id):
                readings.append(TrailReading(facts))
                continue
            # A trail homed in this Region is read with this client (no second client for the same place).
            here = cloudtrail if facts.home_region == region else None
            logging, delivery, complete, selectors = self._details_of(who, facts, here)
            read = replace(facts, logging=logging, delivery=delivery, all_management_events=complete)
            readings.append(TrailReading(read, selectors))
        return readings

    def _details_of(
        self, who: Access, facts: TrailFacts, home_client: Any | None = None
    ) -> tuple[bool, CloudWatchDelivery, bool, str]:
        key, arn = (who.account_id, facts.arn), facts.arn
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._details:
                cloudtrail = home_client or self.sessions.client(who, "cloudtrail", facts.home_region)
                status = cloudtrail.get_trail_status(Name=arn)
                delivery = cloudwatch_delivery(status, self.clock())
                complete, selectors = selector_verdict(
                    cloudtrail.get_event_selectors(TrailName=arn), self.controls
                )
                self._details[key] = (bool(status.get("IsLogging")), delivery, complete, selectors)
            return self._details[key]

    def organization_trails(self, who: Access, region: str) -> list[TrailReading]:
        """The organization trails ``who``'s account sees in ``region``: its own, then others' shadows.

        A delegated administrator sees the organization trails it manages as shadows: AWS keeps the
        management account as their owner, and their ARN names it (``owner_named``).
        """
        found = [r for r in self.seen(who, region) if r.facts.organization]
        return sorted(found, key=lambda r: r.facts.owner_account != who.account_id)


DELEGATED_ADMINISTRATOR_DOC = (
    "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-delegated-administrator.html"
)


def owner_named(stated_owner: str, trail: TrailFacts) -> str:
    """Why ``stated_owner`` is not the owner of organization trail ``trail``, and whom to name instead."""
    return (
        f"account {stated_owner} is named as the owner of the organization trail, but the organization"
        f" trail {trail.name!r} is owned by account {trail.owner_account}, as its ARN {trail.arn} says:"
        " AWS keeps the management account as the owner of the organization trails a delegated"
        f" administrator creates ({DELEGATED_ADMINISTRATOR_DOC}), and their log group is in that"
        f" account; name account {trail.owner_account} as organizationTrail.accountId (or pass"
        f" --account {trail.owner_account})"
    )
