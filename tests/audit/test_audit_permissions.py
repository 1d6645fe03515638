"""The IAM documents in iam/: the auditor policy allows exactly what the audit and its proofs call,
the drill policy exactly what the drill adds; all pass parliament.

Every call the audit and the proofs (``cis_monitoring.audit.proofs``) make goes through
``provide-client-params`` on the boto3 session they were given, so recording there sees
each (service, operation, params) with the resource it touches. The proofs run against
moto here: their calls are recorded even for operations moto does not implement.
sts:GetCallerIdentity needs no permission, and sts:AssumeRole is granted to the caller
and by the target role's trust policy, not by the policy on the role itself (see
iam/README.md); both are left out of the comparison.
"""

from __future__ import annotations

import fnmatch
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.models import MockAWS
from parliament import analyze_policy_string, enhance_finding, iam_definition, override_config

from cis_monitoring import cli as top
from cis_monitoring.audit import cli
from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.drill import DrillSettings, fire_drill
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.proofs import (
    IAM_ACTIONS,
    ProofResult,
    alarm_history,
    alarm_mute_rules,
    aws_matcher,
    subscriber_policies,
    topic_key_policy,
)
from cis_monitoring.audit.real_time import RulePlace
from cis_monitoring.audit.run import audit_chain, audit_coverage
from cis_monitoring.audit.scope import AccountFlags, flag_scope
from cis_monitoring.core.access import Access
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.status import Status
from cis_monitoring.program import naming
from cis_monitoring.program.policies import key_policy
from cis_monitoring.spec import DeployTarget, load_config, targets
from tests.audit.test_audit_unit import (
    ACCOUNT,
    LOG_GROUP,
    REGION,
    build_compliant,
    group_of,
    new_session,
    put_alarm,
)
from tests.audit.test_real_time_audit import add_real_time

IAM_DIR = Path(__file__).resolve().parents[2] / "iam"
AUDITOR = IAM_DIR / "auditor-policy.json"
DEPLOYER = IAM_DIR / "deployer-policy.json"
DRILL = IAM_DIR / "drill-policy.json"
SECURITY_HUB = IAM_DIR / "security-hub-import-policy.json"
DRILL_ONLY = {"cloudwatch:SetAlarmState"}
"""The one call that changes anything (an alarm's state): only in the opt-in drill policy."""
NOT_IAM_CONTROLLED = {"sts:GetCallerIdentity"}
GRANTED_ELSEWHERE = {"sts:AssumeRole"}  # the caller's identity policy + the role's trust policy
AUDIT_ACTIONS = {
    "cloudtrail:DescribeTrails",  # the trails an account sees
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "logs:DescribeLogGroups",  # the chain: its log group, filters, alarms, topic and subscribers
    "logs:DescribeMetricFilters",
    "cloudwatch:DescribeAlarms",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:GetSubscriptionAttributes",  # a confirmed subscriber's filter policy (no resource-level permission)
    "events:ListRules",  # realTime: the rules and their targets
    "events:ListTargetsByRule",
    "organizations:ListAccounts",  # --members-from-organization
    "organizations:DescribeOrganization",
    "ec2:DescribeRegions",  # --region all
}
"""What the audit itself calls (the proofs' calls are ``IAM_ACTIONS``)."""
NEWER_THAN_PARLIAMENT = {
    # Alarm mute rules came after parliament's IAM database. Their access levels: the service model's
    # documentation ("To list mute rules, you need the cloudwatch:ListAlarmMuteRules permission";
    # GetAlarmMuteRule "on the alarm mute rule resource"), read-only like every Get and List.
    "cloudwatch:ListAlarmMuteRules": "List",
    "cloudwatch:GetAlarmMuteRule": "Read",
}
READ_ONLY_VERBS = ("Describe", "Get", "List", "Test")  # TestMetricFilter: IAM level Read, no resource
# CloudWatch signs requests as "monitoring"; IAM calls the service "cloudwatch".
IAM_PREFIX_OF_SIGNING_NAME = {"monitoring": "cloudwatch"}
SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
# The deployer must write the topic policy, the key policy and the subscriber function's policy:
# that is the program's job, so parliament's "permissions management" finding is expected for these.
JUSTIFIED_PERMISSIONS_MANAGEMENT = {
    "sns:settopicattributes",
    "sns:createtopic",
    "kms:putkeypolicy",
    "kms:createkey",
    "lambda:addpermission",
    "lambda:removepermission",
    "sqs:setqueueattributes",  # the queue policy of a `queuePolicy: managed` SQS subscriber
    # realTime: a forwarding rule's role (role/cis-* only, passed only to events.amazonaws.com) and
    # the central bus's organization-scoped policy (event-bus/cis-* only).
    "iam:createrole",
    "iam:deleterole",
    "iam:updateassumerolepolicy",
    "iam:putrolepolicy",
    "iam:deleterolepolicy",
    "iam:passrole",
    "iam:tagrole",
    "iam:untagrole",
    "events:putpermission",
    "events:removepermission",
}


