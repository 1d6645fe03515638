"""Policy pack: AnalyzeStack over gRPC, the real pack vs a pack with one no-op stack policy.

The packs are started exactly as the Pulumi CLI starts them (``python -u -m pulumi.policy <engine> .``
in the pack's directory, via the repo's test support), configured with their schema defaults, and
sent the same request objects. Stacks come from ``benchmarks.stacks`` (the program's own
registrations, replicated). Each size gets one untimed warm-up call per pack; then the timed calls
go in rounds over the sizes, the packs in rotating order, so load that changes during the run
spreads over every size and pack. Each call also counts the pack process's CPU time (``/proc``),
which other load on the machine inflates less than wall time.

Three packs: the real one; the real one with its collector policy removed
(``policy/cis_guard/collector.py`` replaced by a no-op in a copy of the build), to show what that
policy is worth; the no-op. Each pack process's peak RSS is read per call (``VmHWM``, reset before
the call), the highest kept per size.

With its schema defaults the pack config declares no trail, so the advisory coverage notes policy
has a note for every target ("no trail is declared for this account"): the benchmark counts them
and checks there is one per target, so the notes are made and reported in every timed call.

A diagnostic pass runs the same requests once more in this process through the packs' servicers
(no gRPC) with the garbage collector on and clocked, to show how much of each pack's time the
collector takes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import grpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from benchmarks import stacks
from benchmarks.measure import REPO_ROOT, GcClock, growth_per_10x, median, ratio

# Repo test support (not product code): starts a pack as the CLI does, converts recorded runs.
from local.analyzer_client import PolicyPackServer, built_pack_dir, stack_resources
from policy.cis_guard.rules import NOTES_POLICY

NOOP_PACK_DIR = REPO_ROOT / "benchmarks" / "noop_pack"
PACKS = ("ours", "ours_default_gc", "noop")
"""The real pack; the same with CPython's default collector (no collector policy); the no-op pack."""
DEFAULT_GC_COLLECTOR = (
    '"""Benchmark copy (benchmarks/pack_bench.py): no collector policy, CPython\'s default collector."""\n'
    "import contextlib\n\n"
    "paused = contextlib.nullcontext\n"
)
PER_RESOURCE_PASSES = 4
IN_PROCESS_PACKS = ("ours", "noop")
MAX_MESSAGE = 1 << 30  # a 50k-resource request is ~70 MB; gRPC's default limit is 4 MB

Log = Callable[[str], None]


@dataclass(frozen=True)
class PackSettings:
    sizes: tuple[int, ...]
    """Stack sizes in resources (multiples of 10)."""
    repetitions: tuple[int, ...]
    """Timed calls per size (each pack)."""
    seed_targets: int = stacks.SEED_TARGETS
    gc_diagnostic: bool = True


class Call(NamedTuple):
    seconds: float
    cpu_seconds: float
    """The pack process's CPU time in the call: less sensitive than wall time to other load on the machine."""
    violations: int
    notes: int


class LargeMessagePackServer(PolicyPackServer):
    """The test harness's pack process, with a channel that can send a 50k-resource request."""

    def __init__(self, cwd: Any) -> None:
        super().__init__(python=sys.executable, cwd=cwd)
        self.channel.close()
        self.channel = grpc.insecure_channel(
            f"127.0.0.1:{self.port}",
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE),
                ("grpc.max_receive_message_length", MAX_MESSAGE),
            ],
        )
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def timed_analyze(self, request: analyzer_pb2.AnalyzeStackRequest) -> Call:
        """One AnalyzeStack call: its seconds, the pack process's CPU seconds, violations and notes."""
        cpu = self.cpu_seconds()
        started = time.perf_counter()
        response = self.stub.AnalyzeStack(request)
        elapsed = time.perf_counter() - started
        cpu_used = self.cpu_seconds() - cpu
        # Advisory notes (e.g. "the config declares no trail for this account") are not violations.
        mandatory = sum(1 for d in response.diagnostics if d.enforcementLevel == analyzer_pb2.MANDATORY)
        notes = sum(
            1
            for d in response.diagnostics
            if d.policyName == NOTES_POLICY and d.enforcementLevel == analyzer_pb2.ADVISORY
        )
        return Call(elapsed, cpu_used, mandatory, notes)

    def cpu_seconds(self) -> float:
        """The pack process's CPU time so far (user + system, all threads; Linux ``/proc``, else 0)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_peak_rss(self) -> None:
        """Start a new peak for ``peak_rss_mb`` (Linux: ``/proc/PID/clear_refs``; elsewhere a no-op)."""
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def peak_rss_mb(self) -> float | None:
        """The pack process's peak resident memory since the last reset (``VmHWM``), or None."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None


