"""The coverage audit and its CLI against moto in-process (one account): pairs, chains, proofs, drills, exit codes.

What moto lacks is answered through botocore's event hooks where a test needs AWS's answer
(TestMetricFilter, DescribeAlarmHistory) or AWS's refusal (AccessDenied); everywhere else
moto's own gaps must show as "not available in this emulator", never as PASS. The emulator
worlds (several accounts, organization trails) are tests/local/test_world_audit.py.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

import cis_monitoring.core.catalog as catalog
from cis_monitoring import cli as top
from cis_monitoring.audit import cli
from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.drill import DrillSettings
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.run import audit_coverage
from cis_monitoring.audit.scope import AccountFlags, flag_scope
from cis_monitoring.core.catalog import CIS_4_5, EXTRA_CONTROLS_ENV, Control
from cis_monitoring.program.policies import key_policy
from cis_monitoring.report import terminal
from tests.audit.proofs.stubs import action_item, state_item
from tests.audit.test_audit_unit import (
    ACCOUNT,
    FILTER_NAME,
    LOG_GROUP,
    REGION,
    Setup,
    allow_queue,
    build_compliant,
    inject_error,
    new_session,
    put_alarm,
    put_filter,
)

VERIFY = Path(__file__).resolve().parents[2] / "cis_monitoring" / "audit"
CHAIN_KEY = f"{ACCOUNT}/{REGION}/{LOG_GROUP}"
TRAIL = f"org-trail-{REGION}"
NOT_IN_EMULATOR = "not available in this emulator"


def compliant() -> Setup:
    setup = build_compliant()
    allow_queue(setup)
    return setup


def recorded(session: boto3.Session) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    session.events.register(
        "provide-client-params.*.*", lambda params, model, **_: calls.append((model.name, params))
    )
    return calls


def answer_matcher(session: boto3.Session, matches: Callable[[str], bool]) -> None:
    """AWS's TestMetricFilter, answered: the messages ``matches`` accepts come back as matches."""

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        messages = json.loads(params["body"])["logEventMessages"]
        found = [
            {"eventNumber": i + 1, "eventMessage": m, "extractedValues": {}}
            for i, m in enumerate(messages)
            if matches(m)
        ]
        return AWSResponse("https://logs.us-east-1.amazonaws.com/", 200, {}, None), {"matches": found}

    session.events.register("before-call.logs.TestMetricFilter", answer)


def run_cli(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, session: Any = None
) -> tuple[int, str, str]:
    """``cis-monitoring audit`` with ``session``'s hooks, drills that do not sleep; (exit, out, err)."""
    chosen = session or new_session()
    monkeypatch.setattr(cli, "_sessions", lambda *_args, **_kwargs: SessionFactory(chosen))
    monkeypatch.setattr(
        cli, "DrillSettings", functools.partial(DrillSettings, interval_seconds=1, sleep=lambda _: None)
    )
    capsys.readouterr()
    code = top.run("audit", argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return code, captured.out, captured.err


def audit_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *extra: str, session: Any = None
) -> tuple[int, dict[str, Any], str]:
    argv = ["--account", ACCOUNT, "--region", REGION, "--json", *extra]
    code, out, err = run_cli(argv, capsys, monkeypatch, session)
    return code, json.loads(out), err


def proofs_of(document: dict[str, Any], key: str = CHAIN_KEY) -> dict[str, dict[str, Any]]:
    return {p["proof"]: p for p in document["chains"][key]["controls"]["4.5"]["proofs"]}


# ---------------------------------------------------------------- coverage per (account, Region)


