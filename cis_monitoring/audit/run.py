"""The audit run: do the events of each (account, Region) reach a log group whose chain is intact?

Two entry points:

- ``audit_coverage(scope, ...)``: the whole run, in four steps, each on a bounded thread pool:

  1. per (account, Region), read the trails the account sees (``cis_monitoring.audit.trails``: own
     trails, and organization trails as shadows naming the owner's log group). Accounts judged
     without a role (``--members-from-organization``) see the organization trail as its owner reads it;
  2. find every log group a pair's coverage may rest on (the core's ``coverage_of`` names them)
     and audit each one's chain ONCE, in the group's own account, for every control
     (``audit_chain``): an organization trail's chain is read once, not per member;
  3. (``--drill``) drill the alarms of chains that passed, one after another (``cis_monitoring.audit.drill``);
  4. per pair, the core's verdict (``coverage_of``) from its trails and the chains' states.

- ``audit_chain(group, access, ...)``: one log group's chain for each control, in chain order (the
  log group exists, then ``cis_monitoring.audit.chain``'s checks of the core's links), then the
  proofs of the links it reached (``cis_monitoring.audit.proof_run``). The first broken link makes
  the control FAIL and the later links are not checked; an AWS error makes it ERROR.

Nothing is judged here: trails by ``cis_monitoring.core.topology``, selectors and chains by
``cis_monitoring.core.judge``; this module only orders the reads and words the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from typing import Any

from cis_monitoring.audit.aws import (
    AWS_ERRORS,
    AccountMismatchError,
    AwsError,
    Clients,
    FewerCollections,
    Memo,
    SessionFactory,
    aws_error,
    in_pool,
    paginate,
)
from cis_monitoring.audit.chain import (
    CHAIN_CHECKS,
    NOT_CHECKED,
    ChainChecks,
    Check,
    Outcome,
    chain_evidence,
    check_basis,
)
from cis_monitoring.audit.drill import DrillPlan, run_drills
from cis_monitoring.audit.proof_run import ChainProofs, ProofSettings, fold
from cis_monitoring.audit.proofs.confirmation import emulator_confirmations
from cis_monitoring.audit.proofs.result import ProofResult
from cis_monitoring.audit.real_time import RulePlace, audit_event_rules
from cis_monitoring.audit.results import ChainResult, ControlResult, CoverageReport, Finding, PairResult
from cis_monitoring.audit.scope import AccountScope, AuditScope, OrganizationSource, with_members
from cis_monitoring.audit.trails import Clock, TrailReader, TrailReading, owner_named, utc_now
from cis_monitoring.core.access import Access
from cis_monitoring.core.aws.arns import LogGroupRef
from cis_monitoring.core.catalog import Control
from cis_monitoring.core.detectors import REAL_TIME, metric_filter
from cis_monitoring.core.detectors.event_rule import rule_pattern
from cis_monitoring.core.problems import Code
from cis_monitoring.core.status import Status
from cis_monitoring.core.topology import (
    ALL_REGIONS,
    DEFAULT_DELIVERY_WINDOW,
    NOT_COVERED,
    ORGANIZATION,
    Coverage,
    TrailFacts,
    coverage_of,
)

ACTIVE = "ACTIVE"
"""organizations:ListAccounts' state of an account that is a member now."""
TRAILS, CHAINS = "trails", "chains"
"""The phases of a run, as ``Step.phase`` names them."""


@dataclass(frozen=True)
class Step:
    """One trail read or chain checked: what a progress display shows (a bar, or ``line``)."""

    phase: str
    done: int
    total: int
    line: str
    """``[3/40] trails of 111111111111/eu-west-1: 2 trail(s)``, ``[1/1] chain <key>: PASS``."""


Progress = Callable[[Step], None]
"""Called once per trail read and per chain checked (the CLI shows them for big audits)."""


# ---------------------------------------------------------------- one chain


