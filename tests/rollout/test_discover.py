"""``cis-monitoring discover`` against the emulator worlds, and against an organization with every odd case.

Each world (local.worlds) says which config discover must write for it (``expected_config``,
written by hand in the world's module); the odd organization below has no organization trail
and one account for each way of not being usable. moto does not enforce IAM, so an account
that refuses the role is made so by patching ``Aws.session_for``.
"""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
import yaml

from cis_monitoring.core.aws.arns import LogGroupRef, parse_log_group_arn
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.topology import TrailFacts, trail_from_description
from cis_monitoring.rollout import discover
from cis_monitoring.rollout.discover import aws as discover_aws
from cis_monitoring.rollout.discover import entries as config
from cis_monitoring.rollout.discover import model
from cis_monitoring.rollout.discover.names import slug, unique_names
from cis_monitoring.rollout.discover.plan import choose_group, plan
from cis_monitoring.rollout.discover.rewrite import Block, rewrite_stack_file
from cis_monitoring.spec.inventory import INVENTORY_SCHEMA_VERSION
from local.emulator import DEFAULT_ACCOUNT, Emulator
from local.worlds import WORLDS, World, build_world, mixed, organization
from local.worlds.builder import WorldBuilder
from tests.rollout.new_config_shape import validate

pytestmark = pytest.mark.emulator

MGMT = DEFAULT_ACCOUNT
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
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
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        with Emulator() as emulator:
            yield emulator


class Worlds:
    """One world at a time in the module's emulator, rebuilt only when another (or a fresh one) is asked for."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.current: tuple[str, Any] | None = None

    def use(self, name: str, fresh: bool = False) -> Any:
        if fresh or self.current is None or self.current[0] != name:
            self.emulator.reset()
            built = build_odd(self.emulator.url) if name == "odd" else build_world(name, self.emulator.url)
            self.current = (name, built)
        return self.current[1]

    def spoil(self) -> None:
        """The current world was changed by a test: the next ``use`` builds it again."""
        self.current = None


@pytest.fixture(scope="module")
def worlds(server: Emulator) -> Worlds:
    return Worlds(server)


def run_cli(endpoint: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = discover.run(["--endpoint-url", endpoint, *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def deny(monkeypatch: pytest.MonkeyPatch, account_id: str) -> None:
    """That account refuses the role, as an SCP or a missing trust policy would."""
    original = discover_aws.Aws.session_for

    def session_for(self: discover_aws.Aws, wanted: str) -> boto3.Session:
        if wanted == account_id:
            error = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}}
            raise botocore.exceptions.ClientError(error, "AssumeRole")
        return original(self, wanted)

    monkeypatch.setattr(discover_aws.Aws, "session_for", session_for)


def skips(document: dict[str, Any]) -> set[tuple[str, str, str | None, bool]]:
    return {(s["id"], s["kind"], s.get("trail"), s["listed"]) for s in document["skipped"]}


def written(document: dict[str, Any]) -> dict[str, Any]:
    """The config part of a --json document, as a world's ``expected_config``."""
    found = {"accounts": document["accounts"]}
    if document["organizationTrail"] is not None:
        found["organizationTrail"] = document["organizationTrail"]
    return found


# ---- the three worlds ----

EXPECTED_SKIPS: dict[str, set[tuple[str, str, str | None, bool]]] = {
    "classic": set(),
    "organization": set(),
    "mixed": {
        (mixed.DATA, model.NO_CLOUDWATCH_LOGS, mixed.DATA_TRAIL, True),
        (mixed.LEGACY, model.SINGLE_REGION_ONLY, mixed.LEGACY_TRAIL, True),
    },
}


