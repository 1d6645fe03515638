"""The organization-wide view as findings: what the stacks state, in cis-monitoring's findings model.

The rollup reads stack outputs, never AWS, so every finding here is a claim (``source: stated``),
not a check: a pair a stack states covered is ``NOT_AVAILABLE`` (covered by the stack's word; no
AWS call confirmed it), never PASS; a pair the stacks state uncovered, or an inventory account no
stack names, is ``FAIL``. One finding per control the covering chain monitors and per coverage entry
(``region`` ``*``: every Region of the account). ``cis-monitoring rollup-report`` renders it (one
HTML report for the organization), puts each control in the chosen benchmark version's words, and
lets audited findings (``cis-monitoring audit --format json``) win over these claims.

Like ``rollup_view``, this imports nothing from the rest of the repository (the rollup may run
from its own virtualenv): the document's keys are those of ``cis_monitoring.core.findings``
``Findings.to_dict()``, and a test reads it back with that module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

FINDINGS_SCHEMA_VERSION = "1.0"
"""The findings model's version this document follows (cis_monitoring/core/findings.py)."""
STATED = "stated"
NOT_AVAILABLE, FAIL = "NOT_AVAILABLE", "FAIL"
CATALOG_BENCHMARK = "cis-aws-3.0"
"""The catalog numbers its controls as CIS v3.0.0 does; ``rollup-report --benchmark`` words them in another."""
TOOL = "cis-monitoring-rollup"
NONE = "none"


def _controls_of(
    entry: Mapping[str, Any], chains: Mapping[str, Mapping[str, Any]], every: list[str]
) -> list[str]:
    chain = chains.get(entry.get("chain") or "")
    if chain is not None and isinstance(chain.get("controls"), Mapping):
        return sorted(chain["controls"])
    return every


def _finding(control: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    covered = entry["coverage"] != NONE
    region = entry["region"]
    said = entry["description"]
    reason = (
        f"stated by stack {entry['stack']}, not audited: {said}" if entry.get("stack") else f"stated: {said}"
    )
    code = entry.get("code") or f"coverage.{entry['coverage']}"
    if not covered and not entry.get("stack"):
        code = "coverage.none.no_trail"
    also = [f"also stated by stack {o['stack']} ({o['coverage']})" for o in entry.get("alsoBy") or ()]
    return {
        "uid": f"{control}/{entry['accountId']}/{region}",
        "controlId": control,
        "requirementId": control,
        "title": "",
        "severity": "",
        "accountId": entry["accountId"],
        "accountName": entry.get("accountName") or "",
        "ou": entry.get("ou"),
        "region": region,
        "status": NOT_AVAILABLE if covered else FAIL,
        "reasons": [reason],
        "coverage": {
            "kind": entry["coverage"],
            "code": code,
            "description": said,
            "trail": entry.get("trail"),
            "trailAccountId": entry.get("trailAccountId"),
            "trailHomeRegion": entry.get("trailHomeRegion"),
            "logGroup": entry.get("chain"),
        },
        "links": [],
        "chain": entry.get("chain"),
        "risk": "",
        "remediation": "",
        "securityHubId": None,
        "source": STATED,
        "notes": also,
    }


def findings_document(
    view: Mapping[str, Any], chains_by_stack: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The view's ``coverage`` as a findings document; ``chains_by_stack``: stack -> its ``chains`` output."""
    every = sorted({c for counts in view["byStack"].values() for c in counts["controls"]})
    findings = [
        _finding(control, entry)
        for entry in view["coverage"].values()
        for control in _controls_of(entry, chains_by_stack.get(entry.get("stack") or "", {}), every)
    ]
    catalogs = sorted({str(c["catalogVersion"]) for c in view["byStack"].values() if c.get("catalogVersion")})
    statuses = [f["status"] for f in findings]
    # Each finding says it is stated (``source``); the document's notes are only for what is missing.
    notes = [] if every else ["no stack monitors any control yet: nothing to state"]
    return {
        "schemaVersion": FINDINGS_SCHEMA_VERSION,
        # Never PASS: a claim is not a check. FAIL where a stack states a gap, else not available.
        "status": FAIL if FAIL in statuses else NOT_AVAILABLE,
        "run": {
            "tool": TOOL,
            "toolVersion": f"view {view['schemaVersion']}",
            "catalogVersion": ", ".join(catalogs),
            "benchmark": CATALOG_BENCHMARK,
            "started": "",
            "finished": "",
            "caller": None,
            "endpoint": None,
            "command": [],
        },
        "summary": {
            "findings": len(findings),
            "byStatus": {s: statuses.count(s) for s in (FAIL, NOT_AVAILABLE)},
            "bySource": {STATED: len(findings)} if findings else {},
            "accounts": len({f["accountId"] for f in findings}),
            "errors": 0,
        },
        "findings": findings,
        "notes": notes,
        "errors": [],
    }


def chains_of(stacks: Sequence[Any]) -> dict[str, Mapping[str, Any]]:
    """``StackResults`` (rollup_view) -> {stack: its chains}."""
    return {s.stack: s.chains for s in stacks if isinstance(s.chains, Mapping)}