def audit_metric_filter_chain(
    group: LogGroupRef, aws: Clients, memo: Memo, control: Control, proofs: ProofSettings | None
) -> ControlResult:
    """One control's metric-filter chain on ``group`` (the audit's function for that detector kind)."""
    proof = ChainProofs(aws, group.region, control, proofs) if proofs is not None else None
    chain = ChainChecks(aws, group, control, memo, proof.aws_covers if proof else None)
    steps: list[tuple[Check, Callable[[], Outcome]]] = [(Check.LOG_GROUP, chain.log_group)]
    steps += [(check, lambda link=link: chain.outcome(link)) for link, check in CHAIN_CHECKS.items()]
    findings: list[Finding] = []
    status, reasons, error, codes = Status.PASS, [], None, ()
    for check, step in steps:
        if status != Status.PASS:
            findings.append(Finding(check, None, NOT_CHECKED))
            continue
        try:
            outcome = step()
        except AWS_ERRORS as failure:
            error = aws_error(failure)
            status = Status.ERROR
            where = f" ({error.operation})" if error.operation else ""
            reasons = [f"{check}: {error.code}: {error.message}{where}"]
            findings.append(
                Finding(
                    check, False, f"error: {error.code}: {error.message}", basis=check_basis(check, control)
                )
            )
            continue
        findings.append(
            Finding(check, outcome.ok, outcome.detail, outcome.codes, check_basis(check, control))
        )
        if not outcome.ok:
            status, reasons, codes = Status.FAIL, [f"{check}: {outcome.detail}"], outcome.codes
    verdict = chain.verdict
    results = proof.run(verdict, chain.lookups) if proof is not None and verdict is not None else []
    flagged = _emulator_confirmation(aws, chain)
    if flagged is not None:
        results = [*results, flagged]
        findings = [_flag_finding(f, flagged) for f in findings]
    status, reasons = fold(status, reasons, results)
    seen = chain_evidence(verdict.path if verdict is not None else chain.lookups.path, group, chain.lookups)
    findings = [replace(f, evidence=seen.get(f.check, {})) if f.ok is not None else f for f in findings]
    alarm = None
    if verdict is not None and verdict.ok and verdict.path.alarm is not None:
        alarm = chain.lookups.raw_alarm(verdict.path.alarm)  # what a drill starts from
    return ControlResult(
        control.control_id, status, reasons, findings, error, codes, tuple(results), alarm=alarm
    )


def _emulator_confirmation(aws: Clients, chain: ChainChecks) -> ProofResult | None:
    """Against an emulator: the working chain's confirmations that only the emulator gave, if any."""
    verdict = chain.verdict
    if aws.emulator is None or verdict is None or not verdict.ok or verdict.path.topic is None:
        return None
    return emulator_confirmations(
        aws.emulator, str(verdict.path.topic.arn), verdict.path.subscriptions, chain.lookups.attributes
    )


def _flag_finding(finding: Finding, flagged: ProofResult) -> Finding:
    """The subscription check's row says that its confirmation is the emulator's word."""
    if finding.check != Check.SUBSCRIPTION or not finding.ok:
        return finding
    rests = flagged.evidence.get("restsOnEmulatorOnly")
    prefix = (
        "confirmed only by the emulator, not by AWS: " if rests else "partly confirmed by the emulator only: "
    )
    return replace(finding, detail=prefix + finding.detail)


CONTROL_AUDITS: dict[str, Callable[..., ControlResult]] = {
    metric_filter.KIND: audit_metric_filter_chain,
    REAL_TIME: audit_event_rules,
}
"""Detector kind -> the audit's reading and judgement of one control's chain (tests/test_architecture.py
holds it equal to the core's kinds). The metric filter's takes the proof settings last; the real-time
kind's, the place of its rules (``audit.real_time.RulePlace``)."""