@dataclass(frozen=True)
class Call:
    action: str
    resource: str


# ---------------------------------------------------------------- a small IAM evaluator


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement_matches(statement: dict[str, Any], action: str, resource: str) -> bool:
    assert "NotAction" not in statement and "NotResource" not in statement, "the matcher handles neither"
    # Action names are case-insensitive in IAM, ARNs are not.
    actions = any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in _list(statement["Action"]))
    resources = any(fnmatch.fnmatchcase(resource, p) for p in _list(statement["Resource"]))
    return actions and resources


def allows(policy: dict[str, Any], action: str, resource: str = "*") -> bool:
    """Unconditional Allow matches and no Deny matches (conditions are treated as not met)."""
    statements = _list(policy["Statement"])
    if any(s["Effect"] == "Deny" and _statement_matches(s, action, resource) for s in statements):
        return False
    return any(
        s["Effect"] == "Allow" and "Condition" not in s and _statement_matches(s, action, resource)
        for s in statements
    )


def granted_actions(policy: dict[str, Any]) -> set[str]:
    return {a for s in _list(policy["Statement"]) if s["Effect"] == "Allow" for a in _list(s["Action"])}


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def iam_access_level(action: str) -> str | None:
    if action in NEWER_THAN_PARLIAMENT:
        return NEWER_THAN_PARLIAMENT[action]
    prefix, _, name = action.partition(":")
    for service in iam_definition:
        if service["prefix"] == prefix:
            for privilege in service["privileges"]:
                if privilege["privilege"].lower() == name.lower():
                    return str(privilege["access_level"])
    return None


# ---------------------------------------------------------------- recording the audit's calls


def _resource(action: str, params: dict[str, Any], region: str) -> str:
    """The ARN IAM authorizes a call against ("*" for actions without a resource type)."""
    if action == "cloudtrail:GetTrailStatus":
        return str(params["Name"])
    if action == "cloudtrail:GetEventSelectors":
        return str(params["TrailName"])
    if action == "logs:DescribeMetricFilters":
        return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{params['logGroupName']}"
    if action in ("sns:ListSubscriptionsByTopic", "sns:GetTopicAttributes"):
        return str(params["TopicArn"])
    if action in ("kms:DescribeKey", "kms:GetKeyPolicy"):
        key = str(params["KeyId"])
        # IAM authorizes a call by alias against the key the alias names.
        return key if ":key/" in key else f"arn:aws:kms:{region}:{ACCOUNT}:key/(target-of-{key})"
    if action == "sqs:GetQueueAttributes":
        owner, name = str(params["QueueUrl"]).rstrip("/").split("/")[-2:]
        return f"arn:aws:sqs:{region}:{owner}:{name}"
    if action == "events:ListTargetsByRule":
        bus = params.get("EventBusName", "default")
        rule = params["Rule"] if bus == "default" else f"{bus}/{params['Rule']}"
        return f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule}"
    if action == "lambda:GetPolicy":
        return str(params["FunctionName"])
    if action == "cloudwatch:GetAlarmMuteRule":
        return f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm-mute-rule:{params['AlarmMuteRuleName']}"
    if action in ("cloudwatch:DescribeAlarmHistory", "cloudwatch:SetAlarmState"):
        return f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{params['AlarmName']}"
    return "*"


