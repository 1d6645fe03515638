"""The built pack over gRPC judges coverage through organization and account trails (issue 10).

The pack learns the trails from its config (``organizationTrails``, ``accountTrails``) and
what must be covered from ``requiredTargets``. Most stacks are built by hand as the engine
sends them (``hand_stacks``): the organization stack deploys ONE chain, in the trail owner's
account and home Region, on Control Tower's suffixed log group. The last tests use what the
program registers for ``Pulumi.prod.yaml`` (an organization-trail stack) under mocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from cis_monitoring.core.catalog import CIS_4_5
from local.analyzer_client import POLICY_SOURCE_DIR, PolicyPackServer, Violation, stack_resources
from local.program_harness import ProgramRun, decode_provider_inputs, run_program, stack_config
from tests.conftest import PAGER_URL
from tests.policy.hand_stacks import ALARM, FILTER, PREVIEW_UNKNOWNS, SUBSCRIPTION, TOPIC, Stack, chain

pytestmark = pytest.mark.protocol

CHAIN = "cis-monitoring-chain"
NOTES = "cis-monitoring-coverage-notes"
OWNER, HOME = "999999999999", "us-east-1"
GROUP = "aws-controltower/CloudTrailLogs-tfw-qeb"
PREFIX = "aws-controltower/CloudTrailLogs"
TRAIL = "aws-controltower-BaselineCloudTrail"
MEMBERS = ["111111111111", "222222222222", "333333333333"]
OWN = "444444444444"
"""An account with its own multi-Region trail (home eu-west-1), not a member of the organization trail."""
ORG_TRAIL = {
    "accountId": OWNER,
    "homeRegion": HOME,
    "logGroupPrefix": PREFIX,
    "name": TRAIL,
    "members": MEMBERS,
}
WEAK = CIS_4_5.filter_pattern.replace(" || ($.eventName = StopLogging)", "")
CODES = re.compile(r"\[codes: ([a-z_.]+(?:, [a-z_.]+)*)\]$")


def every_region(*accounts: str) -> list[dict[str, str]]:
    return [{"accountId": a, "region": "*"} for a in accounts]


def config(**chain_config: Any) -> dict[str, Any]:
    return {CHAIN: {"organizationTrails": [ORG_TRAIL], **chain_config}}


ORG_STACK_CONFIG = config(requiredTargets=every_region(*MEMBERS, OWNER))
ORG_STACK = Stack.of(chain(OWNER, HOME, GROUP))


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    server = PolicyPackServer()
    try:
        yield server
    finally:
        server.close()


def analyze(pack: PolicyPackServer, pack_config: dict[str, Any], stack: Stack, **kw: Any) -> list[Violation]:
    pack.configure(pack_config)
    violations = pack.analyze_stack(stack.resources(**kw))
    assert not [v for v in violations if "during preview" in v.message], violations
    return violations


def chain_violations(violations: list[Violation]) -> list[Violation]:
    assert all(v.level == "mandatory" for v in violations if v.policy == CHAIN), violations
    return [v for v in violations if v.policy == CHAIN]


def codes(violation: Violation) -> list[str]:
    match = CODES.search(violation.message)
    assert match, violation.message
    return match.group(1).split(", ")


def assert_names_every_member(violation: Violation, broken: str) -> None:
    message = violation.message
    assert f"account {OWNER} region {HOME}: " in message, message
    assert broken in message, message
    for account in [*MEMBERS, OWNER]:
        assert f"{account} (every Region)" in message, (account, message)
    assert (
        f"not covered: multi-Region organization trail {TRAIL!r} of account {OWNER} (home {HOME})" in message
    )
    assert "coverage.none.chain_broken" in codes(violation)


# ---------------------------------------------------------------- the organization stack


def test_the_organization_only_stack_passes_with_its_members_required(pack: PolicyPackServer) -> None:
    assert analyze(pack, ORG_STACK_CONFIG, ORG_STACK) == []


BROKEN = [
    (
        "filter removed",
        ORG_STACK.without(FILTER, OWNER, HOME),
        "no CloudWatch Logs metric filter for CIS 4.5",
    ),
    ("pattern weakened", ORG_STACK.changed(FILTER, OWNER, HOME, pattern=WEAK), "it misses StopLogging"),
    ("alarm removed", ORG_STACK.without(ALARM, OWNER, HOME), "no CloudWatch alarm on metric"),
    (
        "alarm threshold 5",
        ORG_STACK.changed(ALARM, OWNER, HOME, threshold=5),
        "GreaterThanOrEqualToThreshold 5 never fires on one event",
    ),
    ("subscriber removed", ORG_STACK.without(SUBSCRIPTION, OWNER, HOME), "has no subscription"),
    ("topic removed", ORG_STACK.without(TOPIC, OWNER, HOME), "which is no SNS topic in this stack"),
]


@pytest.mark.parametrize(("case", "stack", "broken"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_organization_chain_is_one_violation_naming_every_member(
    case: str, stack: Stack, broken: str, pack: PolicyPackServer
) -> None:
    violations = analyze(pack, ORG_STACK_CONFIG, stack)
    [violation] = chain_violations(violations)
    assert_names_every_member(violation, broken)
    assert [v for v in violations if v.policy != CHAIN] == [], "no note: the owner's chain is judged here"


def test_the_filter_on_another_log_group_does_not_cover_the_members(pack: PolicyPackServer) -> None:
    """The provider target still has a working chain, but not on the organization trail's group."""
    stack = ORG_STACK.changed(FILTER, OWNER, HOME, logGroupName="app/payments")
    [violation] = chain_violations(analyze(pack, ORG_STACK_CONFIG, stack))
    assert_names_every_member(
        violation, f"on the log group whose name starts with {PREFIX!r} in account {OWNER} {HOME}"
    )
    # Without a declared group, any chain in the owner's home Region counts.
    loose = config(requiredTargets=every_region(*MEMBERS))
    loose[CHAIN]["organizationTrails"] = [{k: v for k, v in ORG_TRAIL.items() if k != "logGroupPrefix"}]
    assert analyze(pack, loose, stack) == []