def audit_chain(
    group: LogGroupRef,
    access: Access,
    sessions: SessionFactory,
    controls: Sequence[Control],
    proofs: ProofSettings | None = None,
    account_name: str | None = None,
    real_time: Sequence[RulePlace] = (),
) -> ChainResult:
    """``group``'s chain for each control, entered with ``access``, reading each answer once.

    Never raises for an AWS error or an odd answer: that control's row says ERROR.
    ``proofs`` None runs no proof. ``real_time``: where the stack's ``realTime`` put this chain's
    rules (none: no real-time reads); their verdicts go in ``ChainResult.real_time``, apart from the
    CIS controls', and never change the chain's status.
    """
    aws, memo = Clients(sessions, access, group.region), Memo()
    results = []
    for control in controls:
        try:
            results.append(CONTROL_AUDITS[control.detector](group, aws, memo, control, proofs))
        except Exception as failure:  # a bug or an odd response: this row says so, the others still run
            error = aws_error(failure)
            results.append(
                ControlResult(control.control_id, Status.ERROR, [f"{error.code}: {error.message}"], [], error)
            )
    chain = ChainResult(group, account_name or group.account_id, results)
    for place in real_time:
        for control in (c for c in controls if rule_pattern(c) is not None):
            try:
                found = CONTROL_AUDITS[REAL_TIME](group, aws, memo, control, place)
            except Exception as failure:  # a bug or an odd response: this row says so
                error = aws_error(failure)
                found = ControlResult(
                    control.control_id,
                    Status.ERROR,
                    [f"{place.label}: {error.code}: {error.message}"],
                    [],
                    error,
                )
            chain.real_time.setdefault(place.label, []).append(found)
    return chain


# ---------------------------------------------------------------- the organization's members


def _list_accounts(sessions: SessionFactory, who: Access, region: str) -> dict[str, str]:
    """The ACTIVE accounts (id -> name) organizations:ListAccounts gives ``who``."""
    listed = paginate(sessions.client(who, "organizations", region), "list_accounts", "Accounts")
    # AWS is replacing ``Status`` with ``State``; either says ACTIVE.
    return {
        a["Id"]: str(a.get("Name") or a["Id"])
        for a in listed
        if (a.get("State") or a.get("Status")) == ACTIVE
    }


def _organization_accounts(
    scope: AuditScope, sessions: SessionFactory, owner: Access, region: str, report: CoverageReport
) -> dict[str, str] | None:
    """The members, listed by the trail owner, else by the management account (None: not listed).

    AWS lets the management account and a delegated administrator call ListAccounts; an
    answer that leaves out the caller itself (an emulator's, for a delegated administrator)
    is no listing, so the management account (DescribeOrganization names it) is asked then.
    """
    active = _list_accounts(sessions, owner, region)
    if owner.account_id in active:
        return active
    organization = sessions.client(owner, "organizations", region).describe_organization()
    management = str(organization.get("Organization", {}).get("MasterAccountId") or "")
    if management and management != owner.account_id:
        active = _list_accounts(sessions, scope.access_for(management), region)
        if management in active:
            report.notes.append(
                f"the organization's accounts were listed by its management account {management}"
            )
            return active
    report.errors.append(
        f"--members-from-organization: organizations:ListAccounts in account {owner.account_id} listed"
        f" {len(active)} ACTIVE account(s), not including itself: run it as the management account or a"
        " delegated administrator"
    )
    return None


def _source_label(scope: AuditScope) -> str:
    """Whom an organization-trail problem is about: the flag, or the stack's key."""
    return "--members-from-organization" if scope.list_members else "organizationTrail"