def recording_session(calls: list[Call]) -> boto3.Session:
    session = new_session()

    def record(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        signing = model.service_model.signing_name
        action = f"{IAM_PREFIX_OF_SIGNING_NAME.get(signing, signing)}:{model.name}"
        calls.append(Call(action, _resource(action, params, context.get("client_region", REGION))))

    session.events.register("provide-client-params.*.*", record)
    return session


def deploy_target() -> DeployTarget:
    """What the program deploys for the test account (its names are what the policies must admit)."""
    raw = {
        "accounts": [
            {"id": ACCOUNT, "name": "sandbox", "regions": [{"region": REGION, "logGroup": LOG_GROUP}]}
        ],
        "notifications": {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]},
    }
    return targets(load_config(raw))[0]


@pytest.fixture(scope="module")
def audit_calls(_moto: MockAWS) -> list[Call]:
    """Every call of audits that reach each link: a PASS, failures, errors, a role, the command line."""
    calls: list[Call] = []
    sessions = SessionFactory(recording_session(calls))
    setup = build_compliant()
    build_compliant(region="eu-west-1")
    # Trails, status and selectors per pair; each chain (log group, filter, alarm, topic, subscriptions).
    scope = flag_scope(AccountFlags(ACCOUNT, [REGION, "eu-west-1"]))
    report = audit_coverage(scope, sessions, [CIS_4_5])
    assert [p.status for p in report.pairs] == [Status.PASS, Status.PASS] and len(report.chains) == 2
    # realTime: the rules where they deliver and where they forward, and their targets.
    add_real_time(setup.topic_arn)
    places = (RulePlace(REGION), RulePlace("us-west-2", delivers=False))
    real_time = audit_chain(group_of(), Access(ACCOUNT), sessions, [CIS_4_5], real_time=places).real_time
    assert [str(r.status) for found in real_time.values() for r in found] == ["PASS", "FAIL"]
    # A topic that was deleted; a trail that stopped; a missing group; another account through a role.
    boto3.client("sns", region_name=REGION).delete_topic(TopicArn=setup.topic_arn)
    boto3.client("cloudtrail", region_name="eu-west-1").stop_logging(Name="org-trail-eu-west-1")
    report = audit_coverage(scope, sessions, [CIS_4_5])
    assert [p.status for p in report.pairs] == [Status.FAIL, Status.FAIL]
    assert [c.status for c in report.chains.values()] == [Status.FAIL]  # the stopped trail's is not asked
    role = Access("111111111111", "arn:aws:iam::111111111111:role/cis-monitoring-auditor")
    statuses = [
        audit_chain(group, access, sessions, [CIS_4_5]).status
        for group, access in [
            (group_of(log_group="missing"), Access(ACCOUNT)),
            (group_of(account="111111111111"), role),
        ]
    ]
    assert statuses == [Status.ERROR, Status.ERROR]
    # The coverage audit with --members-from-organization, as a member that owns the organization trail:
    # moto lists a member no accounts, so the management account (DescribeOrganization) is asked too.
    organizations = boto3.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(Email="owner@example.com", AccountName="owner")
    owner = created["CreateAccountStatus"]["AccountId"]
    scope = flag_scope(
        AccountFlags(owner, [REGION], role_arn=f"arn:aws:iam::{owner}:role/cis-monitoring-auditor"),
        members_from_organization=True,
    )
    report = audit_coverage(scope, sessions, [CIS_4_5], proofs=ProofSettings())
    assert report.errors == [] and {p.account_id for p in report.pairs} == {owner, ACCOUNT}
    # The command line: the caller's identity, and --region all (ec2:DescribeRegions).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "_sessions", lambda *_args, **_kwargs: sessions)
        assert top.run("audit", ["--account", ACCOUNT, "--region", "all", "--no-test-metric-filter"]) == 1
    return calls


def _proof_setup() -> tuple[str, str, str]:
    """An encrypted topic with an SQS (encrypted queue) and a Lambda subscriber, and its alarm."""
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Policy=key_policy(ACCOUNT, REGION))["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/cis-proofs-alarms", TargetKeyId=key)
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(
        Name="cis-proofs-alarms", Attributes={"KmsMasterKeyId": "alias/cis-proofs-alarms"}
    )
    topic_arn = topic["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="cis-proofs-inbox", Attributes={"KmsMasterKeyId": key})["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue)
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="cis-proofs-relay", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    function = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="cis-proofs-relay",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=function)
    alarm = "cis-proofs-alarm"
    put_alarm(REGION, alarm, topic_arn)
    return topic_arn, "alias/cis-proofs-alarms", alarm