def test_a_multi_region_trail_covers_every_region_through_one_chain_checked_once(aws: None) -> None:
    compliant()
    session = new_session()
    calls = recorded(session)
    scope = flag_scope(AccountFlags(ACCOUNT, ["us-east-1", "eu-west-1", "ap-southeast-2"]))
    report = audit_coverage(scope, SessionFactory(session), [CIS_4_5], proofs=ProofSettings())
    assert [(p.region, p.status, p.coverage.code if p.coverage else None) for p in report.pairs] == [
        ("us-east-1", "PASS", "coverage.direct"),
        ("eu-west-1", "PASS", "coverage.direct"),
        ("ap-southeast-2", "PASS", "coverage.direct"),
    ]
    assert {p.chain for p in report.pairs} == {CHAIN_KEY} and list(report.chains) == [
        next(iter(report.chains))
    ]
    assert [params["logGroupName"] for name, params in calls if name == "DescribeMetricFilters"] == [
        LOG_GROUP
    ]
    # One status and selector read of the trail, though three Regions list it.
    assert sum(name == "GetTrailStatus" for name, _ in calls) == 1
    assert sum(name == "GetEventSelectors" for name, _ in calls) == 1
    (reason,) = report.pairs[1].reasons
    # The emulator delivers at the time it is asked (as AWS does, continuously): the time varies.
    assert re.fullmatch(
        re.escape(
            f"covered directly: multi-Region trail {TRAIL!r} of account {ACCOUNT} (home {REGION}) delivers to"
            f" log group {LOG_GROUP!r} in account {ACCOUNT} {REGION}; logging, delivering to CloudWatch Logs"
            " (last at "
        )
        + r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\)"
        + re.escape(f", all management events, chain intact in {ACCOUNT}"),
        reason,
    ), reason


