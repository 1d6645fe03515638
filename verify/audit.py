"""Read-only audit of CIS 4.5 in deployed accounts: does the whole alarm chain work?

Per target (account, region, log group), in chain order: the log group exists; a
multi-region trail delivers to it and is logging; the trail records all management
events; a metric filter on the group covers the control; an alarm on the filter's
metric fires on one event and notifies SNS; the topic has a confirmed subscriber;
the topic lets CloudWatch publish. The first broken link makes the target FAIL and
the later links are not checked. An AWS error makes it ERROR. Pattern and alarm
judgements are the policy pack's own (``judge``, ``alarm_problems``), so the audit
and the pack can never disagree on what "covers" or "fires" means.

Run it as ``cis-monitoring audit`` (see ``verify.cli``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cis_core.catalog import AWS_MANAGED_SNS_KEY, CIS_4_5, Control, is_aws_managed_sns_key
from cis_core.judge.alarm import alarm_problems
from cis_core.judge.coverage import judge
from components.config import Target
from verify.aws_session import AccountMismatchError, SessionFactory

CHECKS = ("log group", "trail", "selectors", "filter", "alarm", "subscription", "topic policy")
NOT_CHECKED = "not checked (an earlier link failed)"
CLOUDWATCH = "cloudwatch.amazonaws.com"
CLOUDTRAIL_SOURCE = "cloudtrail.amazonaws.com"
_LOG_GROUP_ARN_RE = re.compile(r"^arn:[\w-]+:logs:([a-z0-9-]*):(\d{12}):log-group:([^:]+)(?::\*)?$")
_SNS_ARN_RE = re.compile(r"^arn:[\w-]+:sns:([a-z0-9-]+):(\d{12}):[\w.-]+$")
_THROTTLING = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}

Progress = Callable[[int, int, "TargetResult"], None]


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool | None
    """None: not checked, because an earlier link failed or errored."""
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class AwsError:
    code: str
    message: str
    operation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "operation": self.operation}


@dataclass(frozen=True)
class TargetResult:
    account_id: str
    account_name: str
    region: str
    log_group: str
    status: str
    """PASS, FAIL or ERROR."""
    reasons: list[str]
    findings: list[Finding]
    error: AwsError | None = None

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "accountName": self.account_name,
            "region": self.region,
            "logGroup": self.log_group,
            "status": self.status,
            "reasons": list(self.reasons),
            "findings": [f.to_dict() for f in self.findings],
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass
class _Step:
    ok: bool
    detail: str
    carry: Any = None
    """What the next link starts from (trails, metrics, alarm topics, topics)."""


class _Clients:
    """The target's clients, created on first use (one per service and region)."""

    def __init__(self, sessions: SessionFactory, target: Target) -> None:
        self._sessions, self._target = sessions, target
        self._clients: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self._target.region)
        if key not in self._clients:
            self._clients[key] = self._sessions.client(self._target, service, key[1])
        return self._clients[key]


# ---------------------------------------------------------------- pure judgements


def parse_log_group_arn(arn: str | None) -> tuple[str, str, str] | None:
    """(region, account, name) of a CloudWatch Logs group ARN (with or without ``:*``)."""
    match = _LOG_GROUP_ARN_RE.match(arn or "")
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _admits(selector: dict[str, Any] | None, value: str) -> bool:
    """Whether an advanced field selector lets ``value`` through (no selector: everything)."""
    if not selector:
        return True
    if selector.get("Equals") and value not in selector["Equals"]:
        return False
    if selector.get("StartsWith") and not any(value.startswith(p) for p in selector["StartsWith"]):
        return False
    if selector.get("EndsWith") and not any(value.endswith(s) for s in selector["EndsWith"]):
        return False
    return not (
        value in selector.get("NotEquals", ())
        or any(value.startswith(p) for p in selector.get("NotStartsWith", ()))
        or any(value.endswith(s) for s in selector.get("NotEndsWith", ()))
    )


