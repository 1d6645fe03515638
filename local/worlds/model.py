"""What a world built in the emulator is: its accounts, trails and log groups, and the coverage to expect.

A ``World`` describes what its fixture created and what AWS would show for it, in the core's
words (``cis_monitoring.core.topology``). Its expectations assume that a stack deployed from the world's
``expected_config`` put an intact chain on every monitored log group; the break helpers change
the emulator (as a user would) and the expectations with it, so a test can say "after this,
every member is FAIL naming the owner" without writing the table again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cis_monitoring.core.topology import Coverage, LogGroupRef, TrailFacts, coverage_of
from local.emulator import DEFAULT_ACCOUNT, MEMBER_ROLE, EmulatorSessions

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
"""The Regions each world's expectations cover (a multi-Region trail covers every Region alike)."""


@dataclass(frozen=True)
class WorldAccount:
    id: str
    name: str
    """As AWS Organizations shows it, e.g. ``Log Archive``."""
    ou: str
    """OU path from the root, as discover writes it, e.g. ``Root/Security``."""
    config_name: str
    """The account's name in stack config, as discover derives it, e.g. ``log-archive``."""

    @property
    def role_arn(self) -> str | None:
        """The role a client acts through in this account (None: the management account's own keys)."""
        return None if self.id == DEFAULT_ACCOUNT else f"arn:aws:iam::{self.id}:role/{MEMBER_ROLE}"


@dataclass(frozen=True)
class WorldTrail:
    facts: TrailFacts
    """The trail as its owner sees it (``logging``/``all_management_events`` as built)."""
    bucket: str
    log_group_arn: str | None
    """``CloudWatchLogsLogGroupArn`` as AWS writes it (with ``:*``), or None."""

    @property
    def name(self) -> str:
        return self.facts.name

    @property
    def arn(self) -> str:
        return self.facts.arn

    @property
    def owner(self) -> str:
        return self.facts.owner_account

    @property
    def log_group(self) -> LogGroupRef | None:
        return self.facts.log_group


