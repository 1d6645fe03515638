"""One catalog entry (``controls/<name>.json``) checked and turned into a ``Control``.

An entry is data::

    {"controlId": "4.5", "title": "...", "benchmark": "...", "default": true,
     "detector": "metric-filter", "slug": "cloudtrail-changes",
     "filterPattern": "{ ($.eventName = CreateTrail) || ... }",
     "metric": {"namespace": "CISBenchmark", "name": "CloudTrailConfigChanges", "value": "1"},
     "alarm": {"statistic": "Sum", "period": 300, "threshold": 1,
               "comparisonOperator": "GreaterThanOrEqualToThreshold",
               "evaluationPeriods": 1, "treatMissingData": "notBreaching"},
     "eventSource": "cloudtrail.amazonaws.com", "eventNames": ["CreateTrail", ...],
     "securityHubId": "CloudWatch.5", "risk": "...", "remediation": "...",
     "samples": "cis_4_5.samples.json"}

Every key is required (``eventSource``, ``securityHubId`` and ``securityHubSource`` may be null,
``eventNames`` may be empty); ``$comment`` is allowed. ``severity`` is one of
``benchmarks.SEVERITIES``; ``frameworks`` maps each benchmark version that has the control
(``cis-aws-3.0`` ...) to its ``id``, ``title``, ``assessment`` (Automated/Manual or null),
``profile`` (Level 1/2 or null) and the ``source`` of that mapping. Beyond types, an entry must agree with its own
samples: its pattern matches every target record and no unrelated or probe record, and its
target records carry its event names and event source. All problems are reported at once.
"""

from __future__ import annotations

import re
from typing import Any

from cis_monitoring.core.filter_pattern import FilterPatternError, compile_pattern, matches

from .benchmarks import ASSESSMENTS, BENCHMARKS, BY_KEY, PROFILES, SEVERITIES, Requirement
from .errors import ProblemLines
from .model import DETECTORS, AlarmSettings, Control
from .samples import SAMPLES_SUFFIX, Samples, derived_probes, read_samples

BENCHMARK_KEYS = frozenset(BY_KEY)
CONTROL_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.-]{0,31}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EVENT_SOURCE_RE = re.compile(r"^[a-z0-9-]+\.amazonaws\.com$")
EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9]+$")
SECURITY_HUB_ID_RE = re.compile(r"^[A-Za-z0-9]+\.[0-9]+$")
MAX_SLUG = 40
"""Alarm names are ``<prefix>-<id>-<slug>-<account>-<region>``; keep them readable."""

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
OPERATORS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")

_TEXT_KEYS = ("title", "benchmark", "risk", "remediation")
_KEYS = {
    "controlId",
    "title",
    "benchmark",
    "default",
    "detector",
    "slug",
    "filterPattern",
    "metric",
    "alarm",
    "eventSource",
    "eventNames",
    "securityHubId",
    "risk",
    "remediation",
    "samples",
    "severity",
    "frameworks",
    "securityHubSource",
}
_REQUIREMENT_KEYS = {"id", "title", "assessment", "profile", "source"}
_METRIC_KEYS = {"namespace", "name", "value"}
_ALARM_KEYS = {
    "statistic",
    "period",
    "threshold",
    "comparisonOperator",
    "evaluationPeriods",
    "treatMissingData",
}


