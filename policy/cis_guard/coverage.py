"""What the stack covers: every provider target's chain, and every required (account, Region).

Two rules, one verdict per chain:

- every account and Region the stack deploys into (each AWS provider) needs a working chain,
  as it always did;
- each required pair (``requiredTargets``) is covered by a working chain at that target, or by
  the chain on the log group of a declared trail that records the account: its own
  multi-Region trail (``accountTrails``), or an organization trail it is a member of, whose
  chain is in the owner's account and home Region (``cis_monitoring.core.topology.coverage_of`` decides,
  with the pack's chain verdicts as the chain states).

A trail the stack itself manages (``aws:cloudtrail/trail:Trail``) is the strongest evidence of
which log group must be monitored: where the stack registers one, a target of its owner's account
is judged as the audit judges the pair, by ``coverage_of`` over the trail's facts (its
``cloudWatchLogsGroupArn``, ``isMultiRegionTrail``, ``enableLogging``, event selectors), with the
chain on that trail's group as the chain state; a filter on another group does not count.

A broken chain is ONE violation, however many pairs depend on it: it names the owner, the
Region, the broken link, and every required account it leaves uncovered. An organization
trail whose owner this stack neither deploys into nor requires is judged in the owner's own
stack: the pairs it covers get an advisory note here (``Judgement.notes``), not a violation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from cis_monitoring.core.aws.arns import ANY_GROUP
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.judge.selectors import management_coverage
from cis_monitoring.core.problems import Code
from cis_monitoring.core.topology import (
    ALL_REGIONS,
    ORGANIZATION,
    Coverage,
    LogGroupRef,
    TrailFacts,
    coverage_of,
)
from cis_monitoring.core.unknown import is_unknown

from .chain import EVALUATORS, StackIndex, TargetVerdict
from .declared import DeclaredTrail
from .facts import LOG_GROUP, trail_log_group, trail_selectors
from .pack_config import PackConfig
from .real_time import forwarding_only_targets
from .stack_model import Resource, Target

NO_TARGET = (
    "This stack deploys into no AWS account and region, so it has no CIS {controls} monitoring chain. Add an "
    "aws.Provider per account and region with the monitoring, or list the accounts in the pack's requiredTargets."
)


@dataclass(frozen=True)
class Site:
    """Where a chain is judged: a target, and the declared log group there (None: any of its chains)."""

    target: Target
    log_group: LogGroupRef | None = None

    def sort_key(self) -> tuple[str, str, str]:
        return (
            self.target.account or "",
            self.target.region or "",
            self.log_group.name if self.log_group else "",
        )


@dataclass(frozen=True)
class Finding:
    message: str
    urn: str | None = None
    target: Target | None = None
    """The account and Region of the broken chain or uncovered pair (for the pack's report)."""
    control: str | None = None


@dataclass
class Judgement:
    violations: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Pairs covered by an organization trail whose chain is judged in its owner's stack."""


def judge_stack(index: StackIndex, config: PackConfig) -> Judgement:
    # A member account where the stack only forwards real-time events to another account's bus holds no
    # chain by design: when a declared trail records it, it is that trail's pair, not a chain site.
    forwarding = forwarding_only_targets(index)
    targets = [
        t
        for t in index.all_targets()
        if not (t in forwarding and t.account is not None and config.trails_recording(t.account))
    ]
    if not targets and not config.required:
        controls = ", ".join(c.control_id for c in config.controls)
        return Judgement([Finding(NO_TARGET.format(controls=controls))])
    # The owner's chain belongs to the stack that deploys into the owner's account or requires it.
    here = {t.account for t in targets if t.account} | {account for account, _ in config.required}
    judgement = Judgement()
    judges = []
    for control in config.controls:
        judge = _ControlJudge(index, config, control, targets, here)
        judgement.violations.extend(replace(f, control=control.control_id) for f in judge.violations())
        judges.append(judge)
    # Whether a pair falls back to a chain judged elsewhere can depend on the control (its own chain
    # may be broken for one control only): the notes speak of every control's fallbacks, each once.
    judgement.notes.extend(_notes(config, judges))
    return judgement


@dataclass
class _ControlJudge:
    index: StackIndex
    config: PackConfig
    control: Control
    targets: list[Target]
    here: set[str]
    verdicts: dict[Site, TargetVerdict] = field(default_factory=dict)
    plain: list[Site] = field(default_factory=list)
    """Sites judged as a target of their own (each provider target; required pairs with no trail)."""
    broken: dict[Site, list[Coverage]] = field(default_factory=dict)
    """A declared trail's broken chain -> the required pairs it leaves uncovered."""
    elsewhere: list[Coverage] = field(default_factory=list)
    other: list[Coverage] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.trail_of = {t.facts: t for t in self.config.trails}
        self.trail_by_group: dict[LogGroupRef, DeclaredTrail] = {t.log_group: t for t in self.config.trails}
        self.managed = _managed_trails(self.index, self.control)
        self.plain = [Site(t) for t in self.targets if not self._managed_for(t.account)]
        for account, region in self.config.required:
            self._place(account, region)

    def _managed_for(self, account: str | None) -> list[tuple[TrailFacts, Resource]]:
        return [(facts, resource) for facts, resource in self.managed if facts.owner_account == account]

    def _managed_chain_state(self, group: LogGroupRef) -> bool | None:
        return self.verdict(Site(Target(group.account_id, group.region), group)).ok

    def _managed_violations(self) -> list[Finding]:
        """Each target of an account whose trail the stack manages, judged as the audit judges the pair."""
        findings: dict[str, Finding] = {}
        for target in self.targets:
            trails = self._managed_for(target.account)
            if not trails or target.account is None or target.region is None:
                continue
            found = coverage_of(
                target.account, target.region, [f for f, _ in trails], self._managed_chain_state
            )
            if found.covered:
                continue
            urn = next((r.urn for f, r in trails if f == found.trail), trails[0][1].urn)
            if found.code == Code.COVERAGE_CHAIN_BROKEN and found.log_group is not None:
                group = found.log_group
                verdict = self.verdict(Site(Target(group.account_id, group.region), group))
                key = group.key
                codes = ", ".join((*verdict.codes, found.code))
                message = (
                    f"{Target(group.account_id, group.region).label()}: {verdict.verdict.summary()}. The"
                    f" stack's own trail delivers there, so while it is broken, account {target.account}"
                    f" is {found.describe()} [codes: {codes}]"
                )
                findings.setdefault(key, Finding(message, verdict.urn or urn, verdict.target))
            else:
                findings.setdefault(
                    f"{target.account}/{target.region}",
                    Finding(f"{target.label()}: {found.describe()} [codes: {found.code}]", urn, target),
                )
        return list(findings.values())

    def verdict(self, site: Site) -> TargetVerdict:
        if site not in self.verdicts:
            evaluate = EVALUATORS[self.control.detector]
            self.verdicts[site] = evaluate(
                self.index, site.target, self.control, self.config.settings, site.log_group
            )
        return self.verdicts[site]

    def _chain_state(self, group: LogGroupRef) -> bool | None:
        trail = self.trail_by_group[group]
        if trail.organization and trail.owner not in self.here:
            return None  # judged in the owner's stack
        return self.verdict(_site_of(trail)).ok

    def _members(self, facts: TrailFacts) -> Sequence[str] | None:
        return self.trail_of[facts].members

    def _place(self, account: str, region: str) -> None:
        own = Site(Target(account, region))
        trails = self.config.trails_recording(account)
        # A working chain at the pair itself covers it (per-Region trails; the pack's first rule).
        if region != ALL_REGIONS and (not trails or (own.target in self.targets and self.verdict(own).ok)):
            self.plain.append(own)
            return
        coverage = coverage_of(account, region, [t.facts for t in trails], self._chain_state, self._members)
        trail = self.trail_of.get(coverage.trail) if coverage.trail else None
        if coverage.covered:
            if trail is not None and coverage.kind == ORGANIZATION and trail.owner not in self.here:
                self.elsewhere.append(coverage)
        elif coverage.code == Code.COVERAGE_CHAIN_BROKEN:
            # Fixing any of these chains would cover the pair: each one's violation names it.
            for candidate in trails:
                alone = coverage_of(account, region, [candidate.facts], self._chain_state, self._members)
                if alone.code == Code.COVERAGE_CHAIN_BROKEN:
                    self.broken.setdefault(_site_of(candidate), []).append(alone)
        else:
            self.other.append(coverage)

    def violations(self) -> list[Finding]:
        findings = []
        named = {site.target for site in self.broken}
        for site in sorted(dict.fromkeys(self.plain), key=Site.sort_key):
            verdict = self.verdict(site)
            # A broken declared chain at the same target is reported below, naming what it leaves
            # uncovered; fixing it fixes this target too (its filters are among the target's).
            if not verdict.ok and site.target not in named:
                findings.append(Finding(verdict.message, verdict.urn, site.target))
        for site in sorted(self.broken, key=Site.sort_key):
            findings.append(self._uncovered(site, self.broken[site]))
        findings.extend(self._managed_violations())
        findings.extend(
            Finding(f"{_accounts([c])}: {c.describe()} [codes: {c.code}]", target=_pair(c))
            for c in self.other
        )
        return findings

    def _uncovered(self, site: Site, coverages: list[Coverage]) -> Finding:
        verdict = self.verdict(site)
        assert site.log_group is not None
        trail = self.trail_by_group[site.log_group]
        pairs = _accounts(coverages)
        if trail.organization and trail.members is None:
            who, verb = f"every member account of the organization (required here: {pairs})", "is"
        else:
            who, verb = pairs, "is" if len({c.account_id for c in coverages}) == 1 else "are"
        codes = ", ".join((*verdict.codes, coverages[0].code))
        return Finding(
            f"{site.target.label()}: {verdict.verdict.summary()}. While it is broken, {who} {verb} "
            f"{coverages[0].describe()} [codes: {codes}]",
            verdict.urn,
            site.target,
        )


def _notes(config: PackConfig, judges: Sequence[_ControlJudge]) -> list[str]:
    """The advisory notes of every control's judge, each pair and site said once."""
    if not judges:
        return []
    trail_of = judges[0].trail_of
    elsewhere = list({(c.account_id, c.region, c.trail): c for j in judges for c in j.elsewhere}.values())
    by_trail: dict[str, list[Coverage]] = {}
    for coverage in elsewhere:
        assert coverage.trail is not None
        by_trail.setdefault(trail_of[coverage.trail].path, []).append(coverage)
    notes = []
    for coverages in by_trail.values():
        owner = coverages[0].trail.owner_account if coverages[0].trail else ""
        verb = "is" if len({c.account_id for c in coverages}) == 1 else "are"
        notes.append(
            f"{_accounts(coverages)} {verb} {coverages[0].describe()}; that chain is judged in the stack "
            f"of account {owner}, which this stack neither deploys into nor lists in requiredTargets"
        )
    # Accounts the config speaks of: a declared trail's owner or member, or a required pair (a
    # per-Region trail is declared as its required Regions: the pack states multi-Region trails only).
    stated = {t.owner for t in config.trails} | {account for account, _ in config.required}
    plain = dict.fromkeys(site for j in judges for site in j.plain)
    for site in plain:
        account = site.target.account
        if account is None or account in stated or config.trails_recording(account):
            continue
        # The pack cannot see trails: with none declared for the account, it counted a chain on
        # any log group there. Said, not passed silently; the audit checks the delivery.
        notes.append(
            f"{site.target.label()}: no trail is declared for this account (pack config accountTrails or"
            " organizationTrails, or an aws.cloudtrail.Trail in the stack), so the pack could not tell"
            " whether the chain's log group is the one a trail delivers to; `cis-monitoring pack-config`"
            " declares the stack's trails, and `cis-monitoring audit` checks the delivery"
        )
    return notes


def _managed_trails(index: StackIndex, control: Control) -> list[tuple[TrailFacts, Resource]]:
    """The trails the stack registers, as the core's facts for ``control`` (unknown values count as fine)."""
    managed = []
    for target, resources in index.trails.items():
        if target.account is None or target.region is None:
            continue  # a trail whose owner and home the stack does not say cannot be placed
        for resource in resources:
            managed.append((_trail_facts(index, resource, target, control), resource))
    return managed


def _trail_facts(index: StackIndex, resource: Resource, target: Target, control: Control) -> TrailFacts:
    assert target.account is not None and target.region is not None
    depends = resource.property_dependencies.get("cloudWatchLogsGroupArn", ())
    group_name = next(
        (
            index.resources[u].get("name")
            for u in depends
            if u in index.resources and index.resources[u].type == LOG_GROUP
        ),
        None,
    )
    group = trail_log_group(resource, target.account, target.region, group_name)
    if is_unknown(group):
        group = LogGroupRef(target.account, target.region, "", ANY_GROUP)
    selectors = trail_selectors(resource)
    complete = (
        None if is_unknown(selectors) else management_coverage(selectors, control)[0] == {"read", "write"}
    )
    multi_region, logging, organization = (
        resource.get("isMultiRegionTrail"),
        resource.get("enableLogging"),
        resource.get("isOrganizationTrail"),
    )
    name = resource.get("name")
    return TrailFacts(
        name=name if isinstance(name, str) else resource.name,
        owner_account=target.account,
        home_region=target.region,
        # AWS's and the provider's default is a single-Region trail; an unknown value counts as fine.
        multi_region=multi_region is True or is_unknown(multi_region),
        organization=organization is True,
        log_group=group,
        logging=None
        if is_unknown(logging)
        else logging is not False,  # the provider enables logging by default
        all_management_events=complete,
    )


def _pair(coverage: Coverage) -> Target:
    """A required pair as a target; ``*`` (every Region) is no one Region."""
    return Target(coverage.account_id, None if coverage.region == ALL_REGIONS else coverage.region)


def _site_of(trail: DeclaredTrail) -> Site:
    return Site(Target(trail.owner, trail.home_region), trail.log_group)


def _accounts(coverages: Iterable[Coverage]) -> str:
    """``account 1 (every Region)``, or ``accounts 1 (every Region), 2 (eu-west-1, us-east-1) and 3 (...)``."""
    regions: dict[str, list[str]] = {}
    for coverage in coverages:
        regions.setdefault(coverage.account_id, []).append(
            "every Region" if coverage.region == ALL_REGIONS else coverage.region
        )
    parts = [f"{account} ({', '.join(found)})" for account, found in sorted(regions.items())]
    if len(parts) == 1:
        return f"account {parts[0]}"
    return f"accounts {', '.join(parts[:-1])} and {parts[-1]}"
