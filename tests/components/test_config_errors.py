"""Bad config: one error listing every problem with its key path, and nothing registered."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.spec import ConfigError, load_config, targets
from local.program_harness import run_program
from tests.conftest import PAGER_URL

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets a dotted/indexed path like ``accounts[0].regions[0].region``."""

    def apply(config: dict[str, Any]) -> None:
        node: Any = config
        parts = path.replace("]", "").replace("[", ".").split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _append_account(account: dict[str, Any]) -> Mutation:
    return lambda config: config["accounts"].append(account)


def _duplicate_first_region(config: dict[str, Any]) -> None:
    account = config["accounts"][0]
    del account["trail"]
    account["regions"] = [
        {"region": "us-east-1", "logGroup": "trail-a"},
        {"region": "us-east-1", "logGroup": "trail-b"},
    ]


def _per_region(*groups: tuple[str, str], per_region_trail: bool = False) -> Mutation:
    """Account 0 with per-Region trails instead of its multi-Region trail."""

    def apply(config: dict[str, Any]) -> None:
        account = config["accounts"][0]
        del account["trail"]
        account["regions"] = [
            {"region": r, "logGroup": g, **({"perRegionTrail": True} if per_region_trail else {})}
            for r, g in groups
        ]

    return apply


def _without_trail(index: int) -> Mutation:
    return lambda config: config["accounts"][index].pop("trail")


def _organization_trail(**values: Any) -> Mutation:
    def apply(config: dict[str, Any]) -> None:
        config["organizationTrail"] = {
            "accountId": "111111111111",
            "homeRegion": "eu-west-1",
            "logGroupPrefix": "aws-controltower/CloudTrailLogs",
            **values,
        }

    return apply