@pytest.mark.parametrize("name", list(WORLDS))
def test_discover_writes_exactly_the_worlds_config(worlds: Worlds, name: str) -> None:
    world: World = worlds.use(name)
    code, out, err = run_cli(world.endpoint)
    assert code == 0, err
    document = yaml.safe_load(out)
    assert document == world.expected_config
    assert validate(document) in ("shape", "shape+loader")
    assert f'- id: "{MGMT}"' in out  # ids are quoted strings, never YAML numbers
    if "organizationTrail" in document:
        assert f'accountId: "{document["organizationTrail"]["accountId"]}"' in out
    code, out, err = run_cli(world.endpoint, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["schemaVersion"] == 3
    assert written(result) == world.expected_config
    assert skips(result) == EXPECTED_SKIPS[name]
    assert {a["id"]: a["ou"] for a in result["inventory"]["accounts"]} == {a.id: a.ou for a in world.accounts}
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert len(progress) == len(world.accounts) and "Traceback" not in err


def test_mixed_world_skipped_trails_say_why_on_stdout(worlds: Worlds) -> None:
    world = worlds.use("mixed")
    _, out, _ = run_cli(world.endpoint)
    block = out[out.index("==== SKIPPED") :].splitlines()
    legacy = next(line for line in block if mixed.LEGACY in line)
    assert legacy.startswith("#") and "CIS 4.x needs a multi-Region trail" in legacy
    data = next(line for line in block if mixed.DATA in line)
    assert "does not deliver to CloudWatch Logs" in data


def test_control_towers_suffixed_group_is_written_as_a_prefix(worlds: Worlds) -> None:
    world = worlds.use("organization")
    code, out, err = run_cli(world.endpoint)
    assert code == 0, err
    trail = yaml.safe_load(out)["organizationTrail"]
    assert trail["logGroupPrefix"] == "aws-controltower/CloudTrailLogs" and "logGroup" not in trail
    group = world.trail(organization.CT_TRAIL).log_group
    assert group is not None and group.name in out  # the comment names the group found today
    assert "its suffix can change" in out
    shadows = [line for line in err.splitlines() if f"shadow of account {MGMT}" in line]
    assert len(shadows) == 4  # every member saw the organization trail as a shadow


def test_an_ambiguous_control_tower_prefix_gets_the_exact_name(worlds: Worlds) -> None:
    world = worlds.use("organization", fresh=True)
    worlds.spoil()
    logs = world.client("logs", MGMT, "us-east-1")
    logs.create_log_group(logGroupName="aws-controltower/CloudTrailLogs")  # left from landing zone 3.x
    _, out, _ = run_cli(world.endpoint)
    trail = yaml.safe_load(out)["organizationTrail"]
    group = world.trail(organization.CT_TRAIL).log_group
    assert group is not None and trail["logGroup"] == group.name and "logGroupPrefix" not in trail
    assert "matches 2 groups" in out


def test_a_delegated_administrator_that_cannot_be_read_is_still_listed(
    worlds: Worlds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organization trail comes from its owner, the management account (AWS keeps it the owner of
    what a delegated administrator creates); the unreadable delegated administrator is still a member."""
    world = worlds.use("mixed")
    deny(monkeypatch, mixed.SECURITY)
    code, out, err = run_cli(world.endpoint, "--json")
    assert code == 3, err  # ERROR: an account could not be read; what could be found is stated
    assert err.splitlines()[-1] == f"ERROR: 1 account(s) could not be read: {mixed.SECURITY}"
    result = json.loads(out)
    assert result["organizationTrail"] == world.expected_config["organizationTrail"]
    owner = next(a for a in result["accounts"] if a["id"] == mixed.SECURITY)
    assert owner == {"id": mixed.SECURITY, "name": "security-tooling"}
    assert (mixed.SECURITY, model.ACCESS_DENIED, None, True) in skips(result)
    assert "seen by 5 account(s)" in run_cli(world.endpoint)[1]


def test_a_member_that_refuses_the_role_is_still_a_member(
    worlds: Worlds, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = worlds.use("organization")
    deny(monkeypatch, organization.AUDIT)
    _, out, _ = run_cli(world.endpoint, "--json")
    result = json.loads(out)
    assert written(result) == world.expected_config
    row = next(s for s in result["skipped"] if s["id"] == organization.AUDIT)
    assert (
        row["kind"] == model.ACCESS_DENIED and row["listed"] and "own trails were not read" in row["reason"]
    )


def test_an_organization_trail_without_cloudwatch_logs_covers_nobody(worlds: Worlds) -> None:
    world = worlds.use("organization", fresh=True)
    worlds.spoil()
    world.client("cloudtrail", MGMT, "us-east-1").update_trail(
        Name=organization.CT_TRAIL, CloudWatchLogsLogGroupArn="", CloudWatchLogsRoleArn=""
    )
    _, out, _ = run_cli(world.endpoint, "--json")
    result = json.loads(out)
    assert result["organizationTrail"] is None
    assert [a["id"] for a in result["accounts"]] == [organization.SANDBOX]
    left_out = {s["id"]: s for s in result["skipped"] if not s["listed"]}
    assert set(left_out) == {MGMT, organization.LOG_ARCHIVE, organization.AUDIT, organization.PAYMENTS}
    for row in left_out.values():
        assert row["kind"] == model.NO_CLOUDWATCH_LOGS
        assert f"organization trail '{organization.CT_TRAIL}' of account {MGMT}" in row["reason"]


# ---- an organization with every odd case (no organization trail) ----

ODD = {
    "Prod Payments": ("100000000001", "Root/Prod"),
    "prod.payments": ("100000000002", "Root/Dev"),  # its derived name clashes with "Prod Payments"
    "Dev Single": ("100000000003", "Root/Dev"),
    "Eu Single": ("100000000004", "Root/Dev"),
    "Dev No Logs": ("100000000005", "Root/Dev"),
    "Two Trails": ("100000000006", "Root/Prod/Data"),
    "Missing Group": ("100000000007", "Root/Prod"),
    "Locked Down": ("100000000008", "Root/Security"),
    "Empty Sandbox": ("100000000009", "Root/Sandbox"),
    "Closed": ("100000000010", "Root/Sandbox"),
}


def odd(name: str) -> str:
    return ODD[name][0]


def build_odd(endpoint: str) -> str:
    world = WorldBuilder(endpoint, "odd")
    for name, (account_id, ou) in ODD.items():
        world.account(account_id, name, ou)
    world.trail(MGMT, "main-trail", "us-east-1", log_group="org-main/cloudtrail")
    world.trail(odd("Prod Payments"), "main-trail", "us-east-1", log_group="aws-cloudtrail-logs-payments")
    world.trail(odd("prod.payments"), "main-trail", "ap-southeast-2", log_group="cloudtrail/logs")
    world.trail(
        odd("Dev Single"), "main-trail", "us-east-1", log_group="single/cloudtrail", multi_region=False
    )
    world.trail(odd("Eu Single"), "eu-trail", "eu-west-1", log_group="eu/cloudtrail", multi_region=False)
    world.trail(odd("Dev No Logs"), "main-trail", "us-east-1")
    world.trail(odd("Two Trails"), "beta-trail", "us-east-1", log_group="beta/cloudtrail")
    world.trail(odd("Two Trails"), "alpha-trail", "eu-west-1", log_group="alpha/cloudtrail")
    world.trail(odd("Missing Group"), "main-trail", "us-east-1", log_group="gone/cloudtrail")
    world.client("logs", odd("Missing Group"), "us-east-1").delete_log_group(logGroupName="gone/cloudtrail")
    world.trail(odd("Locked Down"), "main-trail", "us-east-1", log_group="locked/cloudtrail")
    world.org.close_account(AccountId=odd("Closed"))
    return endpoint


def own(account_id: str, name: str, home: str, group: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "name": name,
        "roleArn": f"arn:aws:iam::{account_id}:role/cis-monitoring-deployer",
        "trail": {"homeRegion": home, "logGroup": group, "name": "main-trail"},
    }


ODD_ACCOUNTS = [
    own(odd("Prod Payments"), "prod-payments", "us-east-1", "aws-cloudtrail-logs-payments"),
    own(odd("prod.payments"), "prod-payments-0002", "ap-southeast-2", "cloudtrail/logs"),
    {
        **own(odd("Two Trails"), "two-trails", "eu-west-1", "alpha/cloudtrail"),
        "trail": {"homeRegion": "eu-west-1", "logGroup": "alpha/cloudtrail", "name": "alpha-trail"},
    },
    own(MGMT, "management", "us-east-1", "org-main/cloudtrail"),
]


@pytest.fixture
def odd_org(worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> str:
    endpoint: str = worlds.use("odd")
    deny(monkeypatch, odd("Locked Down"))
    return endpoint


def test_odd_organization_lists_usable_accounts_and_says_why_for_the_rest(odd_org: str) -> None:
    code, out, err = run_cli(odd_org, "--json")
    assert code == 3, err  # Locked Down could not be read
    result = json.loads(out)
    assert written(result) == {"accounts": ODD_ACCOUNTS}
    assert validate(written(result)) in ("shape", "shape+loader")
    found = skips(result)
    assert {s for s in found if s[0] != odd("Eu Single")} == {
        (odd("Dev Single"), model.SINGLE_REGION_ONLY, None, False),
        (odd("Dev No Logs"), model.NO_CLOUDWATCH_LOGS, None, False),
        (odd("Two Trails"), model.ANOTHER_TRAIL_CHOSEN, "beta-trail", True),
        (odd("Missing Group"), model.LOG_GROUP_MISSING, None, False),
        (odd("Locked Down"), model.ACCESS_DENIED, None, False),
        (odd("Empty Sandbox"), model.NO_TRAIL, None, False),
    }
    # A single-Region trail homed elsewhere is found by ListTrails in AWS; moto's ListTrails shows
    # only this Region's, so without --regions the emulator reports no trail. Either way: left out.
    (eu_single,) = [s for s in found if s[0] == odd("Eu Single")]
    assert eu_single[1] in (model.NO_TRAIL, model.SINGLE_REGION_ONLY) and not eu_single[3]
    reasons = {s["id"]: s["reason"] for s in result["skipped"]}
    assert "CIS 4.x needs a multi-Region trail" in reasons[odd("Dev Single")]
    assert (
        "gone/cloudtrail" in reasons[odd("Missing Group")]
        and "does not exist" in reasons[odd("Missing Group")]
    )
    assert "AccessDenied" in reasons[odd("Locked Down")]
    assert odd("Closed") not in out + err  # suspended: not an active account
    assert {a["id"]: a["ou"] for a in result["inventory"]["accounts"]}[odd("Two Trails")] == "Root/Prod/Data"


def test_region_reads_trails_in_every_region_given(odd_org: str) -> None:
    flags = ["--region", "us-east-1", "--region", "eu-west-1"]
    _, out, err = run_cli(odd_org, "--json", *flags, "--max-workers", "2")
    rows = {s["id"]: s for s in json.loads(out)["skipped"]}
    # Each --region counts: Eu Single's trail is homed in eu-west-1, Dev Single's in us-east-1.
    assert (
        rows[odd("Eu Single")]["kind"] == model.SINGLE_REGION_ONLY
        and "eu-trail" in rows[odd("Eu Single")]["reason"]
    )
    assert rows[odd("Dev Single")]["kind"] == model.SINGLE_REGION_ONLY, err
    _, out, _ = run_cli(odd_org, "--json", "--region", "eu-west-1")
    rows = {s["id"]: s for s in json.loads(out)["skipped"]}
    assert rows[odd("Dev Single")]["kind"] == model.NO_TRAIL, (
        "eu-west-1 alone does not show a us-east-1 trail"
    )


def test_region_all_reads_the_regions_each_account_has_enabled(
    odd_org: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, ...]] = []
    original = discover_aws.Aws.trail_regions

    def trail_regions(self: discover_aws.Aws, session: boto3.Session) -> tuple[str, ...]:
        asked.append(original(self, session))
        return asked[-1]

    monkeypatch.setattr(discover_aws.Aws, "trail_regions", trail_regions)
    code, out, err = run_cli(odd_org, "--json", "--region", "all")
    assert code == 3, err
    rows = {s["id"]: s for s in json.loads(out)["skipped"]}
    assert rows[odd("Eu Single")]["kind"] == model.SINGLE_REGION_ONLY, "found in eu-west-1"
    # The management account, and every ACTIVE member (Closed is not) but the one refusing the role.
    assert len(asked) == 1 + (len(ODD) - 1) - 1
    for regions in asked:
        assert regions[0] == "us-east-1" and {"eu-west-1", "ap-southeast-2"} <= set(regions)
        assert "ap-east-1" not in regions, "an opt-in Region the account has not enabled"


def test_yaml_output_names_skipped_accounts_in_a_comment_block_and_reports_progress(odd_org: str) -> None:
    code, out, err = run_cli(odd_org)
    assert code == 3, err
    assert yaml.safe_load(out) == {"accounts": ODD_ACCOUNTS}
    skipped = out[out.index("SKIPPED") :]
    for name in ("Dev Single", "Dev No Logs", "Missing Group", "Locked Down", "Empty Sandbox"):
        line = next(line for line in skipped.splitlines() if odd(name) in line)
        assert line.startswith("#") and "[account left out]" in line, line
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert len(progress) == len(ODD)  # the management account and every ACTIVE member
    assert {line.split("/", 1)[1].split("]")[0] for line in progress} == {str(len(ODD))}
    assert "Traceback" not in err


# ---- --write ----

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
    - id: "{sandbox}"
      name: team-sandbox       # renaming would replace its resources
      roleArn: arn:aws:iam::{sandbox}:role/custom-deployer
      externalId: cis-test
      regions:                 # the old shape: the same group named in two Regions
        - region: eu-west-1
          logGroup: sandbox-team/cloudtrail
        - region: us-east-1
          logGroup: sandbox-team/cloudtrail
    - id: "{audit}"
      name: audit-kept
      regions:
        - region: us-east-1
          logGroup: old/group
    - id: "999999999999"
      name: left-the-org
      regions:
        - region: us-east-1
          logGroup: org-trail/cloudtrail

  # Tags come after the accounts; this comment belongs to them.
  cis-monitoring:tags:
    Environment: test
"""


def test_write_replaces_only_accounts_and_organization_trail(
    worlds: Worlds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = worlds.use("organization")
    deny(monkeypatch, organization.AUDIT)
    path = tmp_path / "Pulumi.test.yaml"
    original = STACK_FILE.format(sandbox=organization.SANDBOX, audit=organization.AUDIT)
    path.write_text(original)
    write = ("--repo-root", str(tmp_path), "--stack", "acme/cis-monitoring/test", "--write")
    code, out, err = run_cli(world.endpoint, *write)
    assert code == 3, err  # the audit account could not be read
    assert out == ""
    text = path.read_text()
    before, after = yaml.safe_load(original)["config"], yaml.safe_load(text)["config"]
    # The new key comes right after the accounts; every other key keeps its place.
    assert list(after) == [*list(before)[:-1], config.ORGANIZATION_TRAIL_KEY, "cis-monitoring:tags"]
    owned = (config.ACCOUNTS_KEY, config.ORGANIZATION_TRAIL_KEY)
    assert {k: v for k, v in after.items() if k not in owned} == {
        k: v for k, v in before.items() if k not in owned
    }
    head = original[: original.index("  cis-monitoring:accounts:")]
    tail = original[original.index("\n  # Tags come after") :]
    assert text.startswith(head) and text.endswith(tail)  # comments outside the two blocks untouched
    accounts = {a["id"]: a for a in after[config.ACCOUNTS_KEY]}
    assert set(accounts) == {a.id for a in world.accounts}
    assert accounts[organization.SANDBOX] == {  # hand-set fields kept; regions became the one trail
        "id": organization.SANDBOX,
        "name": "team-sandbox",
        "roleArn": f"arn:aws:iam::{organization.SANDBOX}:role/custom-deployer",
        "externalId": "cis-test",
        "trail": world.expected_config["accounts"][-1]["trail"],
    }
    assert accounts[organization.AUDIT]["name"] == "audit-kept"  # could not be read: kept as it was
    assert accounts[organization.AUDIT]["regions"] == [{"region": "us-east-1", "logGroup": "old/group"}]
    assert accounts[organization.PAYMENTS] == {"id": organization.PAYMENTS, "name": "payments"}
    assert after[config.ORGANIZATION_TRAIL_KEY] == world.expected_config["organizationTrail"]
    assert "removed 999999999999" in err and f"kept {organization.AUDIT}" in err
    assert "per-Region `regions` replaced" in err
    # A second run changes nothing.
    assert run_cli(world.endpoint, *write)[0] == 3
    assert path.read_text() == text


ORGANIZATION_ONLY = f"""\
config:
  cis-monitoring:accounts: []
  cis-monitoring:organizationTrail:
    accountId: "{MGMT}"
    homeRegion: eu-west-1
    logGroup: aws-controltower/CloudTrailLogs
    members: accounts
    roleArn: arn:aws:iam::123456789012:role/hand-made
"""


def test_write_keeps_hand_set_organization_trail_fields_and_removes_a_gone_trail(
    worlds: Worlds, tmp_path: Path
) -> None:
    world = worlds.use("organization")
    path = tmp_path / "Pulumi.org.yaml"
    path.write_text(ORGANIZATION_ONLY)
    write = ("--repo-root", str(tmp_path), "--stack", "org", "--write")
    assert run_cli(world.endpoint, *write)[0] == 0
    trail = yaml.safe_load(path.read_text())["config"][config.ORGANIZATION_TRAIL_KEY]
    assert trail == {
        **world.expected_config["organizationTrail"],
        "roleArn": "arn:aws:iam::123456789012:role/hand-made",
        "members": "accounts",
    }
    # In an organization without an organization trail, the block goes.
    classic_world = worlds.use("classic")
    path.write_text(ORGANIZATION_ONLY)
    code, _, err = run_cli(classic_world.endpoint, *write)
    assert code == 0, err
    after = yaml.safe_load(path.read_text())["config"]
    assert config.ORGANIZATION_TRAIL_KEY not in after and "removed organizationTrail" in err
    assert after[config.ACCOUNTS_KEY] == classic_world.expected_config["accounts"]


# ---- failures and the command itself ----


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-workers", "0"], "--max-workers"),
        (
            ["--region", "mars-1"],
            "error: --region: 'mars-1' is not an AWS Region (e.g. us-east-1), nor 'all'",
        ),
        (["--region", "eu-west-1", "--region", "eu-west-1"], "error: --region: eu-west-1 is given twice"),
        (
            ["--region", "all", "--region", "eu-west-1"],
            "error: --region: 'all' is already every enabled Region",
        ),
        (
            ["--region", "eu-west-1", "--region", "cn-north-1"],
            "error: --region: 'cn-north-1' is in partition aws-cn, not aws; give Regions of one partition per run",
        ),
        (
            ["--write", "Pulumi.prod.yaml"],
            "Pulumi.prod.yaml: unexpected; to update a stack's file, give --stack prod --write",
        ),
        (["--write"], "error: --write needs --stack NAME, the stack whose Pulumi.<stack>.yaml to update"),
        (
            ["--stack", "no-such-stack"],
            "error: --stack no-such-stack: no stack file Pulumi.no-such-stack.yaml",
        ),
        (["--stack", "a b"], "error: --stack 'a b': not a stack name"),
        (
            ["--inventory", "/no/such/dir/inventory.json"],
            "error: --inventory /no/such/dir/inventory.json: no directory",
        ),
        (["--role-name", "arn:aws:iam::1:role/x"], "takes a role name"),
        (["--endpoint-url", "localhost"], "http(s) URL"),
        (["--no-such-option"], "unrecognized arguments"),
        (
            ["--profile", "no-such-profile"],
            "error: --profile no-such-profile: The config profile (no-such-profile) could not be found",
        ),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    server: Emulator, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = discover.run(args)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_every_usage_problem_is_said_at_once(server: Emulator) -> None:
    code, _, err = run_cli(server.url, "--max-workers", "0", "--region", "mars-1", "--profile", "nowhere")
    assert code == 2
    assert err.splitlines() == [
        "error: 3 problems in the command line:",
        "  - --max-workers must be between 1 and 64",
        "  - --region: 'mars-1' is not an AWS Region (e.g. us-east-1), nor 'all'",
        "  - --profile nowhere: The config profile (nowhere) could not be found",
    ]


def test_unreachable_endpoint_exits_2_without_a_traceback(
    server: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = discover.run(["--endpoint-url", f"http://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot reach http://127.0.0.1:{port}" in err and "Traceback" not in err


def test_refused_organization_listing_exits_2(worlds: Worlds, monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        def get_paginator(self, name: str) -> Any:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not the management account"}}
            raise botocore.exceptions.ClientError(error, "ListAccounts")

    monkeypatch.setattr(discover_aws.Aws, "organizations", lambda self: Refusing())
    code, _, err = run_cli(worlds.emulator.url)
    assert code == 2  # nothing could be discovered
    assert "management account or a delegated administrator" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "cis_monitoring.rollout.discover", "--help"],
        [sys.executable, "-m", "cis_monitoring", "discover", "--help"],
    ],
)
def test_help_documents_the_exit_codes_under_every_entry_point(command: list[str]) -> None:
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage: cis-monitoring discover" in done.stdout
    text = " ".join(done.stdout.split())
    assert "Exit codes: 0 all PASS;" in text and "organizationTrail" in text
    assert (
        "Here, 1 (FAIL) means: never" in text and "3 (ERROR) means: some accounts could not be read" in text
    )


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
    assert slug(name, "111111111111") == expected


def test_unique_names_keep_reserved_names_and_suffix_clashes() -> None:
    names = unique_names(
        [("111111111111", "Prod"), ("222222222222", "prod"), ("333333333333", "PROD"), ("444444444444", "x")],
        reserved={"444444444444": "prod"},
    )
    assert names == {
        "111111111111": "prod-1111",
        "222222222222": "prod-2222",
        "333333333333": "prod-3333",
        "444444444444": "prod",
    }


def test_log_group_and_trail_descriptions_become_topology_facts() -> None:
    assert parse_log_group_arn("arn:aws:logs:eu-west-1:111111111111:log-group:org-trail/cloudtrail:*") == (
        LogGroupRef("111111111111", "eu-west-1", "org-trail/cloudtrail")
    )
    assert parse_log_group_arn("arn:aws:logs:eu-west-1:111111111111:log-group:g") is not None
    assert parse_log_group_arn("arn:aws:s3:::bucket") is None
    assert parse_log_group_arn("") is None and parse_log_group_arn(None) is None
    shadow = trail_from_description(
        {
            "Name": "org",
            "TrailARN": "arn:aws:cloudtrail:us-east-1:999999999999:trail/org",
            "HomeRegion": "us-east-1",
            "IsMultiRegionTrail": True,
            "IsOrganizationTrail": True,
            "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:999999999999:log-group:ct:*",
        }
    )
    assert (shadow.owner_account, shadow.home_region, shadow.organization, shadow.log_group) == (
        "999999999999",
        "us-east-1",
        True,
        LogGroupRef("999999999999", "us-east-1", "ct"),
    )


def _trail(
    owner: str, name: str, *, org: bool = False, group: str | None = "g", multi: bool = True
) -> TrailFacts:
    return TrailFacts(
        name=name,
        owner_account=owner,
        home_region="us-east-1",
        multi_region=multi,
        organization=org,
        log_group=LogGroupRef(owner, "us-east-1", group) if group else None,
        arn=f"arn:aws:cloudtrail:us-east-1:{owner}:trail/{name}",
    )


def _result(account_id: str, *trails: TrailFacts, missing: tuple[str, ...] = ()) -> model.AccountResult:
    groups = {
        t.log_group: model.GroupCheck(t.log_group.name not in missing)
        for t in trails
        if t.log_group and t.owner_account == account_id
    }
    return model.AccountResult(model.OrgAccount(account_id, account_id, "Root"), list(trails), groups)


def test_plan_prefers_the_management_accounts_organization_trail_and_lists_the_other() -> None:
    ours, theirs = _trail(MGMT, "zeta", org=True), _trail("555555555555", "alpha", org=True)
    found = plan([_result(MGMT, ours, theirs), _result("555555555555", ours, theirs)], MGMT)
    assert found.organization_trail is not None and found.organization_trail.trail == ours
    ((owner, skip),) = found.organization_skips
    assert (owner.id, skip.kind, skip.trail) == ("555555555555", model.ANOTHER_TRAIL_CHOSEN, "alpha")


def test_plan_the_owner_gets_no_second_chain_and_a_missing_org_group_covers_nobody() -> None:
    org, extra = _trail(MGMT, "org", org=True), _trail(MGMT, "extra", group="extra")
    found = plan([_result(MGMT, org, extra), _result("111111111111", org)], MGMT)
    owner = next(p for p in found.accounts if p.account.id == MGMT)
    assert owner.listed and owner.own is None
    assert [(s.kind, s.trail) for s in owner.skips] == [(model.ANOTHER_TRAIL_CHOSEN, "extra")]
    missing = plan([_result(MGMT, org, missing=("g",)), _result("111111111111", org)], MGMT)
    assert missing.organization_trail is None
    assert all(not p.listed and p.skips[0].kind == model.LOG_GROUP_MISSING for p in missing.accounts)


def test_choose_group_uses_the_control_tower_prefix_only_when_it_finds_exactly_that_group() -> None:
    trail = _trail(MGMT, "ct", group="aws-controltower/CloudTrailLogs-tfw-qeb")
    assert choose_group(
        trail, model.GroupCheck(True, ("aws-controltower/CloudTrailLogs-tfw-qeb",))
    ).config() == {"logGroupPrefix": "aws-controltower/CloudTrailLogs"}
    two = ("aws-controltower/CloudTrailLogs", "aws-controltower/CloudTrailLogs-tfw-qeb")
    assert choose_group(trail, model.GroupCheck(True, two)).config() == {
        "logGroup": "aws-controltower/CloudTrailLogs-tfw-qeb"
    }
    unverified = choose_group(trail, None)
    assert unverified.prefix and "not verified" in unverified.note
    plain = _trail(MGMT, "ct", group="aws-controltower/CloudTrailLogs")  # before landing zone 4.0
    assert choose_group(plain, model.GroupCheck(True, None)).config() == {
        "logGroup": "aws-controltower/CloudTrailLogs"
    }


ENTRY = {"id": "111111111111", "name": "a", "trail": {"homeRegion": "us-east-1", "logGroup": "g"}}
TRAIL = {"accountId": "999999999999", "homeRegion": "us-east-1", "logGroupPrefix": "p"}


def _rewrite(text: str, accounts: Any = (ENTRY,), trail: Any = None) -> tuple[str, bool]:
    blocks = [Block(config.ACCOUNTS_KEY, list(accounts)), Block(config.ORGANIZATION_TRAIL_KEY, trail)]
    return rewrite_stack_file(text, blocks)


def test_rewrite_appends_missing_keys_and_creates_config() -> None:
    text = "config:\n  aws:region: us-east-1\n# trailing comment\n"
    new, kept = _rewrite(text, trail=TRAIL)
    assert kept and new.endswith("# trailing comment\n")
    assert yaml.safe_load(new)["config"] == {
        "aws:region": "us-east-1",
        config.ACCOUNTS_KEY: [ENTRY],
        config.ORGANIZATION_TRAIL_KEY: TRAIL,
    }
    new, kept = _rewrite("")
    assert kept and yaml.safe_load(new) == {"config": {config.ACCOUNTS_KEY: [ENTRY]}}


def test_rewrite_removes_a_key_and_inserts_a_new_one_after_accounts() -> None:
    text = "config:\n  cis-monitoring:accounts: []\n  cis-monitoring:tags: {a: b}\n"
    new, kept = _rewrite(text, trail=TRAIL)
    assert kept and list(yaml.safe_load(new)["config"]) == [
        config.ACCOUNTS_KEY,
        config.ORGANIZATION_TRAIL_KEY,
        "cis-monitoring:tags",
    ]
    removed, kept = _rewrite(new)
    assert kept and config.ORGANIZATION_TRAIL_KEY not in yaml.safe_load(removed)["config"]
    assert removed.endswith("  cis-monitoring:tags: {a: b}\n")


def test_rewrite_handles_flow_values_and_falls_back_when_it_must() -> None:
    flow = "config:\n  cis-monitoring:accounts: []  # none yet\n  cis-monitoring:namePrefix: cis\n"
    new, kept = _rewrite(flow)
    assert kept and yaml.safe_load(new)["config"]["cis-monitoring:namePrefix"] == "cis"
    flow_config = "config: {cis-monitoring:namePrefix: cis}\n# comment\n"
    new, kept = _rewrite(flow_config, trail=TRAIL)
    assert not kept and "not preserved" in new
    assert yaml.safe_load(new)["config"] == {
        "cis-monitoring:namePrefix": "cis",
        config.ACCOUNTS_KEY: [ENTRY],
        config.ORGANIZATION_TRAIL_KEY: TRAIL,
    }
    assert '"111111111111"' in new and '"999999999999"' in new


def test_merge_accounts_keeps_hand_set_fields_and_drops_only_accounts_known_to_be_uncovered() -> None:
    existing = [
        {"id": "111111111111", "name": "keep-me", "tags": {"a": "b"}, "regions": [], "coveredRegions": "all"},
        {"id": "222222222222", "name": "denied", "regions": []},
        {"id": "333333333333", "name": "gone", "regions": []},
        {"id": "555555555555", "name": "had-a-trail", "roleArn": "r", "trail": {}, "coveredRegions": ["x"]},
    ]
    discovered: list[dict[str, Any]] = [
        {
            "id": "111111111111",
            "name": "new",
            "roleArn": "arn:new",
            "trail": {"homeRegion": "r", "logGroup": "g"},
        },
        {"id": "444444444444", "name": "fresh"},
        {"id": "555555555555", "name": "member"},
    ]
    merged, notes = config.merge_accounts(existing, discovered, {"222222222222"})
    assert [e["id"] for e in merged] == ["111111111111", "222222222222", "444444444444", "555555555555"]
    assert merged[0] == {
        "id": "111111111111",
        "name": "keep-me",
        "tags": {"a": "b"},
        "coveredRegions": "all",
        "roleArn": "arn:new",
        "trail": discovered[0]["trail"],
    }
    assert merged[3] == {"id": "555555555555", "name": "had-a-trail", "roleArn": "r"}
    assert any("removed 333333333333" in n for n in notes)
    assert any("dropped coveredRegions" in n for n in notes)


def test_merge_organization_trail_keeps_fields_of_the_same_owner_only() -> None:
    discovered = {**TRAIL, "name": "t", "roleArn": "arn:aws:iam::999999999999:role/d"}
    old = {"accountId": "999999999999", "logGroup": "old", "roleArn": "hand", "members": "all"}
    merged, _ = config.merge_organization_trail(old, discovered, True)
    assert merged == {**TRAIL, "name": "t", "roleArn": "hand", "members": "all"}
    moved, notes = config.merge_organization_trail({**old, "accountId": "888888888888"}, discovered, True)
    assert moved is not None and moved["roleArn"] == discovered["roleArn"] and "owner changed" in notes[0]
    assert config.merge_organization_trail(old, None, False)[0] == old  # nothing could be read: kept
    assert config.merge_organization_trail(old, None, True)[0] is None


# ---- errors, Ctrl-C, the inventory ----


def test_a_yaml_error_in_the_stack_file_exits_2_before_any_aws_call(
    server: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discover_aws.Aws, "__init__", lambda *_: pytest.fail("AWS was called"))
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text("config:\n  cis-monitoring:accounts: [\n")
    code, out, err = run_cli(server.url, "--repo-root", str(tmp_path), "--stack", "broken", "--write")
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}: not valid YAML") and "Traceback" not in err
    assert path.read_text() == "config:\n  cis-monitoring:accounts: [\n"
    path.write_text("- a list\n")
    code, _, err = run_cli(server.url, "--repo-root", str(tmp_path), "--stack", "broken")
    assert code == 2 and err == f"error: {path}: not a Pulumi stack file (its top level is not a mapping)\n"


def test_ctrl_c_stops_reading_accounts_exits_130_with_one_line_and_writes_nothing(
    odd_org: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cis_monitoring.rollout.discover import reader

    started: list[str] = []
    inspect, as_completed = reader.inspect_account, reader.as_completed

    def counting(aws: discover_aws.Aws, account: model.OrgAccount) -> model.AccountResult:
        started.append(account.id)
        return inspect(aws, account)

    def interrupted_after_one(futures: Any) -> Iterator[Any]:
        yield next(iter(as_completed(futures)))
        raise KeyboardInterrupt  # as Ctrl-C arrives while the main thread waits for the next account

    monkeypatch.setattr(reader, "inspect_account", counting)
    with monkeypatch.context() as patch:
        patch.setattr(reader, "as_completed", interrupted_after_one)
        path = tmp_path / "Pulumi.odd.yaml"
        path.write_text("config: {}\n")
        inventory = tmp_path / "inventory.json"
        argv = ["--repo-root", str(tmp_path), "--stack", "odd", "--write", "--inventory", str(inventory)]
        code, out, err = run_cli(odd_org, "--max-workers", "1", *argv)
    assert code == 130
    assert err.splitlines()[-1] == (
        f"{PROJECT} discover: interrupted after reading 1 of {len(ODD)} account(s); nothing was written"
    )
    assert "Traceback" not in err and out == ""
    assert path.read_text() == "config: {}\n" and not inventory.exists()
    assert len(started) < len(ODD), "the accounts not started yet were cancelled"


def test_a_real_ctrl_c_exits_130_with_one_line_and_no_traceback(worlds: Worlds) -> None:
    """SIGINT to the command, as a terminal sends it, while it reads accounts in worker threads."""
    endpoint = worlds.use("odd")
    command = [sys.executable, "-m", "cis_monitoring", "discover", "--endpoint-url", endpoint]
    process = subprocess.Popen(
        [*command, "--max-workers", "1"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    progress = ""
    for line in process.stderr:
        if line.startswith("[1/"):  # the first account is read: the others are being read or queued
            process.send_signal(signal.SIGINT)
            progress = line
            break
    out, rest = process.communicate(timeout=300)
    assert progress, rest
    assert process.returncode == 130 and out == ""
    [line] = rest.splitlines()
    assert line.startswith(f"{PROJECT} discover: interrupted after reading ") and line.endswith(
        "nothing was written"
    )


def test_the_inventory_has_config_names_aws_names_ous_tags_and_own_trails(
    worlds: Worlds, tmp_path: Path
) -> None:
    world = worlds.use("mixed", fresh=True)
    worlds.spoil()
    world.client("organizations", MGMT, "us-east-1").tag_resource(
        ResourceId=mixed.WEB, Tags=[{"Key": "Environment", "Value": "prod"}]
    )
    path = tmp_path / "inventory.json"
    code, out, err = run_cli(world.endpoint, "--json", "--inventory", str(path))
    assert code == 0, err
    inventory = json.loads(path.read_text())
    assert json.loads(out)["inventory"] == inventory  # one document, in the file and under --json
    assert f"wrote the inventory of {len(world.accounts)} account(s) to {path}" in err
    assert inventory["schemaVersion"] == INVENTORY_SCHEMA_VERSION
    own = {a["id"]: a["trail"] for a in world.expected_config["accounts"] if "trail" in a}
    assert inventory["accounts"] == [
        {
            "id": account.id,
            "name": account.config_name,
            "awsName": account.name,
            "ou": account.ou,
            "tags": {"Environment": "prod"} if account.id == mixed.WEB else {},
            **({"trail": own[account.id]} if account.id in own else {}),
        }
        for account in sorted(world.accounts, key=lambda a: a.id)
    ]
    assert {a["awsName"] for a in inventory["accounts"]} >= {"Security Tooling", "Web Shop"}
    skipped = json.loads(out)["skipped"]
    assert skipped and all(row["awsName"] == world.account(row["id"]).name for row in skipped)


def test_a_new_stack_file_starts_with_default_providers_disabled(worlds: Worlds, tmp_path: Path) -> None:
    """Only a file discover creates gets the key; an existing file keeps everything but discover's keys."""
    world = worlds.use("classic")
    write = ("--repo-root", str(tmp_path), "--stack", "fresh", "--write")
    code, _out, err = run_cli(world.endpoint, *write)
    assert code == 0, err
    text = (tmp_path / "Pulumi.fresh.yaml").read_text()
    document = yaml.safe_load(text)["config"]
    assert document["pulumi:disable-default-providers"] == ["aws"]
    assert "one that forgot it fails" in text  # the why, beside the key
    assert [a["id"] for a in document[config.ACCOUNTS_KEY]] == [
        a["id"] for a in world.expected_config["accounts"]
    ]
