"""``cis-monitoring rollup-report``: the organization's report from the rollup's outputs; audited wins over stated."""

from __future__ import annotations

import importlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cis_monitoring import cli
from cis_monitoring.core.errors import UsageError
from cis_monitoring.core.findings import AUDITED, STATED, Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import rollup
from tests.report.findings_builder import RUN, finding
from tests.report.html_tree import parse
from tests.rollup.rollup_harness import view

rollup_findings = importlib.import_module("rollup_findings")

ORG = "999999999999"
CHAIN = f"{ORG}/us-east-1/aws-controltower/CloudTrailLogs"
NOW = datetime(2026, 12, 8, 7, 30, tzinfo=UTC)


def _chain(account: str, region: str, group: str) -> tuple[str, dict[str, Any]]:
    return f"{account}/{region}/{group}", {
        "accountId": account,
        "region": region,
        "logGroup": group,
        "controls": {"4.5": {"filterPattern": "{ p }"}},
    }


def _claim(account: str, chain: str, kind: str, region: str = "*") -> dict[str, Any]:
    return {
        "accountId": account,
        "accountName": f"acct-{account[-4:]}",
        "region": region,
        "coverage": kind,
        "chain": chain,
        "trail": "aws-controltower-BaselineCloudTrail",
        "trailAccountId": ORG,
        "trailHomeRegion": "us-east-1",
    }


def rollup_output(tmp_path: Path) -> Path:
    """`pulumi stack output --json` of a rollup over one stack: an organization trail, two members, a gap."""
    key, entry = _chain(ORG, "us-east-1", "aws-controltower/CloudTrailLogs")
    claims = [_claim(ORG, key, "direct"), _claim("111111111111", key, "organization")]
    claims.append(_claim("222222222222", key, "organization"))
    coverage = {f"{c['accountId']}/{c['region']}": c for c in claims}
    stack = view.StackResults("acme/cis-monitoring/org", 3, {key: entry}, coverage, {"catalogVersion": "x"})
    inventory = [
        view.InventoryAccount(ORG, "management", "Root"),
        view.InventoryAccount("111111111111", "prod", "Root/Prod"),
        view.InventoryAccount("222222222222", "dev", "Root/Dev"),
        view.InventoryAccount("333333333333", "<script>new</script>", "Root/New"),
    ]
    built = view.build_view([stack], inventory)
    built["findings"] = rollup_findings.findings_document(built, rollup_findings.chains_of([stack]))
    path = tmp_path / "rollup-output.json"
    path.write_text(json.dumps(built), encoding="utf-8")
    return path


