"""The versioned findings model: what every report renders, and nothing else.

One ``Finding`` per (control, account, Region): its status, severity and coverage, and every link
of its chain with the evidence the verdict rests on (what AWS answered, and which calls and fields:
``core.evidence.AwsRead``), who judged it (the core, or AWS itself: TestMetricFilter, alarm
history, the drill), and the run it came from (when, as whom, with which tool and catalog). Every
renderer (JSON, OCSF, ASFF, CSV, JUnit, HTML, the terminal) reads only this model, so they cannot
disagree; the audit and the rollup fill it.

``FINDINGS_SCHEMA_VERSION`` is ``<major>.<minor>``: a minor bump only adds keys; a reader takes a
document of its own major version and refuses any other with an ``InputError`` saying which.
``docs/findings.schema.json`` is the JSON Schema of ``Findings.to_dict()`` (a test holds them
equal). Standard library only.

1.1 added ``run.homeRegion`` and each finding's ``assessment``, ``profile`` and
``requirementSource`` (the benchmark version's rating of the control, and where the mapping
comes from).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cis_monitoring.core.errors import InputError
from cis_monitoring.core.evidence import AwsRead
from cis_monitoring.core.status import Status, worst

FINDINGS_SCHEMA_VERSION = "1.1"

AUDITED = "audited"
"""A finding the audit made from what AWS answered."""
STATED = "stated"
"""A finding that repeats what a stack states (the rollup's claims), not a check of AWS."""
SOURCES = (AUDITED, STATED)

JUDGED_BY_CORE = "core"
JUDGED_BY_AWS = "aws"
"""Who decided a link: the core's judgement of the facts read, or AWS itself (its matcher, its history)."""


@dataclass(frozen=True)
class Caller:
    """Whose credentials the run used (sts:GetCallerIdentity)."""

    account_id: str
    arn: str

    def to_dict(self) -> dict[str, Any]:
        return {"accountId": self.account_id, "arn": self.arn}


@dataclass(frozen=True)
class Run:
    """One run of the tool: when, as whom, with what, against which benchmark version."""

    started: str
    """ISO 8601, UTC."""
    finished: str
    tool_version: str
    catalog_version: str
    benchmark: str
    """The benchmark version the findings speak (``cis-aws-5.0``): its ids and titles."""
    caller: Caller | None = None
    endpoint: str | None = None
    """An emulator's URL when the run did not talk to AWS (its findings prove less: see each link)."""
    command: tuple[str, ...] = ()
    tool: str = "cis-monitoring"
    home_region: str | None = None
    """The Region the run asked STS in: where ``--security-hub`` imports (its ``ProductArn``'s Region)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "toolVersion": self.tool_version,
            "catalogVersion": self.catalog_version,
            "benchmark": self.benchmark,
            "started": self.started,
            "finished": self.finished,
            "caller": self.caller.to_dict() if self.caller else None,
            "endpoint": self.endpoint,
            "command": list(self.command),
            "homeRegion": self.home_region,
        }


@dataclass(frozen=True)
class LinkEvidence:
    """One link of a finding's chain (trail, selectors, delivery, filter, alarm, topic, key, subscriber ...)."""

    link: str
    status: Status
    detail: str
    codes: tuple[str, ...] = ()
    basis: tuple[AwsRead, ...] = ()
    """The AWS calls and fields the verdict rests on (empty: not checked, so never PASS)."""
    judged_by: str = JUDGED_BY_CORE
    evidence: Mapping[str, Any] = field(default_factory=dict)
    """What AWS answered that the verdict used (the deployed pattern, the alarm's settings ...)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "status": str(self.status),
            "detail": self.detail,
            "codes": list(self.codes),
            "basis": [read.to_dict() for read in self.basis],
            "judgedBy": self.judged_by,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class CoverageEvidence:
    """How the pair's events reach (or fail to reach) a chain: the core's coverage words."""

    kind: str
    """``direct``, ``organization`` or ``none`` (``core.topology``)."""
    code: str
    description: str
    trail: str | None = None
    trail_account_id: str | None = None
    trail_home_region: str | None = None
    log_group: str | None = None
    """``<account>/<region>/<name>`` of the covering log group, when one was found."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "description": self.description,
            "trail": self.trail,
            "trailAccountId": self.trail_account_id,
            "trailHomeRegion": self.trail_home_region,
            "logGroup": self.log_group,
        }


