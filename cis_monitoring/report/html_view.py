"""What the HTML report shows, computed from the findings alone (the template only lays it out).

- ``Summary``: counts by status, coverage and source; accounts, Regions, chains; the run.
- ``Grid``: the coverage picture, accounts x Regions grouped by OU, one ``Cell`` per pair, coloured by
  the pair's most telling status across its controls (a PASS never hides a FAIL, an ERROR or an n/a).
- ``Target``: one finding's evidence. A link's full evidence (basis, values) that several findings
  share (the links of one chain, which every member of an organization trail rests on) is shown once,
  under its chain (``SharedEvidence``), and each finding points at it: a 5,000-target report stays a
  few megabytes instead of tens, and an auditor reads a chain's evidence in one place.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cis_monitoring.core.catalog.benchmarks import BY_KEY
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.findings import STATED, Finding, Findings, LinkEvidence
from cis_monitoring.core.status import Status
from cis_monitoring.report.verdicts import (
    COVERAGE_WORDS,
    STATUS_ORDER,
    STATUS_WORDS,
    coverage_kind,
    most_telling,
    overall,
    region_label,
)

GLYPH = {
    Status.PASS: "\u2713",
    Status.FAIL: "\u2717",
    Status.ERROR: "!",
    Status.NOT_AVAILABLE: "?",
    Status.SKIPPED: "\u2013",
    Status.NOT_APPLICABLE: "\u00b7",
}
"""A cell's sign besides its colour (for colour-blind readers and grey printers)."""
NO_OU = "(OU not known)"


def anchor(prefix: str, *parts: str) -> str:
    """An id attribute: the parts joined (the template escapes it; ids may hold any character but space)."""
    return prefix + "-" + "-".join(part.replace(" ", "_") for part in parts)


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int
    words: str = ""


@dataclass
class Summary:
    status: Status
    findings: int
    by_status: list[Count]
    by_coverage: list[Count]
    by_source: list[Count]
    accounts: int
    regions: int
    pairs: int
    chains: int
    stated: int
    audited: int


@dataclass(frozen=True)
class ControlText:
    control_id: str
    requirement_id: str
    title: str
    severity: str
    security_hub_id: str | None
    risk: str
    remediation: str
    anchor: str
    counts: list[Count]
    rating: str = ""
    """How the benchmark version rates it (``Automated, Level 1``), when the findings say."""


@dataclass(frozen=True)
class Cell:
    status: Status
    glyph: str
    tip: str
    href: str
    stated: bool


@dataclass
class GridRow:
    account_id: str
    name: str
    ou: str
    cells: list[Cell | None]
    statuses: str
    """The statuses of its cells, space-separated: the filter hides a row none of whose cells it shows."""


@dataclass
class GridGroup:
    ou: str
    rows: list[GridRow]
    counts: list[Count]


@dataclass
class Grid:
    regions: list[str]
    groups: list[GridGroup]


@dataclass(frozen=True)
class LinkRow:
    link: LinkEvidence
    shared: str | None
    """The anchor of the shared evidence block that holds its basis and values, or None: shown here."""
    shared_label: str = ""


@dataclass(frozen=True)
class Target:
    finding: Finding
    anchor: str
    control_anchor: str
    links: list[LinkRow]
    """Shown in full (a shared one's basis and values by reference)."""
    passing: list[LinkRow]
    """PASS links of one shared block, shown as one line (their detail is in the block)."""
    stated: bool


@dataclass
class AccountTargets:
    account_id: str
    name: str
    ou: str
    anchor: str
    targets: list[Target]
    statuses: str


@dataclass
class SharedEvidence:
    anchor: str
    label: str
    chain: str | None
    links: list[LinkEvidence] = field(default_factory=list)
    targets: int = 0


@dataclass
class Basis:
    anchor: str
    label: str
    reads: tuple[AwsRead, ...]
    links: list[str] = field(default_factory=list)


