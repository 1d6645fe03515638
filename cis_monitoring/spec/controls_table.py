"""The README's table of supported controls, generated from the catalog (``make docs``).

One row per packaged catalog control: its id in every CIS AWS Foundations version that has it
(consecutive versions with the same id folded into one range), its Security Hub control, the
CloudTrail event source it watches, and whether the Sigma export can state it. Generated, so the
table cannot disagree with the entries the program, the pack and the audit read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cis_monitoring.core.catalog import CONTROLS, Control
from cis_monitoring.core.catalog.benchmarks import BENCHMARKS, Benchmark

EN_DASH = "\N{EN DASH}"


def _short(benchmark: Benchmark) -> str:
    return "v" + benchmark.key.removeprefix("cis-aws-")


def version_ids(control: Control) -> str:
    """``3.5 (v1.2) · 4.5 (v1.4-v5.0) · 5.5 (v6.0-v7.0)`` (en dashes): the control's id per benchmark version."""
    runs: list[tuple[str, list[Benchmark]]] = []
    for benchmark in BENCHMARKS:
        requirement = control.requirement(benchmark.key)
        if requirement is None:
            continue
        if runs and runs[-1][0] == requirement.id and _next_to(runs[-1][1][-1], benchmark):
            runs[-1][1].append(benchmark)
        else:
            runs.append((requirement.id, [benchmark]))
    parts = []
    for control_id, versions in runs:
        span = (
            _short(versions[0])
            if len(versions) == 1
            else f"{_short(versions[0])}{EN_DASH}{_short(versions[-1])}"
        )
        parts.append(f"{control_id} ({span})")
    return " · ".join(parts) or EN_DASH


def _next_to(earlier: Benchmark, later: Benchmark) -> bool:
    keys = [b.key for b in BENCHMARKS]
    return keys.index(later.key) == keys.index(earlier.key) + 1


def _sigma(control: Control) -> str:
    from cis_monitoring.sigma.rules import build_rule  # the export's own verdict, not a retyped list

    result = build_rule(control)
    return "yes" if result.problem is None else f"no: {result.problem}"


def controls_reference(extra_columns: Sequence[tuple[str, Callable[[Control], str]]] = ()) -> str:
    """The Markdown table; ``extra_columns`` (heading, cell) come after the fixed ones."""
    newest = BENCHMARKS[-1]
    headings = [
        "catalog",
        "control (v3.0.0 title)",
        "CIS id by benchmark version",
        "Security Hub",
        "event source",
    ]
    headings += [heading for heading, _ in extra_columns] + ["Sigma"]
    lines = [
        "<!-- Generated from cis_monitoring/core/catalog by `make docs`. -->",
        "",
        f"Ids per version as the catalog's `frameworks` map them (each mapping cites its source);"
        f" the reports speak the chosen `--benchmark` version's ids, by default {_short(newest)}.",
        "",
        "| " + " | ".join(headings) + " |",
        "|" + "---|" * len(headings),
    ]
    for control in sorted(CONTROLS.values(), key=lambda c: tuple(int(p) for p in c.control_id.split("."))):
        default = " (default)" if control.default else ""
        cells = [
            f"`{control.control_id}`{default}",
            control.title,
            version_ids(control),
            control.security_hub_id or EN_DASH,
            f"`{control.event_source}`" if control.event_source else "any service",
            *(cell(control) for _, cell in extra_columns),
            _sigma(control),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
