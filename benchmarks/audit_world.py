"""The audit benchmark's emulated organization: N accounts, each with its own trail and intact chain, 5% broken.

Built in a moto server on loopback (``local.emulator``) with the worlds' builder (``local.worlds.builder``):
each member account gets a multi-Region trail, home us-east-1, delivering to a log group of its own, and
the program (the real ``__main__.py``, deployed through ``local.emulator_deploy``) puts one chain on each
group: metric filter, alarm, KMS-encrypted topic with its policy, an email subscription. Then a share
of the accounts is broken the way users break things, a different way per broken account (``BREAKAGES``
in turn), so both auditors meet every kind of gap.

Each breakage says what the two auditors should answer (``ours``, ``prowler``): ours judges the whole
chain (trail logging and selectors, filter, alarm and its actions, topic, subscribers); Prowler's check
``cloudwatch_log_metric_filter_and_alarm_for_cloudtrail_configuration_changes_enabled`` looks only for a
filter whose pattern names the five events on a trail's log group, and an alarm on its metric (its
source: ``prowler/providers/aws/services/cloudwatch/lib/metric_filters.py``). Where they differ is a
disagreement the benchmark expects, with its cause.

````serve`` runs the emulator with the organization in a process of its own (``python -m
benchmarks.audit_world``), and its ``RequestLog`` counts the requests moto receives, by service and
operation, whoever sends them (our audit, Prowler in-process or its CLI): the same measuring stick.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import re
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from cis_monitoring.core.project import PROJECT
from local.emulator import MEMBER_ROLE, Emulator, EmulatorSessions
from local.emulator_deploy import deploy_stack, with_emulator_endpoint
from local.worlds.builder import WorldBuilder

HOME = "us-east-1"
REGIONS = ("us-east-1", "eu-west-1")
"""Two Regions per account, as in the issue's first measurement (20 accounts, 40 pairs)."""
TRAIL, GROUP = "org-member-trail", "cloudtrail/management-events"
FIRST_ACCOUNT = 300_000_000_000
SUBSCRIBER = {"subscriptions": [{"protocol": "email", "endpoint": "soc@example.com"}]}
WEAK_PATTERN = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail)"
    " || ($.eventName = StartLogging) }"
)
"""CIS 4.5's pattern without StopLogging: the event that hides everything after it goes unseen."""
PASS, FAIL = "PASS", "FAIL"


@dataclass(frozen=True)
class Breakage:
    name: str
    what: str
    ours: str
    """Our verdict for the account's pairs."""
    prowler: str
    """Prowler's check's verdict for the account."""
    cause: str = ""
    """Why the verdicts differ (empty where they agree)."""


BREAKAGES = (
    Breakage(
        "no-subscriber",
        "the alarm's topic has no subscriber (the email subscription removed)",
        FAIL,
        PASS,
        "Prowler does not look past the alarm: a topic nobody is subscribed to passes",
    ),
    Breakage("weak-pattern", "the filter's pattern lacks StopLogging", FAIL, FAIL),
    Breakage("no-alarm", "the alarm on the filter's metric deleted", FAIL, FAIL),
    Breakage(
        "no-alarm-action",
        "the alarm's actions removed (it notifies no one)",
        FAIL,
        PASS,
        "Prowler checks that an alarm exists on the metric, not that it notifies anyone",
    ),
    Breakage(
        "trail-stopped",
        "the trail stopped logging (StopLogging)",
        FAIL,
        PASS,
        "Prowler's check does not look at the trail's logging status: no events reach the filter",
    ),
    Breakage("no-filter", "the metric filter deleted", FAIL, FAIL),
)
INTACT = Breakage("intact", "intact chain", PASS, PASS)


@dataclass
class BenchOrganization:
    endpoint: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    stack_file: Path
    broken: dict[str, Breakage] = field(default_factory=dict)
    build_seconds: float = 0.0

    @property
    def pairs(self) -> int:
        return len(self.accounts) * len(self.regions)

    def breakage(self, account_id: str) -> Breakage:
        return self.broken.get(account_id, INTACT)

    def role_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "accounts": list(self.accounts),
            "regions": list(self.regions),
            "stack_file": str(self.stack_file),
            "broken": {account: breakage.name for account, breakage in self.broken.items()},
            "build_seconds": self.build_seconds,
        }

    @classmethod
    def from_dict(cls, found: Mapping[str, Any]) -> BenchOrganization:
        kinds = {b.name: b for b in BREAKAGES}
        return cls(
            found["endpoint"],
            tuple(found["accounts"]),
            tuple(found["regions"]),
            Path(found["stack_file"]),
            {account: kinds[name] for account, name in found["broken"].items()},
            found["build_seconds"],
        )


