"""The pack's own record of its verdicts, for CI: every violation it reported, as JSON and JUnit.

``pulumi preview --json`` leaves policy violations out (pulumi/pulumi#18851), so a CI job cannot
read them from the CLI. With ``reportPath`` set (a key of the chain policy's config: an absolute
directory), the pack writes there itself:

- ``cis-monitoring-guard.json``: every violation with its policy, level, URN, account, Region,
  control, message and problem codes (schema: ``verdicts.schema.json`` beside ``PulumiPolicy.yaml``);
- ``cis-monitoring-guard.junit.xml``: one test suite per policy, one failing test case per violation
  (``type`` says mandatory or advisory), a passing one for a policy that ran and found nothing, a
  skipped one for a policy that was disabled or has not run.

The CLI starts the pack once per ``pulumi preview`` (``policy/__main__.py``) and calls ``Configure``
once, ``Analyze`` once per resource and ``AnalyzeStack`` once at the end, possibly from several
threads. The ``Recorder`` collects across those calls and rewrites both files after each one, each
atomically (``verdict_files``: a temporary file, then a rename), so a reader never sees half a file and the last write
holds everything. A CI job reads them after ``pulumi preview`` has exited, and trusts a report only
with ``stackAnalyzed: true`` (the stack policies, the chain among them, ran).

Where a violation's account, Region and control come from: the policies that know them state them
here (``detail``) as they report, on the thread that runs the policy; for the rest, the account and
Region of the resource's AWS provider, as the engine sent it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

PACK_NAME = "cis-monitoring-guard"
REPORT_PATH_KEY = "reportPath"
JSON_NAME = "cis-monitoring-guard.json"
JUNIT_NAME = "cis-monitoring-guard.junit.xml"
SCHEMA_VERSION = 1
ANALYZE, ANALYZE_STACK, CONFIGURE = "Analyze", "AnalyzeStack", "Configure"
MANDATORY, ADVISORY, DISABLED = "mandatory", "advisory", "disabled"
STACK, RESOURCE = "stack", "resource"
CODES = re.compile(r"\[codes: ([^\]]*)\]\s*$")
"""Every message of this pack that rests on the core's problems ends with them (policy/README.md)."""


@dataclass(frozen=True)
class Detail:
    """What a policy knows of a violation beyond its message: where it is, and for which control."""

    account: str | None = None
    region: str | None = None
    control: str | None = None


@dataclass(frozen=True)
class Verdict:
    """One violation, as the report states it."""

    policy: str
    level: str
    message: str
    urn: str | None
    account: str | None
    region: str | None
    control: str | None
    call: str

    @property
    def codes(self) -> list[str]:
        found = CODES.search(self.message)
        return [code.strip() for code in found.group(1).split(",") if code.strip()] if found else []

    def key(self) -> tuple[str, str, str, str]:
        return (self.policy, self.level, self.urn or "", self.message)


@dataclass(frozen=True)
class PolicyState:
    name: str
    kind: str
    """``stack`` or ``resource``."""
    level: str


# ---------------------------------------------------------------- details, per thread

_details = threading.local()


def detail(
    policy: str,
    message: str,
    urn: str | None = None,
    *,
    account: str | None = None,
    region: str | None = None,
    control: str | None = None,
) -> None:
    """Say where a violation that ``policy`` is about to report is; the recording servicer takes it."""
    pending = getattr(_details, "pending", None)
    if pending is None:
        pending = _details.pending = {}
    pending[(policy, urn or "", message)] = Detail(account, region, control)


def take_details() -> dict[tuple[str, str, str], Detail]:
    """The details this thread's policies stated since the last call (each call's, then cleared)."""
    pending = getattr(_details, "pending", None) or {}
    _details.pending = {}
    return pending


@dataclass(frozen=True)
class Snapshot:
    """Everything recorded so far, as one report."""

    pack: str
    version: str
    written_at: str
    calls: Mapping[str, int]
    policies: tuple[PolicyState, ...]
    verdicts: tuple[Verdict, ...]

    @property
    def stack_analyzed(self) -> bool:
        return self.calls.get(ANALYZE_STACK, 0) > 0

    def ran(self, policy: PolicyState) -> int:
        """How many calls ran ``policy``: resources analyzed, or stacks (0: it has not run)."""
        if policy.level == DISABLED:
            return 0
        return self.calls.get(ANALYZE_STACK if policy.kind == STACK else ANALYZE, 0)

    def of(self, policy: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.policy == policy]


def with_detail(verdict: Verdict, found: Detail | None) -> Verdict:
    """The verdict with what its policy said of it, over what the provider alone said."""
    if found is None:
        return verdict
    return replace(
        verdict,
        account=found.account or verdict.account,
        region=found.region or verdict.region,
        control=found.control or verdict.control,
    )