def _answer_mute_rules(session: boto3.Session, alarm_name: str) -> None:
    """moto has no alarm mute rules: answer as CloudWatch does, with one nightly rule on the alarm."""
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm-mute-rule:nightly"

    def respond(body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse(f"https://monitoring.{REGION}.amazonaws.com/", 200, {}, None), body

    listed = {
        "AlarmMuteRuleSummaries": [{"AlarmMuteRuleArn": arn, "Status": "SCHEDULED", "MuteType": "RECURRING"}]
    }
    rule = {
        "Name": "nightly",
        "AlarmMuteRuleArn": arn,
        "Rule": {"Schedule": {"Expression": "cron(0 22 * * *)", "Duration": "PT8H"}},
        "MuteTargets": {"AlarmNames": [alarm_name]},
        "Status": "SCHEDULED",
        "MuteType": "RECURRING",
    }
    session.events.register("before-call.cloudwatch.ListAlarmMuteRules", lambda **_: respond(listed))
    session.events.register("before-call.cloudwatch.GetAlarmMuteRule", lambda **_: respond(rule))


@pytest.fixture(scope="module")
def proof_calls(_moto: MockAWS) -> list[Call]:
    """Every call of every proof, the opt-in drill included (moto lacks some: they are recorded anyway)."""
    calls: list[Call] = []
    sessions = SessionFactory(recording_session(calls))

    def clients(service: str, region: str | None = None) -> Any:
        return sessions.client(Access(ACCOUNT), service, region or REGION)

    topic, key_alias, alarm_name = _proof_setup()
    _answer_mute_rules(sessions.base, alarm_name)
    subscriptions = boto3.client("sns", region_name=REGION).list_subscriptions_by_topic(TopicArn=topic)
    alarm = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNames=[alarm_name])
    drill = DrillSettings("permissions-test", timeout_seconds=1, interval_seconds=1, sleep=lambda _: None)
    results: list[ProofResult] = [
        aws_matcher(clients, CIS_4_5.filter_pattern, CIS_4_5),
        topic_key_policy(clients, topic, key_alias),
        *subscriber_policies(clients, topic, subscriptions["Subscriptions"]),
        alarm_history(clients, alarm_name),
        alarm_mute_rules(clients, alarm_name),
        fire_drill(clients, alarm["MetricAlarms"][0], drill),
    ]
    # Each proof got as far as its last call: no ERROR cut one short.
    assert [(r.proof, str(r.status)) for r in results] == [
        ("aws matcher", "NOT_AVAILABLE"),
        ("key policy", "PASS"),
        ("queue policy", "FAIL"),  # no queue policy, and the queue's key admits only CloudWatch
        ("function policy", "FAIL"),  # no lambda:AddPermission for the topic
        ("alarm history", "NOT_AVAILABLE"),
        ("mute rules", "FAIL"),  # the nightly rule answered below
        ("drill", "NOT_AVAILABLE"),
    ]
    return calls


# ---------------------------------------------------------------- the auditor policy


def test_every_call_of_the_audit_is_allowed_by_the_auditor_policy(
    audit_calls: list[Call], proof_calls: list[Call]
) -> None:
    auditor, drill = load(AUDITOR), load(DRILL)
    checked = [c for c in audit_calls + proof_calls if c.action not in NOT_IAM_CONTROLLED | GRANTED_ELSEWHERE]
    denied = sorted(
        {
            f"{c.action} on {c.resource}"
            for c in checked
            if not allows(drill if c.action in DRILL_ONLY else auditor, c.action, c.resource)
        }
    )
    assert denied == []
    assert {c.action for c in audit_calls} >= GRANTED_ELSEWHERE | NOT_IAM_CONTROLLED, (
        "the role path was not run"
    )


