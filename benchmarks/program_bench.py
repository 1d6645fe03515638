"""Program evaluation: the real ``__main__.py`` vs a plain baseline program, both under Pulumi mocks.

Each timed run happens in a fresh worker process (``python -m benchmarks.program_bench --worker``)
that first does an untimed warm-up run of the same program at ``WARMUP_TARGETS``, so every
measurement starts from the same interpreter and heap state; the variants rotate order between
repetitions. The worker also clocks the cyclic garbage collector (``gc.callbacks``),
and an optional diagnostic pass repeats each size once with the collector disabled, which
separates the SDK's per-resource work from the collector's cost of traversing its objects.

A third, diagnostic variant ("structured": the baseline plus the program's two component
resources, getLogGroup invoke and stack outputs, but none of its code) splits ours/baseline into
the cost of the program's own code (ours/structured) and the SDK's cost of its structure
(structured/baseline). Two more diagnostics measure the program's levers, before and after, in the
same rotation: "ours, CPython's collector" (the program without its collector policy,
cis_monitoring/program/collector.py), "ours, SDK's cycles" (without the acyclic ``contains_unknowns``,
cis_monitoring/program/sdk_cycles.py) and "ours, new stack" (``legacyAliases: false``: no aliases to
the names of releases before stable ids). The baseline keeps CPython's default collector: it is the
bare script a user would write.

Each run records wall time and the worker's CPU time (``time.process_time``, all its threads): on
a machine other work loads, CPU time is what stays comparable, and the goals use it.

"All controls": the program with ``controls: all`` (every catalog control on every chain) against the
baseline registering the same filters and alarms (``benchControls: all``); and the same with real-time
rules (``realTime`` of ``targets.REAL_TIME``: two Regions) against the baseline registering the same
rules, targets, forwarding roles and policies, and the topic and key policies that admit EventBridge
(``benchRealTime``).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import targets as t
from benchmarks.measure import REPO_ROOT, GcClock, growth_per_10x, median, ratio

BASELINE_PROGRAM = REPO_ROOT / "benchmarks" / "baseline_program.py"
VARIANTS = ("ours", "baseline", "structured")
LEVER_VARIANTS = ("ours_cpython_gc", "ours_sdk_cycles", "ours_new_stack")
"""Diagnostics: the program without its collector policy, with the SDK's cyclic ``contains_unknowns``
(cis_monitoring/program/sdk_cycles.py not applied), and without the legacy aliases."""
ALL_CONTROLS_VARIANTS = ("ours_all", "baseline_all")
REAL_TIME_VARIANTS = ("ours_all_rt", "baseline_all_rt")
"""``controls: all`` with the real-time rules (``targets.REAL_TIME``) against the bare script of the same."""
GC_OFF_VARIANTS = ("ours", "baseline")
WARMUP_TARGETS = 5
RESULT_MARK = "BENCH_RESULT "
# Per target: provider, 2 components, Key, Alias, Topic, TopicPolicy, TopicSubscription, filter, alarm.
OURS_PER_TARGET = 10
BASELINE_PER_TARGET = 8  # the same without the 2 components


def per_target(variant: str) -> int:
    """Registrations per target; with all controls each further control adds its monitor component
    (ours only), filter and alarm; with real-time rules each control that has one adds, in the chain's
    Region, a rule and its topic target, in each other Region a rule and its forwarding target, and (once)
    the forwarding role and its policy, plus (ours only) its ``RealTimeMonitor`` component."""
    from cis_monitoring.core.catalog import CONTROLS
    from cis_monitoring.core.detectors.event_rule import rule_pattern

    others = len(CONTROLS) - 1
    with_rules = sum(1 for c in CONTROLS.values() if rule_pattern(c) is not None)
    real_time = with_rules * (2 * len(t.REAL_TIME["regions"]) + 2)
    return {
        "ours": OURS_PER_TARGET,
        "ours_cpython_gc": OURS_PER_TARGET,
        "ours_sdk_cycles": OURS_PER_TARGET,
        "ours_new_stack": OURS_PER_TARGET,
        "structured": OURS_PER_TARGET,
        "baseline": BASELINE_PER_TARGET,
        "ours_all": OURS_PER_TARGET + 3 * others,
        "baseline_all": BASELINE_PER_TARGET + 2 * others,
        "ours_all_rt": OURS_PER_TARGET + 3 * others + real_time + with_rules,
        "baseline_all_rt": BASELINE_PER_TARGET + 2 * others + real_time,
    }[variant]


WORKER_TIMEOUT = 900

Log = Callable[[str], None]


@dataclass(frozen=True)
class ProgramSettings:
    sizes: tuple[int, ...]
    """Target counts (one account and region each)."""
    repetitions: tuple[int, ...]
    """Timed runs per size (each variant)."""
    gc_off_diagnostic: bool = True
    diagnostics_up_to: int = 1_000
    """Sizes above this run only ours and the baseline (the diagnostics would double a long run)."""
    structured_up_to: int = 1_000
    """The structured baseline (the split of ours/baseline) up to this size."""
    baseline_up_to: int | None = None
    """None: the baseline at every size; else above this size only ours runs (its growth is the goal)."""
    all_controls_targets: int = 100
    all_controls_repetitions: int = 3


def run_variant(variant: str, targets: int, *, last: bool = False) -> Any:
    """One run under the test harness's mocks (repo test support, imported lazily). ``last``: the
    process ends after it, so the collector is left as the program set it (``restore_collector``)."""
    from functools import partial

    from local.program_harness import run_program as run_any

    run_program = partial(run_any, restore_collector=not last)

    if variant in ("ours", "ours_cpython_gc", "ours_sdk_cycles"):
        run = run_program(t.program_config(targets))
    elif variant == "ours_new_stack":
        run = run_program({**t.program_config(targets), "legacyAliases": False})
    elif variant == "ours_all":
        run = run_program({**t.program_config(targets), "controls": "all"})
    elif variant == "ours_all_rt":
        run = run_program({**t.program_config(targets), "controls": "all", "realTime": t.REAL_TIME})
    elif variant == "baseline":
        run = run_program({"benchTargets": targets}, program=BASELINE_PROGRAM)
    elif variant == "baseline_all":
        run = run_program({"benchTargets": targets, "benchControls": "all"}, program=BASELINE_PROGRAM)
    elif variant == "baseline_all_rt":
        run = run_program(
            {"benchTargets": targets, "benchControls": "all", "benchRealTime": True}, program=BASELINE_PROGRAM
        )
    elif variant == "structured":
        run = run_program({"benchTargets": targets, "benchStructure": True}, program=BASELINE_PROGRAM)
    else:
        raise ValueError(f"unknown variant {variant!r}")
    if run.error is not None:
        raise RuntimeError(f"{variant} program failed at {targets} targets: {run.error}") from run.error
    return run


def _worker(variant: str, targets: int, gc_off: bool) -> dict[str, Any]:
    if variant == "ours_cpython_gc":
        from cis_monitoring.program import collector

        collector.apply_policy = lambda: None  # type: ignore[assignment]  # this process only
    if variant == "ours_sdk_cycles":
        from cis_monitoring.program import sdk_cycles

        sdk_cycles.apply = lambda: False  # type: ignore[assignment]  # this process only
    run_variant(variant, WARMUP_TARGETS)
    gc.collect()
    clock = GcClock()
    if gc_off:
        gc.disable()
    with clock.running():
        started, cpu_started = time.perf_counter(), time.process_time()
        run = run_variant(variant, targets, last=True)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    expected = per_target(variant) * targets
    if len(run.resources) != expected:
        raise RuntimeError(f"{variant}: {len(run.resources)} registrations, expected {expected}")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "resources": len(run.resources),
        "invokes": len(run.invokes),
        "gc_seconds": clock.total,
        "gc_collections": sum(clock.collections.values()),
        "gc_full_collections": clock.collections[2],
        "peak_rss_mb": peak_rss_mb,
    }


def measure_once(variant: str, targets: int, gc_off: bool = False) -> dict[str, Any]:
    """One timed run in a fresh worker process."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.program_bench",
        "--worker",
        variant,
        "--targets",
        str(targets),
    ]
    if gc_off:
        command.append("--gc-off")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT, check=False
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise RuntimeError(
        f"benchmark worker {variant}/{targets} failed (exit {done.returncode}):\n{done.stderr[-4000:]}"
    )