@dataclass
class World:
    """One emulator world: ``classic``, ``organization`` or ``mixed`` (see ``local.worlds``)."""

    name: str
    endpoint: str
    management_account: str
    accounts: tuple[WorldAccount, ...]
    ous: Mapping[str, str]
    """OU path -> OU id (``Root`` -> the root's id)."""
    trails: tuple[WorldTrail, ...]
    expected_config: dict[str, Any]
    """The ``cis-monitoring:`` keys discover should write for this world (``accounts``, maybe
    ``organizationTrail``); add ``notifications`` to deploy it."""
    regions: tuple[str, ...] = REGIONS
    broken_chains: set[LogGroupRef] = field(default_factory=set)
    stopped_trails: set[str] = field(default_factory=set)
    """ARNs of trails a break helper stopped."""
    _sessions: EmulatorSessions | None = field(default=None, init=False, repr=False, compare=False)

    # ---- looking things up ----

    def account(self, key: str) -> WorldAccount:
        """An account by id, AWS name or config name."""
        for account in self.accounts:
            if key in (account.id, account.name, account.config_name):
                return account
        raise KeyError(f"world {self.name!r} has no account {key!r}")

    def trail(self, name: str) -> WorldTrail:
        found = [t for t in self.trails if t.name == name]
        if len(found) != 1:
            raise KeyError(f"world {self.name!r} has {len(found)} trails named {name!r}")
        return found[0]

    @property
    def organization_trail(self) -> WorldTrail | None:
        found = [t for t in self.trails if t.facts.organization]
        return found[0] if found else None

    @property
    def log_groups(self) -> tuple[LogGroupRef, ...]:
        return tuple(sorted({t.log_group for t in self.trails if t.log_group is not None}))

    @property
    def monitored_log_groups(self) -> tuple[LogGroupRef, ...]:
        """The groups ``expected_config`` puts a chain on (a prefix resolved among the world's groups)."""
        found = []
        sites = [
            (entry["id"], entry["trail"]) for entry in self.expected_config["accounts"] if "trail" in entry
        ]
        organization = self.expected_config.get("organizationTrail")
        if organization:
            sites.append((organization["accountId"], organization))
        for account_id, site in sites:
            wanted = site.get("logGroup")
            prefix = site.get("logGroupPrefix")
            found.extend(
                group
                for group in self.log_groups
                if (group.account_id, group.region) == (account_id, site["homeRegion"])
                and (group.name == wanted or (prefix is not None and group.name.startswith(prefix)))
            )
        return tuple(sorted(set(found)))

    def own_trails(self, account_id: str) -> list[WorldTrail]:
        return [t for t in self.trails if t.owner == account_id]

    def trails_seen_by(self, account_id: str) -> list[TrailFacts]:
        """What DescribeTrails shows the account: its own trails and the organization trails of others.

        Every account of a world is an ACTIVE member of its organization, so it sees them all.
        """
        seen = [t for t in self.trails if t.owner == account_id or t.facts.organization]
        return [self._current(t) for t in seen]

    def _current(self, trail: WorldTrail) -> TrailFacts:
        return replace(trail.facts, logging=trail.arn not in self.stopped_trails)

    # ---- expectations ----

    def expected_coverage(self, regions: Iterable[str] | None = None) -> dict[tuple[str, str], Coverage]:
        """The coverage of every (account, Region) pair, once chains are on the monitored groups.

        Compare ``kind``, ``code``, ``trail`` and ``log_group``; ``reason`` is descriptive.
        tests/local/test_worlds.py checks these against hand-written tables.
        """
        monitored = set(self.monitored_log_groups)

        def chain_intact(group: LogGroupRef) -> bool:
            return group in monitored and group not in self.broken_chains

        return {
            (account.id, region): coverage_of(
                account.id, region, self.trails_seen_by(account.id), chain_intact
            )
            for account in self.accounts
            for region in (regions or self.regions)
        }

    # ---- breaking things, as a user would ----

    def client(self, service: str, account_id: str, region: str) -> Any:
        """A client acting in ``account_id`` (its OrganizationAccountAccessRole; the management account's keys)."""
        if self._sessions is None:
            self._sessions = EmulatorSessions(self.endpoint)
        return self._sessions.for_account(service, account_id, region)

    def break_owner_chain(self) -> list[str]:
        """Delete every metric filter on the organization trail's log group (the owner's chain)."""
        trail = self.organization_trail
        if trail is None or trail.log_group is None:
            raise ValueError(f"world {self.name!r} has no organization trail delivering to CloudWatch Logs")
        return self._delete_filters(trail.log_group)

    def break_chain(self, account_id: str) -> list[str]:
        """Delete every metric filter on the log group of the account's own (non-organization) trail."""
        own = [t for t in self.own_trails(account_id) if not t.facts.organization and t.log_group]
        if len(own) != 1:
            raise ValueError(f"account {account_id} has {len(own)} own trails delivering to CloudWatch Logs")
        group = own[0].log_group
        assert group is not None
        return self._delete_filters(group)

    def _delete_filters(self, group: LogGroupRef) -> list[str]:
        logs = self.client("logs", group.account_id, group.region)
        found = logs.describe_metric_filters(logGroupName=group.name)["metricFilters"]
        if not found:
            raise ValueError(f"no metric filter on {group.describe()}: deploy the stack before breaking it")
        for item in found:
            logs.delete_metric_filter(logGroupName=group.name, filterName=item["filterName"])
        self.broken_chains.add(group)
        return sorted(item["filterName"] for item in found)

    def stop_trail(self, account_id: str, trail_name: str | None = None) -> WorldTrail:
        """StopLogging on one of the account's own trails (its only one, unless ``trail_name`` says)."""
        own = [t for t in self.own_trails(account_id) if trail_name in (None, t.name)]
        if len(own) != 1:
            names = ", ".join(t.name for t in self.own_trails(account_id)) or "none"
            raise ValueError(f"account {account_id}: name one of its trails ({names})")
        trail = own[0]
        cloudtrail = self.client("cloudtrail", account_id, trail.facts.home_region)
        cloudtrail.stop_logging(Name=trail.arn)
        self.stopped_trails.add(trail.arn)
        return trail
