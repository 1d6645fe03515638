"""``cis-monitoring audit`` against moto in-process: flags, exit codes, credentials, ``--region all``, Ctrl-C.

Every run goes through ``cis_monitoring.cli.run("audit", ...)``, the one place that maps what the
audit returns or raises to an exit code: 0 every pair PASS, 1 a FAIL, 2 nothing could be audited
(usage, config, no credentials, unreachable endpoint, denied opt-in call), 3 no FAIL but an ERROR,
130 interrupted. Usage errors are checked with no credentials at all: a check that came after an
AWS call would say "no AWS credentials" instead.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from cis_monitoring import cli as top
from cis_monitoring.audit import cli
from cis_monitoring.audit.aws import NOT_OPTED_IN, SessionFactory
from cis_monitoring.audit.drill import DrillSettings
from cis_monitoring.core.aws.regions import known_regions, partition_of
from cis_monitoring.core.project import PROJECT
from tests.audit.test_audit_unit import (
    ACCOUNT,
    LOG_GROUP,
    REGION,
    REPO_ROOT,
    allow_queue,
    build_compliant,
    inject_error,
    new_session,
)

GOOD_STACK = f"""
config:
  aws:region: us-east-1
  cis-monitoring:notifications:
    subscriptions:
      - protocol: https
        endpointSecretKey: pagerEndpoint
  cis-monitoring:pagerEndpoint:
    secure: AAABAKxyz
  cis-monitoring:accounts:
    - id: "{ACCOUNT}"
      name: sandbox
      trail:
        homeRegion: us-east-1
        logGroup: {LOG_GROUP}
