"""Pattern engine: parse and coverage-judge throughput, and the engine's share of a stack check.

Throughput: each pattern is parsed (``compile_pattern``) and judged (``pattern.judge_pattern``: parse,
then match every target sample record, unrelated record and near-miss probe of control 4.5)
with both caches cleared before every call, so each figure is an uncached cost.

Share: the same stack the pack benchmark sends (built in-process as ``stack_model.Resource``
objects) goes through ``chain.StackIndex.build`` and ``chain.evaluate_chain`` for every target,
the core of the pack's stack policy, with the time inside ``judge`` clocked. Two cache states:
cleared once before the check (what a fresh pack process sees on its first request), and cleared
before every target (an upper bound: as if every target had its own pattern text).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from benchmarks import stacks
from benchmarks.measure import median, ratio
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.filter_pattern import compile_pattern, parser
from cis_monitoring.core.judge import metric_filter, pattern

# Repo test support (not product code): the state the engine would send for a recorded resource.
from local.analyzer_client import state_of
from policy.cis_guard import chain
from policy.cis_guard.stack_model import Resource, plain

EVENTS = CIS_4_5.event_names
_OR_CHAIN = " || ".join(f"($.eventName = {name})" for name in EVENTS)
PATTERNS: dict[str, str] = {
    "canonical": CIS_4_5.filter_pattern,
    "compact, reordered, quoted": "{" + "||".join(f'($.eventName="{n}")' for n in reversed(EVENTS)) + "}",
    "scoped to the event source": "{ ($.eventSource = cloudtrail.amazonaws.com) && (" + _OR_CHAIN + ") }",
    "wildcards": "{ ($.eventName = *Trail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    "regular expressions": "{ ($.eventName = %^[CUD][a-z]+Trail$%) || ($.eventName = %^St[a-z]+Logging$%) }",
    "successes only (misses denied calls)": "{ (" + _OR_CHAIN + ") && ($.errorCode NOT EXISTS) }",
    "terms": "?CreateTrail ?UpdateTrail ?DeleteTrail ?StartLogging ?StopLogging",
}

Log = Callable[[str], None]


@dataclass(frozen=True)
class EngineSettings:
    repetitions: int
    min_seconds: float
    """Minimum wall time of one throughput sample per pattern."""
    stack_resources: int


def clear_caches() -> None:
    """Forget every parsed pattern and coverage verdict (``compile_pattern`` caches through ``parse``)."""
    pattern.judge_pattern.cache_clear()
    clear = getattr(compile_pattern, "cache_clear", None) or parser._cached_parse.cache_clear
    clear()


def _rate(action: Callable[[], object], min_seconds: float) -> float:
    calls, started = 0, time.perf_counter()
    while True:
        clear_caches()
        action()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return calls / elapsed


def throughput(settings: EngineSettings) -> list[dict[str, Any]]:
    records = len(CIS_4_5.target_samples()) + len(pattern._negative_records(CIS_4_5))
    rows = []
    for name, text in PATTERNS.items():
        verdict = pattern.judge_pattern(text, CIS_4_5)
        parse_rates = [
            _rate(lambda text=text: compile_pattern(text), settings.min_seconds)
            for _ in range(settings.repetitions)
        ]
        judge_rates = [
            _rate(lambda text=text: pattern.judge_pattern(text, CIS_4_5), settings.min_seconds)
            for _ in range(settings.repetitions)
        ]
        rows.append(
            {
                "pattern": name,
                "text": text,
                "covers": verdict.covers,
                "too_broad": verdict.too_broad,
                "records_per_judge": records,
                "parse_per_second": median(parse_rates),
                "judge_per_second": median(judge_rates),
            }
        )
    return rows


def to_model(run: Any) -> list[Resource]:
    """The recorded resources as the pack's stack policy sees them (through JSON, like a Struct)."""
    by_urn = run.by_urn()
    model = []
    for r in run.resources:
        provider = by_urn.get(r.provider.rsplit("::", 1)[0]) if r.provider else None
        model.append(
            Resource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                props=plain(json.loads(json.dumps(state_of(r)))),
                provider_urn=provider.urn if provider else None,
                provider_props=plain(json.loads(json.dumps(provider.inputs))) if provider else {},
                dependencies=tuple(r.dependencies),
                property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
            )
        )
    return model


def check_stack(resources: Iterable[Resource], clear_per_target: bool) -> dict[str, float]:
    """Index and evaluate every target's 4.5 chain; seconds in total and inside ``judge``."""
    inside = 0.0
    real_judge = (
        metric_filter.judge_pattern
    )  # the stack policy's coverage judgement goes through the core here

    def timed_judge(pattern: str, control: Any) -> pattern.PatternVerdict:
        nonlocal inside
        started = time.perf_counter()
        try:
            return real_judge(pattern, control)
        finally:
            inside += time.perf_counter() - started

    clear_caches()
    metric_filter.judge_pattern = timed_judge
    try:
        started = time.perf_counter()
        index = chain.StackIndex.build(resources)
        broken = 0
        for target in index.all_targets():
            if clear_per_target:
                clear_caches()
            broken += not chain.evaluate_chain(index, target, CIS_4_5, chain.ChainSettings()).ok
        total = time.perf_counter() - started
    finally:
        metric_filter.judge_pattern = real_judge
    return {"seconds": total, "judge_seconds": inside, "broken_chains": broken}


def engine_share(settings: EngineSettings, seed_targets: int, log: Log) -> dict[str, Any]:
    run, shape = stacks.build_stack(settings.stack_resources, stacks.seed_run(seed_targets), seed_targets)
    model = to_model(run)
    result: dict[str, Any] = {"resources": shape.resources, "targets": shape.targets}
    for mode, per_target in (("cleared_once", False), ("cleared_per_target", True)):
        check_stack(model, per_target)  # warm-up
        samples = [check_stack(model, per_target) for _ in range(settings.repetitions)]
        seconds = median([s["seconds"] for s in samples])
        inside = median([s["judge_seconds"] for s in samples])
        result[mode] = {
            "seconds": seconds,
            "judge_seconds": inside,
            "share": ratio(inside, seconds),
            "broken_chains": samples[0]["broken_chains"],
        }
        log(f"engine share, caches {mode.replace('_', ' ')}: {inside:.4f} s of {seconds:.3f} s")
    return result


def bench(settings: EngineSettings, seed_targets: int, log: Log = print) -> dict[str, Any]:
    rows = throughput(settings)
    for row in rows:
        log(
            f"engine {row['pattern']:38} parse {row['parse_per_second']:>8.0f}/s  judge {row['judge_per_second']:>7.0f}/s"
        )
    clear_caches()
    return {
        "repetitions": settings.repetitions,
        "patterns": rows,
        "share": engine_share(settings, seed_targets, log),
    }