def management_coverage(response: dict[str, Any], control: Control = CIS_4_5) -> tuple[set[str], list[str]]:
    """Which management events from CloudTrail the selectors log: a subset of {"read", "write"}; and notes."""
    covered: set[str] = set()
    notes: list[str] = []
    for selector in response.get("EventSelectors") or ():
        if not selector.get("IncludeManagementEvents", True):
            continue
        if CLOUDTRAIL_SOURCE in (selector.get("ExcludeManagementEventSources") or ()):
            notes.append(f"a selector excludes {CLOUDTRAIL_SOURCE} management events")
            continue
        kind = selector.get("ReadWriteType", "All")
        covered |= {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}.get(kind, set())
    for selector in response.get("AdvancedEventSelectors") or ():
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or ()}
        if "eventCategory" not in fields or not _admits(fields["eventCategory"], "Management"):
            continue
        name = selector.get("Name") or "unnamed"
        if not _admits(fields.get("eventSource"), CLOUDTRAIL_SOURCE):
            notes.append(f"advanced selector {name!r} leaves out {CLOUDTRAIL_SOURCE}")
            continue
        if not all(_admits(fields.get("eventName"), event) for event in control.event_names):
            notes.append(f"advanced selector {name!r} leaves out some of {', '.join(control.event_names)}")
            continue
        unknown = sorted(set(fields) - {"eventCategory", "eventSource", "eventName", "readOnly"})
        if unknown:
            notes.append(f"advanced selector {name!r} also filters on {', '.join(unknown)}")
            continue
        covered |= {
            kind
            for kind, flag in (("read", "true"), ("write", "false"))
            if _admits(fields.get("readOnly"), flag)
        }
    return covered, notes


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allows_publish(actions: Any) -> bool:
    # IAM action names are case-insensitive; "sns:*" and "*" include Publish.
    return any(str(a).lower() in ("sns:publish", "sns:*", "*") for a in _as_list(actions))


def _names_cloudwatch(principal: Any) -> bool:
    return isinstance(principal, dict) and CLOUDWATCH in _as_list(principal.get("Service", []))


def _names_everyone(principal: Any) -> bool:
    return principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS", [])))


def topic_policy_problem(policy_text: str | None) -> str | None:
    """Why the topic policy would stop CloudWatch alarms from publishing, or None."""
    if not policy_text:
        return "the topic has no access policy"
    try:
        statements = _as_list(json.loads(policy_text).get("Statement", []))
    except (ValueError, AttributeError):
        return "the topic policy is not valid JSON"
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _allows_publish(statement.get("Action")):
            continue
        principal = statement.get("Principal")
        if statement.get("Effect") == "Allow" and _names_cloudwatch(principal):
            allowed = True
        # Only an unconditional Deny surely blocks: a conditional one (TLS only) does not hit CloudWatch.
        elif (
            statement.get("Effect") == "Deny"
            and not statement.get("Condition")
            and (_names_cloudwatch(principal) or _names_everyone(principal))
        ):
            return f"statement {statement.get('Sid') or '(no Sid)'} denies sns:Publish to CloudWatch"
    if not allowed:
        return f"no Allow statement for Principal Service {CLOUDWATCH} with sns:Publish"
    return None


def alarm_props(alarm: dict[str, Any]) -> dict[str, Any]:
    """A DescribeAlarms MetricAlarm in the camelCase shape ``alarm_problems`` reads."""
    return {
        "statistic": alarm.get("Statistic"),
        "period": alarm.get("Period"),
        "threshold": alarm.get("Threshold"),
        "comparisonOperator": alarm.get("ComparisonOperator"),
        "evaluationPeriods": alarm.get("EvaluationPeriods"),
        "datapointsToAlarm": alarm.get("DatapointsToAlarm"),
        "actionsEnabled": alarm.get("ActionsEnabled"),
        "metricQueries": alarm.get("Metrics") or None,
    }


def _metric_value_problem(value: Any) -> str | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None  # a "$.field" reference: the value comes from the event
    return None if number > 0 else f"its metric value is {value!r}, so a match adds nothing"


def _is_confirmed(subscription: dict[str, Any]) -> bool:
    # Unconfirmed and deleted subscriptions show a status word instead of an ARN.
    return str(subscription.get("SubscriptionArn", "")).startswith("arn:")


# ---------------------------------------------------------------- the checks


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


