"""rollout.discover against an organization in the moto emulator (a server on loopback).

The organization: a management account and members in several OUs. Some have a
multi-region trail delivering to CloudWatch Logs; the others show each way of not
having one. One member refuses the role (moto does not enforce IAM, so that
account's assume step is patched to raise AccessDenied).
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
import yaml
from moto.server import ThreadedMotoServer

from components.config import load_config, targets
from local.program_harness import run_program
from rollout import discover
from rollout import discover_report as report

pytestmark = pytest.mark.emulator

MGMT = "123456789012"  # moto's default account: the organization's management account
NOTIFICATIONS = {"subscriptions": [{"protocol": "email", "endpoint": "cloud-security@example.com"}]}
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@dataclass
class Org:
    endpoint: str
    ids: dict[str, str]
    """Organization account name -> id."""

    @property
    def compliant(self) -> set[str]:
        return {self.ids[n] for n in ("master", "Prod Payments", "prod_data", "prod.payments")}


def _session(endpoint: str, account_id: str) -> boto3.Session:
    if account_id == MGMT:
        return boto3.Session("testing", "testing")
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/setup", RoleSessionName="setup")[
        "Credentials"
    ]
    return boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def _trail(
    endpoint: str,
    account_id: str,
    home: str,
    *,
    multi_region: bool = True,
    log_group: str | None = None,
    log_group_account: str | None = None,
    log_group_regions: tuple[str, ...] = (),
) -> None:
    session = _session(endpoint, account_id)
    bucket = f"trail-{account_id}-{home}"
    s3 = session.client("s3", region_name=home, endpoint_url=endpoint)
    location = {} if home == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": home}}
    s3.create_bucket(Bucket=bucket, **location)
    params: dict[str, Any] = {
        "Name": "main-trail",
        "S3BucketName": bucket,
        "IsMultiRegionTrail": multi_region,
    }
    if log_group:
        owner = log_group_account or account_id
        params["CloudWatchLogsLogGroupArn"] = f"arn:aws:logs:{home}:{owner}:log-group:{log_group}:*"
        params["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{account_id}:role/cloudtrail-to-logs"
    session.client("cloudtrail", region_name=home, endpoint_url=endpoint).create_trail(**params)
    for region in log_group_regions or ((home,) if log_group and not log_group_account else ()):
        session.client("logs", region_name=region, endpoint_url=endpoint).create_log_group(
            logGroupName=log_group
        )


def _build_org(endpoint: str) -> Org:
    org = boto3.client("organizations", region_name="us-east-1", endpoint_url=endpoint)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]

    def ou(parent: str, name: str) -> str:
        return org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"]

    prod = ou(root, "Prod")
    units = {
        "Prod": prod,
        "Prod/Data": ou(prod, "Data"),
        "Dev": ou(root, "Dev"),
        "Sandbox": ou(root, "Sandbox"),
    }
    units["Security"] = ou(root, "Security")
    ids = {"master": MGMT}
    for name, unit in [
        ("Prod Payments", "Prod"),
        ("prod_data", "Prod/Data"),
        ("prod.payments", "Dev"),  # its derived name clashes with "Prod Payments"
        ("Dev Single", "Dev"),
        ("Dev No Logs", "Dev"),
        ("Org Trail Member", "Prod"),
        ("Locked Down", "Security"),
        ("Empty Sandbox", "Sandbox"),
        ("Closed", "Sandbox"),
    ]:
        email = f"{name.replace(' ', '').lower()}@example.com"
        account_id = org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=units[unit])
        ids[name] = account_id
    org.close_account(AccountId=ids["Closed"])

    _trail(endpoint, MGMT, "us-east-1", log_group="org-trail/cloudtrail")
    _trail(endpoint, ids["Prod Payments"], "us-east-1", log_group="aws-cloudtrail-logs-payments")
    _trail(
        endpoint,
        ids["prod_data"],
        "eu-west-1",
        log_group="org-trail/cloudtrail",
        log_group_regions=("eu-west-1", "us-east-1"),
    )
    _trail(endpoint, ids["prod.payments"], "ap-southeast-2", log_group="cloudtrail/logs")
    _trail(endpoint, ids["Dev Single"], "us-east-1", multi_region=False, log_group="single/cloudtrail")
    _trail(endpoint, ids["Dev No Logs"], "us-east-1")
    _trail(
        endpoint,
        ids["Org Trail Member"],
        "us-east-1",
        log_group="org-trail/cloudtrail",
        log_group_account=MGMT,
    )
    return Org(endpoint, ids)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    with pytest.MonkeyPatch.context() as env:
        missing = tmp_path_factory.mktemp("aws") / "none"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(missing),
            "AWS_SHARED_CREDENTIALS_FILE": str(missing),
        }.items():
            env.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            env.delenv(name, raising=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            _reset(endpoint)
            org = _build_org(endpoint)
            env.setattr(
                discover.Aws, "session_for", _denying(discover.Aws.session_for, org.ids["Locked Down"])
            )
            yield org
        finally:
            _reset(endpoint)
            server.stop()


def _reset(endpoint: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)


def _denying(original: Any, denied: str) -> Any:
    """``Aws.session_for`` where one account refuses the role, as an SCP or a missing trust would."""

    def session_for(self: discover.Aws, account_id: str) -> boto3.Session:
        if account_id == denied:
            error = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}}
            raise botocore.exceptions.ClientError(error, "AssumeRole")
        return original(self, account_id)

    return session_for


def run_cli(org: Org, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = discover.run(["--endpoint-url", org.endpoint, *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# Each discovery run takes a second or two, so the runs several tests read are made once.
@pytest.fixture(scope="module")
def yaml_run(org: Org) -> tuple[int, str, str]:
    return run_cli(org)


@pytest.fixture(scope="module")
def json_regions_run(org: Org) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli(org, "--json", "--regions", "us-east-1", "eu-west-1", "--max-workers", "2")
    assert code == 0, err
    return code, json.loads(out), err


# ---- the command ----


def test_yaml_lists_exactly_the_compliant_accounts(org: Org, yaml_run: tuple[int, str, str]) -> None:
    code, out, err = yaml_run
    assert code == 0, err
    document = yaml.safe_load(out)
    assert {a["id"] for a in document["accounts"]} == org.compliant
    by_id = {a["id"]: a for a in document["accounts"]}
    assert by_id[org.ids["prod_data"]] == {
        "id": org.ids["prod_data"],
        "name": "prod-data",
        "roleArn": f"arn:aws:iam::{org.ids['prod_data']}:role/cis-monitoring-deployer",
        "regions": [{"region": "eu-west-1", "logGroup": "org-trail/cloudtrail"}],
    }
    assert by_id[MGMT]["regions"] == [{"region": "us-east-1", "logGroup": "org-trail/cloudtrail"}]
    clash = sorted(org.ids[n] for n in ("Prod Payments", "prod.payments"))
    # Both derive "prod-payments": the lower id keeps it, the other gets its last four digits.
    assert [by_id[i]["name"] for i in clash] == ["prod-payments", f"prod-payments-{clash[1][-4:]}"]
    assert f'- id: "{MGMT}"' in out  # ids are quoted strings, never YAML numbers
    # The skipped accounts: a comment block on stdout, with their reasons.
    skipped = out[out.index("SKIPPED") :]
    for name, reason in [
        ("Dev Single", "only single-region trails"),
        ("Dev No Logs", "do not deliver to CloudWatch Logs"),
        ("Org Trail Member", f"in account {MGMT}"),
        ("Locked Down", "AccessDenied"),
        ("Empty Sandbox", "no CloudTrail trail"),
    ]:
        line = next(line for line in skipped.splitlines() if org.ids[name] in line)
        assert line.startswith("#") and reason in line, line
    assert org.ids["Closed"] not in out + err  # suspended: not an active account
    # One progress line per active account, on stderr.
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert len(progress) == len(org.ids) - 1
    assert {line.split("/", 1)[1].split("]")[0] for line in progress} == {str(len(org.ids) - 1)}
    assert any(f"{org.ids['prod_data']} prod-data: 1 trail" in line for line in progress)
    assert "Traceback" not in err


def test_json_lists_skipped_accounts_with_reasons_and_the_inventory(
    org: Org, json_regions_run: tuple[int, dict[str, Any], str]
) -> None:
    _, document, _ = json_regions_run
    assert {a["id"] for a in document["accounts"]} == org.compliant - {org.ids["prod.payments"]}
    whole_accounts = {s["id"]: s["kind"] for s in document["skipped"] if "region" not in s}
    assert whole_accounts == {
        org.ids["Dev Single"]: report.SINGLE_REGION_ONLY,
        org.ids["Dev No Logs"]: report.NO_CLOUDWATCH_LOGS,
        org.ids["Org Trail Member"]: report.LOG_GROUP_ELSEWHERE,
        org.ids["Locked Down"]: report.ACCESS_DENIED,
        org.ids["Empty Sandbox"]: report.NO_TRAIL,
        # Its log group is only in ap-southeast-2, which --regions does not ask for.
        org.ids["prod.payments"]: report.LOG_GROUP_MISSING,
    }
    assert all(s["reason"] and s["ou"] for s in document["skipped"])
    ous = {a["id"]: a["ou"] for a in document["inventory"]["accounts"]}
    assert ous[org.ids["prod_data"]] == "Root/Prod/Data"
    assert ous[org.ids["Locked Down"]] == "Root/Security"
    assert ous[MGMT] == "Root"


def test_regions_without_the_log_group_are_skipped_per_region(
    org: Org, json_regions_run: tuple[int, dict[str, Any], str]
) -> None:
    _, document, _ = json_regions_run
    region_skips = {(s["id"], s["region"], s["kind"]) for s in document["skipped"] if "region" in s}
    assert region_skips == {
        (org.ids["Prod Payments"], "eu-west-1", report.LOG_GROUP_MISSING),
        (MGMT, "eu-west-1", report.LOG_GROUP_MISSING),
    }


def test_discovered_config_loads_and_the_program_builds_one_chain_per_target(
    org: Org, json_regions_run: tuple[int, dict[str, Any], str]
) -> None:
    _, document, _ = json_regions_run
    raw = {"accounts": document["accounts"], "notifications": NOTIFICATIONS}
    config = load_config(raw)
    wanted = {(t.account_id, t.region) for t in targets(config)}
    # prod_data has its log group in both regions; the others only in their trail's home region.
    assert wanted == {
        (MGMT, "us-east-1"),
        (org.ids["Prod Payments"], "us-east-1"),
        (org.ids["prod_data"], "us-east-1"),
        (org.ids["prod_data"], "eu-west-1"),
    }
    run = run_program(raw)
    assert run.error is None, run.error
    for type_ in (FILTER, ALARM):
        found = Counter(_target_of(run, r) for r in run.of_type(type_))
        assert found == Counter(wanted), type_


def test_yaml_output_loads_as_config(yaml_run: tuple[int, str, str]) -> None:
    _, out, _ = yaml_run
    config = load_config({**yaml.safe_load(out), "notifications": NOTIFICATIONS})
    assert len(config.accounts) == 4


def _target_of(run: Any, resource: Any) -> tuple[str, str]:
    from local.program_harness import decode_provider_inputs

    provider = run.provider_for(resource)
    inputs = decode_provider_inputs(provider.inputs)
    return inputs["allowedAccountIds"][0], inputs["region"]


STACK_FILE = """\
# Test stack: hand-written header comment.
config:
  aws:region: us-east-1   # CLI default only
  cis-monitoring:namePrefix: cis
  # Notifications for everything.
  cis-monitoring:notifications:
    subscriptions:
      - protocol: email
        endpoint: cloud-security@example.com
  cis-monitoring:accounts:
    - id: "{prod_data}"
      name: data-lake          # renaming would replace its resources
      roleArn: arn:aws:iam::{prod_data}:role/custom-deployer
      externalId: cis-test
      regions:
        - region: us-east-1
          logGroup: old/group
    - id: "{locked}"
      name: locked-down
      regions:
        - region: us-east-1
          logGroup: org-trail/cloudtrail
    - id: "999999999999"
      name: left-the-org
      regions:
        - region: us-east-1
          logGroup: org-trail/cloudtrail

  # Tags come after the accounts; this comment belongs to them.
  cis-monitoring:tags:
    Environment: test
