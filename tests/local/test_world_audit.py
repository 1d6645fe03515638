"""The coverage audit in each emulator world: every (account, Region) gets the world's expected verdict.

Each test builds a world (``local.worlds``), deploys the program into it with the world's own
stack config (``expected_config`` plus a subscriber, through ``local.emulator_deploy.deploy_stack``:
the real ``__main__.py`` under Pulumi's mocks, one chain per monitored log group), and runs
``cis-monitoring audit`` against the emulator, as a user would. What the audit reports per pair
(kind, code, trail, log group) must be what the world says AWS shows (``World.expected_coverage``),
before and after the world's break helpers change the emulator.

Members without a role are entered with ``--role-name OrganizationAccountAccessRole`` (the role an
organization creates in each member; moto accepts any), or not at all with
``--members-from-organization``, which must give the same verdicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from cis_monitoring import cli
from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.run import audit_coverage
from cis_monitoring.audit.scope import stack_scope
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.core.topology import DIRECT, NOT_COVERED, ORGANIZATION
from cis_monitoring.spec import load_config
from local.emulator import MEMBER_ROLE, Emulator
from local.emulator_deploy import deploy_stack, with_emulator_endpoint
from local.worlds import REGIONS, World, build_world, classic, mixed, organization

pytestmark = pytest.mark.emulator

SUBSCRIBER = {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]}
Row = tuple[str, str, str | None, str | None, str]
"""(coverage kind, code, trail name, covering log group key, status) of one pair."""


@dataclass
class Deployed:
    world: World
    stack_file: Path
    config: dict[str, Any]


def deploy(emulator: Emulator, name: str, tmp_path: Path) -> Deployed:
    world = build_world(name, emulator.url)
    config = with_emulator_endpoint({**world.expected_config, "notifications": SUBSCRIBER}, emulator.url)
    deployment = deploy_stack(config, emulator.url)
    assert deployment.error is None, deployment.error
    stack_file = tmp_path / f"Pulumi.{name}.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}))
    return Deployed(world, stack_file, config)


def audit(deployed: Deployed, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict[str, Any]]:
    """``cis-monitoring audit --stack <world> --json`` in every Region of the world."""
    argv = ["--stack", str(deployed.stack_file), "--json", "--no-test-metric-filter"]
    for region in REGIONS:
        argv += ["--region", region]
    capsys.readouterr()
    code = cli.run("audit", [*argv, *flags])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, json.loads(captured.out)


def entered(deployed: Deployed, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    return audit(deployed, capsys, "--role-name", MEMBER_ROLE)


def table(document: dict[str, Any]) -> dict[tuple[str, str], Row]:
    return {
        (p["accountId"], p["region"]): (p["coverage"], p["code"], p["trail"], p["logGroup"], p["status"])
        for p in document["coverage"]
    }


def expected(world: World) -> dict[tuple[str, str], Row]:
    """What the world says AWS shows, with the status the audit must give it (covered: PASS)."""
    return {
        pair: (
            found.kind,
            found.code,
            found.trail.name if found.trail else None,
            found.log_group.key if found.log_group else None,
            "FAIL" if found.kind == NOT_COVERED else "PASS",
        )
        for pair, found in world.expected_coverage().items()
    }


def verdicts(rows: dict[tuple[str, str], Row]) -> dict[tuple[str, str], tuple[str, str, str | None, str]]:
    """Kind, code, trail and status (what --members-from-organization must give the same)."""
    return {pair: (kind, code, trail, status) for pair, (kind, code, trail, _group, status) in rows.items()}


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Deployed]:
    yield deploy(emulator, request.param, tmp_path)


# ---------------------------------------------------------------- every chain intact


@pytest.mark.parametrize("world", ["classic", "organization", "mixed"], indirect=True)
def test_every_pair_has_the_worlds_expected_coverage(
    world: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = entered(world, capsys)
    assert table(document) == expected(world.world)
    assert code == 0
    # One chain per monitored log group, each once, and every pair points at one of them.
    assert sorted(document["chains"]) == sorted(g.key for g in world.world.monitored_log_groups)
    assert {p["chain"] for p in document["coverage"]} == set(document["chains"])
    for chain in document["chains"].values():
        proofs = {p["proof"]: p["status"] for p in chain["controls"]["4.5"]["proofs"]}
        assert proofs["aws matcher"] == "SKIPPED" and proofs["alarm history"] == "NOT_AVAILABLE"
        assert proofs["key policy"] == "PASS"


def test_a_member_covered_by_the_organization_trail_passes_with_the_evidence(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = deploy(emulator, "organization", tmp_path)
    _code, document = entered(deployed, capsys)
    owner = deployed.world.management_account
    group = deployed.world.trail(organization.CT_TRAIL).log_group
    assert group is not None
    pair = next(
        p
        for p in document["coverage"]
        if (p["accountId"], p["region"]) == (organization.PAYMENTS, "eu-west-1")
    )
    assert pair["status"] == "PASS" and pair["coverage"] == ORGANIZATION and pair["allRegions"] is True
    (reason,) = pair["reasons"]
    head, _delivered, tail = reason.partition("; logging, delivering to CloudWatch Logs (last at ")
    assert head == (
        f"covered by organization trail {organization.CT_TRAIL!r} of account {owner}: home us-east-1,"
        f" delivering to log group {group.name!r} in account {owner} us-east-1"
    )
    assert tail.endswith(f" UTC), all management events, chain intact in {owner}"), reason
    (seen,) = pair["trails"]
    # The emulator's CloudTrail delivers as AWS does (local.worlds.shadows): the time AWS gave, no error.
    delivery = seen["cloudWatchLogsDelivery"]
    assert delivery["latestDeliveryTime"] and delivery["latestDeliveryError"] is None
    assert (seen["ownerAccountId"], seen["organization"], seen["logging"], seen["allManagementEvents"]) == (
        owner,
        True,
        True,
        True,
    )


@pytest.mark.parametrize("world", ["organization", "mixed"], indirect=True)
def test_members_without_a_role_are_judged_from_the_organization_trail_by_default(
    world: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    """No flag: a stack member with no role of its own is judged from the organization trail (as
    --members-from-organization does), not entered with the caller's credentials (AccountMismatch)."""
    _code, with_roles = entered(world, capsys)
    code, default = audit(world, capsys)
    assert code == 0 and default["errors"] == [], default["errors"]
    assert verdicts(table(default)) == verdicts(table(with_roles))
    roleless = {
        e["id"]
        for e in world.config["accounts"]
        if "roleArn" not in e
        and "trail" not in e
        and e["id"] != world.config["organizationTrail"]["accountId"]
    }
    assert roleless
    assert {p["accountId"] for p in default["coverage"] if not p["entered"]} == roleless
    assert not any("AccountMismatch" in r for p in default["coverage"] for r in p["reasons"])