class _TargetAudit:
    def __init__(self, aws: _Clients, target: Target, control: Control) -> None:
        self.aws, self.target, self.control = aws, target, control

    def log_group(self, _: Any) -> _Step:
        name = self.target.log_group
        groups = _paginate(self.aws("logs"), "describe_log_groups", "logGroups", logGroupNamePrefix=name)
        if not any(g.get("logGroupName") == name for g in groups):
            # No AWS error says so (describe calls return empty lists): report it as the API would.
            raise ClientError(
                {
                    "Error": {
                        "Code": "ResourceNotFoundException",
                        "Message": f"log group {name!r} does not exist in account {self.target.account_id} region {self.target.region}",
                    }
                },
                "DescribeLogGroups",
            )
        return _Step(True, f"log group {name!r} exists")

    def trail(self, _: Any) -> _Step:
        target = self.target
        cloudtrail = self.aws("cloudtrail")
        trails = cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", [])
        multi = [t for t in trails if t.get("IsMultiRegionTrail")]
        if not multi:
            others = f" (single-region trail(s): {', '.join(t['Name'] for t in trails)})" if trails else ""
            return _Step(False, f"no multi-region trail is visible in {target.region}{others}")
        wanted = (target.region, target.account_id, target.log_group)
        delivering = [t for t in multi if parse_log_group_arn(t.get("CloudWatchLogsLogGroupArn")) == wanted]
        if not delivering:
            elsewhere = "; ".join(f"trail {t['Name']!r} {self._destination(t)}" for t in multi)
            return _Step(
                False, f"no multi-region trail delivers to log group {target.log_group!r}: {elsewhere}"
            )
        stopped = []
        for trail in delivering:
            status = cloudtrail.get_trail_status(Name=trail["TrailARN"])
            if status.get("IsLogging"):
                logging = [trail]
                return _Step(
                    True,
                    f"multi-region trail {trail['Name']!r} (home {trail.get('HomeRegion', '?')}) delivers to"
                    f" {target.log_group!r} and is logging",
                    logging,
                )
            stopped.append(trail["Name"])
        return _Step(
            False,
            f"trail {', '.join(map(repr, stopped))} delivers to {target.log_group!r} but is not logging"
            " (StopLogging was called); start logging again",
        )

    @staticmethod
    def _destination(trail: dict[str, Any]) -> str:
        parsed = parse_log_group_arn(trail.get("CloudWatchLogsLogGroupArn"))
        if parsed is None:
            return "delivers to no CloudWatch Logs group"
        region, account, name = parsed
        return f"delivers to log group {name!r} in account {account} region {region}"

    def selectors(self, trails: list[dict[str, Any]]) -> _Step:
        failures = []
        for trail in trails:
            response = self.aws("cloudtrail").get_event_selectors(TrailName=trail["TrailARN"])
            covered, notes = management_coverage(response, self.control)
            kind = "advanced" if response.get("AdvancedEventSelectors") else "classic"
            if covered == {"read", "write"}:
                return _Step(True, f"trail {trail['Name']!r} logs all management events ({kind} selectors)")
            if not response.get("EventSelectors") and not response.get("AdvancedEventSelectors"):
                what = "reports no event selectors, so it records no management events"
            elif covered == {"write"}:
                what = "logs write-only management events (read events are dropped)"
            elif covered == {"read"}:
                what = "logs read-only management events (write events such as StopLogging are dropped)"
            else:
                what = "logs no management events from CloudTrail"
            extra = f" ({'; '.join(notes)})" if notes else ""
            failures.append(f"trail {trail['Name']!r} {what}{extra}")
        return _Step(
            False,
            "; ".join(failures)
            + "; CIS wants all management events (ReadWriteType All, management events on)",
        )

    def filter(self, _: Any) -> _Step:
        control, name = self.control, self.target.log_group
        filters = _paginate(self.aws("logs"), "describe_metric_filters", "metricFilters", logGroupName=name)
        if not filters:
            return _Step(
                False,
                f"log group {name!r} has no metric filter; add one with the benchmark pattern {control.filter_pattern!r}",
            )
        covering, missing = [], []
        for metric_filter in filters:
            coverage = judge(metric_filter.get("filterPattern", ""), control)
            (covering if coverage.covers else missing).append((metric_filter, coverage))
        misses = "; ".join(
            f"filter {f['filterName']!r} does not cover CIS {control.control_id}: {c.explain()}"
            for f, c in missing
        )
        metrics, unusable = [], []
        for metric_filter, _coverage in covering:
            for transformation in metric_filter.get("metricTransformations", []):
                problem = _metric_value_problem(transformation.get("metricValue"))
                if problem:
                    unusable.append(
                        f"filter {metric_filter['filterName']!r} covers the control but {problem}"
                    )
                else:
                    metrics.append((metric_filter, transformation))
        if not metrics:
            return _Step(False, "; ".join(unusable + ([misses] if misses else [])))
        metric_filter, transformation = metrics[0]
        coverage = judge(metric_filter.get("filterPattern", ""), control)
        text = "the benchmark's exact text" if coverage.canonical else "text differs from the benchmark's"
        broad = f"too broad: {coverage.explain()}" if coverage.too_broad else "not too broad"
        detail = (
            f"filter {metric_filter['filterName']!r} covers CIS {control.control_id} ({text}; {broad}) ->"
            f" metric {transformation.get('metricNamespace')}/{transformation.get('metricName')}"
        )
        return _Step(True, detail + (f"; other filters: {misses}" if misses else ""), metrics)

    def alarm(self, metrics: list[tuple[dict[str, Any], dict[str, Any]]]) -> _Step:
        cloudwatch = self.aws("cloudwatch")
        good: list[tuple[dict[str, Any], list[str]]] = []
        broken: list[str] = []
        for _metric_filter, transformation in metrics:
            namespace, metric = transformation.get("metricNamespace"), transformation.get("metricName")
            alarms = cloudwatch.describe_alarms_for_metric(MetricName=metric, Namespace=namespace).get(
                "MetricAlarms", []
            )
            if not alarms:
                broken.append(f"no CloudWatch alarm on metric {namespace}/{metric}")
            for alarm in alarms:
                problems = self._alarm_problems(alarm, transformation)
                if problems:
                    broken.append(
                        f"alarm {alarm['AlarmName']!r} cannot notify on one event: {'; '.join(problems)}"
                    )
                else:
                    good.append((alarm, [a for a in alarm.get("AlarmActions", []) if _SNS_ARN_RE.match(a)]))
        if not good:
            return _Step(
                False,
                "; ".join(broken)
                + f" (wanted: Sum, {self.control.alarm.period} s, >= 1, 1 period, an SNS action)",
            )
        alarm, topics = good[0]
        return _Step(
            True, f"alarm {alarm['AlarmName']!r} fires on one event and notifies {', '.join(topics)}", good
        )

    def _alarm_problems(self, alarm: dict[str, Any], transformation: dict[str, Any]) -> list[str]:
        problems = alarm_problems(alarm_props(alarm), self.control)
        if alarm.get("ActionsEnabled") is not True and "its actions are disabled" not in problems:
            problems.append("its actions are disabled")
        if alarm.get("Dimensions") and not transformation.get("dimensions"):
            problems.append("it watches the metric with dimensions the filter does not emit")
        if not any(_SNS_ARN_RE.match(a) for a in alarm.get("AlarmActions", [])):
            problems.append("it has no SNS topic among its alarm actions")
        return problems

    def subscription(self, good: list[tuple[dict[str, Any], list[str]]]) -> _Step:
        topics = list(dict.fromkeys(topic for _alarm, found in good for topic in found))
        confirmed_topics, notes = [], []
        for topic in topics:
            try:
                subscriptions = _paginate(
                    self._sns(topic), "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in ("NotFound", "NotFoundException"):
                    raise
                notes.append(f"topic {topic} does not exist")
                continue
            confirmed = [s for s in subscriptions if _is_confirmed(s)]
            if confirmed:
                protocols = ", ".join(sorted({s.get("Protocol", "?") for s in confirmed}))
                confirmed_topics.append(topic)
                notes.append(f"topic {topic} has {len(confirmed)} confirmed subscription(s) ({protocols})")
            else:
                pending = sum(s.get("SubscriptionArn") == "PendingConfirmation" for s in subscriptions)
                notes.append(
                    f"topic {topic} has no confirmed subscription"
                    + (f" ({pending} pending confirmation)" if pending else "")
                )
        return _Step(bool(confirmed_topics), "; ".join(notes), confirmed_topics)

    def topic_policy(self, topics: list[str]) -> _Step:
        notes = []
        for topic in topics:
            attributes = self._sns(topic).get_topic_attributes(TopicArn=topic).get("Attributes", {})
            problem = topic_policy_problem(attributes.get("Policy"))
            if problem is None and is_aws_managed_sns_key(attributes.get("KmsMasterKeyId")):
                problem = f"it is encrypted with {AWS_MANAGED_SNS_KEY}, which CloudWatch cannot use; use a customer-managed key"
            if problem is None:
                return _Step(True, f"topic {topic} lets CloudWatch publish")
            notes.append(f"topic {topic}: {problem}")
        return _Step(False, "; ".join(notes))

    def _sns(self, topic_arn: str) -> Any:
        match = _SNS_ARN_RE.match(topic_arn)
        return self.aws("sns", match.group(1) if match else None)


def _aws_error(error: Exception) -> AwsError:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "Unknown")
        message = str(details.get("Message") or error)
        retries = error.response.get("ResponseMetadata", {}).get("RetryAttempts")
        if code in _THROTTLING and retries:
            message += f" (still failing after {retries} retries)"
        return AwsError(code, message, error.operation_name)
    if isinstance(error, AccountMismatchError):
        return AwsError(error.code, str(error))
    if isinstance(error, BotoCoreError):
        return AwsError(type(error).__name__.removesuffix("Error") or "BotoCore", str(error))
    return AwsError(f"Unexpected{type(error).__name__}", str(error))