def accounts_for(pairs: int, regions: tuple[str, ...] = REGIONS) -> int:
    return max(1, -(-pairs // len(regions)))


def broken_count(accounts: int, share: float) -> int:
    """At least ``share`` of the accounts (5% of pairs = 5% of accounts), and at least one."""
    return max(1, math.ceil(accounts * share - 1e-9))


def build(endpoint: str, pairs: int, workdir: Path, share_broken: float = 0.05) -> BenchOrganization:
    """Build the organization in the (empty) emulator at ``endpoint``: ``pairs`` account-Region pairs."""
    started = time.perf_counter()
    count = accounts_for(pairs)
    builder = WorldBuilder(endpoint, "audit-bench")
    ids = tuple(f"{FIRST_ACCOUNT + i:012d}" for i in range(count))
    entries = []
    for number, account_id in enumerate(ids):
        builder.account(account_id, f"Member {number:04d}", "Root/Workloads")
        builder.trail(account_id, TRAIL, HOME, log_group=GROUP)
        entries.append(
            {
                "id": account_id,
                "name": f"member-{number:04d}",
                "roleArn": f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}",
                "trail": {"homeRegion": HOME, "logGroup": GROUP, "name": TRAIL},
            }
        )
    config = with_emulator_endpoint({"accounts": entries, "notifications": SUBSCRIBER}, endpoint)
    deployment = deploy_stack(config, endpoint)
    if deployment.error is not None:
        raise RuntimeError(f"deploying the chains failed: {deployment.error}")
    stack_file = workdir / "Pulumi.audit-bench.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}))
    organization = BenchOrganization(endpoint, ids, REGIONS, stack_file)
    # Spread the broken accounts over the organization, each breakage in turn.
    step = count / broken_count(count, share_broken)
    sessions = EmulatorSessions(endpoint)
    for index in range(broken_count(count, share_broken)):
        account_id = ids[int(index * step + step / 2)]
        breakage = BREAKAGES[index % len(BREAKAGES)]
        BREAK[breakage.name](sessions, account_id)
        organization.broken[account_id] = breakage
    organization.build_seconds = time.perf_counter() - started
    return organization


# ---------------------------------------------------------------- breaking a chain, as a user would


def _client(sessions: EmulatorSessions, service: str, account_id: str) -> Any:
    return sessions.for_account(service, account_id, HOME)


def _filter(sessions: EmulatorSessions, account_id: str) -> dict[str, Any]:
    (found,) = _client(sessions, "logs", account_id).describe_metric_filters(logGroupName=GROUP)[
        "metricFilters"
    ]
    return dict(found)


def _alarm(sessions: EmulatorSessions, account_id: str) -> dict[str, Any]:
    metric = _filter(sessions, account_id)["metricTransformations"][0]
    cloudwatch = _client(sessions, "cloudwatch", account_id)
    alarms = cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    (found,) = [
        a
        for a in alarms
        if (a.get("Namespace"), a.get("MetricName")) == (metric["metricNamespace"], metric["metricName"])
    ]
    return dict(found)


def _no_subscriber(sessions: EmulatorSessions, account_id: str) -> None:
    sns = _client(sessions, "sns", account_id)
    for topic in _alarm(sessions, account_id)["AlarmActions"]:
        for item in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
            sns.unsubscribe(SubscriptionArn=item["SubscriptionArn"])


def _weak_pattern(sessions: EmulatorSessions, account_id: str) -> None:
    found = _filter(sessions, account_id)
    logs = _client(sessions, "logs", account_id)
    # PutMetricFilter replaces a filter of the same name in AWS; moto 5 appends a second one instead,
    # so the old filter is deleted first to leave what AWS would.
    logs.delete_metric_filter(logGroupName=GROUP, filterName=found["filterName"])
    logs.put_metric_filter(
        logGroupName=GROUP,
        filterName=found["filterName"],
        filterPattern=WEAK_PATTERN,
        metricTransformations=found["metricTransformations"],
    )


def _no_alarm(sessions: EmulatorSessions, account_id: str) -> None:
    name = _alarm(sessions, account_id)["AlarmName"]
    _client(sessions, "cloudwatch", account_id).delete_alarms(AlarmNames=[name])


_ALARM_KEYS = (
    "AlarmName",
    "AlarmDescription",
    "MetricName",
    "Namespace",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)


def _no_alarm_action(sessions: EmulatorSessions, account_id: str) -> None:
    alarm = _alarm(sessions, account_id)
    request = {key: alarm[key] for key in _ALARM_KEYS if key in alarm}
    _client(sessions, "cloudwatch", account_id).put_metric_alarm(**request, AlarmActions=[])


def _trail_stopped(sessions: EmulatorSessions, account_id: str) -> None:
    _client(sessions, "cloudtrail", account_id).stop_logging(Name=TRAIL)


def _no_filter(sessions: EmulatorSessions, account_id: str) -> None:
    name = _filter(sessions, account_id)["filterName"]
    _client(sessions, "logs", account_id).delete_metric_filter(logGroupName=GROUP, filterName=name)


BREAK: dict[str, Callable[[EmulatorSessions, str], None]] = {
    "no-subscriber": _no_subscriber,
    "weak-pattern": _weak_pattern,
    "no-alarm": _no_alarm,
    "no-alarm-action": _no_alarm_action,
    "trail-stopped": _trail_stopped,
    "no-filter": _no_filter,
}


# ---------------------------------------------------------------- counting the requests moto receives

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
REQUESTS_PATH = "/__audit-bench__/requests"
"""GET: the counts so far, as JSON; DELETE: the counts, then zero them (served by the wrapper, not moto)."""


@dataclass
class RequestLog:
    """Requests the moto server in this process received, by (service, operation)."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self, reset: bool = False) -> dict[str, int]:
        with self._lock:
            found = {f"{service}:{operation}": n for (service, operation), n in self.counts.most_common()}
            if reset:
                self.counts.clear()
        return found

    def _record(self, environ: dict[str, Any]) -> None:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(1) if scope else "?"
        operation = _operation(environ)
        with self._lock:
            self.counts[(service, operation)] += 1

    def install(self) -> None:
        """Count every request moto's WSGI entry answers from now on, and serve ``REQUESTS_PATH``."""
        original = DomainDispatcherApplication.__call__
        log = self

        def counted(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO") == REQUESTS_PATH:
                body = json.dumps(log.snapshot(reset=environ.get("REQUEST_METHOD") == "DELETE")).encode()
                start_response("200 OK", [("Content-Type", "application/json")])
                return [body]
            log._record(environ)
            return original(app, environ, start_response)

        DomainDispatcherApplication.__call__ = counted  # type: ignore[method-assign]


def requests_received(endpoint: str, reset: bool = False) -> dict[str, int]:
    """The counts of the server at ``endpoint`` (a ``serve`` process); ``reset`` zeroes them after."""
    request = urllib.request.Request(endpoint + REQUESTS_PATH, method="DELETE" if reset else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def _operation(environ: dict[str, Any]) -> str:
    """The operation of a request: JSON protocols' X-Amz-Target, CBOR's path, the query protocol's Action."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    path = str(environ.get("PATH_INFO", ""))
    if "/operation/" in path:
        return path.rsplit("/", 1)[-1]
    action = parse_qs(str(environ.get("QUERY_STRING", ""))).get("Action")
    if action:
        return action[0]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length and "form-urlencoded" in str(environ.get("CONTENT_TYPE", "")):
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # put back what was read, for moto
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return f"{environ.get('REQUEST_METHOD', '?')} {path[:40]}"


# ---------------------------------------------------------------- the server process

STOP = "stop"


def serve(pairs: int, workdir: Path, share_broken: float = 0.05) -> None:
    """The emulator with the organization built, in this process, until ``stop`` (or EOF) on stdin.

    The benchmark runs it in a process of its own, so moto's work never shares an interpreter (and
    its lock) with the auditor being timed, ours or Prowler's. Prints one JSON line: the organization.
    """
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto's 500s for operations it lacks
    log = RequestLog()
    log.install()
    with Emulator() as emulator:
        organization = build(emulator.url, pairs, workdir, share_broken)
        log.snapshot(reset=True)
        print(json.dumps(organization.to_dict()), flush=True)
        while True:  # readline, not iteration: iterating reads ahead and would wait for more input
            line = sys.stdin.readline()
            if not line or line.strip() == STOP:
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve the audit benchmark's organization in moto")
    parser.add_argument("--pairs", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--share-broken", type=float, default=0.05)
    args = parser.parse_args(argv)
    serve(args.pairs, args.workdir, args.share_broken)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