@pytest.mark.parametrize("world", ["organization", "mixed"], indirect=True)
def test_members_from_organization_gives_the_same_verdicts_without_member_roles(
    world: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, with_roles = entered(world, capsys)
    code, without = audit(world, capsys, "--members-from-organization")
    assert code == 0 and without["errors"] == []
    assert verdicts(table(without)) == verdicts(table(with_roles))
    own_trail = {e["id"] for e in world.config["accounts"] if "trail" in e}
    own_trail.add(world.config["organizationTrail"]["accountId"])
    assert {p["accountId"] for p in without["coverage"] if not p["entered"]} == {
        a.id for a in world.world.accounts
    } - own_trail


# ---------------------------------------------------------------- breaking things


@pytest.mark.parametrize("world", ["organization", "mixed"], indirect=True)
def test_breaking_the_owners_chain_turns_every_member_fail_naming_the_owner(
    world: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    world.world.break_owner_chain()
    trail = world.world.organization_trail
    assert trail is not None and trail.log_group is not None
    owner, group = trail.owner, trail.log_group
    code, document = entered(world, capsys)
    assert code == 1
    assert table(document) == expected(world.world)
    broken = [p for p in document["coverage"] if p["code"] == "coverage.none.chain_broken"]
    assert {p["accountId"] for p in broken} == {
        a for (a, _r), row in expected(world.world).items() if row[1] == "coverage.none.chain_broken"
    }
    assert len({p["accountId"] for p in broken}) >= 3
    for pair in broken:
        assert pair["status"] == "FAIL" and pair["trailAccountId"] == owner
        assert (
            f"chain in account {owner} ({group.name}): filter: no CloudWatch Logs metric filter"
            in " ".join(pair["reasons"])
        )
    # Those with a working trail of their own stay covered, directly.
    assert {p["status"] for p in document["coverage"] if p["coverage"] == DIRECT} == {"PASS"}
    _code, without = audit(world, capsys, "--members-from-organization")
    assert verdicts(table(without)) == verdicts(table(document))


def test_stopping_one_accounts_own_trail_changes_only_that_account(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = deploy(emulator, "organization", tmp_path)
    _code, before = entered(deployed, capsys)
    deployed.world.stop_trail(organization.SANDBOX)
    code, after = entered(deployed, capsys)
    assert code == 0  # Sandbox is still covered: by the organization trail now
    changed = {pair for pair, row in table(after).items() if table(before)[pair] != row}
    assert changed == {(organization.SANDBOX, region) for region in REGIONS}
    assert {table(after)[pair][:3] for pair in changed} == {
        (ORGANIZATION, "coverage.organization", organization.CT_TRAIL)
    }
    assert table(after) == expected(deployed.world)


def test_breaking_one_accounts_chain_changes_only_that_account(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = deploy(emulator, "classic", tmp_path)
    deployed.world.break_chain(classic.PROD)
    code, document = entered(deployed, capsys)
    assert code == 1
    rows = table(document)
    assert rows == expected(deployed.world)
    assert {pair for pair, row in rows.items() if row[4] == "FAIL"} == {(classic.PROD, r) for r in REGIONS}
    assert {row[1] for pair, row in rows.items() if pair[0] == classic.PROD} == {"coverage.none.chain_broken"}


def test_a_single_region_trail_is_not_cis_and_counts_only_for_its_region(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = deploy(emulator, "mixed", tmp_path)
    # Out of the organization, Legacy Billing keeps only its single-Region trail.
    organizations = deployed.world.client("organizations", deployed.world.management_account, "us-east-1")
    organizations.close_account(AccountId=mixed.LEGACY)
    argv = ["--account", mixed.LEGACY, "--region", "us-east-1", "--region", "eu-west-1", "--json"]
    argv += ["--role-arn", f"arn:aws:iam::{mixed.LEGACY}:role/{MEMBER_ROLE}", "--endpoint-url", emulator.url]
    capsys.readouterr()
    assert cli.run("audit", argv) == 1
    home, elsewhere = json.loads(capsys.readouterr().out)["coverage"]
    assert (home["code"], home["trail"]) == ("coverage.none.single_region", mixed.LEGACY_TRAIL)
    assert "CIS 4.x needs a multi-Region trail" in home["reason"]
    assert elsewhere["code"] == "coverage.none.no_trail"


# ---------------------------------------------------------------- the owner's chain, once


def test_the_owners_chain_is_read_once_and_members_need_no_role(emulator: Emulator, tmp_path: Path) -> None:
    deployed = deploy(emulator, "organization", tmp_path)
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    calls: list[tuple[str, dict[str, Any]]] = []
    session.events.register(
        "provide-client-params.*.*", lambda params, model, **_: calls.append((model.name, params))
    )
    sessions = SessionFactory(session, endpoint_url=emulator.url, max_attempts=2)
    config = load_config(deployed.config)
    group = deployed.world.trail(organization.CT_TRAIL).log_group
    assert group is not None

    report = audit_coverage(
        stack_scope(config, role_name=MEMBER_ROLE, regions=REGIONS),
        sessions,
        [CIS_4_5],
        proofs=ProofSettings(),
    )
    pointing = [p for p in report.pairs if p.chain == group.key]
    assert len(pointing) == 4 * len(REGIONS)  # the management account and three members, every Region
    assert [p["logGroupName"] for name, p in calls if name == "DescribeMetricFilters"].count(group.name) == 1

    calls.clear()
    report = audit_coverage(
        stack_scope(config, regions=REGIONS, members_from_organization=True), sessions, [CIS_4_5]
    )
    assert {p.status for p in report.pairs} == {Status.PASS}
    assumed = {p["RoleArn"].split(":")[4] for name, p in calls if name == "AssumeRole"}
    assert assumed == {deployed.world.management_account, organization.SANDBOX}


def test_an_email_confirmation_only_the_emulator_gave_is_flagged_not_a_plain_pass(
    emulator: Emulator, tmp_path: Path
) -> None:
    """moto confirms the email subscriber at once; AWS would wait for its owner. The row says so."""
    deployed = deploy(emulator, "classic", tmp_path)
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    sessions = SessionFactory(session, endpoint_url=emulator.url, max_attempts=2)
    report = audit_coverage(
        stack_scope(load_config(deployed.config), role_name=MEMBER_ROLE, regions=REGIONS), sessions, [CIS_4_5]
    )
    results = [r for chain in report.chains.values() for r in chain.controls]
    assert results
    for result in results:
        [flag] = [p for p in result.proofs if p.proof == "confirmation"]
        assert flag.status is Status.NOT_AVAILABLE and emulator.url in flag.detail
        assert "email:soc@example.com" in flag.detail and flag.evidence["restsOnEmulatorOnly"] is True
        [subscription] = [f for f in result.findings if f.check == "subscription"]
        assert subscription.detail.startswith("confirmed only by the emulator, not by AWS: ")


def test_a_delegated_administrator_named_as_the_owner_is_told_who_owns_the_trail(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWS keeps the management account as the owner of the organization trails a delegated
    administrator creates, and their ARN names it (CloudTrail User Guide, "Organization delegated
    administrator"). A stack naming the delegated administrator gets an error naming the owner, and the
    members are judged from the real trail, not failed without a word."""
    deployed = deploy(emulator, "organization", tmp_path)
    owner = deployed.world.management_account
    trail = deployed.world.trail(organization.CT_TRAIL)
    delegated = organization.AUDIT  # Control Tower's Audit account, CloudTrail's delegated administrator here
    stated = {
        **deployed.config["organizationTrail"],
        "accountId": delegated,
        "roleArn": f"arn:aws:iam::{delegated}:role/{MEMBER_ROLE}",
    }
    config = {**deployed.config, "organizationTrail": stated}
    deployed.stack_file.write_text(
        yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in config.items()}})
    )
    for flags in (("--members-from-organization",), ("--role-name", MEMBER_ROLE)):
        code, document = audit(deployed, capsys, *flags)
        assert code == 3, (flags, document["errors"])  # the stack names the wrong owner: never a clean run
        (error,) = document["errors"]
        assert f"account {delegated} is named as the owner of the organization trail" in error
        assert f"is owned by account {owner}, as its ARN {trail.arn} says" in error
        assert "cloudtrail-delegated-administrator.html" in error
        members = [p for p in document["coverage"] if p["accountId"] not in (owner, delegated)]
        assert {p["status"] for p in members} == {"PASS"}, flags
        assert any(p["coverage"] == ORGANIZATION for p in members), flags