def _members(
    scope: AuditScope, sessions: SessionFactory, reader: TrailReader, report: CoverageReport
) -> tuple[AuditScope, tuple[TrailReading, ...]]:
    """The owner's organization trail (for the accounts judged from it) and, with
    ``--members-from-organization``, the organization's ACTIVE accounts."""
    source = scope.organization
    assert source is not None
    owner = scope.access_for(source.owner)
    region = source.home_region or scope.regions[0]
    try:
        active = (
            _organization_accounts(scope, sessions, owner, region, report) if scope.list_members else None
        )
        trails = tuple(reader.organization_trails(owner, region))
    except AWS_ERRORS as failure:
        error = aws_error(failure)
        what = "the members were not listed" if scope.list_members else "the organization trail was not read"
        report.errors.append(
            f"{_source_label(scope)}: {error.code}: {error.message} ({error.operation or 'a call'}"
            f" as account {source.owner}); {what}"
        )
        return scope, ()
    if source.trail_name is not None:
        trails = tuple(t for t in trails if t.facts.name == source.trail_name)
    own = tuple(t for t in trails if t.facts.owner_account == source.owner)
    named = f" named {source.trail_name!r}" if source.trail_name else ""
    if not own and trails:
        # A delegated administrator named as the owner: it sees the trail as a shadow naming the
        # real owner. The members are judged from that trail (it is AWS's), and the run says whom to name.
        report.errors.append(f"{_source_label(scope)}: {owner_named(source.owner, trails[0].facts)}")
        own = trails[:1]
    elif not own:
        report.notes.append(
            f"account {source.owner} owns no organization trail{named} visible in {region}, so the members"
            " it lists are judged from no trail"
        )
    return (with_members(scope, active) if active is not None else scope), own


# ---------------------------------------------------------------- the run


@dataclass(frozen=True)
class _Seen:
    """What one pair's account sees in its Region: its trails, or the error that stopped the read."""

    account: AccountScope
    region: str
    trails: tuple[TrailReading, ...] = ()
    error: AwsError | None = None

    @property
    def facts(self) -> list[TrailFacts]:
        return [t.facts for t in self.trails]


def _read(
    reader: TrailReader, organization_trails: tuple[TrailReading, ...]
) -> Callable[[tuple[AccountScope, str]], _Seen]:
    def read(pair: tuple[AccountScope, str]) -> _Seen:
        account, region = pair
        if account.access is None:
            return _Seen(account, region, organization_trails)
        try:
            return _Seen(account, region, tuple(reader.seen(account.access, region)))
        except Exception as failure:  # an AWS error, an odd answer or a bug: this pair says so
            return _Seen(account, region, error=aws_error(failure))

    return read


def _owners_delivery(seen: Sequence[_Seen]) -> list[_Seen]:
    """Each trail's CloudWatch Logs delivery as its owner read it, where the owner was read too.

    The owner's GetTrailStatus is the trail's own answer; a member reads an organization trail's
    status through its shadow, which may say less. Where the owner was not read, the member's
    own reading stands (and is judged as read).
    """
    owners = {
        t.facts.arn: t.facts.delivery
        for item in seen
        for t in item.trails
        if t.facts.delivery is not None and t.facts.owner_account == item.account.account_id
    }

    def owners_view(reading: TrailReading) -> TrailReading:
        delivery = owners.get(reading.facts.arn)
        if delivery is None or reading.facts.delivery is None:
            return reading
        return replace(reading, facts=replace(reading.facts, delivery=delivery))

    return [replace(item, trails=tuple(owners_view(t) for t in item.trails)) for item in seen]


def _owner_problem(stated: OrganizationSource | None, seen: Sequence[_Seen]) -> str | None:
    """Why the stack's organization trail owner is not the owner AWS shows, or None.

    Only when no organization trail of the stated owner is seen anywhere, and another account's is.
    """
    if stated is None:
        return None
    trails = [
        t.facts
        for item in seen
        for t in item.trails
        if t.facts.organization and (stated.trail_name is None or t.facts.name == stated.trail_name)
    ]
    if not trails or any(t.owner_account == stated.owner for t in trails):
        return None
    return owner_named(stated.owner, trails[0])