def parse_entry(data: Any, origin: str, problems: ProblemLines) -> Control | None:
    """The entry's Control, or None with every problem added to ``problems``."""
    if not isinstance(data, dict):
        problems.add("", f"must be a JSON object (one control entry), not {type(data).__name__}")
        return None
    before = len(problems.lines)
    for key in sorted(set(data) - _KEYS - {"$comment"}):
        problems.add(key, f"unknown key (known keys: {', '.join(sorted(_KEYS))})")
    for key in sorted(_KEYS - set(data)):
        problems.add(key, "is missing")
    get = data.get

    control_id = get("controlId")
    if "controlId" in data and not (isinstance(control_id, str) and CONTROL_ID_RE.match(control_id)):
        problems.add(
            "controlId", f"must be a control id such as '4.5' (letters, digits, '.', '-'), not {control_id!r}"
        )
    for key in _TEXT_KEYS:
        if key in data and not (isinstance(get(key), str) and get(key).strip()):
            problems.add(key, "must be a non-empty string")
    if "default" in data and not isinstance(get("default"), bool):
        problems.add("default", f"must be true or false, not {get('default')!r}")
    if "detector" in data and get("detector") not in DETECTORS:
        problems.add("detector", f"must be one of {', '.join(DETECTORS)}, not {get('detector')!r}")
    slug = get("slug")
    if "slug" in data and not (isinstance(slug, str) and SLUG_RE.match(slug) and len(slug) <= MAX_SLUG):
        problems.add(
            "slug", f"must be lowercase words joined by '-', at most {MAX_SLUG} characters, not {slug!r}"
        )
    pattern = _pattern(data, problems)
    metric = _metric(data, problems)
    alarm = _alarm(data, problems)
    event_source, event_names = _events(data, problems)
    hub_id = get("securityHubId")
    if hub_id is not None and not (isinstance(hub_id, str) and SECURITY_HUB_ID_RE.match(hub_id)):
        problems.add(
            "securityHubId",
            f"must be null or a Security Hub control id such as 'CloudWatch.5', not {hub_id!r}",
        )
    if "severity" in data and get("severity") not in SEVERITIES:
        problems.add("severity", f"must be one of {', '.join(SEVERITIES)}, not {get('severity')!r}")
    frameworks = _frameworks(data, problems)
    hub_source = get("securityHubSource")
    if hub_id is not None and not (isinstance(hub_source, str) and hub_source.strip()):
        problems.add(
            "securityHubSource", "must say where securityHubId comes from (Security Hub's control reference)"
        )
    if hub_id is None and hub_source is not None:
        problems.add("securityHubSource", "must be null when securityHubId is null")
    samples_file = get("samples")
    if "samples" in data and not _plain_samples_name(samples_file):
        problems.add(
            "samples",
            f"must be the name of a file beside the entry ending in {SAMPLES_SUFFIX!r}, not {samples_file!r}",
        )
    if len(problems.lines) > before:
        return None
    samples, sample_problems = read_samples(origin, samples_file, control_id)
    problems.lines.extend(sample_problems)
    if samples is None:
        return None
    control = Control(
        control_id=control_id,
        title=get("title"),
        benchmark=get("benchmark"),
        filter_pattern=get("filterPattern"),
        metric_name=metric["name"],
        slug=slug,
        event_names=event_names,
        namespace=metric["namespace"],
        metric_value=metric["value"],
        alarm=alarm,
        samples_file=samples_file,
        event_source=event_source,
        detector=get("detector"),
        security_hub_id=hub_id,
        security_hub_source=hub_source,
        severity=get("severity"),
        frameworks=frameworks,
        risk=get("risk"),
        remediation=get("remediation"),
        default=get("default"),
        origin=origin,
    )
    agree = ProblemLines(problems.where)
    _agrees_with_samples(control, pattern, samples, agree)
    problems.lines.extend(agree.lines)
    return None if agree else control