def _inputs_signature(run: Any) -> Counter[tuple[str, str]]:
    return Counter(
        (r.type, json.dumps(r.inputs, sort_keys=True))
        for r in run.resources
        if r.custom or r.type.startswith("pulumi:providers:")
    )


def check_same_inputs(targets: int = 2) -> list[str]:
    """Differences between the custom resources (type, inputs) of ours and of each baseline; [] if none."""
    differences = []
    for mine, others in (
        ("ours", ("baseline", "structured", "ours_new_stack")),
        ("ours_all", ("baseline_all",)),
        ("ours_all_rt", ("baseline_all_rt",)),
    ):
        ours = _inputs_signature(run_variant(mine, targets))
        for variant in others:
            other = _inputs_signature(run_variant(variant, targets))
            differences += [f"only in {mine}: {k[0]} {k[1][:200]}" for k in ours - other]
            differences += [f"only in {variant}: {k[0]} {k[1][:200]}" for k in other - ours]
    return differences


def _summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    seconds = median([r["seconds"] for r in runs])
    resources = runs[0]["resources"]
    return {
        "seconds": seconds,
        "cpu_seconds": median([r["cpu_seconds"] for r in runs]),
        "runs": [round(r["seconds"], 4) for r in runs],
        "resources": resources,
        "resources_per_second": resources / seconds if seconds else None,
        "gc_seconds": median([r["gc_seconds"] for r in runs]),
        "gc_share": median([r["gc_seconds"] / r["seconds"] for r in runs]),
        "gc_full_collections": median([r["gc_full_collections"] for r in runs]),
        "peak_rss_mb": median([r["peak_rss_mb"] for r in runs]),
    }