@dataclass
class View:
    findings: Findings
    benchmark_name: str
    summary: Summary
    controls: list[ControlText]
    grid: Grid
    accounts: list[AccountTargets]
    shared: list[SharedEvidence]
    statuses_present: list[Count]
    bases: list[Basis]
    basis_of: dict[tuple[AwsRead, ...], str]
    """A link's basis -> the anchor of its row in the Basis table (each distinct basis listed once)."""


def _counts(findings: Sequence[Finding]) -> list[Count]:
    counted = Counter(f.status for f in findings)
    return [Count(str(s), str(s), counted[s], STATUS_WORDS[s]) for s in STATUS_ORDER if counted[s]]


def _summary(document: Findings) -> Summary:
    findings = document.findings
    coverage = Counter(coverage_kind(f) for f in findings)
    sources = Counter(f.source for f in findings)
    return Summary(
        status=overall((f.status for f in findings), document.status),
        findings=len(findings),
        by_status=[
            Count(str(s), str(s), sum(f.status == s for f in findings), STATUS_WORDS[s])
            for s in STATUS_ORDER
            if s in (Status.PASS, Status.FAIL, Status.ERROR) or any(f.status == s for f in findings)
        ],
        by_coverage=[Count(k, COVERAGE_WORDS[k], coverage[k]) for k in COVERAGE_WORDS if coverage[k]],
        by_source=[Count(k, k, n) for k, n in sorted(sources.items())],
        accounts=len({f.account_id for f in findings}),
        regions=len({f.region for f in findings}),
        pairs=len({(f.account_id, f.region) for f in findings}),
        chains=len({f.chain for f in findings if f.chain}),
        stated=sources[STATED],
        audited=len(findings) - sources[STATED],
    )


def _controls(findings: Sequence[Finding]) -> list[ControlText]:
    by_control: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_control[f.control_id].append(f)
    texts = []
    for control_id, found in by_control.items():
        first = found[0]
        texts.append(
            ControlText(
                control_id,
                first.requirement_id,
                first.title,
                first.severity,
                first.security_hub_id,
                first.risk,
                first.remediation,
                anchor("control", control_id),
                _counts(found),
                # Findings of schema 1.1 carry the version's rating; 1.0 findings do not.
                ", ".join(
                    str(r) for r in (getattr(first, "assessment", None), getattr(first, "profile", None)) if r
                ),
            )
        )
    return texts


def _account_order(findings: Sequence[Finding]) -> list[tuple[str, str, str]]:
    """(OU, name, id) of every account, by OU, then name, then id."""
    accounts = {f.account_id: (f.ou or NO_OU, f.account_name, f.account_id) for f in findings}
    return sorted(accounts.values(), key=lambda a: (a[0] == NO_OU, a[0], a[1], a[2]))


def _grid(findings: Sequence[Finding], target_anchor: Mapping[tuple[str, str], str]) -> Grid:
    # Sorted by name, an account's "every Region" claim (``*``) first.
    regions = sorted({f.region for f in findings})
    by_pair: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        by_pair[(f.account_id, f.region)].append(f)
    groups: dict[str, GridGroup] = {}
    for ou, name, account_id in _account_order(findings):
        cells: list[Cell | None] = []
        for region in regions:
            found = by_pair.get((account_id, region))
            if not found:
                cells.append(None)
                continue
            status = most_telling(f.status for f in found)
            stated = any(f.source == STATED for f in found)
            kinds = sorted({coverage_kind(f) for f in found})
            tip = (
                f"{account_id} {name} \u00b7 {region_label(region)} \u00b7 {status}"
                f"{' (stated, not audited)' if stated else ''} \u00b7 "
                + ", ".join(COVERAGE_WORDS[k] for k in kinds)
            )
            cells.append(Cell(status, GLYPH[status], tip, "#" + target_anchor[(account_id, region)], stated))
        present = " ".join(sorted({str(c.status) for c in cells if c is not None}))
        group = groups.setdefault(ou, GridGroup(ou, [], []))
        group.rows.append(GridRow(account_id, name, ou, cells, present))
    for group in groups.values():
        ids = {row.account_id for row in group.rows}
        group.counts = _counts([f for f in findings if f.account_id in ids])
    return Grid(regions, list(groups.values()))