def test_the_auditor_policy_grants_exactly_what_the_audit_calls(
    audit_calls: list[Call], proof_calls: list[Call]
) -> None:
    audit = {c.action for c in audit_calls} - NOT_IAM_CONTROLLED - GRANTED_ELSEWHERE
    proofs = {c.action for c in proof_calls} - NOT_IAM_CONTROLLED - GRANTED_ELSEWHERE
    # The command line's run also ran the alarm-history and mute-rule proofs on the chain it reached
    # (moto has no mute rules, so only the list was asked there).
    assert audit == AUDIT_ACTIONS | {"cloudwatch:DescribeAlarmHistory", "cloudwatch:ListAlarmMuteRules"}
    assert granted_actions(load(AUDITOR)) == (audit | proofs) - DRILL_ONLY
    assert granted_actions(load(DRILL)) == proofs & DRILL_ONLY == DRILL_ONLY
    assert proofs - AUDIT_ACTIONS - DRILL_ONLY == {
        "logs:TestMetricFilter",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "sqs:GetQueueAttributes",
        "lambda:GetPolicy",
        "cloudwatch:DescribeAlarmHistory",
        "cloudwatch:ListAlarmMuteRules",
        "cloudwatch:GetAlarmMuteRule",
    }


def test_the_proofs_call_exactly_the_operations_they_declare(proof_calls: list[Call]) -> None:
    called = {c.action for c in proof_calls} - NOT_IAM_CONTROLLED - GRANTED_ELSEWHERE
    assert called == set(IAM_ACTIONS.values())


def test_the_drill_policy_sets_alarm_states_of_the_projects_alarms_only() -> None:
    drill, auditor = load(DRILL), load(AUDITOR)
    ours = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{naming.alarm_name('cis', deploy_target(), CIS_4_5)}"
    assert allows(drill, "cloudwatch:SetAlarmState", ours)
    assert not allows(
        drill, "cloudwatch:SetAlarmState", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing"
    )
    assert not allows(auditor, "cloudwatch:SetAlarmState", ours)  # the auditor stays read-only
    assert iam_access_level("cloudwatch:SetAlarmState") == "Write"


def test_the_security_hub_policy_imports_into_the_accounts_own_product_only() -> None:
    from cis_monitoring.audit.security_hub import ACTION, POLICY
    from cis_monitoring.report.asff import product_arn

    hub, auditor = load(SECURITY_HUB), load(AUDITOR)
    assert f"iam/{SECURITY_HUB.name}" == POLICY and granted_actions(hub) == {ACTION}
    assert allows(hub, ACTION, product_arn(ACCOUNT, REGION))  # the ProductArn --security-hub sends
    assert not allows(hub, ACTION, f"arn:aws:securityhub:{REGION}::product/partner/product")
    assert not allows(auditor, ACTION, product_arn(ACCOUNT, REGION))  # opt-in: the auditor stays read-only
    assert iam_access_level(ACTION) == "Write"


def test_recorded_services_are_real_iam_prefixes(audit_calls: list[Call]) -> None:
    for action in {c.action for c in audit_calls}:
        assert iam_access_level(action) is not None, f"{action} is no IAM action (signing-name mapping?)"


def test_the_auditor_policy_is_read_only() -> None:
    for action in granted_actions(load(AUDITOR)):
        verb = action.partition(":")[2]
        assert verb.startswith(READ_ONLY_VERBS) and "*" not in verb, action
        assert iam_access_level(action) in ("Read", "List"), action


def test_the_matcher_can_say_no() -> None:
    policy = load(AUDITOR)
    assert not allows(policy, "cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:123456789012:trail/t")
    assert not allows(policy, "logs:DescribeMetricFilters", "*")
    assert allows(policy, "CloudTrail:describetrails")


# ---------------------------------------------------------------- the deployer policy


def test_the_deployer_can_deploy_the_programs_names_and_nothing_else() -> None:
    policy = load(DEPLOYER)
    target = deploy_target()
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{naming.topic_name('cis', target)}"
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{naming.alarm_name('cis', target, CIS_4_5)}"
    alias = f"arn:aws:kms:{REGION}:{ACCOUNT}:{naming.key_alias('cis', target)}"
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:org-trail/cloudtrail"
    for action in ("sns:CreateTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:DeleteTopic"):
        assert allows(policy, action, topic), action
        assert not allows(policy, action, f"arn:aws:sns:{REGION}:{ACCOUNT}:someone-elses-topic"), action
    for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"):
        assert allows(policy, action, alarm), action
        assert not allows(policy, action, f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:other"), action
    assert allows(policy, "kms:CreateAlias", alias)
    assert allows(policy, "logs:PutMetricFilter", group)
    # Scheduling a key's deletion needs the project's tag: an untagged key of someone else stays safe.
    assert not allows(policy, "kms:ScheduleKeyDeletion", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abc")


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("cloudtrail:DeleteTrail", "arn:aws:cloudtrail:us-east-1:123456789012:trail/org"),
        ("cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:123456789012:trail/org"),
        ("cloudtrail:UpdateTrail", "arn:aws:cloudtrail:us-east-1:123456789012:trail/org"),
        ("logs:DeleteLogGroup", "arn:aws:logs:us-east-1:123456789012:log-group:org-trail/cloudtrail"),
    ],
)
def test_the_deployer_can_never_stop_or_delete_the_trail_or_its_log_group(action: str, resource: str) -> None:
    policy = load(DEPLOYER)
    assert not allows(policy, action, resource)
    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert any(action in _list(s["Action"]) and s["Resource"] == "*" for s in denies), action


