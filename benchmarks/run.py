"""``python -m benchmarks.run [--smoke] [--part NAME ...] [--out PATH]``: every benchmark, a markdown
table, and JSON.

Progress goes to stderr, the table to stdout, every figure (with versions and machine) to ``--out``.
A full run takes about an hour on 2 cores; ``--part`` runs some of it (program, pack, engine,
reports, audit), and ``--combine A.json B.json ...`` joins full runs of different parts into one
report with every goal (each part keeps the time and load of its own run).
The smoke run uses the smallest sizes and one repetition and checks no goals; it exists so the
benchmark code is exercised in CI (tests/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import audit_bench, engine_bench, pack_bench, program_bench, report, report_bench
from benchmarks.measure import REPO_ROOT, machine, versions

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "latest.json"
PARTS = ("program", "pack", "engine", "reports", "audit")


@dataclass(frozen=True)
class Settings:
    kind: str
    program: program_bench.ProgramSettings
    pack: pack_bench.PackSettings
    engine: engine_bench.EngineSettings
    reports: report_bench.ReportSettings
    audit: audit_bench.AuditSettings


FULL = Settings(
    kind="full",
    # 100 -> 1,000 -> 5,000: the growth goals (ours). The baseline and the diagnostics stop at
    # 1,000 targets: at 5,000 the baseline alone, with CPython's collector, takes several minutes.
    program=program_bench.ProgramSettings(
        sizes=(100, 1000, 5000),
        # Rounds over the sizes (program_bench._rounds): 3 at every size, so each growth factor pairs
        # runs made back to back; 2 more at 100 targets, where a run is short and noisier.
        repetitions=(5, 3, 3),
        baseline_up_to=1000,
        all_controls_targets=100,
        all_controls_repetitions=3,
    ),
    pack=pack_bench.PackSettings(sizes=(1_000, 10_000, 50_000), repetitions=(7, 5, 5)),
    engine=engine_bench.EngineSettings(repetitions=5, min_seconds=0.3, stack_resources=10_000),
    reports=report_bench.ReportSettings(accounts=(30, 295), repetitions=3, browser_repetitions=3),
    # Prowler's CLI spends ~30 s starting per account: 4 accounts per size are run and extrapolated.
    audit=audit_bench.AuditSettings(pairs=(100, 500), repetitions=3, cli_accounts=4),
)
SMOKE = Settings(
    kind="smoke",
    program=program_bench.ProgramSettings(
        sizes=(2, 20),
        repetitions=(1, 1),
        diagnostics_up_to=20,
        all_controls_targets=2,
        all_controls_repetitions=1,
    ),
    pack=pack_bench.PackSettings(sizes=(100, 1_000), repetitions=(1, 1), seed_targets=10),
    engine=engine_bench.EngineSettings(repetitions=1, min_seconds=0.01, stack_resources=1_000),
    reports=report_bench.ReportSettings(accounts=(2,), repetitions=1, browser_repetitions=1),
    audit=audit_bench.AuditSettings(pairs=(4,), repetitions=1, cli_accounts=1),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(settings: Settings, parts: Sequence[str] = PARTS) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {
        "kind": settings.kind,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "machine": machine(),
        "settings": asdict(settings),
    }
    benches: dict[str, Callable[[], dict[str, Any]]] = {
        "program": lambda: program_bench.bench(settings.program, log),
        "pack": lambda: pack_bench.bench(settings.pack, log),
        "engine": lambda: engine_bench.bench(settings.engine, settings.pack.seed_targets, log),
        "reports": lambda: report_bench.bench(settings.reports, log),
        "audit": lambda: audit_bench.bench(settings.audit, log),
    }
    for part in PARTS:
        if part in parts:
            result[part] = benches[part]()
    result["load_average_at_end"] = machine()["load_average"]
    result["duration_seconds"] = time.perf_counter() - started
    result["part_runs"] = [_part_run(result, [p for p in PARTS if p in result])]
    return _finish(result)


def _part_run(result: dict[str, Any], parts: list[str]) -> dict[str, Any]:
    load_at_start, load_at_end = result["machine"]["load_average"], result["load_average_at_end"]
    return {
        "parts": parts,
        "started_at": result["started_at"],
        "duration_seconds": result["duration_seconds"],
        "load_average_at_start": load_at_start[0] if load_at_start else None,
        "load_average_at_end": load_at_end[0] if load_at_end else None,
    }


def _finish(result: dict[str, Any]) -> dict[str, Any]:
    """The figures that need two parts, and the goals (a full run's only)."""
    if "pack" in result and "engine" in result:
        same_size = [
            r for r in result["pack"]["sizes"] if r["resources"] == result["engine"]["share"]["resources"]
        ]
        if same_size:
            share, analyze_stack = result["engine"]["share"], same_size[0]["ours"]["seconds"]
            share["share_of_analyze_stack"] = share["cleared_once"]["judge_seconds"] / analyze_stack
            share["worst_share_of_analyze_stack"] = (
                share["cleared_per_target"]["judge_seconds"] / analyze_stack
            )
    full = result["kind"] == "full"
    result["goals"] = report.goals(result) if full else []
    result["goals_checked"] = full
    return result


class CombineError(Exception):
    """Part files that cannot be joined (the message says which and why)."""


def combine(paths: Sequence[Path]) -> dict[str, Any]:
    """Full runs of different parts joined into one result; a part in two files is an error."""
    runs = []
    problems = []
    for path in paths:
        try:
            found = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            problems.append(f"{path}: not a benchmark result ({error})")
            continue
        if found.get("kind") != "full":
            problems.append(f"{path}: a {found.get('kind')!r} run; only full runs are combined")
        runs.append((path, found))
    owners: dict[str, Path] = {}
    for path, found in runs:
        for part in PARTS:
            if part in found:
                if part in owners:
                    problems.append(f"{path}: part {part!r} is also in {owners[part]}")
                owners.setdefault(part, path)
    if problems:
        raise CombineError("; ".join(problems))
    first = runs[0][1]
    result: dict[str, Any] = {
        "kind": "full",
        "started_at": min(found["started_at"] for _, found in runs),
        "versions": first["versions"],
        "machine": first["machine"],
        "settings": first["settings"],
        "combined_from": [str(path) for path, _ in runs],
        "part_runs": [run for _, found in runs for run in found.get("part_runs", [])],
        "load_average_at_end": runs[-1][1].get("load_average_at_end"),
        "duration_seconds": sum(found["duration_seconds"] for _, found in runs),
    }
    for _, found in runs:
        result.update({part: found[part] for part in PARTS if part in found})
    return _finish(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Every benchmark (or some parts), a markdown report, and JSON."
    )
    parser.add_argument("--smoke", action="store_true", help="smallest sizes, one repetition, no goals")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    parser.add_argument(
        "--part", action="append", choices=PARTS, help="run only this part (repeatable; default: all)"
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="join full runs of different parts into one report (runs nothing)",
    )
    args = parser.parse_args(argv)
    if args.combine and (args.part or args.smoke):
        parser.error("--combine runs nothing: it cannot be used with --part or --smoke")
    if args.combine:
        try:
            result = combine(args.combine)
        except CombineError as error:
            parser.exit(2, f"benchmarks.run: --combine: {error}\n")
    else:
        result = run(SMOKE if args.smoke else FULL, args.part or PARTS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(report.markdown(result))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