def test_members_all_names_the_whole_organization_and_the_required_accounts(pack: PolicyPackServer) -> None:
    every = {
        CHAIN: {
            "organizationTrails": [{**ORG_TRAIL, "members": "all"}],
            "requiredTargets": every_region(*MEMBERS),
        }
    }
    assert analyze(pack, every, ORG_STACK) == []
    [violation] = chain_violations(analyze(pack, every, ORG_STACK.without(FILTER, OWNER, HOME)))
    assert (
        "every member account of the organization (required here: accounts 111111111111 (every Region)"
        in (violation.message)
    )


def test_a_stack_that_deploys_into_the_owner_but_lacks_the_chain_is_blocked(pack: PolicyPackServer) -> None:
    """Deploying into the owner's account makes this the owner's stack: its chain is judged here."""
    elsewhere = Stack.of(chain(OWNER, "eu-west-1", "app/other"))
    [violation] = chain_violations(analyze(pack, config(requiredTargets=every_region(*MEMBERS)), elsewhere))
    assert f"account {OWNER} region {HOME}: no CloudWatch Logs metric filter" in violation.message
    for member in MEMBERS:
        assert f"{member} (every Region)" in violation.message


# ---------------------------------------------------------------- per-account stacks


def test_a_member_stack_gets_a_note_not_a_violation(pack: PolicyPackServer) -> None:
    violations = analyze(pack, config(requiredTargets=every_region(MEMBERS[0])), Stack())
    assert [(v.policy, v.level) for v in violations] == [(NOTES, "advisory")], violations
    note = violations[0].message
    assert (
        f"account {MEMBERS[0]} (every Region) is covered by organization trail {TRAIL!r} of account {OWNER}"
        in (note)
    )
    assert f"that chain is judged in the stack of account {OWNER}" in note