def _frameworks(data: dict[str, Any], problems: ProblemLines) -> tuple[Requirement, ...]:
    """``frameworks``: benchmark key -> {id, title, assessment, profile, source}, in benchmark order."""
    raw = data.get("frameworks")
    if "frameworks" not in data:
        return ()
    if not isinstance(raw, dict) or not raw:
        problems.add(
            "frameworks", "must map at least one benchmark (e.g. 'cis-aws-3.0') to the control's id there"
        )
        return ()
    found = []
    for key, entry in raw.items():
        path = f"frameworks.{key}"
        if key not in BENCHMARK_KEYS:
            problems.add(path, f"unknown benchmark; known: {', '.join(b.key for b in BENCHMARKS)}")
            continue
        if not isinstance(entry, dict):
            problems.add(path, "must be an object with id, title, assessment, profile and source")
            continue
        for name in sorted(set(entry) - _REQUIREMENT_KEYS):
            problems.add(
                f"{path}.{name}", f"unknown key (known keys: {', '.join(sorted(_REQUIREMENT_KEYS))})"
            )
        for name in sorted(_REQUIREMENT_KEYS - set(entry)):
            problems.add(f"{path}.{name}", "is missing")
        for name in ("id", "title", "source"):
            if name in entry and not (isinstance(entry[name], str) and entry[name].strip()):
                problems.add(f"{path}.{name}", "must be a non-empty string")
        if entry.get("assessment") not in (*ASSESSMENTS, None):
            problems.add(f"{path}.assessment", f"must be one of {', '.join(ASSESSMENTS)} or null")
        if entry.get("profile") not in (*PROFILES, None):
            problems.add(f"{path}.profile", f"must be one of {', '.join(PROFILES)} or null")
        if set(entry) == _REQUIREMENT_KEYS:
            found.append(
                Requirement(
                    key, entry["id"], entry["title"], entry["assessment"], entry["profile"], entry["source"]
                )
            )
    order = [b.key for b in BENCHMARKS]
    return tuple(sorted(found, key=lambda r: order.index(r.benchmark)))


def _plain_samples_name(name: Any) -> bool:
    return isinstance(name, str) and name.endswith(SAMPLES_SUFFIX) and not re.search(r"[/\\]|^\.", name)


def _pattern(data: dict[str, Any], problems: ProblemLines) -> Any:
    text = data.get("filterPattern")
    if "filterPattern" not in data:
        return None
    if not isinstance(text, str) or not text.strip():
        problems.add("filterPattern", "must be a non-empty string (the benchmark's text, byte for byte)")
        return None
    try:
        return compile_pattern(text)
    except FilterPatternError as error:
        problems.add("filterPattern", f"is not valid filter-pattern syntax: {error}")
        return None


def _metric(data: dict[str, Any], problems: ProblemLines) -> dict[str, str]:
    metric = data.get("metric")
    if "metric" not in data:
        return {}
    if not isinstance(metric, dict):
        problems.add("metric", "must be an object with namespace, name and value")
        return {}
    for key in sorted(set(metric) - _METRIC_KEYS):
        problems.add(f"metric.{key}", "unknown key (known keys: name, namespace, value)")
    for key in sorted(_METRIC_KEYS - set(metric)):
        problems.add(f"metric.{key}", "is missing")
    for key in ("namespace", "name"):
        value = metric.get(key)
        if key in metric and not (
            isinstance(value, str) and 0 < len(value) <= 255 and value.strip() == value
        ):
            problems.add(
                f"metric.{key}", f"must be 1-255 characters without surrounding spaces, not {value!r}"
            )
    namespace = metric.get("namespace")
    if isinstance(namespace, str) and namespace.startswith("AWS/"):
        problems.add("metric.namespace", f"{namespace!r}: namespaces starting with 'AWS/' are AWS's own")
    value = metric.get("value")
    if "value" in metric and not (isinstance(value, str) and _positive_number(value)):
        problems.add(
            "metric.value",
            f'must be a positive number as a string, such as "1" (one event counts), not {value!r}',
        )
    return metric