def audit_file(tmp_path: Path, document: Findings, name: str = "audit.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document.to_dict()), encoding="utf-8")
    return path


def audited(benchmark: str = "cis-aws-6.0") -> Findings:
    """An audit of account 111111111111 in two Regions, one failing: it must replace its claims there."""
    found = [
        finding("111111111111", "us-east-1", Status.PASS, chain=CHAIN),
        finding("111111111111", "eu-west-1", Status.FAIL, chain=CHAIN),
    ]
    return Findings(replace(RUN, benchmark=benchmark), found)


def run(argv: list[str]) -> Status:
    return rollup.main(argv, clock=lambda: NOW)


def test_the_rollup_alone_is_one_report_of_stated_claims_never_pass(tmp_path: Path) -> None:
    out = tmp_path / "org.html"
    assert run([str(rollup_output(tmp_path)), "--out", str(out), "--benchmark", "cis-aws-6.0"]) == Status.PASS
    page = parse(out.read_text(encoding="utf-8"))
    targets = {t.attrs["data-uid"]: t for t in page.find_all("details", "target")}
    assert set(targets) == {f"4.5/{a}/*" for a in (ORG, "111111111111", "222222222222", "333333333333")}
    assert {t.attrs["data-source"] for t in targets.values()} == {STATED}
    assert {t.attrs["data-status"] for t in targets.values()} == {"NOT_AVAILABLE", "FAIL"}
    assert targets["4.5/333333333333/*"].attrs["data-status"] == "FAIL"
    assert page.by_id("run-status").text() == "FAIL"
    assert "4 of 4 findings are stated" in page.by_id("stated-banner").text()
    # The chosen benchmark version's words, from the catalog.
    text = page.text()
    assert "5.5 Ensure CloudTrail configuration changes are monitored" in text
    assert "CIS Amazon Web Services Foundations Benchmark v6.0.0" in text and "2026-12-08T07:30:00Z" in text
    assert "<script>new</script>" in text and "<script>new" not in out.read_text(encoding="utf-8")
    assert [th.text() for th in page.find_all("th", "region")] == ["all Regions"]


def test_audited_findings_win_over_the_claims_for_the_same_pair(tmp_path: Path) -> None:
    out = tmp_path / "org.html"
    argv = [
        str(rollup_output(tmp_path)),
        "--findings",
        str(audit_file(tmp_path, audited())),
        "--out",
        str(out),
    ]
    assert run(argv) == Status.PASS
    page = parse(out.read_text(encoding="utf-8"))
    targets = {t.attrs["data-uid"]: t for t in page.find_all("details", "target")}
    assert targets["4.5/111111111111/eu-west-1"].attrs["data-source"] == AUDITED
    assert targets["4.5/111111111111/eu-west-1"].attrs["data-status"] == "FAIL"
    assert targets["4.5/111111111111/us-east-1"].attrs["data-source"] == AUDITED
    # The claim for every Region stays for the Regions the audit did not look at, and says so.
    claim = targets["4.5/111111111111/*"]
    assert claim.attrs["data-source"] == STATED
    assert "audited in eu-west-1, us-east-1: those findings stand there" in claim.text()
    assert "2 of 6 findings are stated" not in page.text()
    assert "4 of 6 findings are stated" in page.by_id("stated-banner").text()
    notes = page.by_id("notes").text()
    assert "4 finding(s) stated by the rollup stack" in notes and "2 audited" in notes
    assert page.by_id("run-status").text() == "FAIL"


def test_an_audited_finding_replaces_a_claim_of_the_same_uid() -> None:
    claim = replace(finding("111111111111", "eu-west-1", Status.NOT_AVAILABLE), source=STATED)
    check = finding("111111111111", "eu-west-1", Status.FAIL)
    other = replace(finding("222222222222", "eu-west-1", Status.NOT_AVAILABLE), source=STATED)
    merged, replaced = rollup.merge([claim, other], [check])
    assert replaced == 1
    assert [(f.uid, f.source) for f in merged] == [(check.uid, AUDITED), (other.uid, STATED)]


def test_the_benchmark_defaults_to_the_audits_and_must_agree_with_it(tmp_path: Path) -> None:
    source = rollup_output(tmp_path)
    five = audit_file(tmp_path, audited("cis-aws-5.0"), "five.json")
    six = audit_file(tmp_path, audited("cis-aws-6.0"), "six.json")
    out = tmp_path / "org.html"
    assert run([str(source), "--findings", str(five), "--out", str(out)]) == Status.PASS
    assert "CIS Amazon Web Services Foundations Benchmark v5.0.0" in out.read_text(encoding="utf-8")
    with pytest.raises(
        Exception, match=r"--benchmark cis-aws-6.0: the audited findings speak another version"
    ):
        run([str(source), "--findings", str(five), "--benchmark", "cis-aws-6.0"])
    with pytest.raises(UsageError, match="the files speak different benchmark versions"):
        run([str(source), "--findings", str(five), "--findings", str(six)])


def test_a_control_the_version_lacks_is_not_applicable(tmp_path: Path) -> None:
    stated = rollup.in_benchmark_words(replace(finding("1" * 12, "*"), source=STATED), "cis-aws-1.2")
    assert stated.requirement_id == "3.5" and stated.status == Status.PASS  # v1.2.0 numbers it 3.5
    unknown = replace(finding("1" * 12, "*"), control_id="9.99", title="", source=STATED)
    assert rollup.in_benchmark_words(unknown, "cis-aws-6.0").title.startswith("(a control this release")


BAD = [
    ({"coverage": {}}, "no 'findings' output (found: coverage)"),
    ([1, 2], "no 'findings' output (found: list)"),
    ({"findings": {"schemaVersion": "9.0", "run": {}}}, "schemaVersion '9.0'; this release reads 1.x"),
    (
        {"findings": {"schemaVersion": "1.0", "run": {}}},
        "not a findings document: the key 'started' is missing",
    ),
]


@pytest.mark.parametrize(("content", "message"), BAD)
def test_unreadable_rollup_output_exits_2_naming_the_file(
    content: Any, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "out.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    assert cli.main(["rollup-report", str(path), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}" in err and message in err, err
    assert "Traceback" not in err and not (tmp_path / "r.html").exists()


def test_the_command_line_writes_the_report_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["rollup-report", str(rollup_output(tmp_path))]) == 0
    assert (tmp_path / "cis-monitoring-rollup.html").exists()
    assert "wrote cis-monitoring-rollup.html: 4 finding(s), 4 stated and 0 audited" in capsys.readouterr().err
