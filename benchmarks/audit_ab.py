"""Our audit, before and after a change, interleaved on one emulated organization (issue 18's levers).

The organization of ``benchmarks.audit_world`` is built once and served by moto in a process of its
own; each checkout named with ``--checkout NAME=DIR`` (a git worktree of the code before, and of the
code after) then runs ``audit_coverage`` (``benchmarks.audit_bench._ours_once``) in a new interpreter
whose imports come from that checkout, round after round, the order reversed every other round so
neither side always runs first. On a shared machine wall time moves with the load, so each run also
reports the CPU time of the auditor's process and of moto's process, the clients created and the
requests moto received; the load average is printed with every run.

    .venv/bin/python -m benchmarks.audit_ab --pairs 100 --rounds 3 \\
        --checkout before=/tmp/before --checkout after=.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

_CHILD = "--child"


def _moto_cpu_seconds() -> float:
    """User+system CPU of this process's children that serve the organization (Linux ``/proc``)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == os.getpid() and b"benchmarks.audit_world" in command:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _child(organization: dict[str, Any], proofs: bool, max_workers: int) -> dict[str, Any]:
    """One audit in this interpreter (the checkout's code), with its process CPU."""
    from benchmarks.audit_bench import _ours_once
    from benchmarks.audit_world import BenchOrganization
    from cis_monitoring.audit.proof_run import ProofSettings

    org = BenchOrganization.from_dict(organization)
    cpu = time.process_time()
    found = _ours_once(org, ProofSettings(test_metric_filter=proofs), max_workers)
    found["cpu_seconds"] = time.process_time() - cpu
    found["verdicts"] = dict(Counter(found["verdicts"].values()))
    found["code"] = str(Path(sys.modules["cis_monitoring"].__file__ or "").parent)
    return found


def _run(checkout: Path, organization: dict[str, Any], proofs: bool, max_workers: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    request = json.dumps({"organization": organization, "proofs": proofs, "max_workers": max_workers})
    moto_before = _moto_cpu_seconds()
    done = subprocess.run(
        # This file by path (a checkout before the change has none); its imports come from PYTHONPATH.
        [sys.executable, str(Path(__file__).resolve()), _CHILD],
        input=request,
        capture_output=True,
        text=True,
        cwd=checkout,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the audit in {checkout} failed: {done.stderr[-3000:]}")
    found = dict(json.loads(done.stdout))
    found["moto_cpu_seconds"] = _moto_cpu_seconds() - moto_before
    return found


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:] == [_CHILD]:  # one audit, in the checkout's interpreter
        request = json.loads(sys.stdin.read())
        print(json.dumps(_child(request["organization"], request["proofs"], request["max_workers"])))
        return 0
    parser = argparse.ArgumentParser(description="our audit, before and after a change, interleaved")
    parser.add_argument("--pairs", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checkout", action="append", required=True, help="NAME=DIR (a checkout's root)")
    parser.add_argument("--no-test-metric-filter", action="store_true")
    parser.add_argument("--max-workers", type=int, default=8)
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    args = parser.parse_args(argv)
    checkouts = [(name, Path(path).resolve()) for name, path in (c.split("=", 1) for c in args.checkout)]

    from benchmarks.audit_bench import served

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="audit-ab-") as workdir, served(args.pairs, Path(workdir)) as org:
        organization = org.to_dict()
        print(
            f"{org.pairs} pairs, {len(org.accounts)} accounts, built in {org.build_seconds:.0f} s", flush=True
        )
        for round_ in range(args.rounds):
            order = checkouts if round_ % 2 == 0 else checkouts[::-1]
            for name, path in order:
                found = _run(path, organization, not args.no_test_metric_filter, args.max_workers)
                found.update(name=name, round=round_, load=os.getloadavg()[0])
                runs.append(found)
                print(
                    f"round {round_} {name:>8}: wall {found['seconds']:6.2f} s, ours CPU"
                    f" {found['cpu_seconds']:6.2f} s, moto CPU {found['moto_cpu_seconds']:6.2f} s,"
                    f" clients {found['clients']}, calls {sum(found['calls'].values())}, requests"
                    f" {sum(found['requests'].values())}, verdicts {found['verdicts']}, load {found['load']:.1f},"
                    f" code {found['code']}",
                    flush=True,
                )
    for name, _ in checkouts:
        mine = [r for r in runs if r["name"] == name]
        figures = {
            k: statistics.median(r[k] for r in mine) for k in ("seconds", "cpu_seconds", "moto_cpu_seconds")
        }
        print(
            f"median {name:>8}: wall {figures['seconds']:.2f} s, ours CPU {figures['cpu_seconds']:.2f} s"
            f" ({1000 * figures['cpu_seconds'] / args.pairs:.1f} ms/pair), moto CPU"
            f" {figures['moto_cpu_seconds']:.2f} s"
        )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