"""


def test_write_replaces_only_the_accounts_key(org: Org, tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.test.yaml"
    original = STACK_FILE.format(prod_data=org.ids["prod_data"], locked=org.ids["Locked Down"])
    path.write_text(original)
    code, out, err = run_cli(org, "--write", str(path))
    assert code == 0, err
    assert out == ""
    text = path.read_text()
    before, after = yaml.safe_load(original)["config"], yaml.safe_load(text)["config"]
    assert list(after) == list(before)
    assert {k: v for k, v in after.items() if k != report.ACCOUNTS_KEY} == {
        k: v for k, v in before.items() if k != report.ACCOUNTS_KEY
    }
    # Comments and text outside the accounts block are untouched.
    head = original[: original.index("  cis-monitoring:accounts:")]
    tail = original[original.index("\n  # Tags come after") :]
    assert text.startswith(head) and text.endswith(tail)
    accounts = {a["id"]: a for a in after[report.ACCOUNTS_KEY]}
    assert set(accounts) == org.compliant | {org.ids["Locked Down"]}
    data = accounts[org.ids["prod_data"]]
    assert (data["name"], data["externalId"]) == ("data-lake", "cis-test")  # hand-set fields kept
    assert data["roleArn"].endswith(":role/custom-deployer")
    assert data["regions"] == [{"region": "eu-west-1", "logGroup": "org-trail/cloudtrail"}]
    assert accounts[org.ids["Locked Down"]]["name"] == "locked-down"  # could not look: kept
    assert "removed 999999999999" in err and f"kept {org.ids['Locked Down']}" in err
    load_config({k.removeprefix("cis-monitoring:"): v for k, v in after.items() if k.startswith("cis-")})


# ---- failures ----


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-workers", "0"], "--max-workers"),
        (["--regions", "mars-1"], "not a region name"),
        (["--write", "Pulumi.yaml"], "Pulumi.<stack>.yaml"),
        (["--role-name", "arn:aws:iam::1:role/x"], "takes a role name"),
        (["--endpoint-url", "localhost"], "http(s) URL"),
        (["--no-such-option"], "unrecognized arguments"),
        (["--profile", "no-such-profile"], "could not be found"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    org: Org, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = discover.run(args)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_unreachable_endpoint_exits_2_without_a_traceback(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = discover.run(["--endpoint-url", f"http://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot reach http://127.0.0.1:{port}" in err and "Traceback" not in err


def test_refused_organization_listing_exits_1(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        def get_paginator(self, name: str) -> Any:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not the management account"}}
            raise botocore.exceptions.ClientError(error, "ListAccounts")

    monkeypatch.setattr(discover.Aws, "organizations", lambda self: Refusing())
    code, _, err = run_cli(org)
    assert code == 1
    assert "management account or a delegated administrator" in err


# ---- pure parts ----


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Prod Data!", "prod-data"),
        ("  --Weird__Name--  ", "weird-name"),
        ("x" * 50, "x" * 40),
        ("a" * 39 + " b", "a" * 39),
        ("東京", "account-111111111111"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert report.slug(name, "111111111111") == expected


def test_unique_names_keep_reserved_names_and_suffix_clashes() -> None:
    names = report.unique_names(
        [("111111111111", "Prod"), ("222222222222", "prod"), ("333333333333", "PROD"), ("444444444444", "x")],
        reserved={"444444444444": "prod"},
    )
    assert names == {
        "111111111111": "prod-1111",
        "222222222222": "prod-2222",
        "333333333333": "prod-3333",
        "444444444444": "prod",
    }


def test_parse_log_group_arn() -> None:
    ref = report.parse_log_group_arn("arn:aws:logs:eu-west-1:111111111111:log-group:org-trail/cloudtrail:*")
    assert ref == report.LogGroupRef("eu-west-1", "111111111111", "org-trail/cloudtrail")
    assert report.parse_log_group_arn("arn:aws:logs:eu-west-1:111111111111:log-group:g") is not None
    assert report.parse_log_group_arn("arn:aws:s3:::bucket") is None


def test_replace_key_text_appends_a_missing_key_and_creates_config() -> None:
    text = "config:\n  aws:region: us-east-1\n# trailing comment\n"
    entries = [{"id": "111111111111", "name": "a", "regions": [{"region": "us-east-1", "logGroup": "g"}]}]
    new, kept = report.rewrite_stack_file(text, report.ACCOUNTS_KEY, entries, {})
    assert kept and new.endswith("# trailing comment\n")
    assert yaml.safe_load(new)["config"][report.ACCOUNTS_KEY] == entries
    new, kept = report.rewrite_stack_file("", report.ACCOUNTS_KEY, entries, {})
    assert kept and yaml.safe_load(new) == {"config": {report.ACCOUNTS_KEY: entries}}


def test_replace_key_text_handles_flow_and_last_key_and_falls_back_when_it_must() -> None:
    entries = [{"id": "111111111111", "name": "a", "regions": [{"region": "us-east-1", "logGroup": "g"}]}]
    flow = "config:\n  cis-monitoring:accounts: []  # none yet\n  cis-monitoring:namePrefix: cis\n"
    new, kept = report.rewrite_stack_file(flow, report.ACCOUNTS_KEY, entries, {})
    assert kept and yaml.safe_load(new)["config"]["cis-monitoring:namePrefix"] == "cis"
    flow_config = "config: {cis-monitoring:namePrefix: cis}\n# comment\n"
    new, kept = report.rewrite_stack_file(flow_config, report.ACCOUNTS_KEY, entries, {})
    assert not kept and "not preserved" in new
    assert yaml.safe_load(new)["config"] == {"cis-monitoring:namePrefix": "cis", report.ACCOUNTS_KEY: entries}
    assert '"111111111111"' in new


def test_merge_entries_drops_only_accounts_known_to_be_unusable() -> None:
    existing = [
        {"id": "111111111111", "name": "keep-me", "tags": {"a": "b"}, "regions": []},
        {"id": "222222222222", "name": "denied", "regions": []},
        {"id": "333333333333", "name": "gone", "regions": []},
    ]
    discovered = [
        {"id": "111111111111", "name": "new", "regions": [{"region": "r", "logGroup": "g"}]},
        {"id": "444444444444", "name": "fresh", "regions": []},
    ]
    merged, notes = report.merge_entries(existing, discovered, {"222222222222"})
    assert [e["id"] for e in merged] == ["111111111111", "222222222222", "444444444444"]
    assert merged[0] == {
        "id": "111111111111",
        "name": "keep-me",
        "tags": {"a": "b"},
        "regions": discovered[0]["regions"],
    }
    assert any("removed 333333333333" in n for n in notes)
