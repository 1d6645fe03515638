"""The trails the pack config declares, as the core's coverage facts.

The pack cannot see trails: a stack holds metric filters, alarms and topics, not the
organization's CloudTrail. So the security team states, in the pack config, which trails
exist and where they deliver (``organizationTrails``, ``accountTrails``); the pack then
decides from the stack whether the chain on each trail's log group works, and
``cis_monitoring.core.topology.coverage_of`` turns both into the coverage words everyone uses.
Whether the trail really delivers there is the audit's question, not the gate's.
"""

from __future__ import annotations

from dataclasses import dataclass

from cis_monitoring.core.aws.arns import ANY_GROUP, BY_NAME, BY_PREFIX, LogGroupRef
from cis_monitoring.core.topology import TrailFacts
from cis_monitoring.core.unknown import is_unknown


def watches(group: LogGroupRef, log_group_name: object) -> bool:
    """Whether a metric filter on ``log_group_name`` watches ``group`` (a declared trail's log group).

    Control Tower (landing zone >= 4.0) suffixes its group's name at random, so a prefix
    matches it; a trail declared without a group accepts any chain in its home Region.
    During a preview the name may come from a look-up that is not resolved yet: it counts.
    The rest of the chain is still judged, so counting it hides nothing the update would not show.
    """
    return is_unknown(log_group_name) or group.matches(log_group_name)


@dataclass(frozen=True)
class DeclaredTrail:
    """One ``organizationTrails`` or ``accountTrails`` entry."""

    facts: TrailFacts
    members: tuple[str, ...] | None
    """The accounts an organization trail records besides its owner, in config order; None: every account."""
    path: str
    """Where the entry is in the pack config, e.g. ``organizationTrails[0]``."""

    @property
    def owner(self) -> str:
        return self.facts.owner_account

    @property
    def home_region(self) -> str:
        return self.facts.home_region

    @property
    def log_group(self) -> LogGroupRef:
        group = self.facts.log_group
        assert group is not None
        return group

    @property
    def organization(self) -> bool:
        return self.facts.organization

    def records(self, account_id: str) -> bool:
        """Whether the trail records ``account_id``'s events (its owner's always)."""
        if account_id == self.owner:
            return True
        if not self.organization:
            return False
        return self.members is None or account_id in self.members


def declared_trail(entry: dict[str, object], path: str, organization: bool) -> DeclaredTrail:
    """A validated config entry (``pack_config`` checked its shape) as a declared trail."""
    owner, home = str(entry["accountId"]), str(entry["homeRegion"])
    if isinstance(entry.get("logGroup"), str):
        group = LogGroupRef(owner, home, str(entry["logGroup"]), BY_NAME)
    elif isinstance(entry.get("logGroupPrefix"), str):
        group = LogGroupRef(owner, home, str(entry["logGroupPrefix"]), BY_PREFIX)
    else:
        group = LogGroupRef(owner, home, "", ANY_GROUP)
    members = entry.get("members", [])
    facts = TrailFacts(
        # Unnamed, the trail is called by where it is declared ("organization trail
        # 'organizationTrails[0]' of account M"), so every message still leads to its entry.
        name=str(entry.get("name") or path),
        owner_account=owner,
        home_region=home,
        multi_region=True,  # the pack config states multi-Region trails only (CIS 4.x accepts no other)
        organization=organization,
        log_group=group,
    )
    listed = None if members == "all" else tuple(str(m) for m in members or ())  # type: ignore[union-attr]
    return DeclaredTrail(facts, listed, path)