@dataclass(frozen=True)
class Finding:
    control_id: str
    """The catalog's id (CIS v3.0.0 numbering), stable across benchmark versions."""
    requirement_id: str
    """The control's id in the run's benchmark version (``4.5``, or ``5.5`` in v6.0.0)."""
    title: str
    severity: str
    account_id: str
    region: str
    status: Status
    reasons: tuple[str, ...] = ()
    account_name: str = ""
    ou: str | None = None
    coverage: CoverageEvidence | None = None
    links: tuple[LinkEvidence, ...] = ()
    chain: str | None = None
    """The key of the chain (log group) the pair's coverage rests on."""
    risk: str = ""
    remediation: str = ""
    security_hub_id: str | None = None
    source: str = AUDITED
    notes: tuple[str, ...] = ()
    assessment: str | None = None
    """``Automated`` or ``Manual`` as the run's benchmark version rates the control (None: not rated)."""
    profile: str | None = None
    """``Level 1`` or ``Level 2`` in the run's benchmark version."""
    requirement_source: str | None = None
    """Where the control's id and title in that version come from (the catalog's ``frameworks``)."""

    @property
    def uid(self) -> str:
        """Stable across runs: the same control, account and Region is the same finding."""
        return f"{self.control_id}/{self.account_id}/{self.region}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "controlId": self.control_id,
            "requirementId": self.requirement_id,
            "title": self.title,
            "severity": self.severity,
            "accountId": self.account_id,
            "accountName": self.account_name,
            "ou": self.ou,
            "region": self.region,
            "status": str(self.status),
            "reasons": list(self.reasons),
            "coverage": self.coverage.to_dict() if self.coverage else None,
            "links": [link.to_dict() for link in self.links],
            "chain": self.chain,
            "risk": self.risk,
            "remediation": self.remediation,
            "securityHubId": self.security_hub_id,
            "source": self.source,
            "notes": list(self.notes),
            "assessment": self.assessment,
            "profile": self.profile,
            "requirementSource": self.requirement_source,
        }