def test_per_account_stacks_are_judged_consistently(pack: PolicyPackServer) -> None:
    """A member's coverage gets one verdict, in the owner's stack; the member's stack notes where."""
    account_stack = Stack.of(chain(OWN, "eu-west-1", "aws-cloudtrail-logs-444444444444"))
    account_config = config(
        accountTrails=[
            {"accountId": OWN, "homeRegion": "eu-west-1", "logGroup": "aws-cloudtrail-logs-444444444444"}
        ],
        requiredTargets=every_region(OWN, MEMBERS[0]),
    )
    broken_org = ORG_STACK.without(FILTER, OWNER, HOME)
    for org_stack, org_blocked in ((ORG_STACK, False), (broken_org, True)):
        assert bool(chain_violations(analyze(pack, ORG_STACK_CONFIG, org_stack))) is org_blocked
        # The account stack cannot see the owner's chain: the same note either way, never a pass or a block.
        violations = analyze(pack, account_config, account_stack)
        assert [(v.policy, v.level) for v in violations] == [(NOTES, "advisory")], violations
        assert (
            f"account {MEMBERS[0]} (every Region) is covered by organization trail" in violations[0].message
        )
    [violation] = chain_violations(
        analyze(pack, account_config, account_stack.without(FILTER, OWN, "eu-west-1"))
    )
    assert violation.message.startswith(f"{chain_description(pack)}\naccount {OWN} region eu-west-1: ")
    assert f"account {OWN} (every Region) is not covered: multi-Region trail" in violation.message
    assert MEMBERS[0] not in violation.message


def chain_description(pack: PolicyPackServer) -> str:
    return next(p.description for p in pack.info().policies if p.name == CHAIN)


def test_a_member_stack_still_needs_a_working_chain_where_it_deploys(pack: PolicyPackServer) -> None:
    """Coverage by the organization trail never excuses a broken chain the stack does deploy."""
    member = MEMBERS[1]
    stack = Stack.of(chain(member, "eu-west-1", "team/trail")).changed(
        ALARM, member, "eu-west-1", threshold=5
    )
    violations = analyze(pack, config(requiredTargets=every_region(member)), stack)
    [violation] = chain_violations(violations)
    assert f"account {member} region eu-west-1: " in violation.message and "never fires" in violation.message
    assert [v.policy for v in violations if v.policy != CHAIN] == [NOTES]


def test_disabling_the_chain_policy_leaves_no_stale_note(pack: PolicyPackServer) -> None:
    member_config = config(requiredTargets=every_region(MEMBERS[0]))
    assert [v.policy for v in analyze(pack, member_config, Stack())] == [NOTES]
    assert (
        analyze(
            pack, {**member_config, CHAIN: {**member_config[CHAIN], "enforcementLevel": "disabled"}}, Stack()
        )
        == []
    )


# ---------------------------------------------------------------- required targets and Regions


def test_required_targets_with_every_region(pack: PolicyPackServer) -> None:
    own_group = "aws-cloudtrail-logs-444444444444"
    stack = Stack.of(chain(OWN, "eu-west-1", own_group))
    declared = {"accountTrails": [{"accountId": OWN, "homeRegion": "eu-west-1", "logGroup": own_group}]}
    required = [
        {"accountId": OWN, "region": "*"},
        {"accountId": OWN, "region": "ap-southeast-2"},  # covered by the home Region's chain
        {"accountId": MEMBERS[0], "region": "eu-west-1"},  # by the organization trail's
    ]
    pack_config = {CHAIN: {**declared, "organizationTrails": [ORG_TRAIL], "requiredTargets": required}}
    violations = analyze(pack, pack_config, stack)
    assert [v.policy for v in violations] == [NOTES], violations
    assert f"account {MEMBERS[0]} (eu-west-1) is covered by organization trail" in violations[0].message
    # Without the declared trail, a Region without a chain is not covered (a chain covers its own target).
    violations = analyze(pack, {CHAIN: {"requiredTargets": required[1:2]}}, stack)
    [violation] = chain_violations(violations)
    assert f"account {OWN} region ap-southeast-2: no CloudWatch Logs metric filter" in violation.message


def test_every_region_needs_a_declared_trail(pack: PolicyPackServer) -> None:
    stack = Stack.of(chain(OWN, "eu-west-1", "g"))
    [violation] = chain_violations(analyze(pack, {CHAIN: {"requiredTargets": every_region(OWN)}}, stack))
    assert 'requiredTargets[0].region: "*" (every Region) needs a multi-Region trail' in violation.message