"""
NO_CREDENTIALS = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata lookups on this machine
}


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in NO_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)


def audit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``cis-monitoring audit ARGV``: (exit code, stdout, stderr); never a traceback."""
    capsys.readouterr()
    code = top.run("audit", argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, captured.out, captured.err


def with_session(monkeypatch: pytest.MonkeyPatch, session: boto3.Session) -> None:
    """The audit's caller credentials and hooks come from ``session``."""
    monkeypatch.setattr(cli, "_sessions", lambda *_args, **_kwargs: SessionFactory(session))


def write_stack(root: Path, name: str = "t", body: str = GOOD_STACK) -> list[str]:
    (root / f"Pulumi.{name}.yaml").write_text(body, encoding="utf-8")
    return ["--stack", name, "--repo-root", str(root)]


def compliant() -> Any:
    setup = build_compliant()
    allow_queue(setup)
    return setup


# ---------------------------------------------------------------- exit codes 0, 1, 3


def test_all_pass_is_0_and_a_fail_is_1(aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup = compliant()
    argv = [*write_stack(tmp_path), "--region", REGION, "--region", "eu-west-1"]
    code, out, _err = audit(argv, capsys)
    assert code == 0, out
    assert "2 account-Region pair(s): 2 PASS, 0 FAIL, 0 ERROR; covered 2 directly" in out

    boto3.client("cloudtrail", region_name=REGION).stop_logging(Name=setup.trail_name)
    code, out, _err = audit(argv, capsys)
    assert code == 1
    text = " ".join(out.split())  # the table wraps reasons
    assert re.search(r"eu-west-1\s+FAIL\s+none\s+\d", text), text  # its reason is numbered, below the table
    assert f"not covered: multi-Region trail {setup.trail_name!r}" in text
    assert "is not logging (StopLogging was called)" in text


def test_an_error_and_no_fail_is_3(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    session = new_session()
    inject_error(session, "before-call.cloudtrail.DescribeTrails", "AccessDeniedException", "not authorized")
    with_session(monkeypatch, session)
    code, out, err = audit(["--account", ACCOUNT, "--region", REGION, "--json"], capsys)
    assert code == 3 and err == ""
    document = json.loads(out)
    assert document["status"] == "ERROR" and document["summary"]["error"] == 1
    (pair,) = document["coverage"]
    assert pair["status"] == "ERROR" and pair["reasons"][0].startswith("trails: AccessDeniedException")

    # A FAIL elsewhere outweighs the ERROR: 1.
    boto3.client("cloudtrail", region_name=REGION).stop_logging(Name=f"org-trail-{REGION}")
    session = new_session()
    inject_error(
        session, "before-call.cloudtrail.DescribeTrails", "AccessDeniedException", "no", region="eu-west-1"
    )
    with_session(monkeypatch, session)
    code, out, _err = audit(
        ["--account", ACCOUNT, "--region", REGION, "--region", "eu-west-1", "--json"], capsys
    )
    assert code == 1
    assert [p["status"] for p in json.loads(out)["coverage"]] == ["FAIL", "ERROR"]


# ---------------------------------------------------------------- exit code 2: nothing could be audited


def test_no_credentials_is_one_line_and_2_not_an_error_row(
    no_credentials: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = audit(["--account", ACCOUNT, "--region", REGION, "--region", "eu-west-1"], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: no AWS credentials: set AWS_PROFILE or pass --profile, export AWS_ACCESS_KEY_ID and"
        " AWS_SECRET_ACCESS_KEY, or run where an instance or SSO role provides them"
    ]


def test_an_unreachable_aws_is_one_line_and_2(
    no_credentials: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No moto here: STS's own endpoint (botocore's per-service endpoint setting) refuses the connection."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
    code, out, err = audit(["--account", ACCOUNT, "--region", REGION], capsys)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith(
        f"error: AWS STS in {REGION} is unreachable: Could not connect to the endpoint URL"
    )


def test_an_unreachable_endpoint_url_is_2(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = audit(
        ["--account", ACCOUNT, "--region", REGION, "--endpoint-url", "http://127.0.0.1:1"], capsys
    )
    assert (code, out) == (2, "")
    assert err.startswith("error: http://127.0.0.1:1 is unreachable: ")


def test_credentials_sts_refuses_are_2(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session()
    inject_error(session, "before-call.sts.GetCallerIdentity", "ExpiredToken", "The security token expired")
    with_session(monkeypatch, session)
    code, out, err = audit(["--account", ACCOUNT, "--region", REGION], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: sts:GetCallerIdentity at AWS STS in {REGION} refused the caller's credentials: ExpiredToken:"
        " The security token expired"
    ]


def test_a_yaml_error_in_the_stack_file_is_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = audit(write_stack(tmp_path, "broken", "config: [unclosed"), capsys)
    assert (code, out) == (2, "")
    assert "Pulumi.broken.yaml" in err and "not valid YAML" in err


def test_a_bad_stack_config_is_2_with_every_problem_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        'config:\n  cis-monitoring:acounts: []\n  cis-monitoring:accounts:\n    - id: "12"\n      name: x\n'
        "      regions: [{region: us-east-9, logGroup: g}]\n"
    )
    code, out, err = audit(write_stack(tmp_path, "bad", body), capsys)
    assert (code, out) == (2, "")
    assert "accounts[0].id: '12' is not an AWS account id (12 digits)" in err
    assert "accounts[0].regions[0].region: 'us-east-9' is not an AWS Region" in err
    assert "acounts: unknown config key" in err
    assert "Pulumi.bad.yaml" in err


USAGE = [
    ([], "error: give --stack NAME"),
    (["--stack", "dev", "--account", ACCOUNT], "not both"),
    (["--account", ACCOUNT], "--account needs --region"),
    (["--stack", "dev", "--log-group", "g"], "--log-group go(es) with --account, not --stack"),
    (
        ["--account", "12", "--region", "mars-1", "--log-group", "g"],
        "--region: 'mars-1' is not an AWS Region (e.g. us-east-1), nor 'all'",
    ),
    (["--stack", "nope"], "no such stack file"),
    (["--max-workers", "0"], "must be at least 1"),
    (
        ["--stack", "dev", "--region", "us-east-9"],
        "error: --region: 'us-east-9' is not an AWS Region (e.g. us-east-1), nor 'all'",
    ),
    (
        ["--account", ACCOUNT, "--region", "us-east-9"],
        "error: --region: 'us-east-9' is not an AWS Region (e.g. us-east-1), nor 'all'",
    ),
    (
        ["--stack", "dev", "--region", "cn-north-1"],
        "error: --region: 'cn-north-1' is in partition aws-cn, not aws (the partition of the stack's Regions)",
    ),
    (
        ["--account", ACCOUNT, "--region", "us-east-1", "--region", "cn-north-1"],
        "error: --region: 'cn-north-1' is in partition aws-cn, not aws; give Regions of one partition per run",
    ),
    (
        ["--stack", "dev", "--region", "all", "--region", "us-east-1"],
        "error: --region: 'all' stands for every",
    ),
    (
        ["--account", ACCOUNT, "--region", "us-east-1", "--profile", "nope"],
        "error: --profile: no profile 'nope'",
    ),
    (["--account", ACCOUNT, "--region", "us-east-1", "--endpoint-url", "ftp://x"], "is not an http(s) URL"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE, ids=[" ".join(a) or "nothing" for a, _ in USAGE])
def test_usage_errors_are_2_before_any_aws_call(
    argv: list[str],
    message: str,
    no_credentials: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    code, out, err = audit(argv, capsys)
    assert (code, out) == (2, "")
    assert message in err, err


def test_several_bad_regions_are_listed_together(
    no_credentials: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO_ROOT)
    argv = ["--stack", "dev", "--region", "us-east-9", "--region", "eu-west-1", "--region", "eu-west-1"]
    code, _out, err = audit(argv, capsys)
    assert code == 2
    assert err.splitlines() == [
        "error: 2 problems in the command line:",
        "  - --region: 'us-east-9' is not an AWS Region (e.g. us-east-1), nor 'all'",
        "  - --region: eu-west-1 is given twice",
    ]


def test_help_names_every_flag_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = audit(["--help"], capsys)
    assert code == 0
    for flag in (
        "--stack",
        "--account",
        "--region",
        "--profile",
        "--log-group",
        "--owner-role-arn",
        "--members-from-organization",
        "--json",
        "--endpoint-url",
        "--max-workers",
        "--control",
        "--no-test-metric-filter",
        "--history-days",
        "--drill",
        "--drill-timeout",
    ):
        assert flag in out
    text = " ".join(out.split())
    assert top.EXIT_CODES_HELP in text
    assert "Here, 1 (FAIL) means: a pair's events do not reach a log group whose chain is intact" in text
    assert "3 (ERROR) means: a pair or chain could not be read" in text


# ---------------------------------------------------------------- --profile and --region all


def test_profile_gives_the_callers_credentials(
    aws: None,
    no_credentials: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compliant()
    config = tmp_path / "config"
    config.write_text("[profile auditor]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    argv = ["--account", ACCOUNT, "--region", REGION]
    assert audit(argv, capsys)[0] == 2  # without the profile, nobody gives credentials
    code, out, _err = audit([*argv, "--profile", "auditor"], capsys)
    assert code == 0, out
    code, _out, err = audit([*argv, "--profile", "nope"], capsys)
    assert code == 2 and err.splitlines() == [
        "error: --profile: no profile 'nope' in your AWS config (known: auditor)"
    ]


def _enabled_in_moto() -> list[str]:
    listed = boto3.client("ec2", region_name=REGION).describe_regions()["Regions"]
    return sorted(r["RegionName"] for r in listed if r["OptInStatus"] != NOT_OPTED_IN)


@pytest.mark.parametrize("mode", ["--account", "--stack"])
def test_region_all_is_every_region_enabled_for_the_caller(
    mode: str, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    session = new_session()
    asked: list[dict[str, Any]] = []
    session.events.register(
        "provide-client-params.ec2.DescribeRegions", lambda params, **_: asked.append(params)
    )
    with_session(monkeypatch, session)
    target = ["--account", ACCOUNT] if mode == "--account" else write_stack(tmp_path)
    code, out, _err = audit([*target, "--region", "all", "--json", "--no-test-metric-filter"], capsys)
    document = json.loads(out)
    regions = [p["region"] for p in document["coverage"]]
    enabled = _enabled_in_moto()
    opted_out = {
        r["RegionName"] for r in boto3.client("ec2", region_name=REGION).describe_regions()["Regions"]
    } - set(enabled)
    assert opted_out, "moto lists Regions that are not opted in: the filter must be seen to work"
    assert sorted(regions) == [r for r in enabled if partition_of(r) == "aws"] and "all" not in regions
    assert not opted_out & set(regions)
    assert asked == [{}]  # the enabled Regions only (no AllRegions), asked once
    assert code == 0 and {p["status"] for p in document["coverage"]} == {"PASS"}


def test_a_denied_describe_regions_is_2(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session()
    inject_error(session, "before-call.ec2.DescribeRegions", "UnauthorizedOperation", "not authorized")
    with_session(monkeypatch, session)
    code, out, err = audit(["--account", ACCOUNT, "--region", "all"], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: --region all: ec2:DescribeRegions failed: UnauthorizedOperation: not authorized; grant"
        " ec2:DescribeRegions (iam/auditor-policy.json has it), or name the Regions with --region"
    ]


def test_region_all_that_lists_no_region_of_the_partition_is_2_not_a_pass(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to audit is no PASS: AWS's answer (shape of DescribeRegions) names only another partition's."""
    session = new_session()
    listed = {"Regions": [{"RegionName": "cn-north-1", "Endpoint": "ec2.cn-north-1.amazonaws.com.cn",
                           "OptInStatus": "opt-in-not-required"}]}  # fmt: skip
    session.events.register(
        "before-call.ec2.DescribeRegions",
        lambda **_: (AWSResponse("https://ec2.us-east-1.amazonaws.com/", 200, {}, None), listed),
    )
    with_session(monkeypatch, session)
    code, out, err = audit(["--account", ACCOUNT, "--region", "all"], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: --region all: ec2:DescribeRegions in {REGION} listed no enabled Region of partition aws;"
        " name the Regions with --region"
    ]


# ---------------------------------------------------------------- progress and Ctrl-C


def test_progress_for_more_than_twenty_pairs(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    compliant()
    regions = sorted(r for r in known_regions() if partition_of(r) == "aws")[:21]
    argv = ["--account", ACCOUNT, "--max-workers", "3", "--no-test-metric-filter"]
    for region in regions:
        argv += ["--region", region]
    code, _out, err = audit(argv, capsys)
    assert code == 0
    trails = [line for line in err.splitlines() if " trails of " in line]
    assert len(trails) == 21 and {line.split()[0] for line in trails} == {f"[{n}/21]" for n in range(1, 22)}
    assert [line for line in err.splitlines() if " chain " in line] == [
        f"[1/1] chain {ACCOUNT}/{REGION}/{LOG_GROUP}: PASS"
    ]
    assert audit(argv[: -2 * 20], capsys)[::2] == (0, "")  # one Region: no progress


def _interrupt(**_: Any) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_is_130_with_one_line(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    session = new_session()
    session.events.register("before-call.cloudtrail.DescribeTrails", _interrupt)
    with_session(monkeypatch, session)
    code, out, err = audit(["--account", ACCOUNT, "--region", REGION, "--region", "eu-west-1"], capsys)
    assert (code, out, err) == (130, "", f"{PROJECT} audit: interrupted\n")


@pytest.mark.parametrize(
    "since", [None, "OK", "ALARM"], ids=["left in ALARM", "back to OK", "a real alarm since"]
)
def test_ctrl_c_during_a_drill_names_the_alarms_it_left_in_alarm(
    since: str | None, aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    cloudwatch = setup.client("cloudwatch")

    def wait(_seconds: float) -> None:
        """The drill's wait for the alarm's history, interrupted (after the alarm evaluated again, or not)."""
        if since is not None:
            reason = f"Threshold Crossed: 1 datapoint was evaluated ({since})"
            cloudwatch.set_alarm_state(AlarmName=setup.alarm_name, StateValue=since, StateReason=reason)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "DrillSettings", functools.partial(DrillSettings, sleep=wait))
    code, out, err = audit(["--account", ACCOUNT, "--region", REGION, "--drill"], capsys)
    assert (code, out) == (130, "")
    announced, *lines = err.splitlines()
    run_id = announced.split()[1].rstrip(":")
    assert announced == f"drill {run_id}: 1 alarm(s) will notify their subscribers: {setup.alarm_name}"
    state = cloudwatch.describe_alarms(AlarmNames=[setup.alarm_name])["MetricAlarms"][0]["StateValue"]
    assert state == (since or "ALARM")
    if since is not None:
        assert lines == [f"drill {run_id} interrupted: no alarm is still in the ALARM state it set"]
    else:
        assert lines == [
            f"drill {run_id} interrupted: 1 alarm(s) it set to ALARM are still in ALARM:",
            f"  - {setup.alarm_name} ({REGION}): it returns to its real state by itself at its next evaluation"
            " (within about 300 s)",
        ]


def test_a_scope_with_no_pair_is_2_not_a_pass(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing looked at is no PASS: a scope that names no (account, Region) never exits 0."""
    compliant()
    with_session(monkeypatch, new_session())
    real_scope = cli._scope
    monkeypatch.setattr(cli, "_scope", lambda *args: dataclasses.replace(real_scope(*args), accounts=()))
    code, out, err = audit([*write_stack(tmp_path), "--region", REGION], capsys)
    assert (code, out) == (2, "")
    assert err == "error: nothing to audit: the stack and flags name no (account, Region) pair\n"