def _pack_with_default_gc() -> Path:
    """A copy of the built pack whose collector policy does nothing (CPython's default collector)."""
    parent = tempfile.mkdtemp(prefix="cis-pack-default-gc-")
    copy = Path(shutil.copytree(built_pack_dir(), Path(parent) / "policy-pack"))
    (copy / "cis_guard" / "collector.py").write_text(DEFAULT_GC_COLLECTOR)
    return copy


def build_requests(
    settings: PackSettings, log: Log
) -> list[tuple[stacks.StackShape, analyzer_pb2.AnalyzeStackRequest]]:
    seed = stacks.seed_run(settings.seed_targets)
    requests = []
    for size in settings.sizes:
        run, shape = stacks.build_stack(size, seed, settings.seed_targets)
        requests.append((shape, analyzer_pb2.AnalyzeStackRequest(resources=stack_resources(run))))
        log(
            f"pack stack {shape.resources} resources: {shape.targets} targets, {shape.weakened_targets} "
            f"weakened patterns, {shape.targets_without_alarm} without alarm"
        )
    return requests


def bench(settings: PackSettings, log: Log = print) -> dict[str, Any]:
    requests = build_requests(settings, log)
    default_gc_dir = _pack_with_default_gc()
    servers = {
        "ours": LargeMessagePackServer(built_pack_dir()),
        "ours_default_gc": LargeMessagePackServer(default_gc_dir),
        "noop": LargeMessagePackServer(NOOP_PACK_DIR),
    }
    try:
        for server in servers.values():
            server.configure()
        rows = _measure_sizes(servers, requests, settings.repetitions, log)
        per_resource = analyze_per_resource(servers, requests[0][1], log)
    finally:
        for server in servers.values():
            server.close()
        shutil.rmtree(default_gc_dir.parent, ignore_errors=True)
    result: dict[str, Any] = {
        "repetitions": list(settings.repetitions),
        "seed_targets": settings.seed_targets,
        "stack_construction": (
            f"the program run under mocks at {settings.seed_targets} targets, each target's registrations "
            "copied with the account id and account name substituted; "
            f"{stacks.WEAKENED_SHARE:.0%} of targets with a weakened pattern, "
            f"{stacks.MISSING_ALARM_SHARE:.0%} without alarm"
        ),
        "sizes": rows,
        "growth": {p: _growth(rows, p) for p in PACKS},
        "cpu_growth": {p: _growth(rows, p, "cpu_seconds") for p in PACKS},
        "collector_policy": (
            "the collector paused for each AnalyzeStack call (policy/cis_guard/collector.py); "
            "ours_default_gc is the same pack without it"
        ),
        "analyze_per_resource": per_resource,
    }
    if settings.gc_diagnostic:
        rows_in_process = gc_diagnostic(requests, log)
        result["gc_in_process"] = {
            "sizes": rows_in_process,
            "growth_without_gc": {p: _growth_without_gc(rows_in_process, p) for p in IN_PROCESS_PACKS},
        }
    return result


