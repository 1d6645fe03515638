"""End to end in each emulator world: discover, the config it wrote, deploy, audit (issue 10's "Tests").

For each world (``local.worlds``: classic, organization, mixed), as a user would:

1. ``cis-monitoring discover --endpoint-url <emulator>`` with the management account's credentials;
2. the config it printed (YAML on stdout), plus what a person adds to it: ``notifications`` (an
   email for every chain, and a same-account SQS queue with ``queuePolicy: managed`` on the
   organization trail's chain, or the first account's) and the emulator's endpoint, saved as a
   stack file;
3. ``pulumi up`` of that config into the emulator, through the adapter
   (``local.emulator_deploy.deploy_stack``: the real ``__main__.py`` under Pulumi's mocks);
4. ``cis-monitoring audit --stack <that file> --json`` against the emulator, entering each account
   with the ``roleArn`` discover wrote; members discover wrote without one are judged with
   ``--members-from-organization``, as the user of a landing zone would.

Every (account, Region) must get what the world says AWS shows once the chains are deployed
(``World.expected_coverage``: kind, code, trail and log group), which does not depend on what
discover wrote: a wrong config shows as a wrong verdict. Then the world's break helpers change the
emulator and the audit must follow.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.topology import DIRECT, NOT_COVERED, ORGANIZATION
from cis_monitoring.rollout import discover
from local.emulator import Emulator
from local.emulator_deploy import Deployment, deploy_stack, stack_file_config, with_emulator_endpoint
from local.worlds import REGIONS, WORLDS, World, build_world, classic, mixed, organization
from tests.local import test_world_audit as world_audit
from tests.local.test_world_audit import expected, table

pytestmark = pytest.mark.emulator

EMAIL = {"protocol": "email", "endpoint": "soc@example.com"}
QUEUE = "cis-alerts"
OWN_TRAIL = {"classic": classic.PROD, "organization": organization.SANDBOX, "mixed": mixed.WEB}
"""Per world, an account with a trail of its own (not the organization trail) to stop."""


def run_discover(world: World, *args: str) -> str:
    """``cis-monitoring discover`` against the world's emulator; its stdout."""
    out, err = io.StringIO(), io.StringIO()
    code = discover.run(["--endpoint-url", world.endpoint, *args], out=out, err=err)
    assert code == 0 and "Traceback" not in err.getvalue(), err.getvalue()
    return out.getvalue()