# ---------------------------------------------------------------- preview


def test_unknown_values_never_downgrade_the_organization_chain(pack: PolicyPackServer) -> None:
    assert analyze(pack, ORG_STACK_CONFIG, ORG_STACK, unknown=PREVIEW_UNKNOWNS) == []
    for stack, broken in (
        (ORG_STACK.without(FILTER, OWNER, HOME), "no CloudWatch Logs metric filter"),
        (ORG_STACK.without(ALARM, OWNER, HOME), "no CloudWatch alarm on metric"),
        (ORG_STACK.without(SUBSCRIPTION, OWNER, HOME), "has no subscription"),
    ):
        [violation] = chain_violations(analyze(pack, ORG_STACK_CONFIG, stack, unknown=PREVIEW_UNKNOWNS))
        assert_names_every_member(violation, broken)


def test_an_unresolved_log_group_lookup_is_judged_by_the_rest_of_the_chain(pack: PolicyPackServer) -> None:
    """During preview the prefix look-up may not be resolved: the filter counts, and its links are judged."""
    unknown = {**PREVIEW_UNKNOWNS, FILTER: {"logGroupName"}}
    assert analyze(pack, ORG_STACK_CONFIG, ORG_STACK, unknown=unknown) == []
    weak = ORG_STACK.changed(FILTER, OWNER, HOME, pattern=WEAK)
    [violation] = chain_violations(analyze(pack, ORG_STACK_CONFIG, weak, unknown=unknown))
    assert_names_every_member(violation, "it misses StopLogging")


# ---------------------------------------------------------------- the pack config


def test_the_schema_declares_the_trails(pack: PolicyPackServer) -> None:
    from google.protobuf import json_format

    info = {p.name: p for p in pack.info().policies}
    schema = json_format.MessageToDict(info[CHAIN].configSchema.properties)
    assert {"organizationTrails", "accountTrails", "requiredTargets"} <= set(schema)
    member_item = schema["organizationTrails"]["items"]
    assert member_item["required"] == ["accountId", "homeRegion", "members"]
    assert info[NOTES].enforcementLevel == 0  # ADVISORY