def _groups_to_check(seen: Sequence[_Seen], delivery_window: timedelta) -> list[LogGroupRef]:
    """Every log group a pair's coverage may rest on, in the order first asked."""
    asked: list[LogGroupRef] = []

    def record(group: LogGroupRef) -> bool:
        asked.append(group)
        return False  # "broken": so the core goes on to every other candidate

    for item in seen:
        if item.error is None:
            coverage_of(
                item.account.account_id, item.region, item.facts, record, delivery_window=delivery_window
            )
    return list(dict.fromkeys(asked))


@FewerCollections()
def audit_coverage(
    scope: AuditScope,
    sessions: SessionFactory,
    controls: Sequence[Control],
    *,
    proofs: ProofSettings | None = None,
    drill: DrillPlan | None = None,
    max_workers: int = 8,
    progress: Progress | None = None,
    delivery_window: timedelta = DEFAULT_DELIVERY_WINDOW,
    clock: Clock = utc_now,
) -> CoverageReport:
    """Audit every pair of ``scope`` for ``controls``; never raises for AWS errors (rows say ERROR).

    ``delivery_window``: how old a trail's last CloudWatch Logs delivery may be (``--delivery-window``);
    ``clock``: the "now" it is measured from (tests set it).
    """
    report = CoverageReport([], {}, tuple(c.control_id for c in controls), list(scope.notes))
    reader = TrailReader(sessions, controls, clock)
    organization_trails: tuple[TrailReading, ...] = ()
    if scope.organization is not None:
        scope, organization_trails = _members(scope, sessions, reader, report)
    pairs = [(account, region) for account in scope.accounts for region in account.regions]

    def read_done(count: int, total: int, item: _Seen) -> None:
        if progress is not None:
            state = f"ERROR {item.error.code}" if item.error else f"{len(item.trails)} trail(s)"
            line = f"[{count}/{total}] trails of {item.account.account_id}/{item.region}: {state}"
            progress(Step(TRAILS, count, total, line))

    def chain_done(count: int, total: int, chain: ChainResult) -> None:
        if progress is not None:
            progress(Step(CHAINS, count, total, f"[{count}/{total}] chain {chain.key}: {chain.status}"))

    seen = _owners_delivery(in_pool(pairs, _read(reader, organization_trails), max_workers, read_done))

    def check(group: LogGroupRef) -> ChainResult:
        access, name = scope.access_for(group.account_id), scope.name_of(group.account_id)
        real_time = scope.real_time.get((group.account_id, group.region), ())
        return audit_chain(group, access, sessions, controls, proofs, name, real_time)

    wrong_owner = _owner_problem(scope.stated_organization, seen)
    if wrong_owner is not None and not any(wrong_owner in error for error in report.errors):
        report.errors.append(f"organizationTrail.accountId: {wrong_owner}")
    chains = in_pool(_groups_to_check(seen, delivery_window), check, max_workers, chain_done)
    report.chains = {chain.group: chain for chain in chains}
    if drill is not None:
        report.drill_run = drill.settings.run_id
        run_drills(list(report.chains.values()), sessions, scope, drill)
    report.pairs = [_pair_result(item, report.chains, delivery_window) for item in seen]
    for control in controls:
        alone = {group: chain.only(control.control_id) for group, chain in report.chains.items()}
        report.by_control[control.control_id] = [_pair_result(item, alone, delivery_window) for item in seen]
    return report


# ---------------------------------------------------------------- the words of a pair