def _measure_sizes(
    servers: dict[str, LargeMessagePackServer],
    requests: Sequence[tuple[stacks.StackShape, analyzer_pb2.AnalyzeStackRequest]],
    repetitions: Sequence[int],
    log: Log,
) -> list[dict[str, Any]]:
    """Every size's calls, in rounds that visit each size in turn (one call per pack, in rotating order).

    On a shared machine the load changes during a run; measuring one size after the other would
    fold that change into the growth between sizes. Rounds spread every size's calls over the run.
    """
    calls: dict[tuple[int, str], list[Call]] = {}
    peaks: dict[tuple[int, str], float] = {}
    for _, request in requests:
        for server in servers.values():
            server.timed_analyze(request)  # warm-up
    for repetition in range(max(repetitions)):
        for position, (_, request) in enumerate(requests):
            if repetition >= repetitions[position]:
                continue
            shift = (repetition + position) % len(PACKS)
            for pack in PACKS[shift:] + PACKS[:shift]:  # no pack always runs right after the same one
                server = servers[pack]
                server.reset_peak_rss()
                calls.setdefault((position, pack), []).append(server.timed_analyze(request))
                peak = server.peak_rss_mb()
                if peak is not None:
                    peaks[(position, pack)] = max(peak, peaks.get((position, pack), 0.0))
    return [
        _size_row(
            shape, request, {p: calls[(i, p)] for p in PACKS}, {p: peaks.get((i, p)) for p in PACKS}, log
        )
        for i, (shape, request) in enumerate(requests)
    ]


def _size_row(
    shape: stacks.StackShape,
    request: analyzer_pb2.AnalyzeStackRequest,
    calls: dict[str, list[Call]],
    peaks: dict[str, float | None],
    log: Log,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "resources": shape.resources,
        "targets": shape.targets,
        "weakened_targets": shape.weakened_targets,
        "targets_without_alarm": shape.targets_without_alarm,
        "request_bytes": request.ByteSize(),
    }
    for pack in PACKS:
        made = calls[pack]
        row[pack] = {
            "seconds": median([c.seconds for c in made]),
            "runs": [round(c.seconds, 4) for c in made],
            # Mean, not median: /proc counts CPU time in clock ticks (10 ms), coarse for one small call.
            "cpu_seconds": sum(c.cpu_seconds for c in made) / len(made),
            "peak_rss_mb": peaks[pack],
        }
    row["ratio"] = ratio(row["ours"]["seconds"], row["noop"]["seconds"])
    row["default_gc_ratio"] = ratio(row["ours_default_gc"]["seconds"], row["noop"]["seconds"])
    row["cpu_ratio"] = ratio(row["ours"]["cpu_seconds"], row["noop"]["cpu_seconds"])
    row["violations"] = calls["ours"][-1].violations
    row["expected_violations"] = shape.weakened_targets + shape.targets_without_alarm
    row["notes"] = calls["ours"][-1].notes
    row["expected_notes"] = shape.targets  # the default config declares no trail: one note per target
    log(
        f"pack {shape.resources:>6} resources: ours {row['ours']['seconds']:.3f} s, default GC "
        f"{row['ours_default_gc']['seconds']:.3f} s, no-op {row['noop']['seconds']:.3f} s; "
        f"{row['notes']} notes"
    )
    return row


def analyze_per_resource(
    servers: dict[str, LargeMessagePackServer], request: analyzer_pb2.AnalyzeStackRequest, log: Log
) -> dict[str, Any]:
    """The CLI's other call: ``Analyze`` once per resource (the resource policies), over the smallest stack.

    The packs alternate passes over the stack (one warm-up pass each, then ``PER_RESOURCE_PASSES``).
    """
    result: dict[str, Any] = {"resources": len(request.resources)}
    chosen = {pack: servers[pack] for pack in ("ours", "noop")}
    passes: dict[str, list[float]] = {pack: [] for pack in chosen}
    for repetition in range(PER_RESOURCE_PASSES + 1):  # the first pass of each is the warm-up
        for pack in chosen if repetition % 2 == 0 else list(chosen)[::-1]:
            started = time.perf_counter()
            for resource in request.resources:
                chosen[pack].analyze(resource)
            passes[pack].append(time.perf_counter() - started)
    for pack in chosen:
        seconds = median(passes[pack][1:])
        result[pack] = {"seconds": seconds, "resources_per_second": len(request.resources) / seconds}
    result["ratio"] = ratio(result["ours"]["seconds"], result["noop"]["seconds"])
    log(
        f"pack Analyze per resource ({result['resources']} calls): ours {result['ours']['seconds']:.3f} s, "
        f"no-op {result['noop']['seconds']:.3f} s"
    )
    return result