def test_the_json_document_has_each_pairs_coverage_and_each_chain_once(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    code, document, _err = audit_json(capsys, monkeypatch, "--region", "eu-west-1")
    assert code == 0
    assert document["schemaVersion"] == 2 and document["controls"] == ["4.5"]
    assert document["summary"] == {
        "pairs": 2,
        "pass": 2,
        "fail": 0,
        "error": 0,
        "coverage": {"direct": 2, "organization": 0, "none": 0},
        "chains": 1,
        "proofs": {"NOT_AVAILABLE": 3, "PASS": 2},  # mute rules: moto has none
        "errors": 0,
    }
    first = document["coverage"][0]
    assert {k: first[k] for k in ("accountId", "region", "coverage", "code", "trail", "trailAccountId")} == {
        "accountId": ACCOUNT,
        "region": REGION,
        "coverage": "direct",
        "code": "coverage.direct",
        "trail": TRAIL,
        "trailAccountId": ACCOUNT,
    }
    assert first["chain"] == CHAIN_KEY and first["logGroup"] == CHAIN_KEY and first["status"] == "PASS"
    assert first["description"].startswith("covered directly: multi-Region trail")
    assert [t["name"] for t in first["trails"]] == [TRAIL]
    assert first["trails"][0]["selectors"] == "all management events (classic selectors)"
    assert list(document["chains"]) == [CHAIN_KEY]
    chain = document["chains"][CHAIN_KEY]["controls"]["4.5"]
    assert [f["check"] for f in chain["findings"]] == [
        "log group",
        "filter",
        "alarm",
        "topic policy",
        "subscription",
    ]
    proofs = proofs_of(document)
    assert {name: p["status"] for name, p in proofs.items()} == {
        "aws matcher": "NOT_AVAILABLE",
        "key policy": "PASS",
        "queue policy": "PASS",
        "alarm history": "NOT_AVAILABLE",
        "mute rules": "NOT_AVAILABLE",
    }
    assert proofs["aws matcher"]["detail"].startswith(NOT_IN_EMULATOR)


def test_the_table_shows_the_proof_columns_and_what_moto_cannot_give(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    code, out, _err = run_cli(["--account", ACCOUNT, "--region", REGION], capsys, monkeypatch)
    assert code == 0
    lines = out.splitlines()
    assert next(line for line in lines if line.startswith("ACCOUNT")).split() == list(terminal.HEADERS)
    header = next(line for line in lines if line.startswith("LOG GROUP"))
    assert header.split() == [
        "LOG",
        "GROUP",
        "CONTROL",
        "STATUS",
        "MATCHER",
        "KEY",
        "SUBS",
        "HISTORY",
        "MUTE",
        "DRILL",
        "REASONS",
    ]
    row = lines[lines.index(header) + 1].split()
    assert row[:9] == [CHAIN_KEY, "4.5", "PASS", "n/a", "PASS", "PASS", "n/a", "n/a", "-"]
    text = " ".join(out.split())
    assert f"n/a ({NOT_IN_EMULATOR}): aws matcher, alarm history, mute rules" in text
    assert text.endswith(
        "1 account-Region pair(s): 1 PASS, 0 FAIL, 0 ERROR; covered 1 directly, 0 by organization"
        " trail, 0 not; 1 chain(s)"
    )


def test_a_single_region_trail_counts_only_for_its_region_and_is_not_cis(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    setup.client("cloudtrail").update_trail(Name=setup.trail_name, IsMultiRegionTrail=False)
    code, document, _err = audit_json(capsys, monkeypatch, "--region", "eu-west-1")
    assert code == 1
    home, other = document["coverage"]
    assert (home["status"], home["code"], home["trail"]) == ("FAIL", "coverage.none.single_region", TRAIL)
    assert "CIS 4.x needs a multi-Region trail" in home["reasons"][0]
    assert (other["status"], other["code"]) == ("FAIL", "coverage.none.no_trail")
    assert document["chains"] == {}  # no chain is checked where no trail may count


@pytest.mark.parametrize(
    ("label", "breaker", "code", "expected"),
    [
        (
            "alarm deleted",
            lambda s: s.client("cloudwatch").delete_alarms(AlarmNames=[s.alarm_name]),
            "coverage.none.chain_broken",
            f"chain in account {ACCOUNT} ({LOG_GROUP}): alarm: no CloudWatch alarm on metric",
        ),
        (
            "filter weakened",
            lambda s: put_filter(
                s.region,
                s.log_group,
                "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) }",
            ),
            "coverage.none.chain_broken",
            f"chain in account {ACCOUNT} ({LOG_GROUP}): filter: ",
        ),
        (
            "logging stopped",
            lambda s: s.client("cloudtrail").stop_logging(Name=s.trail_name),
            "coverage.none.not_logging",
            "is not logging (StopLogging was called); start logging again",
        ),
        (
            "write-only selectors",
            lambda s: s.client("cloudtrail").put_event_selectors(
                TrailName=s.trail_name,
                EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
            ),
            "coverage.none.selectors",
            "does not record all management events (read and write); fix its event selectors",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else None,
)
def test_a_broken_link_uncovers_the_pair_and_says_where(
    aws: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    label: str,
    breaker: Callable[[Setup], None],
    code: str,
    expected: str,
) -> None:
    breaker(compliant())
    exit_code, document, _err = audit_json(capsys, monkeypatch)
    assert exit_code == 1, label
    (pair,) = document["coverage"]
    assert (pair["status"], pair["code"], pair["coverage"]) == ("FAIL", code, "none")
    assert any(expected in reason for reason in pair["reasons"]), pair["reasons"]
    if code == "coverage.none.selectors":
        assert "write-only management events" in pair["trails"][0]["selectors"]


def test_log_group_is_optional_and_when_given_must_be_the_one_reached(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    code, document, _err = audit_json(capsys, monkeypatch, "--log-group", LOG_GROUP)
    assert code == 0
    code, document, _err = audit_json(capsys, monkeypatch, "--log-group", "team/trail")
    assert code == 1
    (pair,) = document["coverage"]
    assert pair["status"] == "FAIL" and pair["coverage"] == "direct"
    assert pair["reasons"][-1] == (
        f"--log-group 'team/trail': the events reach log group {LOG_GROUP!r} in account {ACCOUNT} {REGION} instead"
    )


# ---------------------------------------------------------------- proofs


def test_an_sqs_subscriber_without_a_queue_policy_fails_though_sns_shows_it_confirmed(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    build_compliant()  # no queue policy
    code, document, _err = audit_json(capsys, monkeypatch)
    assert code == 1
    (pair,) = document["coverage"]
    assert pair["status"] == "FAIL" and pair["code"] == "coverage.none.chain_broken"
    findings = document["chains"][CHAIN_KEY]["controls"]["4.5"]["findings"]
    assert all(f["ok"] for f in findings)  # the core's links all work ...
    assert proofs_of(document)["queue policy"]["status"] == "FAIL"  # ... but SNS cannot deliver
    assert any(
        r.startswith(f"chain in account {ACCOUNT} ({LOG_GROUP}): queue policy: ") for r in pair["reasons"]
    )


def test_awss_matcher_wins_where_it_disagrees_with_our_engine(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    targets = {s.message for s in CIS_4_5.target_samples()}
    # Our engine finds that this pattern misses StopLogging; AWS (as answered here) matches every target.
    put_filter(
        setup.region, setup.log_group, "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }"
    )
    covers = new_session()
    answer_matcher(covers, lambda message: message in targets)
    code, document, _err = audit_json(capsys, monkeypatch, session=covers)
    assert code == 0, document["coverage"][0]["reasons"]
    control = document["chains"][CHAIN_KEY]["controls"]["4.5"]
    detail = next(f["detail"] for f in control["findings"] if f["check"] == "filter")
    assert detail.startswith(f"filter {FILTER_NAME!r}: AWS's matcher covers CIS 4.5; our engine disagrees")
    matcher = proofs_of(document)["aws matcher"]
    assert matcher["status"] == "PASS" and matcher["evidence"]["disagreements"]
    assert "AWS's verdict counts" in matcher["detail"]

    # The benchmark's own pattern, which AWS (as answered here) matches nowhere: AWS's FAIL counts.
    put_filter(setup.region, setup.log_group, CIS_4_5.filter_pattern)
    misses = new_session()
    answer_matcher(misses, lambda _message: False)
    code, document, _err = audit_json(capsys, monkeypatch, session=misses)
    assert code == 1
    assert proofs_of(document)["aws matcher"]["status"] == "FAIL"
    assert any("aws matcher: AWS's matcher misses" in r for r in document["coverage"][0]["reasons"])


def test_no_test_metric_filter_skips_the_matcher_and_never_calls_it(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    session = new_session()
    calls = recorded(session)
    code, document, _err = audit_json(capsys, monkeypatch, "--no-test-metric-filter", session=session)
    assert code == 0
    matcher = proofs_of(document)["aws matcher"]
    assert matcher["status"] == "SKIPPED" and "--no-test-metric-filter" in matcher["detail"]
    assert "TestMetricFilter" not in {name for name, _ in calls}


def test_a_denied_test_metric_filter_is_a_usage_error_after_the_report(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    session = new_session()
    inject_error(session, "before-call.logs.TestMetricFilter", "AccessDeniedException", "not authorized")
    code, out, err = run_cli(["--account", ACCOUNT, "--region", REGION], capsys, monkeypatch, session)
    assert code == 2
    assert "account-Region pair(s)" in out  # the report is printed first
    assert err.splitlines() == [
        f"error: logs:TestMetricFilter was denied ({FILTER_NAME}): add logs:TestMetricFilter to the auditor's"
        " policy (iam/auditor-policy.json has it), or pass --no-test-metric-filter"
    ]


def test_another_denied_proof_is_an_error_row_not_a_usage_error(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    kms = setup.client("kms")
    key = kms.create_key(Policy=key_policy(ACCOUNT, REGION))["KeyMetadata"]["Arn"]
    setup.client("sns").set_topic_attributes(
        TopicArn=setup.topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=key
    )
    session = new_session()
    inject_error(session, "before-call.kms.GetKeyPolicy", "AccessDeniedException", "not authorized")
    code, document, _err = audit_json(capsys, monkeypatch, session=session)
    assert code == 3  # no FAIL, but an ERROR: compliance could not be decided
    (pair,) = document["coverage"]
    assert pair["status"] == "ERROR" and pair["coverage"] == "direct"
    assert "could not be checked: key policy: AccessDeniedException" in pair["reasons"][0]
    assert "grant kms:GetKeyPolicy" in proofs_of(document)["key policy"]["detail"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--history-days", "0"],
            "error: --history-days: must be 1 to 30 (CloudWatch keeps 30 days of alarm history)",
        ),
        (
            ["--history-days", "31"],
            "error: --history-days: must be 1 to 30 (CloudWatch keeps 30 days of alarm history)",
        ),
        (
            ["--history-days", "two"],
            "error: --history-days: must be 1 to 30 (CloudWatch keeps 30 days of alarm history)",
        ),
        (
            ["--drill", "--drill-timeout", "0"],
            "error: --drill-timeout: must be a positive number of seconds, not '0'",
        ),
        (
            ["--drill", "--drill-timeout", "soon"],
            "error: --drill-timeout: must be a positive number of seconds, not 'soon'",
        ),
        (["--owner-role-arn", "deployer"], "error: --owner-role-arn: 'deployer' is not an IAM role ARN"),
        (["--delivery-window", "0"], "error: --delivery-window: must be a positive number of hours, not '0'"),
        (["--delivery-window", "a day"], "error: --delivery-window: must be a positive number of hours"),
    ],
)
def test_proof_options_that_cannot_work_exit_2(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(["--account", ACCOUNT, "--region", REGION, *flags], capsys, monkeypatch)
    assert code == 2 and out == ""
    assert err.splitlines()[0].startswith(message)


def test_history_days_sets_the_window(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    session = new_session()
    answered: list[dict[str, Any]] = []

    def history(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        answered.append(params)
        return AWSResponse("https://monitoring.us-east-1.amazonaws.com/", 200, {}, None), {
            "AlarmHistoryItems": []
        }

    session.events.register("before-call.cloudwatch.DescribeAlarmHistory", history)
    code, document, _err = audit_json(capsys, monkeypatch, "--history-days", "3", session=session)
    assert code == 0 and len(answered) == 1
    proof = proofs_of(document)["alarm history"]
    assert proof["status"] == "PASS" and proof["evidence"]["days"] == 3
    assert "proves nothing about delivery (a drill does)" in proof["detail"]


# ---------------------------------------------------------------- the drill


def test_a_drill_in_moto_sets_the_alarm_and_says_the_result_is_not_available(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    code, document, err = audit_json(capsys, monkeypatch, "--drill")
    assert code == 0  # n/a is no finding
    run_id = document["drill"]["runId"]
    assert (
        err.splitlines()[0] == f"drill {run_id}: 1 alarm(s) will notify their subscribers: {setup.alarm_name}"
    )
    drill = proofs_of(document)["drill"]
    assert drill["status"] == "NOT_AVAILABLE" and drill["detail"].startswith(NOT_IN_EMULATOR)
    evidence = drill["evidence"]
    assert evidence["runId"] == run_id and evidence["previousState"] in ("OK", "INSUFFICIENT_DATA")
    assert evidence["notification"]["subject"] == f'ALARM: "{setup.alarm_name}" in US East (N. Virginia)'
    assert run_id in evidence["notification"]["reason"] and evidence["returnsWithinSeconds"] == 300
    alarm = setup.client("cloudwatch").describe_alarms(AlarmNames=[setup.alarm_name])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM" and run_id in alarm["StateReason"]

    # Now in ALARM: never drilled again. The table says what the on-call person would receive.
    code, out, _err = run_cli(["--account", ACCOUNT, "--region", REGION, "--drill"], capsys, monkeypatch)
    assert code == 0
    text = " ".join(out.split())
    assert "skip" in out and "is already in ALARM" in text


def test_a_drill_passes_on_successfully_executed_action_and_prints_what_is_received(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    session = new_session()
    reasons: list[str] = []
    session.events.register(
        "provide-client-params.cloudwatch.SetAlarmState",
        lambda params, **_: reasons.append(params["StateReason"]),
    )

    def history(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        """Nothing before the drill (the history proof); after it, its transition and a delivered action."""
        items = []
        if reasons:
            found = boto3.client("cloudwatch", region_name=REGION).describe_alarms(
                AlarmNames=[setup.alarm_name]
            )
            changed = found["MetricAlarms"][0]["StateUpdatedTimestamp"]
            items = [
                state_item(changed, "OK", "ALARM", reasons[-1]),
                action_item(changed, True, topic=setup.topic_arn, transition_at=changed),
            ]
            for item in items:
                item["AlarmName"] = setup.alarm_name
        answer = {"AlarmHistoryItems": items}
        return AWSResponse("https://monitoring.us-east-1.amazonaws.com/", 200, {}, None), answer

    session.events.register("before-call.cloudwatch.DescribeAlarmHistory", history)
    code, out, _err = run_cli(
        ["--account", ACCOUNT, "--region", REGION, "--drill"], capsys, monkeypatch, session
    )
    assert code == 0
    text = " ".join(out.split())
    assert f"{setup.alarm_name} ({CHAIN_KEY}): PASS: drill drill-" in text
    assert (
        f"what the on-call person will receive: subject 'ALARM: \"{setup.alarm_name}\" in US East (N. Virginia)'"
        in text
    )
    assert "the alarm returns to its real state by itself at its next evaluation (within about 300 s)" in text


def test_a_denied_set_alarm_state_is_a_usage_error(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    session = new_session()
    inject_error(session, "before-call.cloudwatch.SetAlarmState", "AccessDenied", "not authorized")
    code, _out, err = run_cli(
        ["--account", ACCOUNT, "--region", REGION, "--drill"], capsys, monkeypatch, session
    )
    assert code == 2
    assert err.splitlines()[-1] == (
        f"error: cloudwatch:SetAlarmState was denied ({setup.alarm_name}): --drill needs cloudwatch:SetAlarmState"
        " on the alarm: attach iam/drill-policy.json to the auditor's role, or leave out --drill"
    )


def test_a_chain_that_fails_is_not_drilled(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    setup.client("sns").unsubscribe(SubscriptionArn=setup.subscription_arn)
    session = new_session()
    calls = recorded(session)
    code, document, err = audit_json(capsys, monkeypatch, "--drill", session=session)
    assert code == 1
    drill = proofs_of(document)["drill"]
    assert (drill["status"], drill["detail"]) == (
        "SKIPPED",
        "not drilled: the chain already fails at subscription",
    )
    assert "SetAlarmState" not in {name for name, _ in calls}
    assert "no chain passed, so no alarm is drilled" in err


# ---------------------------------------------------------------- members, controls


def test_members_from_organization_without_an_organization_is_an_error_line(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    code, document, _err = audit_json(capsys, monkeypatch, "--members-from-organization")
    assert code == 3 and document["status"] == "ERROR"  # an error of no pair makes the run ERROR
    (error,) = document["errors"]
    assert error.startswith("--members-from-organization: AWSOrganizationsNotInUseException")
    assert [p["status"] for p in document["coverage"]] == ["PASS"]  # the account itself is still audited


def test_controls_default_to_the_catalogs_and_can_be_chosen(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant()
    _code, document, _err = audit_json(capsys, monkeypatch, "--control", "4.5", "--control", "4.5")
    assert document["controls"] == ["4.5"]
    code, _out, err = run_cli(
        ["--account", ACCOUNT, "--region", REGION, "--control", "9.9"], capsys, monkeypatch
    )
    assert code == 2 and "invalid choice: '9.9'" in err


def test_no_control_is_hard_coded_in_the_audit() -> None:
    for path in VERIFY.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "4.5" not in text and "CIS_4_5" not in text, path.name


# ---------------------------------------------------------------- every control the stack lists

DATA = Path(__file__).resolve().parents[1] / "data" / "root_usage_control"
ROOT = "4.3-test"
ROOT_FILTER = "cis-root-usage-test"
MATCHES_NOTHING = '{ $.userIdentity.type = "root" && $.eventType != "AwsServiceEvent" }'


@pytest.fixture
def root_control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Control]:
    """A second control, as data (tests/data/root_usage_control through CIS_MONITORING_EXTRA_CONTROLS)."""
    directory = tmp_path / "controls"
    directory.mkdir()
    for path in DATA.iterdir():
        shutil.copy(path, directory / path.name)
    monkeypatch.setenv(EXTRA_CONTROLS_ENV, str(directory))
    catalog.reload()
    try:
        yield catalog.get_control(ROOT)
    finally:
        monkeypatch.delenv(EXTRA_CONTROLS_ENV)
        catalog.reload()


def put_root_chain(setup: Setup, control: Control, pattern: str) -> None:
    logs = setup.client("logs")
    if logs.describe_metric_filters(logGroupName=setup.log_group, filterNamePrefix=ROOT_FILTER)[
        "metricFilters"
    ]:
        logs.delete_metric_filter(logGroupName=setup.log_group, filterName=ROOT_FILTER)
    logs.put_metric_filter(
        logGroupName=setup.log_group,
        filterName=ROOT_FILTER,
        filterPattern=pattern,
        metricTransformations=[
            {"metricName": control.metric_name, "metricNamespace": control.namespace, "metricValue": "1"}
        ],
    )
    put_alarm(setup.region, "cis-root-usage-test-sandbox", setup.topic_arn, MetricName=control.metric_name)


def write_two_control_stack(repo_root: Path) -> None:
    """``Pulumi.two.yaml``: the sandbox account's trail, watched for 4.5 and the test's second control."""
    (repo_root / "Pulumi.two.yaml").write_text(
        f"""
config:
  cis-monitoring:controls: ["4.5", "{ROOT}"]
  cis-monitoring:notifications:
    subscriptions: [{{protocol: email, endpoint: soc@example.com}}]
  cis-monitoring:accounts:
    - id: "{ACCOUNT}"
      name: sandbox
      trail: {{homeRegion: {REGION}, logGroup: {LOG_GROUP}}}
""",
        encoding="utf-8",
    )


def test_every_control_the_stack_lists_is_audited_on_each_chain_reading_it_once(
    aws: None,
    root_control: Control,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = compliant()
    put_root_chain(setup, root_control, root_control.filter_pattern)
    write_two_control_stack(tmp_path)
    stack = ["--stack", "two", "--repo-root", str(tmp_path), "--json"]
    session = new_session()
    calls = recorded(session)
    code, out, _err = run_cli(stack, capsys, monkeypatch, session)
    document = json.loads(out)
    assert code == 0, document["coverage"][0]["reasons"]
    assert document["controls"] == ["4.5", ROOT]
    chain = document["chains"][CHAIN_KEY]["controls"]
    assert {control: chain[control]["status"] for control in chain} == {"4.5": "PASS", ROOT: "PASS"}
    assert sum(name == "DescribeMetricFilters" for name, _ in calls) == 1  # both controls, one read

    put_root_chain(setup, root_control, MATCHES_NOTHING)
    code, out, _err = run_cli(stack, capsys, monkeypatch)
    document = json.loads(out)
    assert code == 1
    (pair,) = document["coverage"]
    assert pair["code"] == "coverage.none.chain_broken"
    assert any(
        r.startswith(f"chain in account {ACCOUNT} ({LOG_GROUP}): CIS {ROOT}: filter: ")
        for r in pair["reasons"]
    )
    assert document["chains"][CHAIN_KEY]["controls"]["4.5"]["status"] == "PASS"
    code, out, _err = run_cli([*stack, "--control", "4.5"], capsys, monkeypatch)
    assert code == 0 and json.loads(out)["controls"] == ["4.5"]


def test_a_stack_file_without_subscribers_is_audited_read_only(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``discover --write`` produces has no subscriber yet: the audit reads it (the baseline before a
    change); the program still refuses it."""
    compliant()
    (tmp_path / "Pulumi.baseline.yaml").write_text(
        f"""
config:
  cis-monitoring:accounts:
    - id: "{ACCOUNT}"
      name: sandbox
      trail: {{homeRegion: {REGION}, logGroup: {LOG_GROUP}}}
""",
        encoding="utf-8",
    )
    code, out, err = run_cli(
        ["--stack", "baseline", "--repo-root", str(tmp_path), "--json"], capsys, monkeypatch
    )
    assert code == 0, err
    assert [p["status"] for p in json.loads(out)["coverage"]] == ["PASS"]
    from cis_monitoring.spec import StackFileError, read_stack_file

    with pytest.raises(StackFileError, match="has no subscriber"):
        read_stack_file("baseline", tmp_path)


def test_an_emulator_gets_few_retries_and_aws_the_standard_ones() -> None:
    # moto answers what it lacks with HTTP 500, which botocore would retry for ~20 s per call.
    assert cli._sessions("http://127.0.0.1:5000", None).max_attempts == 2
    assert cli._sessions(None, None).max_attempts == 10


def test_a_chain_in_an_account_the_caller_cannot_enter_says_how_to_get_in(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = compliant()
    elsewhere = "210987654321"
    # The trail now names a log group in another account (as a member's shadow of an organization trail
    # does); the group exists there, so the emulator's CloudTrail delivers to it.
    role = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{elsewhere}:role/admin", RoleSessionName="test-session"
    )
    keys = role["Credentials"]
    boto3.client(
        "logs",
        region_name=REGION,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    ).create_log_group(logGroupName="org")
    setup.client("cloudtrail").update_trail(
        Name=setup.trail_name, CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{elsewhere}:log-group:org:*"
    )
    code, document, _err = audit_json(capsys, monkeypatch)
    assert code == 3
    (pair,) = document["coverage"]
    assert pair["status"] == "ERROR" and pair["chain"] == f"{elsewhere}/{REGION}/org"
    assert "AccountMismatch" in pair["reasons"][0]
    assert pair["reasons"][-1].startswith(
        f"to read the chain in account {elsewhere}, give that account a roleArn"
    )


def test_a_reason_every_control_of_a_chain_has_is_written_once_in_the_table(
    aws: None,
    root_control: Control,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup = compliant()
    put_root_chain(setup, root_control, root_control.filter_pattern)
    setup.client("sns").unsubscribe(SubscriptionArn=setup.subscription_arn)  # breaks both controls' alarms
    write_two_control_stack(tmp_path)
    code, out, _err = run_cli(
        ["--stack", "two", "--repo-root", str(tmp_path), "--no-color"], capsys, monkeypatch
    )
    assert code == 1
    chains = " ".join(out.split("Chains (", 1)[1].split("\n\n", 1)[0].split())
    # Each control's own sentence names its alarm; the note both share is written once.
    assert chains.count("reaches nobody") == 2, chains
    assert chains.count("not available in this emulator") == 1, chains
    assert "and the 1 reason(s) of CIS 4.5 above" in chains, chains