def _pair_result(
    item: _Seen, chains: Mapping[LogGroupRef, ChainResult], delivery_window: timedelta
) -> PairResult:
    account = item.account
    common: dict[str, Any] = {
        "account_id": account.account_id,
        "account_name": account.account_name,
        "region": item.region,
        "all_regions": account.all_regions,
        "trails": item.trails,
        "entered": account.access is not None,
        "claims": account.claims,
    }
    if item.error is not None:
        where = f" ({item.error.operation})" if item.error.operation else ""
        reasons = [f"trails: {item.error.code}: {item.error.message}{where}{_hint(item.error, account)}"]
        return PairResult(status=Status.ERROR, reasons=reasons, error=item.error, **common)
    found = coverage_of(
        account.account_id,
        item.region,
        item.facts,
        lambda g: chains[g].intact if g in chains else None,
        delivery_window=delivery_window,
    )
    chain = chains.get(found.log_group) if found.log_group is not None else None
    status, reasons = _verdict(found, chain)
    if account.log_group is not None and (
        found.log_group is None or found.log_group.name != account.log_group
    ):
        reaches = found.log_group.describe() if found.log_group else "no log group"
        status = Status.FAIL if status == Status.PASS else status
        reasons.append(f"--log-group {account.log_group!r}: the events reach {reaches} instead")
    notes = _claim_notes(found, account)
    if account.access is None and status != Status.PASS:
        # Only the organization trail was looked at: a trail of the account's own may cover it.
        notes += (
            f"judged from the organization trail as its owner sees it: account {account.account_id} was"
            " not entered, so a trail of its own, if it has one, was not seen; give the account a roleArn"
            " (or pass --role-name) to read its own trails",
        )
    return PairResult(
        status=status,
        reasons=reasons,
        coverage=found,
        chain=chain.key if chain is not None else None,
        notes=notes,
        **common,
    )


def _verdict(found: Coverage, chain: ChainResult | None) -> tuple[Status, list[str]]:
    if found.kind == NOT_COVERED:
        reasons = [found.describe()]
        if chain is not None and found.code == Code.COVERAGE_CHAIN_BROKEN:
            owner = chain.group.account_id
            reasons += [f"chain in account {owner} ({chain.group.name}): {r}" for r in chain.reasons]
        return Status.FAIL, reasons
    if chain is None or chain.intact is None:
        group = found.log_group.describe() if found.log_group else "its log group"
        why = chain.reasons if chain is not None else ["it was not checked"]
        reasons = [f"{found.describe()}; the chain on {group} could not be checked: {r}" for r in why]
        mismatch = AccountMismatchError.code
        if chain is not None and any(r.error and r.error.code == mismatch for r in chain.controls):
            reasons.append(
                f"to read the chain in account {chain.group.account_id}, give that account a roleArn in the"
                " stack (organizationTrail.roleArn for its owner), --role-name, or --owner-role-arn"
            )
        return Status.ERROR, reasons
    owner = chain.group.account_id
    delivery = found.trail.delivery if found.trail is not None else None
    if delivery is None or delivery.latest is None:
        # Only a delivery AWS reported lets a pair PASS: a trail whose delivery was not read proves nothing.
        return Status.ERROR, [
            f"{found.describe()}; its CloudWatch Logs delivery (GetTrailStatus) was not read"
        ]
    return Status.PASS, [
        f"{found.describe()}; logging, delivering to CloudWatch Logs (last at"
        f" {delivery.latest.astimezone(UTC):%Y-%m-%d %H:%M} UTC), all management events, chain intact in {owner}"
    ]


def _hint(error: AwsError, account: AccountScope) -> str:
    if (
        error.code == AccountMismatchError.code
        and account.access is not None
        and account.access.role_arn is None
    ):
        return (
            "; give the account a roleArn, pass --role-name, or judge it from the organization trail with"
            " --members-from-organization"
        )
    return ""


def _claim_notes(found: Coverage, account: AccountScope) -> tuple[str, ...]:
    """Where AWS shows another kind of coverage than the stack states (a note; the verdict stands)."""
    claimed = {c.kind for c in account.claims if c.region in (found.region, ALL_REGIONS)}
    if not claimed or found.kind == NOT_COVERED or found.kind in claimed:
        return ()
    said = " or ".join(sorted(claimed))
    shown = "by organization trail" if found.kind == ORGANIZATION else "directly"
    return (f"the stack states {said} coverage; AWS shows it covered {shown}",)
