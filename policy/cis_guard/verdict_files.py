"""The report's two files, kept current by the ``Recorder``: the JSON document (``verdicts.schema.json``)
and JUnit XML.

The ``Recorder`` collects the verdicts of every call of this pack process and rewrites both files
after each one, under a lock (the SDK serves on a pool of threads).

JUnit, as test-report tools read it (``testsuites`` > ``testsuite`` > ``testcase`` with ``failure`` or
``skipped``): a suite per policy of the pack; in it a failing case per violation, its ``type`` the
level (``mandatory`` blocks the update, ``advisory`` does not: the gate is the mandatory ones); a
passing case when the policy ran and reported nothing (it says on how many resources, or stacks);
a skipped case when it is disabled or has not run yet (a stack policy before ``AnalyzeStack``),
never a pass that rests on no check.

Both files are replaced whole (a temporary file in the same directory, then a rename).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .verdicts import (
    ADVISORY,
    ANALYZE,
    ANALYZE_STACK,
    CONFIGURE,
    DISABLED,
    JSON_NAME,
    JUNIT_NAME,
    MANDATORY,
    PACK_NAME,
    REPORT_PATH_KEY,
    SCHEMA_VERSION,
    STACK,
    PolicyState,
    Snapshot,
    Verdict,
)


@dataclass
class Recorder:
    """Every verdict of this pack process, and the files it keeps current."""

    pack: str
    version: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    directory: Path | None = None
    policies: tuple[PolicyState, ...] = ()
    calls: dict[str, int] = field(default_factory=lambda: {CONFIGURE: 0, ANALYZE: 0, ANALYZE_STACK: 0})
    verdicts: dict[tuple[str, str, str, str], Verdict] = field(default_factory=dict)
    problem: str | None = None
    """Why the last write failed (a config problem the chain policy reports), or None."""

    def configure(self, report_path: object, policies: Sequence[PolicyState]) -> None:
        """The pack config arrived: where to write (None: nowhere), and each policy's level."""
        with self.lock:
            # A new config starts a new report: what was judged under another config is not this one's.
            self.calls = {CONFIGURE: self.calls[CONFIGURE] + 1, ANALYZE: 0, ANALYZE_STACK: 0}
            self.verdicts.clear()
            self.policies = tuple(policies)
            self.problem = None
            # A relative path would land in the pack's own directory, where the CLI starts it;
            # the chain policy's config check reports it (pack_config), and nothing is written.
            path = Path(report_path) if isinstance(report_path, str) and report_path else None
            self.directory = path if path is not None and path.is_absolute() else None
            self._write()

    def record(self, call: str, verdicts: Iterable[Verdict]) -> None:
        with self.lock:
            self.calls[call] += 1
            for verdict in verdicts:
                self.verdicts.setdefault(verdict.key(), verdict)
            self._write()

    def snapshot(self) -> Snapshot:
        return Snapshot(
            pack=self.pack,
            version=self.version,
            written_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            calls=dict(self.calls),
            policies=self.policies,
            verdicts=tuple(self.verdicts.values()),
        )

    def _write(self) -> None:
        if self.directory is None:
            return
        try:
            write_report(self.directory, self.snapshot())
        except OSError as error:
            self.problem = (
                f"{REPORT_PATH_KEY}: the pack cannot write its report into {self.directory}: "
                f"{error.strerror or error}; give a directory the Pulumi CLI's user can create and write"
            )


RECORDER = Recorder(pack=PACK_NAME, version="unknown")
"""The one recorder of this pack process (the CLI starts one process per preview or update)."""


def write_report(directory: Path, snapshot: Snapshot) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    _replace(directory / JSON_NAME, json.dumps(document(snapshot), indent=2) + "\n")
    _replace(directory / JUNIT_NAME, junit(snapshot))


