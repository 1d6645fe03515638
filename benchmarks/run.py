"""``python -m benchmarks.run [--smoke] [--out PATH]``: every benchmark, a markdown table, and JSON.

Progress goes to stderr, the table to stdout, every figure (with versions and machine) to ``--out``.
The smoke run uses the smallest sizes and one repetition and checks no goals; it exists so the
benchmark code is exercised in CI (tests/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import audit_bench, engine_bench, pack_bench, program_bench, report, report_bench
from benchmarks.measure import REPO_ROOT, machine, versions

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "latest.json"


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
        repetitions=(5, 3, 1),
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


def run(settings: Settings) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {
        "kind": settings.kind,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "machine": machine(),
        "settings": asdict(settings),
    }
    result["program"] = program_bench.bench(settings.program, log)
    result["pack"] = pack_bench.bench(settings.pack, log)
    result["engine"] = engine_bench.bench(settings.engine, settings.pack.seed_targets, log)
    result["reports"] = report_bench.bench(settings.reports, log)
    result["audit"] = audit_bench.bench(settings.audit, log)
    same_size = [
        r for r in result["pack"]["sizes"] if r["resources"] == result["engine"]["share"]["resources"]
    ]
    if same_size:
        share, analyze_stack = result["engine"]["share"], same_size[0]["ours"]["seconds"]
        share["share_of_analyze_stack"] = share["cleared_once"]["judge_seconds"] / analyze_stack
        share["worst_share_of_analyze_stack"] = share["cleared_per_target"]["judge_seconds"] / analyze_stack
    result["goals"] = report.goals(result) if settings.kind == "full" else []
    result["goals_checked"] = settings.kind == "full"
    result["load_average_at_end"] = machine()["load_average"]
    result["duration_seconds"] = time.perf_counter() - started
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="smallest sizes, one repetition, no goals")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    result = run(SMOKE if args.smoke else FULL)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(report.markdown(result))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
