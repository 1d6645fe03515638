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
(structured/baseline).
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
GC_OFF_VARIANTS = ("ours", "baseline")
WARMUP_TARGETS = 5
RESULT_MARK = "BENCH_RESULT "
# Per target: provider, 2 components, Key, Alias, Topic, TopicPolicy, TopicSubscription, filter, alarm.
OURS_PER_TARGET = 10
BASELINE_PER_TARGET = 8  # the same without the 2 components
PER_TARGET = {"ours": OURS_PER_TARGET, "baseline": BASELINE_PER_TARGET, "structured": OURS_PER_TARGET}
WORKER_TIMEOUT = 900

Log = Callable[[str], None]


@dataclass(frozen=True)
class ProgramSettings:
    sizes: tuple[int, ...]
    """Target counts (one account and region each)."""
    repetitions: tuple[int, ...]
    """Timed runs per size (each variant)."""
    gc_off_diagnostic: bool = True


def run_variant(variant: str, targets: int) -> Any:
    """One run under the test harness's mocks (repo test support, imported lazily)."""
    from local.program_harness import run_program

    if variant == "ours":
        run = run_program(t.program_config(targets))
    elif variant == "baseline":
        run = run_program({"benchTargets": targets}, program=BASELINE_PROGRAM)
    elif variant == "structured":
        run = run_program({"benchTargets": targets, "benchStructure": True}, program=BASELINE_PROGRAM)
    else:
        raise ValueError(f"unknown variant {variant!r}")
    if run.error is not None:
        raise RuntimeError(f"{variant} program failed at {targets} targets: {run.error}") from run.error
    return run


def _worker(variant: str, targets: int, gc_off: bool) -> dict[str, Any]:
    run_variant(variant, WARMUP_TARGETS)
    gc.collect()
    clock = GcClock()
    if gc_off:
        gc.disable()
    with clock.running():
        started = time.perf_counter()
        run = run_variant(variant, targets)
        seconds = time.perf_counter() - started
    gc.enable()
    expected = PER_TARGET[variant] * targets
    if len(run.resources) != expected:
        raise RuntimeError(f"{variant}: {len(run.resources)} registrations, expected {expected}")
    return {
        "seconds": seconds,
        "resources": len(run.resources),
        "invokes": len(run.invokes),
        "gc_seconds": clock.total,
        "gc_collections": sum(clock.collections.values()),
        "gc_full_collections": clock.collections[2],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
    ours = _inputs_signature(run_variant("ours", targets))
    differences = []
    for variant in VARIANTS[1:]:
        other = _inputs_signature(run_variant(variant, targets))
        differences += [f"only in ours: {k[0]} {k[1][:200]}" for k in ours - other]
        differences += [f"only in {variant}: {k[0]} {k[1][:200]}" for k in other - ours]
    return differences


def _summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    seconds = median([r["seconds"] for r in runs])
    resources = runs[0]["resources"]
    return {
        "seconds": seconds,
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


def bench(settings: ProgramSettings, log: Log = print) -> dict[str, Any]:
    differences = check_same_inputs()
    if differences:
        raise RuntimeError(
            "the baseline no longer registers the program's inputs:\n" + "\n".join(differences)
        )
    rows = []
    for targets, repetitions in zip(settings.sizes, settings.repetitions, strict=True):
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
        for repetition in range(repetitions):
            shift = repetition % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                result = measure_once(variant, targets)
                runs[variant].append(result)
                log(
                    f"program {variant:8} {targets:>5} targets  run {repetition + 1}: {result['seconds']:.2f} s"
                )
        ours, baseline, structured = (_summarise(runs[v]) for v in VARIANTS)
        rows.append(
            {
                "targets": targets,
                "ours": ours,
                "baseline": baseline,
                "structured": structured,
                "ratio": ratio(ours["seconds"], baseline["seconds"]),
                "ours_vs_structured": ratio(ours["seconds"], structured["seconds"]),
                "structured_vs_baseline": ratio(structured["seconds"], baseline["seconds"]),
            }
        )
    result: dict[str, Any] = {
        "repetitions": list(settings.repetitions),
        "warmup_targets": WARMUP_TARGETS,
        "baseline_inputs_match": True,
        "all_controls_variant": "skipped: the catalog has only control 4.5, so 'all controls' is the same run",
        "sizes": rows,
        "growth": {v: _growth(rows, lambda row, v=v: row[v]["seconds"]) for v in VARIANTS},
    }
    if settings.gc_off_diagnostic:
        result["gc_off"] = _gc_off(settings.sizes, log)
    return result


def _gc_off(sizes: Sequence[int], log: Log) -> dict[str, Any]:
    """Diagnostic: one run per size and variant with the cyclic garbage collector disabled."""
    rows = []
    for targets in sizes:
        seconds = {v: measure_once(v, targets, gc_off=True)["seconds"] for v in GC_OFF_VARIANTS}
        log(
            f"program gc-off   {targets:>5} targets: ours {seconds['ours']:.2f} s, baseline {seconds['baseline']:.2f} s"
        )
        rows.append({"targets": targets, **seconds, "ratio": ratio(seconds["ours"], seconds["baseline"])})
    return {"sizes": rows, "growth": {v: _growth(rows, lambda row, v=v: row[v]) for v in GC_OFF_VARIANTS}}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Worker for one program benchmark run (see benchmarks.run).")
    parser.add_argument("--worker", choices=VARIANTS, required=True)
    parser.add_argument("--targets", type=int, required=True)
    parser.add_argument("--gc-off", action="store_true")
    args = parser.parse_args(argv)
    result = _worker(args.worker, args.targets, args.gc_off)
    sys.stdout.write(RESULT_MARK + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