# ---------------------------------------------------------------- parliament


@pytest.fixture(scope="module")
def community_config() -> None:
    import parliament

    override_config(str(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"))


def _findings(path: Path) -> list[Any]:
    policy = analyze_policy_string(
        path.read_text(encoding="utf-8"), filepath=str(path), include_community_auditors=True
    )
    return [enhance_finding(f) for f in policy.findings]


def _newer_than_parliament(finding: Any) -> bool:
    return any(action.split(":")[1] in str(finding.location) for action in NEWER_THAN_PARLIAMENT)


SCOPED_AGAINST_PARLIAMENT = {"events:PutPermission", "events:RemovePermission"}
"""Parliament's database wants Resource "*" for these; the deployer keeps them on event-bus/cis-* (the
central bus only), least privilege. Were AWS to refuse the scoped form, the central bus's policy would
fail to deploy, loudly, instead of the deployer being able to open any bus of the account."""


def _justified(finding: Any, path: Path) -> bool:
    if path != DEPLOYER:
        return False
    if finding.issue == "RESOURCE_MISMATCH":
        return {str(m.get("action")) for m in finding.detail} <= SCOPED_AGAINST_PARLIAMENT
    if finding.issue != "PERMISSIONS_MANAGEMENT_ACTIONS":
        return False
    return set(finding.location.get("actions", [])) <= JUSTIFIED_PERMISSIONS_MANAGEMENT


@pytest.mark.parametrize(
    "path", [AUDITOR, DEPLOYER, DRILL, SECURITY_HUB], ids=["auditor", "deployer", "drill", "security-hub"]
)
def test_parliament_finds_nothing_medium_or_worse(path: Path, community_config: None) -> None:
    findings = _findings(path)
    serious = [
        f"{f.issue} ({f.severity}): {f.detail} {f.location}"
        for f in findings
        if SEVERITIES.index(f.severity) >= SEVERITIES.index("MEDIUM") and not _justified(f, path)
    ]
    assert serious == []
    # Unknown actions are only LOW for parliament, but here they would be typos (or newer than it).
    unknown = [f for f in findings if f.issue in ("UNKNOWN_ACTION", "UNKNOWN_PREFIX")]
    assert not [f for f in unknown if not _newer_than_parliament(f)]


def test_every_verdict_names_the_calls_it_rests_on_and_they_are_the_calls_made(
    audit_calls: list[Call], proof_calls: list[Call]
) -> None:
    """The JSON's ``basis`` (per pair, per check, per proof) names only calls the audit makes, and
    every read the audit makes to judge a chain or a pair is named in some basis."""
    from cis_monitoring.audit.chain import CHECKS, check_basis
    from cis_monitoring.audit.proofs.result import PROOF_BASIS
    from cis_monitoring.audit.real_time import RULE_CHECKS, rule_basis
    from cis_monitoring.core.topology import TRAIL_READS

    named = {read.action for read in TRAIL_READS}
    named |= {read.action for link in RULE_CHECKS for read in rule_basis(link)}
    named |= {read.action for check in CHECKS for read in check_basis(check, CIS_4_5)}
    named |= {read.action for reads in PROOF_BASIS.values() for read in reads}
    called = {c.action for c in audit_calls + proof_calls}
    assert named <= called, f"named but never called: {sorted(named - called)}"
    # What is called but named in no basis: getting in and listing, not judging.
    assert called - named == {
        "sts:GetCallerIdentity",
        "sts:AssumeRole",
        "organizations:ListAccounts",
        "organizations:DescribeOrganization",
        "ec2:DescribeRegions",
    }