def audit_target(target: Target, sessions: SessionFactory, control: Control = CIS_4_5) -> TargetResult:
    """Check one target's chain; never raises for AWS errors (the row says ERROR)."""
    audit = _TargetAudit(_Clients(sessions, target), target, control)
    steps = [getattr(audit, name.replace(" ", "_")) for name in CHECKS]
    findings: list[Finding] = []
    carry: Any = None
    status, reasons, aws_error = "PASS", [], None
    for name, step in zip(CHECKS, steps, strict=True):
        if status != "PASS":
            findings.append(Finding(name, None, NOT_CHECKED))
            continue
        try:
            outcome = step(carry)
        except (ClientError, BotoCoreError, AccountMismatchError) as error:
            aws_error = _aws_error(error)
            status = "ERROR"
            where = f" ({aws_error.operation})" if aws_error.operation else ""
            reasons = [f"{name}: {aws_error.code}: {aws_error.message}{where}"]
            findings.append(Finding(name, False, f"error: {aws_error.code}: {aws_error.message}"))
            continue
        findings.append(Finding(name, outcome.ok, outcome.detail))
        if not outcome.ok:
            status, reasons = "FAIL", [f"{name}: {outcome.detail}"]
        carry = outcome.carry
    return TargetResult(
        target.account_id,
        target.account_name,
        target.region,
        target.log_group,
        status,
        reasons,
        findings,
        aws_error,
    )


def _safe_audit(target: Target, sessions: SessionFactory, control: Control) -> TargetResult:
    try:
        return audit_target(target, sessions, control)
    except Exception as error:  # a bug or an odd response: this row says so, the others still run
        failure = _aws_error(error)
        return TargetResult(
            target.account_id,
            target.account_name,
            target.region,
            target.log_group,
            "ERROR",
            [f"{failure.code}: {failure.message}"],
            [],
            failure,
        )


def audit_all(
    targets: Iterable[Target],
    sessions: SessionFactory,
    max_workers: int = 8,
    progress: Progress | None = None,
    control: Control = CIS_4_5,
) -> list[TargetResult]:
    """Audit every target on a bounded thread pool; results in input order."""
    pending: Sequence[Target] = list(targets)
    results: list[TargetResult | None] = [None] * len(pending)
    if not pending:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(pending)))) as pool:
        futures = {pool.submit(_safe_audit, t, sessions, control): i for i, t in enumerate(pending)}
        for done, future in enumerate(as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            if progress is not None:
                progress(done, len(pending), results[index])
    return [r for r in results if r is not None]