def queue_site(config: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """Where the SQS subscriber goes: the organization trail's entry (else the first own trail's); account, Region."""
    organization_trail = config.get("organizationTrail")
    if organization_trail is not None:
        return organization_trail, organization_trail["accountId"], organization_trail["homeRegion"]
    entry = next(e for e in config["accounts"] if "trail" in e)
    return entry, entry["id"], entry["trail"]["homeRegion"]


def with_notifications(world: World, discovered: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The discovered config with what a person adds; the SQS subscriber's chain site ``<account>/<region>``."""
    config = copy.deepcopy(discovered)
    config["notifications"] = {"subscriptions": [EMAIL]}
    entry, account, region = queue_site(config)
    url = world.client("sqs", account, region).create_queue(QueueName=QUEUE)["QueueUrl"]
    assert url.endswith(f"/{account}/{QUEUE}"), url
    queue = {
        "protocol": "sqs",
        "endpoint": f"arn:aws:sqs:{region}:{account}:{QUEUE}",
        "queuePolicy": "managed",
    }
    entry["notifications"] = {"subscriptions": [EMAIL, queue]}
    return with_emulator_endpoint(config, world.endpoint), f"{account}/{region}"


def audit_stack(
    world: World, stack_file: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    """``cis-monitoring audit --stack <file> --json`` in the worlds' Regions, against the stack's emulator.

    Accounts are entered with their ``roleArn``; if discover wrote members without one, they are
    judged from the organization trail (``--members-from-organization``), needing no role there.
    """
    accounts = stack_file_config(str(stack_file))["accounts"]
    flags = () if all("roleArn" in e for e in accounts) else ("--members-from-organization",)
    return world_audit.audit(world_audit.Deployed(world, stack_file, {}), capsys, *flags)


@dataclass
class EndToEnd:
    world: World
    stack_file: Path
    deployment: Deployment
    queue_site: str
    """``<account>/<region>`` of the chain with the SQS subscriber."""

    def audit(self, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
        return audit_stack(self.world, self.stack_file, capsys)


def end_to_end(emulator: Emulator, name: str, tmp_path: Path) -> EndToEnd:
    world = build_world(name, emulator.url)
    discovered = yaml.safe_load(run_discover(world))
    config, site = with_notifications(world, discovered)
    stack_file = tmp_path / f"Pulumi.{name}.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}))
    deployment = deploy_stack(stack_file_config(str(stack_file)), emulator.url, stack=name)
    assert deployment.error is None, deployment.error
    return EndToEnd(world, stack_file, deployment, site)


@pytest.fixture
def e2e(
    emulator: Emulator, management_credentials: None, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[EndToEnd]:
    yield end_to_end(emulator, request.param, tmp_path)


# ---------------------------------------------------------------- every chain intact


@pytest.mark.parametrize("e2e", list(WORLDS), indirect=True)
def test_every_pair_gets_the_worlds_coverage_from_the_config_discover_wrote(
    e2e: EndToEnd, capsys: pytest.CaptureFixture[str]
) -> None:
    world = e2e.world
    monitored = sorted(g.key for g in world.monitored_log_groups)
    assert sorted(e2e.deployment.outputs["chains"]) == monitored, "one chain per monitored log group"

    code, document = e2e.audit(capsys)
    rows = table(document)
    assert rows == expected(world)
    assert set(rows) == {(a.id, r) for a in world.accounts for r in REGIONS}
    assert {row[4] for row in rows.values()} == {"PASS"} and code == 0 and document["errors"] == []
    assert sorted(document["chains"]) == monitored

    # What the stack's outputs state is what the audit found.
    truth = world.expected_coverage()
    for claim in e2e.deployment.outputs["coverage"].values():
        assert claim["region"] == "*", claim
        for region in REGIONS:
            found = truth[(claim["accountId"], region)]
            assert found.log_group is not None
            assert (claim["coverage"], claim["chain"]) == (found.kind, found.log_group.key), claim

    # The subscriber added to the discovered config: the program wrote its queue's policy.
    (chain,) = [c for key, c in document["chains"].items() if key.startswith(f"{e2e.queue_site}/")]
    proofs = {p["proof"]: p["status"] for p in chain["controls"]["4.5"]["proofs"]}
    assert proofs["queue policy"] == "PASS", chain["controls"]["4.5"]["proofs"]


# ---------------------------------------------------------------- breaking things


@pytest.mark.parametrize("e2e", ["organization", "mixed"], indirect=True)
def test_breaking_the_owners_chain_turns_every_member_fail_naming_the_owner(
    e2e: EndToEnd, capsys: pytest.CaptureFixture[str]
) -> None:
    world = e2e.world
    trail = world.organization_trail
    assert trail is not None and trail.log_group is not None
    owner, group = trail.owner, trail.log_group
    members = {a for (a, _r), found in world.expected_coverage().items() if found.kind == ORGANIZATION}
    assert len(members) >= 3

    world.break_owner_chain()
    code, document = e2e.audit(capsys)

    assert code == 1
    assert table(document) == expected(world)
    failed = [p for p in document["coverage"] if p["status"] == "FAIL"]
    assert {p["accountId"] for p in failed} == members | {owner}
    for pair in failed:
        assert (pair["code"], pair["trail"], pair["trailAccountId"]) == (
            "coverage.none.chain_broken",
            trail.name,
            owner,
        ), pair
        words = " ".join(pair["reasons"])
        assert f"chain in account {owner} ({group.name}): filter: no CloudWatch Logs metric filter" in words
    # Those with a working trail of their own stay covered, directly.
    assert {
        (p["coverage"], p["status"]) for p in document["coverage"] if p["accountId"] not in members | {owner}
    } == {(DIRECT, "PASS")}


@pytest.mark.parametrize("e2e", list(WORLDS), indirect=True)
def test_stopping_one_accounts_own_trail_changes_only_that_account(
    e2e: EndToEnd, capsys: pytest.CaptureFixture[str]
) -> None:
    world = e2e.world
    account = OWN_TRAIL[world.name]
    before = expected(world)
    assert {row[:2] for (a, _r), row in before.items() if a == account} == {(DIRECT, "coverage.direct")}

    world.stop_trail(account)
    code, document = e2e.audit(capsys)

    after = table(document)
    assert after == expected(world)
    assert {pair for pair, row in after.items() if row != before[pair]} == {(account, r) for r in REGIONS}
    if world.organization_trail is None:  # nothing else records it: not covered, until it logs again
        assert {after[(account, r)][:2] for r in REGIONS} == {(NOT_COVERED, "coverage.none.not_logging")}
        assert code == 1
    else:  # the organization trail still records it
        assert {after[(account, r)][:2] for r in REGIONS} == {(ORGANIZATION, "coverage.organization")}
        assert code == 0


# ---------------------------------------------------------------- a Control Tower landing zone, as in README


def test_discover_writes_into_a_stack_file_that_deploys_one_chain_covering_the_landing_zone(
    emulator: Emulator, management_credentials: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world("organization", emulator.url)
    stack_file = tmp_path / "Pulumi.landing-zone.yaml"
    # What the user wrote by hand before: subscribers and the endpoint; discover adds the rest.
    written = with_emulator_endpoint({"notifications": {"subscriptions": [EMAIL]}}, emulator.url)
    stack_file.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in written.items()}}))
    run_discover(world, "--repo-root", str(tmp_path), "--stack", "landing-zone", "--write")

    config = stack_file_config(str(stack_file))
    assert config["notifications"] == written["notifications"] and config["emulator"] == written["emulator"]
    deployment = deploy_stack(config, emulator.url, stack="landing-zone")
    assert deployment.error is None, deployment.error
    trail = world.trail(organization.CT_TRAIL)
    assert trail.log_group is not None
    # The organization chain, and the Sandbox account's own: none in the members.
    assert set(deployment.outputs["chains"]) == {g.key for g in world.monitored_log_groups}
    assert trail.log_group.key in deployment.outputs["chains"]

    code, document = audit_stack(world, stack_file, capsys)
    assert code == 0 and table(document) == expected(world)
    organization_covered = {p["accountId"] for p in document["coverage"] if p["coverage"] == ORGANIZATION}
    assert organization_covered == {organization.LOG_ARCHIVE, organization.AUDIT, organization.PAYMENTS}