def _growth_without_gc(rows: Sequence[dict[str, Any]], pack: str) -> list[dict[str, Any]]:
    """Growth of the in-process time minus the collector's time."""

    def busy(row: dict[str, Any]) -> float:
        return row[pack]["seconds"] - row[pack]["gc_seconds"]

    return [
        {
            "from_resources": a["resources"],
            "to_resources": b["resources"],
            "factor_per_10x": growth_per_10x(a["resources"], busy(a), b["resources"], busy(b)),
        }
        for a, b in itertools.pairwise(rows)
    ]


def _growth(rows: Sequence[dict[str, Any]], pack: str, measure: str = "seconds") -> list[dict[str, Any]]:
    return [
        {
            "from_resources": a["resources"],
            "to_resources": b["resources"],
            "factor_per_10x": growth_per_10x(
                a["resources"], a[pack][measure], b["resources"], b[pack][measure]
            ),
        }
        for a, b in itertools.pairwise(rows)
    ]


def _servicer(pack: str) -> Any:
    """The servicer class the real pack serves with (``recording.servicer_class``), or the SDK's own for
    the no-op pack, without a server."""
    from pulumi_policy import EnforcementLevel, StackValidationPolicy
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from policy.cis_guard.recording import servicer_class
    from policy.cis_guard.rules import CHAIN_POLICY, policies
    from policy.cis_guard.verdict_files import Recorder

    if pack == "ours":
        served = servicer_class(Recorder(pack="in-process", version="0"), CHAIN_POLICY)
        assert served is not None, "pulumi-policy >= 1.20, < 2 has the servicer the pack serves with"
        return served(pack, "0.0.0", policies(), EnforcementLevel.MANDATORY)
    chosen = [StackValidationPolicy(name="noop", description="no-op", validate=lambda args, report: None)]
    return _PolicyAnalyzerServicer(pack, "0.0.0", chosen, EnforcementLevel.MANDATORY, *([None] * 7))


def gc_diagnostic(
    requests: Sequence[tuple[stacks.StackShape, analyzer_pb2.AnalyzeStackRequest]], log: Log
) -> list[dict[str, Any]]:
    """One in-process AnalyzeStack per size and pack, with the garbage collector on and its share clocked.

    The real pack's collector policy is left out here (the collector is never paused), so this shows
    what the collector costs each pack's own work; the gRPC rows above show the policy's effect.
    """

    from policy.cis_guard import collector

    servicers = {p: _servicer(p) for p in IN_PROCESS_PACKS}
    paused, collector.paused = collector.paused, contextlib.nullcontext  # type: ignore[assignment]
    try:
        return _clocked(servicers, requests, log)
    finally:
        collector.paused = paused  # type: ignore[assignment]


def _clocked(
    servicers: dict[str, Any],
    requests: Sequence[tuple[stacks.StackShape, analyzer_pb2.AnalyzeStackRequest]],
    log: Log,
) -> list[dict[str, Any]]:
    import gc

    rows = []
    for shape, request in requests:
        row: dict[str, Any] = {"resources": shape.resources}
        for pack, servicer in servicers.items():
            servicer.AnalyzeStack(request, None)  # warm-up
            gc.collect()
            clock = GcClock()
            with clock.running():
                started = time.perf_counter()
                servicer.AnalyzeStack(request, None)
                seconds = time.perf_counter() - started
            row[pack] = {
                "seconds": seconds,
                "gc_seconds": clock.total,
                "gc_share": clock.total / seconds if seconds else 0.0,
                "gc_full_collections": clock.collections[2],
            }
        log(
            f"pack in-process {shape.resources:>6} resources: GC share ours {row['ours']['gc_share']:.0%}, "
            f"no-op {row['noop']['gc_share']:.0%}"
        )
        rows.append(row)
    return rows