def test_a_bad_config_is_one_violation_with_every_problem_and_nothing_judged(pack: PolicyPackServer) -> None:
    bad = {
        CHAIN: {
            "organizationTrails": [
                {**ORG_TRAIL, "accountId": "99", "logGroup": GROUP},
                {"accountId": "888888888888", "homeRegion": "mars-1", "members": [MEMBERS[0]]},
                {
                    "accountId": "777777777777",
                    "homeRegion": "eu-west-1",
                    "members": [MEMBERS[1]],
                    "owner": "x",
                },
            ],
            "accountTrails": [
                {"accountId": OWN, "homeRegion": "eu-west-1"},
                {"accountId": OWN, "homeRegion": "us-east-2"},
            ],
            "requiredTargets": [
                *every_region(MEMBERS[2], "555555555555"),
                {"accountId": OWN, "region": "moon"},
            ],
            "organisationTrails": [],
        }
    }
    [violation] = analyze(pack, bad, ORG_STACK.without(FILTER, OWNER, HOME))
    assert violation.policy == CHAIN and violation.level == "mandatory"
    problems = violation.message.split("Fix:\n", 1)[1].splitlines()
    assert problems == [
        "- accountTrails[1].accountId: account 444444444444 is declared twice (also accountTrails[0]); an "
        "account's one multi-Region trail delivers to one log group",
        "- organisationTrails: unknown key (the keys here are accountTrails, allowedExternalTopicArns, controls, "
        "organizationTrails, reportPath, requiredTargets, strictCanonicalText)",
        "- organizationTrails[0]: set at most one of logGroup (the group's full name) and logGroupPrefix (the "
        "start of its name, for Control Tower's aws-controltower/CloudTrailLogs-<suffix>)",
        "- organizationTrails[0].accountId: '99' is not the trail owner's account id (12 digits)",
        "- organizationTrails[1].homeRegion: 'mars-1' is not the trail's home Region, where its log group is "
        "(e.g. us-east-1)",
        "- organizationTrails[2].owner: unknown key (the keys here are accountId, homeRegion, logGroup, "
        "logGroupPrefix, members, name)",
        "- requiredTargets[2].region: 'moon' is not an AWS Region, or \"*\" (every Region)",
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            {
                "organizationTrails": [
                    ORG_TRAIL,
                    {**ORG_TRAIL, "accountId": "888888888888", "members": [MEMBERS[1]]},
                ]
            },
            "organizationTrails[1].members[0]: account 222222222222 is already a member of organizationTrails[0]",
        ),
        (
            {"organizationTrails": [{**ORG_TRAIL, "members": "all"}, {**ORG_TRAIL, "members": "all"}]},
            'organizationTrails[1].members: "all", but organizationTrails[0] already records every account',
        ),
        (
            {"organizationTrails": [{**ORG_TRAIL, "members": []}]},
            'organizationTrails[0].members: [] is not "all" (every account of the organization) or a list',
        ),
        (
            {"organizationTrails": [{k: v for k, v in ORG_TRAIL.items() if k != "members"}]},
            'organizationTrails[0].members: missing; write "all" (every account of the organization) or a list',
        ),
        (
            {"requiredTargets": [{"accountId": OWN, "region": "eu-west-1"}] * 2},
            "requiredTargets[1]: account 444444444444 region eu-west-1 is listed twice (also requiredTargets[0])",
        ),
        (
            {"organizationTrails": [{**ORG_TRAIL, "homeRegion": "us-east-9"}]},
            "organizationTrails[0].homeRegion: 'us-east-9' is not an AWS Region",
        ),
    ],
    ids=["member of two trails", "two trails of all", "no members", "members missing", "twice", "no region"],
)
def test_each_rule_between_entries_names_its_key(
    entry: dict[str, Any], problem: str, pack: PolicyPackServer
) -> None:
    [violation] = analyze(pack, {CHAIN: entry}, ORG_STACK)
    assert f"- {problem}" in violation.message, violation.message


def test_the_shipped_prod_config_is_the_organization_stack(pack: PolicyPackServer) -> None:
    prod = prod_pack_config()
    # The shipped config wants every control; these hand-made chains are 4.5's (the program's stack
    # with every control passes it: tests/policy/test_all_controls_pack.py).
    assert prod[CHAIN]["controls"] == "all"
    prod[CHAIN]["controls"] = ["4.5"]
    [trail] = prod[CHAIN]["organizationTrails"]
    [own] = prod[CHAIN]["accountTrails"]
    owner, home = trail["accountId"], trail["homeRegion"]
    stack = Stack.of(chain(owner, home, GROUP), chain(own["accountId"], own["homeRegion"], own["logGroup"]))
    assert analyze(pack, prod, stack) == []
    [violation] = chain_violations(analyze(pack, prod, stack.without(FILTER, owner, home)))
    assert violation.message.startswith(f"{chain_description(pack)}\naccount {owner} region {home}: ")
    for account in (owner, *(m for m in trail["members"] if m != own["accountId"])):
        assert f"{account} (every Region)" in violation.message, account
    assert own["accountId"] not in violation.message, "its own trail's chain still covers it"
    # Without its own chain as well, it is named by both: fixing either covers it.
    both = stack.without(FILTER, owner, home).without(FILTER, own["accountId"], own["homeRegion"])
    violations = chain_violations(analyze(pack, prod, both))
    assert len(violations) == 2 and all(f"{own['accountId']} (every Region)" in v.message for v in violations)
    assert prod.get(NOTES) == "advisory", "prod makes every policy mandatory; a note must never block"


def prod_pack_config() -> dict[str, Any]:
    return json.loads((POLICY_SOURCE_DIR / "config" / "prod.json").read_text())


# ---------------------------------------------------------------- stacks the program registers (Pulumi.prod.yaml)


@pytest.fixture(scope="module")
def prod_run() -> ProgramRun:
    config = stack_config("prod")[0]
    config["pagerEndpoint"] = PAGER_URL
    run = run_program(config, stack="prod", secret_keys=["pagerEndpoint"])
    assert run.error is None, run.error
    return run