@dataclass
class Findings:
    """One run's findings (or the organization's, from the rollup), versioned."""

    run: Run
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Problems that belong to no finding (an organization listing that failed): the run is ERROR."""

    @property
    def status(self) -> Status:
        """The worst status of the findings that apply; ERROR when none does (nothing checked is no PASS).

        A NOT_APPLICABLE finding (a control the run's benchmark version does not have) counts for
        nothing: neither a PASS nor a FAIL.
        """
        applicable = [f.status for f in self.findings if f.status != Status.NOT_APPLICABLE]
        if self.errors and Status.FAIL not in applicable:
            return Status.ERROR
        return worst(applicable) if applicable else Status.ERROR

    def summary(self) -> dict[str, Any]:
        counts = Counter(str(f.status) for f in self.findings)
        return {
            "findings": len(self.findings),
            "byStatus": {
                str(s): counts.get(str(s), 0)
                for s in (Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE)
            },
            "bySource": dict(Counter(f.source for f in self.findings)),
            "accounts": len({f.account_id for f in self.findings}),
            "errors": len(self.errors),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schemaVersion": FINDINGS_SCHEMA_VERSION,
            "status": str(self.status),
            "run": self.run.to_dict(),
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
            "errors": list(self.errors),
        }


def check_version(document: Mapping[str, Any], where: str) -> None:
    """``InputError`` unless ``document`` is a findings document this release can read."""
    version = document.get("schemaVersion") if isinstance(document, Mapping) else None
    if not isinstance(version, str) or version.split(".")[0] != FINDINGS_SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"{where}: a findings document of schemaVersion {version!r}; this release reads"
            f" {FINDINGS_SCHEMA_VERSION.split('.')[0]}.x"
        )


def from_dict(document: Mapping[str, Any], where: str = "findings") -> Findings:
    """A findings document read back (e.g. to render it again); ``InputError`` for another version.

    A document of this major version that lacks a key or holds a value of the wrong kind is an
    ``InputError`` too, naming what is wrong (never a traceback).
    """
    check_version(document, where)
    try:
        return _findings(document)
    except KeyError as missing:
        raise InputError(f"{where}: not a findings document: the key {missing} is missing") from None
    except (TypeError, ValueError, AttributeError) as wrong:
        raise InputError(f"{where}: not a findings document: {wrong}") from None


def _findings(document: Mapping[str, Any]) -> Findings:
    run = document["run"]
    caller = run.get("caller")
    findings = Findings(
        Run(
            started=run["started"],
            finished=run["finished"],
            tool_version=run["toolVersion"],
            catalog_version=run["catalogVersion"],
            benchmark=run["benchmark"],
            caller=Caller(caller["accountId"], caller["arn"]) if caller else None,
            endpoint=run.get("endpoint"),
            command=tuple(run.get("command") or ()),
            tool=run.get("tool", "cis-monitoring"),
            home_region=run.get("homeRegion"),
        ),
        [_finding(f) for f in document.get("findings", ())],
        list(document.get("notes", ())),
        list(document.get("errors", ())),
    )
    return findings


def _finding(raw: Mapping[str, Any]) -> Finding:
    coverage = raw.get("coverage")
    return Finding(
        control_id=raw["controlId"],
        requirement_id=raw["requirementId"],
        title=raw["title"],
        severity=raw["severity"],
        account_id=raw["accountId"],
        region=raw["region"],
        status=Status(raw["status"]),
        reasons=tuple(raw.get("reasons", ())),
        account_name=raw.get("accountName", ""),
        ou=raw.get("ou"),
        coverage=CoverageEvidence(
            coverage["kind"],
            coverage["code"],
            coverage["description"],
            coverage.get("trail"),
            coverage.get("trailAccountId"),
            coverage.get("trailHomeRegion"),
            coverage.get("logGroup"),
        )
        if coverage
        else None,
        links=tuple(_link(link) for link in raw.get("links", ())),
        chain=raw.get("chain"),
        risk=raw.get("risk", ""),
        remediation=raw.get("remediation", ""),
        security_hub_id=raw.get("securityHubId"),
        source=raw.get("source", AUDITED),
        notes=tuple(raw.get("notes", ())),
        assessment=raw.get("assessment"),
        profile=raw.get("profile"),
        requirement_source=raw.get("requirementSource"),
    )


def _link(raw: Mapping[str, Any]) -> LinkEvidence:
    return LinkEvidence(
        link=raw["link"],
        status=Status(raw["status"]),
        detail=raw["detail"],
        codes=tuple(raw.get("codes", ())),
        basis=tuple(_read(read) for read in raw.get("basis", ())),
        judged_by=raw.get("judgedBy", JUDGED_BY_CORE),
        evidence=dict(raw.get("evidence") or {}),
    )


def _read(raw: Mapping[str, Any]) -> AwsRead:
    service, _, operation = str(raw["action"]).partition(":")
    return AwsRead(service, operation, tuple(raw.get("fields", ())))


def by_status(findings: Iterable[Finding], wanted: Sequence[Status]) -> list[Finding]:
    """The findings whose status is one of ``wanted`` (``--status FAIL,ERROR``)."""
    chosen = set(wanted)
    return [f for f in findings if f.status in chosen]