def _growth(rows: Sequence[dict[str, Any]], key: Callable[[dict[str, Any]], float]) -> list[dict[str, Any]]:
    return [
        {
            "from_targets": a["targets"],
            "to_targets": b["targets"],
            "factor_per_10x": growth_per_10x(a["targets"], key(a), b["targets"], key(b)),
        }
        for a, b in itertools.pairwise(rows)
    ]


def _rounds(
    plan: Sequence[tuple[int, Sequence[str], int]], log: Log
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Every (targets, variants, repetitions) of ``plan`` in rounds: round *r* runs each size that still
    has a repetition to make, back to back, variants in rotated order. Sizes measured an hour apart on
    a shared machine (a VM whose host load we cannot see: the same run's CPU time moved by 20-30% over an
    evening here) would fold that drift into the growth between them; within a round it mostly cancels."""
    runs: dict[int, dict[str, list[dict[str, Any]]]] = {t: {v: [] for v in vs} for t, vs, _ in plan}
    for repetition in range(max(r for _, _, r in plan)):
        for targets, variants, repetitions in plan:
            if repetition >= repetitions:
                continue
            shift = repetition % len(variants)
            for variant in [*variants[shift:], *variants[:shift]]:
                result = measure_once(variant, targets)
                result["round"] = repetition
                runs[targets][variant].append(result)
                log(
                    f"program {variant:15} {targets:>5} targets  round {repetition + 1}: {result['seconds']:.2f} s,"
                    f" {result['cpu_seconds']:.2f} s CPU"
                )
    return runs


def _paired_growth(
    runs_by_size: dict[int, dict[str, list[dict[str, Any]]]], variant: str, key: str
) -> list[dict[str, Any]]:
    """Growth per 10x between consecutive sizes: the median of the factors of the rounds both ran in."""
    sizes = sorted(t for t, runs in runs_by_size.items() if runs.get(variant))
    steps = []
    for small, large in itertools.pairwise(sizes):
        by_round = {r["round"]: r[key] for r in runs_by_size[small][variant]}
        factors = [
            growth_per_10x(small, by_round[r["round"]], large, r[key])
            for r in runs_by_size[large][variant]
            if r["round"] in by_round
        ]
        if factors:
            steps.append(
                {
                    "from_targets": small,
                    "to_targets": large,
                    "factor_per_10x": median(factors),
                    "factors_by_round": factors,
                }
            )
    return steps


def _rotate(variants: Sequence[str], targets: int, repetitions: int, log: Log) -> dict[str, Any]:
    """``repetitions`` timed runs of each variant, rotating their order; each variant's summary."""
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for repetition in range(repetitions):
        shift = repetition % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            result = measure_once(variant, targets)
            runs[variant].append(result)
            log(f"program {variant:15} {targets:>5} targets  run {repetition + 1}: {result['seconds']:.2f} s")
    return {v: _summarise(runs[v]) for v in variants}


def bench(settings: ProgramSettings, log: Log = print) -> dict[str, Any]:
    differences = check_same_inputs()
    if differences:
        raise RuntimeError(
            "the baseline no longer registers the program's inputs:\n" + "\n".join(differences)
        )
    plan = []
    for targets, repetitions in zip(settings.sizes, settings.repetitions, strict=True):
        variants = ["ours"]
        if settings.baseline_up_to is None or targets <= settings.baseline_up_to:
            variants.append("baseline")
        if targets <= settings.structured_up_to:
            variants.append("structured")
        if targets <= settings.diagnostics_up_to:
            variants += LEVER_VARIANTS
        plan.append((targets, variants, repetitions))
    runs_by_size = _rounds(plan, log)
    rows = []
    for targets, variants, _repetitions in plan:
        diagnostics = targets <= settings.diagnostics_up_to
        found = {v: _summarise(runs_by_size[targets][v]) for v in variants}
        ours = found["ours"]
        row: dict[str, Any] = {
            "targets": targets,
            **found,
            "peak_rss_kb_per_resource": {
                v: found[v]["peak_rss_mb"] * 1024 / found[v]["resources"] for v in found
            },
        }
        if "baseline" in found:
            row["ratio"] = ratio(ours["seconds"], found["baseline"]["seconds"])
            row["cpu_ratio"] = ratio(ours["cpu_seconds"], found["baseline"]["cpu_seconds"])
        if "structured" in found and "baseline" in found:
            structured = found["structured"]
            row["ours_vs_structured"] = ratio(ours["cpu_seconds"], structured["cpu_seconds"])
            row["structured_vs_baseline"] = ratio(structured["cpu_seconds"], found["baseline"]["cpu_seconds"])
        if diagnostics:
            row["collector_policy_gain"] = ratio(found["ours_cpython_gc"]["cpu_seconds"], ours["cpu_seconds"])
            row["sdk_cycles_gain"] = ratio(found["ours_sdk_cycles"]["cpu_seconds"], ours["cpu_seconds"])
            row["legacy_aliases_cost"] = ratio(ours["cpu_seconds"], found["ours_new_stack"]["cpu_seconds"])
        rows.append(row)
    all_targets = settings.all_controls_targets
    everything = _rotate(ALL_CONTROLS_VARIANTS, all_targets, settings.all_controls_repetitions, log)
    real_time = _rotate(REAL_TIME_VARIANTS, all_targets, settings.all_controls_repetitions, log)
    result: dict[str, Any] = {
        "repetitions": list(settings.repetitions),
        "warmup_targets": WARMUP_TARGETS,
        "baseline_inputs_match": True,
        "all_controls": {
            "targets": all_targets,
            **everything,
            "ratio": ratio(everything["ours_all"]["seconds"], everything["baseline_all"]["seconds"]),
            "cpu_ratio": ratio(
                everything["ours_all"]["cpu_seconds"], everything["baseline_all"]["cpu_seconds"]
            ),
            "real_time": {
                "regions": list(t.REAL_TIME["regions"]),
                **real_time,
                "ratio": ratio(real_time["ours_all_rt"]["seconds"], real_time["baseline_all_rt"]["seconds"]),
                "cpu_ratio": ratio(
                    real_time["ours_all_rt"]["cpu_seconds"], real_time["baseline_all_rt"]["cpu_seconds"]
                ),
            },
        },
        "sizes": rows,
        "growth": {v: _paired_growth(runs_by_size, v, "seconds") for v in (*VARIANTS, *LEVER_VARIANTS)},
        "cpu_growth": {
            v: _paired_growth(runs_by_size, v, "cpu_seconds") for v in (*VARIANTS, *LEVER_VARIANTS)
        },
        "growth_method": (
            "sizes measured in rounds (each round runs every size once, back to back); growth per 10x is the"
            " median over rounds of each round's factor between consecutive sizes"
        ),
    }
    if settings.gc_off_diagnostic:
        result["gc_off"] = _gc_off([n for n in settings.sizes if n <= settings.diagnostics_up_to], log)
    return result


def _gc_off(sizes: Sequence[int], log: Log) -> dict[str, Any]:
    """Diagnostic: one run per size and variant with the cyclic garbage collector disabled (CPU seconds)."""
    rows = []
    for targets in sizes:
        runs = {v: measure_once(v, targets, gc_off=True) for v in GC_OFF_VARIANTS}
        cpu = {v: runs[v]["cpu_seconds"] for v in GC_OFF_VARIANTS}
        log(
            f"program gc-off   {targets:>5} targets: ours {cpu['ours']:.2f} s, baseline {cpu['baseline']:.2f} s CPU"
        )
        rows.append(
            {
                "targets": targets,
                **cpu,
                "peak_rss_mb": {v: runs[v]["peak_rss_mb"] for v in GC_OFF_VARIANTS},
                "ratio": ratio(cpu["ours"], cpu["baseline"]),
            }
        )
    return {"sizes": rows, "growth": {v: _growth(rows, lambda row, v=v: row[v]) for v in GC_OFF_VARIANTS}}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Worker for one program benchmark run (see benchmarks.run).")
    parser.add_argument(
        "--worker",
        choices=(*VARIANTS, *LEVER_VARIANTS, *ALL_CONTROLS_VARIANTS, *REAL_TIME_VARIANTS),
        required=True,
    )
    parser.add_argument("--targets", type=int, required=True)
    parser.add_argument("--gc-off", action="store_true")
    args = parser.parse_args(argv)
    result = _worker(args.worker, args.targets, args.gc_off)
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