def _org_site(run: ProgramRun) -> tuple[str, str]:
    trail = stack_config("prod")[0]["organizationTrail"]
    return trail["accountId"], trail["homeRegion"]


def _without_filter_at(run: ProgramRun, account: str, region: str) -> ProgramRun:
    """The run without 4.5's filter at the site (the stack has every control's: one chain breaks)."""
    by_urn = run.by_urn()
    kept = []
    for resource in run.resources:
        provider = by_urn.get(resource.provider.rsplit("::", 1)[0]) if resource.provider else None
        at = provider and decode_provider_inputs(provider.inputs)
        if (
            resource.type == FILTER
            and resource.inputs["metricTransformation"]["name"] == CIS_4_5.metric_name
            and at
            and (at["allowedAccountIds"][0], at["region"]) == (account, region)
        ):
            continue
        kept.append(resource)
    assert len(kept) == len(run.resources) - 1
    return ProgramRun(kept, run.outputs, run.invokes)


def test_the_programs_organization_stack_passes_the_prod_config(
    prod_run: ProgramRun, pack: PolicyPackServer
) -> None:
    pack.configure(prod_pack_config())
    assert pack.analyze_stack(stack_resources(prod_run)) == []
    assert pack.analyze_stack(stack_resources(prod_run, unknown=PREVIEW_UNKNOWNS)) == []


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_the_programs_organization_chain_broken_names_the_members_it_leaves_uncovered(
    preview: bool, prod_run: ProgramRun, pack: PolicyPackServer
) -> None:
    owner, home = _org_site(prod_run)
    members = list(prod_pack_config()[CHAIN]["organizationTrails"][0]["members"])
    with_own_trail = [a["id"] for a in stack_config("prod")[0]["accounts"] if "trail" in a]
    broken = _without_filter_at(prod_run, owner, home)
    pack.configure(prod_pack_config())
    violations = pack.analyze_stack(stack_resources(broken, unknown=PREVIEW_UNKNOWNS if preview else None))
    assert not [v for v in violations if "during preview" in v.message]
    [violation] = chain_violations(violations)
    assert f"account {owner} region {home}: no CloudWatch Logs metric filter" in violation.message
    for account in (owner, *(m for m in members if m not in with_own_trail)):
        assert f"{account} (every Region)" in violation.message, account
    assert with_own_trail and all(a not in violation.message for a in with_own_trail)


def test_a_per_account_stack_from_the_program_is_judged_consistently(pack: PolicyPackServer) -> None:
    """The security account's own stack: its own chain is judged here, its organization coverage is not."""
    prod = stack_config("prod")[0]
    own = next(a for a in prod["accounts"] if "trail" in a)
    config = {k: v for k, v in prod.items() if k != "organizationTrail"}
    config["accounts"] = [own]
    run = run_program(config, stack="security")
    assert run.error is None, run.error
    pack_config = prod_pack_config()
    member = next(m for m in pack_config[CHAIN]["organizationTrails"][0]["members"] if m != own["id"])
    pack_config[CHAIN]["requiredTargets"] = every_region(own["id"], member)
    pack.configure(pack_config)
    violations = pack.analyze_stack(stack_resources(run))
    assert [(v.policy, v.level) for v in violations] == [(NOTES, "advisory")], violations
    assert f"account {member} (every Region) is covered by organization trail" in violations[0].message
    # Its own chain broken: the chain it deploys is blocked (every provider target's rule), while its
    # coverage falls back to the organization trail, judged in the owner's stack, as the audit would.
    home = own["trail"]["homeRegion"]
    violations = pack.analyze_stack(stack_resources(_without_filter_at(run, own["id"], home)))
    [violation] = chain_violations(violations)
    assert f"account {own['id']} region {home}: no CloudWatch Logs metric filter" in violation.message
    [note] = [v.message for v in violations if v.policy == NOTES]
    assert (
        f"accounts {min(own['id'], member)} (every Region) and {max(own['id'], member)} (every Region)"
        in note
    )