def document(snapshot: Snapshot) -> dict[str, Any]:
    verdicts = sorted(snapshot.verdicts, key=_order)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "pack": {"name": snapshot.pack, "version": snapshot.version},
        "writtenAt": snapshot.written_at,
        "calls": {
            "configure": snapshot.calls.get(CONFIGURE, 0),
            "analyze": snapshot.calls.get(ANALYZE, 0),
            "analyzeStack": snapshot.calls.get(ANALYZE_STACK, 0),
        },
        "stackAnalyzed": snapshot.stack_analyzed,
        "summary": {
            MANDATORY: sum(1 for v in verdicts if v.level == MANDATORY),
            ADVISORY: sum(1 for v in verdicts if v.level == ADVISORY),
        },
        "policies": [
            {
                "name": p.name,
                "kind": p.kind,
                "level": p.level,
                "ran": snapshot.ran(p),
                "violations": len(snapshot.of(p.name)),
            }
            for p in snapshot.policies
        ],
        "violations": [
            {
                "policy": v.policy,
                "level": v.level,
                "urn": v.urn,
                "account": v.account,
                "region": v.region,
                "control": v.control,
                "message": v.message,
                "codes": v.codes,
                "call": v.call,
            }
            for v in verdicts
        ],
    }


def junit(snapshot: Snapshot) -> str:
    root = ET.Element("testsuites", name=snapshot.pack, timestamp=snapshot.written_at)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for policy in snapshot.policies:
        suite = ET.SubElement(root, "testsuite", name=policy.name, timestamp=snapshot.written_at)
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="level", value=policy.level)
        ET.SubElement(properties, "property", name="kind", value=policy.kind)
        counts = _cases(suite, snapshot, policy)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _cases(suite: ET.Element, snapshot: Snapshot, policy: PolicyState) -> dict[str, int]:
    classname = f"{snapshot.pack}.{policy.name}"
    verdicts = sorted(snapshot.of(policy.name), key=_order)
    for verdict in verdicts:
        case = ET.SubElement(suite, "testcase", classname=classname, name=_case_name(verdict))
        failure = ET.SubElement(
            case, "failure", type=verdict.level, message=verdict.message.splitlines()[0][:500]
        )
        failure.text = _failure_text(verdict)
    if verdicts:
        return {"tests": len(verdicts), "failures": len(verdicts), "skipped": 0}
    ran = snapshot.ran(policy)
    if ran:
        unit = ("stack" if ran == 1 else "stacks") if policy.kind == STACK else "resources"
        ET.SubElement(suite, "testcase", classname=classname, name=f"no violation ({ran} {unit} analyzed)")
        return {"tests": 1, "failures": 0, "skipped": 0}
    reason = (
        "disabled by the pack config"
        if policy.level == DISABLED
        else "not run yet: the stack policies run in AnalyzeStack, at the end of the preview"
        if policy.kind == STACK
        else "not run yet: no resource was analyzed"
    )
    case = ET.SubElement(suite, "testcase", classname=classname, name=reason)
    ET.SubElement(case, "skipped", message=reason)
    return {"tests": 1, "failures": 0, "skipped": 1}


def _case_name(verdict: Verdict) -> str:
    if verdict.account or verdict.region:
        where = f"account {verdict.account or '?'} region {verdict.region or '?'}"
    elif verdict.urn:
        where = verdict.urn.rsplit("::", 1)[-1]
    else:
        where = "the stack"
    first = verdict.message.splitlines()[0]
    # Chain messages start with their account and Region already; say each thing once.
    where = "" if where in first else f"{where} "
    control = f"CIS {verdict.control}: " if verdict.control else ""
    return f"{where}{control}{first[:160]}".strip()


def _failure_text(verdict: Verdict) -> str:
    lines = [verdict.message, ""]
    for label, value in (
        ("level", verdict.level),
        ("urn", verdict.urn),
        ("account", verdict.account),
        ("region", verdict.region),
        ("control", verdict.control),
        ("codes", ", ".join(verdict.codes) or None),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def _order(verdict: Verdict) -> tuple[str, ...]:
    return (verdict.policy, verdict.account or "", verdict.region or "", verdict.urn or "", verdict.message)


def _replace(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