def _positive_number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def _alarm(data: dict[str, Any], problems: ProblemLines) -> AlarmSettings | None:
    alarm = data.get("alarm")
    if "alarm" not in data:
        return None
    if not isinstance(alarm, dict):
        problems.add("alarm", f"must be an object with {', '.join(sorted(_ALARM_KEYS))}")
        return None
    for key in sorted(set(alarm) - _ALARM_KEYS):
        problems.add(f"alarm.{key}", f"unknown key (known keys: {', '.join(sorted(_ALARM_KEYS))})")
    for key in sorted(_ALARM_KEYS - set(alarm)):
        problems.add(f"alarm.{key}", "is missing")
    for key, allowed in (
        ("statistic", STATISTICS),
        ("comparisonOperator", OPERATORS),
        ("treatMissingData", MISSING_DATA),
    ):
        if key in alarm and alarm[key] not in allowed:
            problems.add(f"alarm.{key}", f"must be one of {', '.join(allowed)}, not {alarm[key]!r}")
    period = alarm.get("period")
    if "period" in alarm and not (
        _whole(period) and (period in (10, 30) or (period > 0 and period % 60 == 0))
    ):
        problems.add("alarm.period", f"must be 10, 30 or a positive multiple of 60 seconds, not {period!r}")
    periods = alarm.get("evaluationPeriods")
    if "evaluationPeriods" in alarm and not (_whole(periods) and periods >= 1):
        problems.add("alarm.evaluationPeriods", f"must be a whole number of at least 1, not {periods!r}")
    threshold = alarm.get("threshold")
    if "threshold" in alarm and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
        problems.add("alarm.threshold", f"must be a number, not {threshold!r}")
    if set(alarm) != _ALARM_KEYS:
        return None
    return AlarmSettings(
        statistic=alarm["statistic"],
        period=period,
        threshold=float(threshold) if isinstance(threshold, (int, float)) else threshold,
        comparison_operator=alarm["comparisonOperator"],
        evaluation_periods=periods,
        treat_missing_data=alarm["treatMissingData"],
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _events(data: dict[str, Any], problems: ProblemLines) -> tuple[str | None, tuple[str, ...]]:
    source, names = data.get("eventSource"), data.get("eventNames")
    if source is not None and not (isinstance(source, str) and EVENT_SOURCE_RE.match(source)):
        problems.add(
            "eventSource", f"must be null (any service) or such as 'cloudtrail.amazonaws.com', not {source!r}"
        )
    if "eventNames" not in data:
        return source, ()
    if not isinstance(names, list):
        problems.add(
            "eventNames", f"must be a list of event names (may be empty), not {type(names).__name__}"
        )
        return source, ()
    for index, name in enumerate(names):
        if not (isinstance(name, str) and EVENT_NAME_RE.match(name)):
            problems.add(
                f"eventNames[{index}]", f"must be an API action name such as 'StopLogging', not {name!r}"
            )
        elif names.index(name) != index:
            problems.add(f"eventNames[{index}]", f"{name!r} is listed twice")
    return source, tuple(n for n in names if isinstance(n, str))


def _agrees_with_samples(control: Control, pattern: Any, samples: Samples, problems: ProblemLines) -> None:
    """The entry's own text must be what its samples say the control is."""
    where = control.samples_file
    if control.event_names:
        seen = {s.event_name for s in samples.target}
        for name in control.event_names:
            if name not in seen:
                problems.add("eventNames", f"{name!r} has no target record in {where}")
        for index, sample in enumerate(samples.target):
            if sample.event_name not in control.event_names:
                problems.add(
                    f"{where}: target[{index}]",
                    f"eventName {sample.event_name!r} is not one of the entry's eventNames",
                )
    if control.event_source is not None:
        for index, sample in enumerate(samples.target):
            if sample.record.get("eventSource") != control.event_source:
                problems.add(
                    f"{where}: target[{index}]",
                    f"eventSource {sample.record.get('eventSource')!r} is not the entry's {control.event_source!r}",
                )
    for index, sample in enumerate(samples.target):
        if not matches(pattern, sample.record):
            problems.add("filterPattern", f"does not match target[{index}] of {where} ({sample.label})")
    negatives = [("unrelated", samples.unrelated), ("probes", samples.probes)]
    negatives.append(("derived probes", derived_probes(control.event_names, samples.target)))
    for key, records in negatives:
        for index, sample in enumerate(records):
            if matches(pattern, sample.record):
                problems.add("filterPattern", f"also matches {key}[{index}] of {where} ({sample.label})")
