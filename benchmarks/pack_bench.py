"""Policy pack: AnalyzeStack over gRPC, the real pack vs a pack with one no-op stack policy.

Both packs are started exactly as the Pulumi CLI starts them (``python -u -m pulumi.policy <engine> .``
in the pack's directory, via the repo's test support), configured with their schema defaults, and
sent the same request objects. Stacks come from ``benchmarks.stacks`` (the program's own
registrations, replicated). Each size gets one untimed warm-up call per pack, then the packs
alternate for the timed calls.

A diagnostic pass runs the same requests once more in this process through pulumi-policy's own
servicer (no gRPC) with the garbage collector clocked, to show how much of each pack's time the
collector takes.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from benchmarks import stacks
from benchmarks.measure import REPO_ROOT, GcClock, growth_per_10x, median, ratio

# Repo test support (not product code): starts a pack as the CLI does, converts recorded runs.
from local.analyzer_client import PolicyPackServer, built_pack_dir, stack_resources

NOOP_PACK_DIR = REPO_ROOT / "benchmarks" / "noop_pack"
PACKS = ("ours", "noop")
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

    def timed_analyze(self, request: analyzer_pb2.AnalyzeStackRequest) -> tuple[float, int]:
        started = time.perf_counter()
        response = self.stub.AnalyzeStack(request)
        elapsed = time.perf_counter() - started
        # Advisory notes (e.g. "the config declares no trail for this account") are not violations.
        return elapsed, sum(1 for d in response.diagnostics if d.enforcementLevel == analyzer_pb2.MANDATORY)


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
    servers = {
        "ours": LargeMessagePackServer(built_pack_dir()),
        "noop": LargeMessagePackServer(NOOP_PACK_DIR),
    }
    try:
        for server in servers.values():
            server.configure()
        rows = [
            _measure_size(servers, shape, request, repetitions, log)
            for (shape, request), repetitions in zip(requests, settings.repetitions, strict=True)
        ]
        per_resource = analyze_per_resource(servers, requests[0][1], log)
    finally:
        for server in servers.values():
            server.close()
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
        "analyze_per_resource": per_resource,
    }
    if settings.gc_diagnostic:
        rows_in_process = gc_diagnostic(requests, log)
        result["gc_in_process"] = {
            "sizes": rows_in_process,
            "growth_without_gc": {p: _growth_without_gc(rows_in_process, p) for p in PACKS},
        }
    return result


def _measure_size(
    servers: dict[str, LargeMessagePackServer],
    shape: stacks.StackShape,
    request: analyzer_pb2.AnalyzeStackRequest,
    repetitions: int,
    log: Log,
) -> dict[str, Any]:
    for server in servers.values():
        server.timed_analyze(request)  # warm-up
    seconds: dict[str, list[float]] = {p: [] for p in PACKS}
    violations = {}
    for repetition in range(repetitions):
        for pack in PACKS if repetition % 2 == 0 else PACKS[::-1]:
            elapsed, violations[pack] = servers[pack].timed_analyze(request)
            seconds[pack].append(elapsed)
    ours, noop = median(seconds["ours"]), median(seconds["noop"])
    log(f"pack {shape.resources:>6} resources: ours {ours:.3f} s, no-op {noop:.3f} s")
    return {
        "resources": shape.resources,
        "targets": shape.targets,
        "weakened_targets": shape.weakened_targets,
        "targets_without_alarm": shape.targets_without_alarm,
        "request_bytes": request.ByteSize(),
        "ours": {"seconds": ours, "runs": [round(s, 4) for s in seconds["ours"]]},
        "noop": {"seconds": noop, "runs": [round(s, 4) for s in seconds["noop"]]},
        "ratio": ratio(ours, noop),
        "violations": violations["ours"],
        "expected_violations": shape.weakened_targets + shape.targets_without_alarm,
    }


def analyze_per_resource(
    servers: dict[str, LargeMessagePackServer], request: analyzer_pb2.AnalyzeStackRequest, log: Log
) -> dict[str, Any]:
    """The CLI's other call: ``Analyze`` once per resource (the resource policies), over the smallest stack.

    Not a goal of the issue; measured because at scale it costs more than AnalyzeStack.
    """
    result: dict[str, Any] = {"resources": len(request.resources)}
    for pack, server in servers.items():
        passes = []
        for _ in range(3):
            started = time.perf_counter()
            for resource in request.resources:
                server.analyze(resource)
            passes.append(time.perf_counter() - started)
        seconds = median(passes[1:])  # the first pass is the warm-up
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


def _growth(rows: Sequence[dict[str, Any]], pack: str) -> list[dict[str, Any]]:
    return [
        {
            "from_resources": a["resources"],
            "to_resources": b["resources"],
            "factor_per_10x": growth_per_10x(
                a["resources"], a[pack]["seconds"], b["resources"], b[pack]["seconds"]
            ),
        }
        for a, b in itertools.pairwise(rows)
    ]


def _servicer(pack: str) -> Any:
    """pulumi-policy's own servicer for the real or the no-op pack, without a server."""
    from pulumi_policy import EnforcementLevel, StackValidationPolicy
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from policy.cis_guard.rules import policies

    chosen = (
        policies()
        if pack == "ours"
        else [StackValidationPolicy(name="noop", description="no-op", validate=lambda args, report: None)]
    )
    return _PolicyAnalyzerServicer(pack, "0.0.0", chosen, EnforcementLevel.MANDATORY, *([None] * 7))


def gc_diagnostic(
    requests: Sequence[tuple[stacks.StackShape, analyzer_pb2.AnalyzeStackRequest]], log: Log
) -> list[dict[str, Any]]:
    """One in-process AnalyzeStack per size and pack, with the garbage collector's share clocked."""
    import gc

    servicers = {p: _servicer(p) for p in PACKS}
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