def _both(*mutations: Mutation) -> Mutation:
    def apply(config: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(config)

    return apply


def _many_tags(count: int, prefix: str = "k") -> dict[str, str]:
    return {f"{prefix}{n}": "v" for n in range(count)}


def _tags_merging_past_50(config: dict[str, Any]) -> None:
    config["tags"] = _many_tags(40)  # + ManagedBy, Project, cis-control = 43: fine on its own
    config["accounts"][1]["tags"] = _many_tags(9, "a")  # 52 on this account's alarms


def _add_subscription(subscription: dict[str, Any], account: int | None = None) -> Mutation:
    """Append a subscriber stack-wide, or to account ``account``'s own override (after the stack's)."""

    def apply(config: dict[str, Any]) -> None:
        stack_wide = config["notifications"]["subscriptions"]
        if account is None:
            stack_wide.append(subscription)
        else:
            override = config["accounts"][account].setdefault("notifications", {})
            override["subscriptions"] = [*stack_wide, subscription]

    return apply


SANDBOX_QUEUE = "arn:aws:sqs:us-east-1:111111111111:security-alerts"


CASES: list[tuple[str, Mutation, str]] = [
    (
        "account id not 12 digits",
        _set("accounts[0].id", "11111111111"),
        "accounts[0].id: '11111111111' is not an AWS account id (12 digits)",
    ),
    (
        "account id as a YAML number",
        _set("accounts[0].id", 111111111111),
        "accounts[0].id: write the account id as a quoted string",
    ),
    (
        "role in another account",
        _set("accounts[1].roleArn", "arn:aws:iam::999999999999:role/cis-monitoring-deployer"),
        "accounts[1].roleArn: the role is in account 999999999999, not in account 222222222222",
    ),
    (
        "malformed role ARN",
        _set("accounts[0].roleArn", "cis-monitoring-deployer"),
        "accounts[0].roleArn: 'cis-monitoring-deployer' is not an IAM role ARN",
    ),
    (
        "duplicate account",
        _set("accounts[1].id", "111111111111"),
        "accounts[1].id: account 111111111111 is already listed at accounts[0]",
    ),
    (
        "duplicate account name",
        _set("accounts[1].name", "sandbox"),
        "accounts[1].name: name 'sandbox' is already used by accounts[0]",
    ),
    (
        "duplicate account and region",
        _duplicate_first_region,
        "accounts[0].regions[1].region: us-east-1 is already listed for account 111111111111 at regions[0]",
    ),
    (
        "unknown region",
        _set("accounts[0].trail.homeRegion", "us-east-9"),
        "accounts[0].trail.homeRegion: 'us-east-9' is not an AWS Region",
    ),
    (
        "empty log group",
        _set("accounts[0].trail.logGroup", ""),
        "accounts[0].trail.logGroup: the log group name is empty",
    ),
    (
        "log group ARN",
        _set("accounts[0].trail.logGroup", "arn:aws:logs:us-east-1:111111111111:log-group:x"),
        "accounts[0].trail.logGroup: give the log group's name, not its ARN",
    ),
    (
        "per-Region log group ARN",
        _per_region(("us-east-1", "arn:aws:logs:us-east-1:111111111111:log-group:x")),
        "accounts[0].regions[0].logGroup: give the log group's name, not its ARN",
    ),
    ("no regions", _set("accounts[0].regions", []), "accounts[0].regions: must list at least one entry"),
    # ---- issue 10: trails as they are
    (
        "the same group named in several Regions (the shape of earlier releases)",
        _per_region(("us-east-1", "org-trail/cloudtrail"), ("eu-west-1", "org-trail/cloudtrail")),
        "accounts[0].regions: log group 'org-trail/cloudtrail' is named in us-east-1, eu-west-1. A"
        " multi-Region trail delivers every Region's events to ONE log group in its home Region; other"
        " Regions have no copy, so the lookup would fail there, and no chain is needed there. Write"
        " `trail: {homeRegion: <the trail's home Region, e.g. us-east-1>, logGroup: org-trail/cloudtrail}`"
        " instead of `regions` (it covers every Region). If these really are per-Region trails, each"
        " delivering to its own group of the same name in its own Region, set `perRegionTrail: true` on"
        " each of these entries",
    ),
    (
        "the same group in several Regions, only one entry marked as a per-Region trail",
        _both(
            _per_region(("us-east-1", "g"), ("eu-west-1", "g"), per_region_trail=True),
            _set("accounts[0].regions[1].perRegionTrail", False),
        ),
        "accounts[0].regions: log group 'g' is named in us-east-1, eu-west-1.",
    ),
    (
        "both trail and regions",
        _set("accounts[0].regions", [{"region": "eu-west-1", "logGroup": "g"}]),
        "accounts[0]: set at most one of trail (the account's multi-Region trail: one log group, in its home"
        " Region) and regions (per-Region trails, one log group in each Region)",
    ),
    (
        "neither trail nor regions, and no organization trail",
        _without_trail(1),
        "accounts[1]: account 222222222222 has no trail and no regions, so only an organization trail can"
        " cover it, and no organizationTrail is configured. Write trail: {homeRegion: <its trail's home"
        " Region>, logGroup: <the group it delivers to>} if the account has a multi-Region trail of its own,"
        " or configure organizationTrail",
    ),
    (
        "neither trail nor regions, and not among the organization trail's members",
        _both(_without_trail(1), _organization_trail(members=["333333333333"])),
        "accounts[1]: account 222222222222 has no trail and no regions, so only the organization trail can"
        ' cover it, but organizationTrail.members lists account ids without it: add "222222222222" to'
        " organizationTrail.members (or write members: accounts), or give the account a trail",
    ),
    (
        "a trail with both logGroup and logGroupPrefix",
        _set("accounts[0].trail.logGroupPrefix", "aws-cloudtrail-logs"),
        "accounts[0].trail: set exactly one of logGroup (the log group's full name) and logGroupPrefix",
    ),
    (
        "a trail with neither logGroup nor logGroupPrefix",
        _set("accounts[0].trail", {"homeRegion": "us-east-1"}),
        "accounts[0].trail: set exactly one of logGroup",
    ),
    (
        "a trail without home Region",
        _set("accounts[0].trail", {"logGroup": "g"}),
        "accounts[0].trail.homeRegion: is required",
    ),
    (
        "a prefix with a wildcard",
        _set("accounts[0].trail", {"homeRegion": "us-east-1", "logGroupPrefix": "aws-controltower/*"}),
        "accounts[0].trail.logGroupPrefix: 'aws-controltower/*' is not the start of a valid log group name",
    ),
    (
        "a Region named twice for one trail",
        _set("accounts[0].coveredRegions", ["us-east-1", "eu-west-1", "us-east-1"]),
        "accounts[0].coveredRegions: us-east-1 is named twice; name each Region once",
    ),
    (
        "an unknown covered Region",
        _set("accounts[0].coveredRegions", ["us-east-1", "moon-1"]),
        "accounts[0].coveredRegions: 'moon-1' is not an AWS Region",
    ),
    (
        "coveredRegions without a trail",
        _both(_per_region(("us-east-1", "g")), _set("accounts[0].coveredRegions", ["us-east-1"])),
        "accounts[0].coveredRegions: applies only to an account with a trail",
    ),
    (
        "organization trail owner not in the account list",
        _organization_trail(accountId="999999999999"),
        "organizationTrail.accountId: account 999999999999 owns the organization trail but is not in accounts"
        " (nor among the accounts this stack selects from its organization inventory): list it under"
        " accounts with its name (and roleArn), so its chain has a name and a way in",
    ),
    (
        "organization trail role in another account",
        _organization_trail(roleArn="arn:aws:iam::222222222222:role/cis-monitoring-deployer"),
        "organizationTrail.roleArn: the role is in account 222222222222, not in account 111111111111",
    ),
    (
        "organization trail members as a scalar",
        _organization_trail(members="everyone"),
        "organizationTrail.members: must be a list, not the string 'everyone'",
    ),
    (
        "a member listed twice",
        _organization_trail(members=["333333333333", "333333333333"]),
        "organizationTrail.members: account 333333333333 is listed twice; list each member once",
    ),
    (
        "organization trail owner's own trail in the same Region",
        _organization_trail(homeRegion="us-east-1"),
        "accounts[0].trail: account 111111111111 owns the organization trail, whose chain is in 111111111111"
        " us-east-1; a second log group there cannot get a chain of its own",
    ),
    (
        "organization trail without its log group",
        _organization_trail(logGroupPrefix=None),
        "organizationTrail: set exactly one of logGroup",
    ),
    (
        "organization trail key typo",
        _organization_trail(homeRegoin="us-east-1"),
        "organizationTrail.homeRegoin: unknown key (typos are not ignored); did you mean 'homeRegion'?",
    ),
    (
        "defaultRegions naming one group in several Regions",
        _set(
            "organization",
            {
                "stack": "acme/landing-zone/prod",
                "defaultRegions": [
                    {"region": "us-east-1", "logGroup": "org-trail"},
                    {"region": "eu-west-1", "logGroup": "org-trail"},
                ],
            },
        ),
        "organization.defaultRegions: log group 'org-trail' is named in us-east-1, eu-west-1.",
    ),
    ("no accounts", _set("accounts", []), "accounts: must list at least one entry"),
    (
        "http protocol",
        _set("notifications.subscriptions[0].protocol", "http"),
        "notifications.subscriptions[0].protocol: protocol 'http' is not allowed",
    ),
    (
        "sms protocol",
        _set("notifications.subscriptions[0].protocol", "sms"),
        "notifications.subscriptions[0].protocol: protocol 'sms' is not allowed",
    ),
    (
        "email without @",
        _set("notifications.subscriptions[0].endpoint", "cloud-security.example.com"),
        "notifications.subscriptions[0].endpoint: 'cloud-security.example.com' is not an email address",
    ),
    (
        "https endpoint over http",
        _set(
            "notifications.subscriptions[0]", {"protocol": "https", "endpoint": "http://hooks.example.com/x"}
        ),
        "notifications.subscriptions[0].endpoint: an https endpoint must be a URL starting with https://",
    ),
    (
        "malformed SQS ARN",
        _set(
            "notifications.subscriptions[0]", {"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:alerts"}
        ),
        "notifications.subscriptions[0].endpoint: 'arn:aws:sqs:us-east-1:alerts' is not an SQS queue ARN",
    ),
    (
        "FIFO SQS queue",
        _set(
            "notifications.subscriptions[0]",
            {"protocol": "sqs", "endpoint": "arn:aws:sqs:us-east-1:111111111111:alerts.fifo"},
        ),
        "notifications.subscriptions[0].endpoint: a standard SNS topic cannot deliver to a FIFO queue",
    ),
    (
        "malformed Lambda ARN",
        _set(
            "notifications.subscriptions[0]",
            {"protocol": "lambda", "endpoint": "arn:aws:lambda:us-east-1:111111111111:page"},
        ),
        "notifications.subscriptions[0].endpoint: 'arn:aws:lambda:us-east-1:111111111111:page' is not a Lambda function ARN",
    ),
    (
        "both endpoint and secret key",
        _set("notifications.subscriptions[0].endpointSecretKey", "pager"),
        "notifications.subscriptions[0]: set exactly one of endpoint and endpointSecretKey",
    ),
    (
        "no subscriber",
        _set("notifications.subscriptions", []),
        "notifications.subscriptions: account 111111111111 has no subscriber",
    ),
    (
        "AWS-managed SNS key",
        _set("notifications.kmsKeyId", "alias/aws/sns"),
        "notifications.kmsKeyId: alias/aws/sns cannot be used",
    ),
    (
        "AWS-managed SNS key by ARN",
        _set("accounts[0].notifications", {"kmsKeyId": "arn:aws:kms:us-east-1:111111111111:alias/aws/sns"}),
        "accounts[0].notifications.kmsKeyId: alias/aws/sns cannot be used",
    ),
    (
        "topic in another region",
        _set("notifications.topicArn", "arn:aws:sns:eu-west-1:111111111111:alerts"),
        "notifications.topicArn: the topic is in eu-west-1, but alarms in account 111111111111 region us-east-1",
    ),
    (
        "unknown top-level key",
        _set("acounts", []),
        "acounts: unknown config key (typos are not ignored); did you mean 'accounts'?",
    ),
    (
        "unknown nested key",
        _set("accounts[0].trail.logGrop", "x"),
        "accounts[0].trail.logGrop: unknown key (typos are not ignored); did you mean 'logGroup'?",
    ),
    (
        "unknown account key",
        _set("accounts[0].roleARN", "x"),
        "accounts[0].roleARN: unknown key (typos are not ignored); did you mean 'roleArn'?",
    ),
    (
        "unknown control",
        _set("controls", ["4.99"]),
        "controls: unknown control(s) 4.99; the catalog has 4.1, 4.2, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8, 4.9, 4.10,"
        " 4.11, 4.12, 4.13, 4.14, 4.15 (or write all for every one)",
    ),
    ("bad name prefix", _set("namePrefix", "CIS_"), "namePrefix: 'CIS_' must be lowercase letters"),
    (
        "bad account name",
        _set("accounts[0].name", "sand box"),
        "accounts[0].name: 'sand box' is not a usable account name",
    ),
    # ---- issue 9 "close these gaps"
    (
        "external id with a space",
        _set("accounts[1].externalId", "cis monitoring"),
        "accounts[1].externalId: 'cis monitoring' contains a space: an external id may use only letters,"
        " digits and _+=,.@:/-",
    ),
    (
        "external id of one character",
        _set("accounts[1].externalId", "x"),
        "accounts[1].externalId: 'x' is 1 character(s); an external id must be 2 to 1224 characters",
    ),
    (
        "external id over 1224 characters",
        _set("accounts[1].externalId", "x" * 1225),
        "accounts[1].externalId: '" + "x" * 1225 + "' is 1225 character(s)",
    ),
    (
        "stack tag key starting with aws:",
        _set("tags", {"aws:owner": "x"}),
        "tags.aws:owner: tag keys starting with 'aws:' are reserved for AWS",
    ),
    (
        "account tag key starting with AWS: in capitals",
        _set("accounts[0].tags", {"AWS:Owner": "x"}),
        "accounts[0].tags.AWS:Owner: tag keys starting with 'aws:' are reserved for AWS",
    ),
    (
        "tag key over 128 characters",
        _set("accounts[0].tags", {"k" * 129: "x"}),
        f"accounts[0].tags.{'k' * 129}: the tag key is 129 characters; AWS allows at most 128",
    ),
    (
        "tag value over 256 characters",
        _set("tags", {"Owner": "v" * 257}),
        "tags.Owner: the tag value is 257 characters; AWS allows at most 256",
    ),
    (
        "more than 50 tags on an alarm once the program's own are added",
        _set("tags", _many_tags(48)),
        "tags: the alarms would get 51 tags: these 48 plus the program's own ManagedBy, Project, cis-control;"
        " AWS allows at most 50 per resource",
    ),
    (
        "more than 50 account tags",
        _set("accounts[0].tags", _many_tags(51)),
        "accounts[0].tags: account 111111111111's alarms would get",
    ),
    (
        "stack and account tags merging past 50",
        _tags_merging_past_50,
        "accounts[1].tags: account 222222222222's alarms would get 52 tags: its 9 merged with the"
        " stack's 40 and the program's own ManagedBy, Project, cis-control",
    ),
    (
        "stack tag Project would override the program's",
        _set("tags", {"Project": "finance"}),
        "tags.Project: the program sets this tag itself (ManagedBy=pulumi, Project=cis-monitoring on every"
        " resource, cis-control on each alarm)",
    ),
    (
        "account tag ManagedBy would override the program's",
        _set("accounts[1].tags", {"ManagedBy": "terraform"}),
        "accounts[1].tags.ManagedBy: the program sets this tag itself",
    ),
    (
        "name prefix over 20 characters",
        _set("namePrefix", "cis-monitoring-prod-eu"),
        "namePrefix: 'cis-monitoring-prod-eu' is 22 characters; namePrefix may have at most 20",
    ),
    (
        "controls as a scalar other than all",
        _set("controls", "every"),
        """controls: must be a list, not the string 'every'; write e.g. controls: ["4.5"], or controls: all"""
        " (every control of the catalog)",
    ),
    ("controls empty", _set("controls", []), "controls: list at least one control id, or write all"),
    ("a control twice", _set("controls", ["4.5", "4.1", "4.5"]), "controls: 4.5 is listed twice"),
    (
        "all inside the list",
        _set("controls", ["all"]),
        "controls: 'all' stands for every control: write it alone, not in a list",
    ),
    (
        "regions as a scalar",
        _set("accounts[0].regions", "us-east-1"),
        "accounts[0].regions: must be a list, not the string 'us-east-1'; write e.g. regions:"
        ' [{"region": "us-east-1", "logGroup": "trail-us-east-1/cloudtrail"}]',
    ),
    (
        "subscriptions as a single map",
        _set("notifications.subscriptions", {"protocol": "email", "endpoint": "soc@example.com"}),
        "notifications.subscriptions: must be a list, not a map; write e.g. subscriptions: [",
    ),
    (
        "a subscription written as a plain string",
        _set("notifications.subscriptions", ["soc@example.com"]),
        "notifications.subscriptions[0]: must be a map of keys and values, not the string 'soc@example.com';"
        ' write each entry as e.g. {"protocol": "email", "endpoint": "soc@example.com"}',
    ),
    (
        "a control id as a YAML number",
        _set("controls", [4.5]),
        "controls[0]: must be a string, not the number 4.5 (quote it in YAML)",
    ),
    (
        "tags as a list",
        _set("tags", ["Owner=me"]),
        'tags: must be a map of keys and values, not a list; write e.g. tags: {"Owner": "cloud-security"}',
    ),
    # ---- issue 11: subscribers that would never receive anything
    (
        "sqs without queuePolicy",
        _add_subscription({"protocol": "sqs", "endpoint": SANDBOX_QUEUE}, 0),
        "accounts[0].notifications.subscriptions[1].queuePolicy: is required for an sqs subscription",
    ),
    (
        "queuePolicy that is neither managed nor existing",
        _add_subscription({"protocol": "sqs", "endpoint": SANDBOX_QUEUE, "queuePolicy": "merge"}, 0),
        "accounts[0].notifications.subscriptions[1].queuePolicy: 'merge' is not a queuePolicy; use 'managed'",
    ),
    (
        "queuePolicy on an email subscription",
        _set("notifications.subscriptions[0].queuePolicy", "managed"),
        "notifications.subscriptions[0].queuePolicy: applies only to sqs subscriptions, not email",
    ),
    (
        "autoConfirms on an email subscription",
        _set("notifications.subscriptions[0].autoConfirms", True),
        "notifications.subscriptions[0].autoConfirms: applies only to https subscriptions",
    ),
    (
        "stack-wide sqs queue of one account",
        _add_subscription({"protocol": "sqs", "endpoint": SANDBOX_QUEUE, "queuePolicy": "existing"}),
        "notifications.subscriptions[1].endpoint: the queue is in account 111111111111 Region us-east-1,"
        " but the alarm topic of target 222222222222/us-east-1 is in account 222222222222: a cross-account"
        " sqs subscription stays pending (its owner must confirm it) and the deploy fails. Use a queue in"
        " account 222222222222 (any Region), or subscribe this queue only from account 111111111111 with"
        " an account-level override (accounts[0].notifications.subscriptions)",
    ),
    (
        "account-level lambda in another account",
        _add_subscription(
            {"protocol": "lambda", "endpoint": "arn:aws:lambda:us-east-1:999999999999:function:page"}, 1
        ),
        "accounts[1].notifications.subscriptions[1].endpoint: the function is in account 999999999999"
        " Region us-east-1, but the alarm topic of target 222222222222/us-east-1 is in account 222222222222",
    ),
]


def test_a_queue_or_function_of_the_same_account_in_another_region_is_allowed(dev_config: dict) -> None:
    """SNS confirms SQS and Lambda subscribers of the topic's own account at once, in any Region (SNS
    Subscribe); only another account's stay pending (the cases above)."""
    queue = "arn:aws:sqs:eu-west-1:111111111111:security-alerts"
    function = "arn:aws:lambda:eu-west-1:111111111111:function:page"
    stack_wide = dev_config["notifications"]["subscriptions"]
    dev_config["accounts"][0]["notifications"] = {
        "subscriptions": [
            *stack_wide,
            {"protocol": "sqs", "endpoint": queue, "queuePolicy": "managed"},
            {"protocol": "lambda", "endpoint": function},
        ]
    }
    resolved = [t for t in targets(load_config(dev_config)) if t.account_id == "111111111111"]
    assert resolved and all(
        {queue, function} <= {s.endpoint for s in t.notifications.subscriptions} for t in resolved
    )


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_reported_with_its_key_path(
    case: str, mutate: Mutation, expected: str, dev_config: dict
) -> None:
    mutate(dev_config)
    with pytest.raises(ConfigError) as raised:
        load_config(dev_config)
    assert any(str(p).startswith(expected) for p in raised.value.problems), raised.value


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_program_registers_nothing_when_config_is_bad(
    case: str, mutate: Mutation, expected: str, dev_config: dict
) -> None:
    mutate(dev_config)
    run = run_program(dev_config)
    assert isinstance(run.error, pulumi.RunError)
    assert expected in str(run.error)
    assert run.resources == []
    assert run.invokes == []


def test_all_problems_come_together_in_one_error(dev_config: dict) -> None:
    _set("accounts[0].id", "123")(dev_config)
    _set("accounts[1].trail.homeRegion", "mars-1")(dev_config)
    _set("notifications.subscriptions[0].protocol", "http")(dev_config)
    _set("tagz", {})(dev_config)
    run = run_program(dev_config)
    message = str(run.error)
    assert "4 problem(s)" in message
    for path in (
        "accounts[0].id:",
        "accounts[1].trail.homeRegion:",
        "notifications.subscriptions[0].protocol:",
        "tagz:",
    ):
        assert f"  - {path}" in message
    assert run.resources == []


def test_the_programs_own_tag_keys_are_refused_together_and_nothing_is_registered(dev_config: dict) -> None:
    """A user tag named like the program's would override it in default_tags (Project: the deployer policy's
    aws:ResourceTag/Project), or be overridden on the alarms (cis-control)."""
    _set("tags", {"Project": "finance", "Owner": "cloud-security"})(dev_config)
    _set("accounts[0].tags", {"ManagedBy": "terraform", "cis-control": "4.5", "Team": "payments"})(dev_config)
    run = run_program(dev_config)
    assert isinstance(run.error, pulumi.RunError)
    message = str(run.error)
    assert "3 problem(s)" in message
    for path in ("tags.Project:", "accounts[0].tags.ManagedBy:", "accounts[0].tags.cis-control:"):
        assert f"  - {path} the program sets this tag itself" in message
    assert "Owner" not in message and "Team" not in message  # the user's own keys are fine
    assert run.resources == [] and run.invokes == []


def test_cross_checks_still_run_when_another_account_is_invalid(dev_config: dict) -> None:
    dev_config["accounts"].append(copy.deepcopy(dev_config["accounts"][1]))  # duplicate of accounts[1]
    _set("accounts[0].trail.homeRegion", "nowhere-1")(dev_config)
    with pytest.raises(ConfigError) as raised:
        load_config(dev_config)
    paths = [p.path for p in raised.value.problems]
    assert "accounts[0].trail.homeRegion" in paths
    assert "accounts[2].id" in paths and "accounts[2].name" in paths


def test_secret_endpoint_key_must_be_set(prod_config: dict) -> None:
    del prod_config["pagerEndpoint"]
    run = run_program(prod_config, stack="prod")
    assert (
        "notifications.subscriptions[1].endpointSecretKey: config key 'cis-monitoring:pagerEndpoint' is not set"
        in str(run.error)
    )
    assert run.resources == []


def test_secret_endpoint_key_must_be_a_secret(prod_config: dict) -> None:
    run = run_program(prod_config, stack="prod", secret_keys=[])
    assert "'cis-monitoring:pagerEndpoint' is stored in plain text; set it again with --secret" in str(
        run.error
    )
    assert run.resources == []


def test_secret_endpoint_is_checked_like_any_endpoint(prod_config: dict) -> None:
    prod_config["pagerEndpoint"] = PAGER_URL.replace("https://", "http://")
    run = run_program(prod_config, stack="prod", secret_keys=["pagerEndpoint"])
    assert "notifications.subscriptions[1].endpointSecretKey: an https endpoint must be a URL" in str(
        run.error
    )


def test_account_override_paths_point_at_the_account(dev_config: dict) -> None:
    dev_config["accounts"][1]["notifications"] = {
        "subscriptions": [{"protocol": "email", "endpoint": "nobody"}]
    }
    with pytest.raises(ConfigError) as raised:
        load_config(dev_config)
    assert [str(p) for p in raised.value.problems] == [
        "accounts[1].notifications.subscriptions[0].endpoint: 'nobody' is not an email address"
    ]


def test_valid_configs_load(dev_config: dict, prod_config: dict) -> None:
    assert len(load_config(dev_config).accounts) == 2
    config = load_config(
        prod_config, secrets={"pagerEndpoint": PAGER_URL}, secret_keys=frozenset({"pagerEndpoint"})
    )
    assert len(config.accounts) == 4 and config.organization_trail is not None


def test_the_most_tags_an_alarm_can_take_are_accepted(dev_config: dict) -> None:
    # 47 of the user's + ManagedBy, Project and the alarm's cis-control tag = AWS's limit of 50.
    dev_config["tags"] = _many_tags(47)
    assert load_config(dev_config).tags == _many_tags(47)


def test_controls_all_selects_every_control_of_the_catalog_in_benchmark_order(dev_config: dict) -> None:
    dev_config["controls"] = "all"
    assert load_config(dev_config).controls == tuple(CONTROLS) == tuple(f"4.{n}" for n in range(1, 16))
    dev_config["controls"] = ["4.10", "4.5"]  # a list keeps its order
    assert load_config(dev_config).controls == ("4.10", "4.5")
    del dev_config["controls"]
    assert load_config(dev_config).controls == ("4.5",)


def test_every_controls_problem_is_said_at_once(dev_config: dict) -> None:
    dev_config["controls"] = ["4.99", "4.5", "all", "4.5"]
    with pytest.raises(ConfigError) as raised:
        load_config(dev_config)
    [problem] = raised.value.problems
    assert problem.path == "controls"
    for part in ("'all' stands for every control", "unknown control(s) 4.99", "4.5 is listed twice"):
        assert part in problem.message
