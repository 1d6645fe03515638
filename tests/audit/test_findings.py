"""The audit's findings (``cis_monitoring.audit.findings``), and the audit's report flags, against moto.

- a PASS carries every link with what AWS answered and the calls it rests on, and the run's who and when;
- a broken link is the FAIL of the control whose chain broke, and only its;
- a PASS without evidence becomes ERROR; a control the benchmark version lacks is NOT_APPLICABLE;
- ``--benchmark``, ``--format``, ``--output-dir``: bad values are exit 2 before any AWS call.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.findings import REQUIRED_FOR_PASS, benchmark_of, findings_of
from cis_monitoring.audit.results import CoverageReport
from cis_monitoring.audit.run import audit_coverage
from cis_monitoring.audit.scope import AccountFlags, flag_scope
from cis_monitoring.core import catalog
from cis_monitoring.core.catalog import CATALOG_VERSION, CIS_4_5, CONTROLS, EXTRA_CONTROLS_ENV, Control
from cis_monitoring.core.errors import UsageError
from cis_monitoring.core.findings import Caller, Findings, Run
from cis_monitoring.core.status import Status
from tests.audit.test_audit_unit import (
    ACCOUNT,
    REGION,
    REPO_ROOT,
    allow_queue,
    build_compliant,
    new_session,
)
from tests.audit.test_cli import NO_CREDENTIALS, audit

EXTRA = REPO_ROOT / "tests" / "data" / "root_usage_control"
RUN = Run("2026-12-07T18:00:00Z", "2026-12-07T18:00:05Z", "0.1.0", CATALOG_VERSION, "cis-aws-7.0")


def report_of(controls: list[Control], *regions: str) -> CoverageReport:
    scope = flag_scope(AccountFlags(ACCOUNT, list(regions or (REGION,))))
    return audit_coverage(scope, SessionFactory(new_session()), controls)


def compliant() -> Any:
    setup = build_compliant()
    allow_queue(setup)
    return setup


# ---------------------------------------------------------------- what a finding holds


def test_a_pass_rests_on_every_link_with_what_aws_answered(aws: None, tmp_path: Path, capsys: Any) -> None:
    compliant()
    code, _out, err = audit(
        ["--account", ACCOUNT, "--region", REGION, "--format", "json", "--output-dir", str(tmp_path)], capsys
    )
    assert code == 0, err
    (path,) = tmp_path.glob("*.json")
    document = json.loads(path.read_text())
    run = document["run"]
    assert run["benchmark"] == "cis-aws-7.0" and run["catalogVersion"] == CATALOG_VERSION
    assert run["caller"]["accountId"] == ACCOUNT and run["caller"]["arn"].startswith("arn:aws:sts::")
    assert run["homeRegion"] == REGION and run["command"][:2] == ["cis-monitoring", "audit"]
    (finding,) = document["findings"]
    assert (finding["status"], finding["requirementId"], finding["controlId"]) == ("PASS", "5.5", "4.5")
    assert (finding["assessment"], finding["profile"]) == ("Manual", "Level 1")
    links = {link["link"]: link for link in finding["links"]}
    for name in REQUIRED_FOR_PASS:
        assert links[name]["status"] == "PASS" and links[name]["basis"], name
    assert links["filter"]["evidence"]["filterPattern"] == CIS_4_5.filter_pattern  # the deployed text
    alarm = links["alarm"]["evidence"]
    assert (alarm["statistic"], alarm["period"], alarm["threshold"], alarm["treatMissingData"]) == (
        "Sum",
        300,
        1.0,
        "notBreaching",
    )
    (subscription,) = links["subscription"]["evidence"]["subscriptions"]
    assert subscription["protocol"] == "sqs" and subscription["confirmed"] is True
    assert "filterPolicy" in subscription
    assert links["trail"]["evidence"]["logging"] is True
    assert links["delivery"]["evidence"]["latestDeliveryTime"]
    # AWS's own verdicts are AWS's, and moto cannot give them: said, never a PASS.
    assert links["aws matcher"]["judgedBy"] == "aws" and links["aws matcher"]["status"] == "NOT_AVAILABLE"
    assert err.splitlines()[-2:] == [
        "1 finding(s) under CIS Amazon Web Services Foundations Benchmark v7.0.0: 1 PASS, 0 FAIL, 0 ERROR,"
        " 0 NOT_APPLICABLE",
        f"wrote {path}",
    ]


def test_an_older_benchmark_version_speaks_its_own_ids(aws: None, tmp_path: Path, capsys: Any) -> None:
    compliant()
    argv = ["--account", ACCOUNT, "--region", REGION, "--benchmark", "cis-aws-1.2", "--format", "csv"]
    code, _out, _err = audit([*argv, "--output-dir", str(tmp_path)], capsys)
    assert code == 0
    (path,) = tmp_path.glob("*.csv")
    text = path.read_text()
    assert ",3.5,Ensure a log metric filter and alarm exist for CloudTrail configuration changes,4.5," in text


def test_a_stopped_trail_is_the_trail_links_fail_and_later_links_are_not_checked(aws: None) -> None:
    setup = compliant()
    boto3.client("cloudtrail", region_name=REGION).stop_logging(Name=setup.trail_name)
    (finding,) = findings_of(report_of([CIS_4_5]), [CIS_4_5], RUN).findings
    links = {link.link: link for link in finding.links}
    assert finding.status == Status.FAIL
    assert links["trail"].status == Status.FAIL and links["trail"].codes == ("coverage.none.not_logging",)
    assert links["selectors"].status == links["delivery"].status == Status.SKIPPED


def test_a_chain_broken_for_one_control_is_only_that_controls_fail(aws: None) -> None:
    compliant()  # CIS 4.5's chain only: the extra control has no filter on the group
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(EXTRA_CONTROLS_ENV, str(EXTRA))
        catalog.reload()
        try:
            controls = [CONTROLS["4.5"], CONTROLS["4.3-test"]]
            report = report_of(controls)
            assert [p.status for p in report.pairs] == [Status.FAIL]  # the pair, for both controls
            older = findings_of(report, controls, dataclasses.replace(RUN, benchmark="cis-aws-3.0"))
            newest = findings_of(report, controls, RUN)
        finally:
            patch.delenv(EXTRA_CONTROLS_ENV)
            catalog.reload()
    assert [(f.control_id, f.status) for f in older.findings] == [
        ("4.5", Status.PASS),
        ("4.3-test", Status.FAIL),
    ]
    failed = older.findings[1]
    assert failed.coverage is not None and failed.coverage.code == "coverage.none.chain_broken"
    assert {link.link: link.status for link in failed.links}["filter"] == Status.FAIL
    # v7.0.0 has no such requirement: NOT_APPLICABLE with the reason, and the audit's verdict kept.
    assert [(f.control_id, f.status) for f in newest.findings] == [
        ("4.5", Status.PASS),
        ("4.3-test", Status.NOT_APPLICABLE),
    ]
    skipped = newest.findings[1]
    assert skipped.reasons == (
        "CIS Amazon Web Services Foundations Benchmark v7.0.0 has no requirement for catalog control 4.3-test"
        " (Ensure usage of the 'root' account is monitored (test entry))",
    )
    assert "the audit's own verdict for catalog control 4.3-test: FAIL" in skipped.notes
    assert newest.status == Status.PASS and older.status == Status.FAIL


def test_a_pass_without_evidence_is_an_error_naming_the_link(aws: None) -> None:
    compliant()
    report = report_of([CIS_4_5])
    (chain,) = report.chains.values()
    (result,) = chain.controls
    stripped = [dataclasses.replace(f, basis=()) if f.check == "alarm" else f for f in result.findings]
    chain.controls = [dataclasses.replace(result, findings=stripped)]
    (finding,) = findings_of(report, [CIS_4_5], RUN).findings
    assert finding.status == Status.ERROR
    assert finding.reasons[-1] == "no evidence for alarm: a link that was not read from AWS is never a PASS"
    assert findings_of(report, [CIS_4_5], RUN).status == Status.ERROR


def test_findings_that_are_all_not_applicable_are_no_pass(aws: None) -> None:
    compliant()
    orphan = dataclasses.replace(CIS_4_5, frameworks=())
    findings = findings_of(report_of([orphan]), [orphan], RUN)
    assert [f.status for f in findings.findings] == [Status.NOT_APPLICABLE]
    assert findings.status == Status.ERROR
    assert Findings(dataclasses.replace(RUN, caller=Caller(ACCOUNT, "arn")), []).status == Status.ERROR


# ---------------------------------------------------------------- --benchmark, --format, --output-dir


def test_benchmark_of_checks_the_version_and_that_it_has_a_control() -> None:
    assert benchmark_of(None, [CIS_4_5]) == "cis-aws-7.0"
    with pytest.raises(UsageError, match=r"--benchmark: unknown version 'cis-aws-9.9'; known: cis-aws-1.2, "):
        benchmark_of("cis-aws-9.9", [CIS_4_5])
    orphan = dataclasses.replace(CIS_4_5, frameworks=())
    with pytest.raises(UsageError, match=r"has none of the controls to audit \(catalog 4.5\)"):
        benchmark_of("cis-aws-5.0", [orphan])


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in NO_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)


def test_bad_report_flags_are_2_before_any_aws_call(
    no_credentials: None, tmp_path: Path, capsys: Any
) -> None:
    # Without credentials, a check made after an AWS call would say "no AWS credentials" instead.
    base = ["--account", ACCOUNT, "--region", REGION]
    code, out, err = audit([*base, "--benchmark", "cis-aws-9.9"], capsys)
    assert (code, out) == (2, "") and "error: --benchmark: unknown version 'cis-aws-9.9'; known:" in err
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, out, err = audit([*base, "--format", "json", "--output-dir", str(a_file)], capsys)
    assert (code, out) == (2, "") and f"error: --output-dir {a_file}: exists and is not a directory" in err
    code, out, err = audit([*base, "--format", "sarif"], capsys)
    assert (code, out) == (2, "") and "invalid choice: 'sarif'" in err
    code, out, err = audit([*base, "--format", "json", "--output-dir", str(tmp_path / "new")], capsys)
    assert code == 2 and "no AWS credentials" in err  # the flags were fine: the directory exists now
    assert (tmp_path / "new").is_dir() and not list((tmp_path / "new").iterdir())


def test_help_says_which_benchmark_is_the_default(capsys: Any) -> None:
    code, out, _err = audit(["--help"], capsys)
    words = " ".join(out.split())
    assert code == 0
    for text in ("--benchmark", "default: cis-aws-7.0", "v7.0.0, the newest the catalog holds", "--format"):
        assert text in words
    assert "--output-dir" in words and "--security-hub" in words


def test_the_recorded_command_leaves_out_the_external_id() -> None:
    from cis_monitoring.audit.cli import _command

    argv = ["--account", ACCOUNT, "--external-id", "s3cret", "--external-id=other", "--region", REGION]
    recorded = _command(argv)
    assert "s3cret" not in recorded and "--external-id=other" not in recorded
    assert recorded == (
        "cis-monitoring",
        "audit",
        "--account",
        ACCOUNT,
        "--external-id",
        "<not recorded>",
        "--external-id=<not recorded>",
        "--region",
        REGION,
    )