def _link_key(finding: Finding, link: LinkEvidence) -> str:
    """The same link of the same chain (or pair): identical links of two chains are two chains' evidence."""
    chain = finding.chain or f"{finding.account_id}/{finding.region}"
    return chain + "\n" + json.dumps(link.to_dict(), sort_keys=True, default=str)


def _heavy(link: LinkEvidence) -> bool:
    """Whether the link has evidence worth sharing (basis or values); a bare detail stays inline."""
    return bool(link.basis or link.evidence)


def _targets(
    findings: Sequence[Finding],
) -> tuple[list[AccountTargets], list[SharedEvidence], dict[tuple[str, str], str]]:
    uses = Counter(_link_key(f, link) for f in findings for link in f.links if _heavy(link))
    shared: dict[str, SharedEvidence] = {}
    block_of: dict[str, SharedEvidence] = {}

    def row(finding: Finding, link: LinkEvidence) -> LinkRow:
        key = _link_key(finding, link)
        if not _heavy(link) or uses[key] < 2:
            return LinkRow(link, None)
        block = block_of.get(key)
        if block is None:
            chain = finding.chain
            block_key = chain or f"{finding.account_id}/{finding.region}"
            block = shared.get(block_key)
            if block is None:
                label = f"chain {chain}" if chain else f"evidence of {block_key}"
                block = SharedEvidence(anchor("shared", str(len(shared) + 1)), label, chain)
                shared[block_key] = block
            block.links.append(link)
            block.targets = max(block.targets, uses[key])
            block_of[key] = block
        return LinkRow(link, block.anchor, block.label)

    by_account: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_account[f.account_id].append(f)
    pair_anchor: dict[tuple[str, str], str] = {}
    accounts = []
    for ou, name, account_id in _account_order(findings):
        targets = []
        for f in sorted(by_account[account_id], key=lambda f: (f.region, f.control_id)):
            target_anchor = anchor("t", f.control_id, f.account_id, f.region)
            pair_anchor.setdefault((f.account_id, f.region), target_anchor)
            rows = [row(f, link) for link in f.links]
            blocks = {r.shared for r in rows if r.shared and r.link.status == Status.PASS}
            folded = len(blocks) == 1
            targets.append(
                Target(
                    f,
                    target_anchor,
                    anchor("control", f.control_id),
                    [r for r in rows if not (folded and r.shared and r.link.status == Status.PASS)],
                    [r for r in rows if folded and r.shared and r.link.status == Status.PASS],
                    f.source == STATED,
                )
            )
        statuses = " ".join(sorted({str(t.finding.status) for t in targets}))
        accounts.append(AccountTargets(account_id, name, ou, anchor("a", account_id), targets, statuses))
    return accounts, list(shared.values()), pair_anchor


def _bases(findings: Sequence[Finding]) -> list[Basis]:
    found: dict[tuple[AwsRead, ...], Basis] = {}
    for f in findings:
        for link in f.links:
            if not link.basis:
                continue
            basis = found.get(link.basis)
            if basis is None:
                number = len(found) + 1
                basis = found[link.basis] = Basis(anchor("basis", str(number)), f"B{number}", link.basis)
            if link.link not in basis.links:
                basis.links.append(link.link)
    return list(found.values())


def build_view(document: Findings) -> View:
    findings = document.findings
    accounts, shared, pair_anchor = _targets(findings)
    bases = _bases(findings)
    benchmark = BY_KEY.get(document.run.benchmark)
    return View(
        findings=document,
        benchmark_name=benchmark.name if benchmark else document.run.benchmark,
        summary=_summary(document),
        controls=_controls(findings),
        grid=_grid(findings, pair_anchor),
        accounts=accounts,
        shared=shared,
        statuses_present=_counts(findings),
        bases=bases,
        basis_of={b.reads: b.anchor for b in bases},
    )


def evidence_json(values: Mapping[str, Any]) -> str:
    """A link's evidence values as the report shows them: indented JSON (escaped by the template)."""
    return json.dumps(dict(values), indent=2, sort_keys=True, default=str)
