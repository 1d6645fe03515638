"""The goals, and the markdown tables ``benchmarks.run`` prints."""

from __future__ import annotations

import math
from typing import Any

PROGRAM_RATIO_LIMIT = 0.8
"""Issue 18: the program at most 0.8x the bare SDK script registering the same resources."""
PROGRAM_GOAL_TARGETS = 1000
PROGRAM_MEMORY_LIMIT = 1.0
"""Peak memory per resource relative to the figure before issue 18 (no worse)."""
BEFORE_PEAK_KB_PER_RESOURCE = 849 * 1024 / 10_000
"""BENCHMARKS.md, run of 2026-12-01 on this machine: 849 MB peak at 1,000 targets (10,000 resources)."""
PACK_RATIO_LIMIT = 1.25
"""Issue 18: the pack's AnalyzeStack at most 1.25x the no-op pack's, at 50k resources, notes enabled."""
PACK_PER_RESOURCE_LIMIT = 1.3
"""Issue 18: the pack's per-resource Analyze at most 1.3x the no-op pack's."""
GROWTH_LIMIT = 11.0
AUDIT_IN_PROCESS_FLOOR = 10.0
"""Our audit at least this many times faster than Prowler's check in-process (issue 18)."""
AUDIT_CLI_FLOOR = 100.0
"""... and than Prowler's CLI, one run per account, as its users scan an organization."""


def _goal(name: str, measured: float, limit: float, note: str = "", *, met: bool = True) -> dict[str, Any]:
    """A goal, met when ``measured <= limit`` and ``met`` (what else it rests on) holds."""
    return {
        "goal": name,
        "measured": measured,
        "limit": limit,
        "met": met and measured <= limit,
        "note": note,
    }


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal of the issue, checked against a full run's figures (of the parts it ran)."""
    found = []
    if "program" in result:
        found += program_goals(result["program"])
    if "pack" in result:
        found += pack_goals(result["pack"])
    return found + audit_goals(result.get("audit"))


def pack_goals(pack: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy pack's goals (issue 18), and the references that explain them.

    The AnalyzeStack goals hold only with the advisory notes made: a row whose note count is not
    one per target (the bench's config declares no trail) is not met, whatever its time.
    """
    top = pack["sizes"][-1]
    notes_made = all(row["notes"] == row["expected_notes"] for row in pack["sizes"])
    notes = f"advisory notes on: {top['notes']:,} of {top['expected_notes']:,} made"
    found = [
        _goal(
            f"policy pack AnalyzeStack / no-op at {top['resources']} resources",
            top["ratio"],
            PACK_RATIO_LIMIT,
            notes,
            met=notes_made,
        ),
        _goal(
            f"policy pack without its collector policy / no-op at {top['resources']} resources",
            top["default_gc_ratio"],
            PACK_RATIO_LIMIT,
            "reference: CPython's default collector",
        ),
    ]
    per_resource = pack["analyze_per_resource"]
    found.append(
        _goal(
            f"policy pack per-resource Analyze / no-op ({per_resource['resources']} calls)",
            per_resource["ratio"],
            PACK_PER_RESOURCE_LIMIT,
        )
    )
    for pack_name, label, note, growth in (
        ("ours", "policy pack", notes, "growth"),
        ("ours", "policy pack, CPU time", "reference: the pack process's CPU seconds", "cpu_growth"),
        ("ours_default_gc", "policy pack without its collector policy", "reference", "growth"),
        ("noop", "no-op pack", "reference: the SDK's own cost", "growth"),
        ("noop", "no-op pack, CPU time", "reference", "cpu_growth"),
    ):
        for step in pack[growth][pack_name]:
            found.append(
                _goal(
                    f"{label} growth per 10x, {step['from_resources']} -> {step['to_resources']} resources",
                    step["factor_per_10x"],
                    GROWTH_LIMIT,
                    note,
                    met=notes_made if note == notes else True,
                )
            )
    return found


def audit_goals(audit: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Ours against Prowler at each size: the ratio of Prowler's time to ours, at least the floor."""
    if audit is None:
        return []
    found = []
    for row in audit["sizes"]:
        ratios = row.get("ratios", {})
        for key, floor, what in (
            ("in_process", AUDIT_IN_PROCESS_FLOOR, "Prowler in-process"),
            ("cli", AUDIT_CLI_FLOOR, "Prowler CLI"),
        ):
            measured = ratios.get(key, math.nan)
            note = audit.get("skipped", "")
            if key == "cli" and "prowler" in row and row["prowler"]["cli"]["extrapolated"]:
                cli = row["prowler"]["cli"]
                note = f"Prowler CLI: {cli['accounts_run']} of {cli['accounts']} accounts run, extrapolated"
            found.append(
                {
                    "goal": f"audit vs {what} at {row['pairs']} pairs (Prowler's time / ours)",
                    "measured": measured,
                    "limit": floor,
                    "at_least": True,
                    "met": math.isfinite(measured) and measured >= floor,
                    "note": note,
                }
            )
    return found


def program_goals(program: dict[str, Any]) -> list[dict[str, Any]]:
    """The program's goals (issue 18): ratio at 1,000 targets, all controls, growth, peak memory."""
    compared = [r for r in program["sizes"] if "ratio" in r]
    at = next((r for r in compared if r["targets"] == PROGRAM_GOAL_TARGETS), compared[-1])
    found = [
        _goal(
            f"program/baseline at {at['targets']} targets (CPU time)",
            at["cpu_ratio"],
            PROGRAM_RATIO_LIMIT,
            f"wall time: {_n(at['ratio'])}",
        )
    ]
    if "ours_new_stack" in at and "baseline" in at:
        found.append(
            _goal(
                f"program with legacyAliases: false (a new stack)/baseline at {at['targets']} targets (CPU time)",
                ratio_or_inf(at["ours_new_stack"]["cpu_seconds"], at["baseline"]["cpu_seconds"]),
                PROGRAM_RATIO_LIMIT,
                "no aliases to the names of releases before stable ids",
            )
        )
    everything = program.get("all_controls")
    if everything:
        found.append(
            _goal(
                f"program/baseline with controls: all at {everything['targets']} targets (CPU time)",
                everything["cpu_ratio"],
                PROGRAM_RATIO_LIMIT,
                f"wall time: {_n(everything['ratio'])}; every catalog control's filter and alarm",
            )
        )
        real_time = everything.get("real_time")
        if real_time:
            found.append(
                _goal(
                    f"program/baseline with controls: all and real-time rules at {everything['targets']} targets"
                    " (CPU time)",
                    real_time["cpu_ratio"],
                    PROGRAM_RATIO_LIMIT,
                    f"wall time: {_n(real_time['ratio'])}; real-time Regions {', '.join(real_time['regions'])}",
                )
            )
    for step in program["cpu_growth"]["ours"]:
        found.append(
            _goal(
                f"program growth per 10x, {step['from_targets']} -> {step['to_targets']} targets (CPU time)",
                step["factor_per_10x"],
                GROWTH_LIMIT,
            )
        )
    for step in program["cpu_growth"]["baseline"]:
        found.append(
            _goal(
                f"baseline program growth per 10x, {step['from_targets']} -> {step['to_targets']} targets (CPU time)",
                step["factor_per_10x"],
                GROWTH_LIMIT,
                "reference: no code of ours",
            )
        )
    diagnosed = [r for r in program["sizes"] if "ours_cpython_gc" in r]
    if diagnosed:
        row = diagnosed[-1]
        per_resource = row["peak_rss_kb_per_resource"]
        found.append(
            _goal(
                f"program peak memory per resource vs before issue 18, {row['targets']} targets",
                ratio_or_inf(per_resource["ours"], BEFORE_PEAK_KB_PER_RESOURCE),
                PROGRAM_MEMORY_LIMIT,
                f"{per_resource['ours']:.0f} vs {BEFORE_PEAK_KB_PER_RESOURCE:.0f} KB per resource (2026-12-01);"
                f" same run with CPython's collector: {per_resource['ours_cpython_gc']:.0f} KB",
            )
        )
    return found


def ratio_or_inf(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.inf


def _n(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _pair_line(label: str, targets: int, figures: dict[str, Any], ours_key: str, base_key: str) -> str:
    """One line for a program/baseline pair measured at one size (CPU ratio first, then wall time)."""
    ours, base = figures[ours_key], figures[base_key]
    return (
        f"{label} at {targets:,} targets: ours {_n(ours['cpu_seconds'])} CPU s ({ours['resources']:,} "
        f"resources), baseline {_n(base['cpu_seconds'])} CPU s ({base['resources']:,}): "
        f"**{_n(figures['cpu_ratio'])}** (wall time {_n(figures['ratio'])}); peak RSS "
        f"{_n(ours['peak_rss_mb'], 0)} / {_n(base['peak_rss_mb'], 0)} MB."
    )


def program_table(program: dict[str, Any]) -> list[str]:
    lines = [
        "### Program evaluation under Pulumi mocks (seconds: median of runs, each in a fresh worker)",
        "",
        "| targets | resources ours / baseline | ours s | baseline s | ours/baseline | ours CPU s | baseline CPU s "
        "| ours/baseline CPU | GC share ours / baseline | full GCs ours / baseline | peak RSS MB ours / baseline "
        "| KB per resource ours / baseline |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in program["sizes"]:
        ours, per = row["ours"], row["peak_rss_kb_per_resource"]
        base = row.get("baseline") or dict.fromkeys(
            ("resources", "seconds", "cpu_seconds", "gc_share", "gc_full_collections", "peak_rss_mb")
        )
        lines.append(
            f"| {row['targets']:,} | {ours['resources']:,} / {_n(base['resources'], 0)} | {_n(ours['seconds'])} "
            f"| {_n(base['seconds'])} | {_n(row.get('ratio'))} | {_n(ours['cpu_seconds'])} | {_n(base['cpu_seconds'])} "
            f"| **{_n(row.get('cpu_ratio'))}** | {_pct(ours['gc_share'])} / {_pct(base['gc_share'])} "
            f"| {_n(ours['gc_full_collections'], 0)} / {_n(base['gc_full_collections'], 0)} "
            f"| {_n(ours['peak_rss_mb'], 0)} / {_n(base['peak_rss_mb'], 0)} "
            f"| {_n(per['ours'], 0)} / {_n(per.get('baseline'), 0)} |"
        )
    lines += [
        "",
        _growth_line("Growth per 10x targets, wall time", program["growth"], "from_targets", "to_targets"),
        "",
        _growth_line("Growth per 10x targets, CPU time", program["cpu_growth"], "from_targets", "to_targets"),
    ]
    diagnosed = [r for r in program["sizes"] if "ours_cpython_gc" in r]
    if diagnosed:
        lines += [
            "",
            "Levers, before and after, in the same rotation (CPU seconds; peak RSS MB):",
            "",
            "| targets | ours | ours, CPython's collector | policy gain | ours, SDK's cycles | cycles gain "
            "| ours, new stack (`legacyAliases: false`) | aliases cost | structured | ours/structured "
            "| peak RSS ours / CPython's collector / SDK's cycles |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in diagnosed:
            lines.append(
                f"| {row['targets']:,} | {_n(row['ours']['cpu_seconds'])} | {_n(row['ours_cpython_gc']['cpu_seconds'])} "
                f"| {_n(row['collector_policy_gain'])}x | {_n(row['ours_sdk_cycles']['cpu_seconds'])} "
                f"| {_n(row['sdk_cycles_gain'])}x | {_n(row['ours_new_stack']['cpu_seconds'])} "
                f"| {_n(row['legacy_aliases_cost'])}x | {_n(row.get('structured', {}).get('cpu_seconds'))} "
                f"| {_n(row.get('ours_vs_structured'))} | {_n(row['ours']['peak_rss_mb'], 0)} / "
                f"{_n(row['ours_cpython_gc']['peak_rss_mb'], 0)} / {_n(row['ours_sdk_cycles']['peak_rss_mb'], 0)} |"
            )
        lines += [
            "",
            "structured = the baseline plus the program's 2 component resources, getLogGroup invoke and stack "
            "outputs, without its code.",
        ]
    everything = program.get("all_controls")
    if everything:
        targets = everything["targets"]
        lines += ["", _pair_line("`controls: all`", targets, everything, "ours_all", "baseline_all")]
        real_time = everything.get("real_time")
        if real_time:
            label = f"`controls: all` with real-time rules (Regions {', '.join(real_time['regions'])})"
            lines += ["", _pair_line(label, targets, real_time, "ours_all_rt", "baseline_all_rt")]
    if "gc_off" in program:
        lines += [
            "",
            "Diagnostic, garbage collector disabled (one run each, CPU seconds): "
            + "; ".join(
                f"{r['targets']:,} targets ours {_n(r['ours'])} s, baseline {_n(r['baseline'])} s ({_n(r['ratio'])})"
                for r in program["gc_off"]["sizes"]
            ),
            "",
            _growth_line(
                "Growth per 10x targets, GC disabled",
                program["gc_off"]["growth"],
                "from_targets",
                "to_targets",
            ),
        ]
    return lines


def pack_table(pack: dict[str, Any]) -> list[str]:
    lines = [
        "### Policy pack: AnalyzeStack over gRPC (seconds: median of calls after a warm-up call)",
        "",
        "| resources | targets | violations | notes | request MB | ours s | ours, default GC s | no-op s "
        "| ours/no-op | default GC/no-op | CPU s ours / no-op (ratio) | peak RSS MB ours / default GC / no-op "
        "| GC share in-process ours / no-op |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    in_process = pack.get("gc_in_process", {"sizes": []})
    gc_rows = {r["resources"]: r for r in in_process["sizes"]}
    for row in pack["sizes"]:
        gc_row = gc_rows.get(row["resources"])
        shares = (
            f"{_pct(gc_row['ours']['gc_share'])} / {_pct(gc_row['noop']['gc_share'])}" if gc_row else "n/a"
        )
        rss = " / ".join(_n(row[p].get("peak_rss_mb"), 0) for p in ("ours", "ours_default_gc", "noop"))
        lines.append(
            f"| {row['resources']:,} | {row['targets']:,} | {row['violations']} | {row['notes']:,} "
            f"| {row['request_bytes'] / 1e6:.1f} | {_n(row['ours']['seconds'], 3)} "
            f"| {_n(row['ours_default_gc']['seconds'], 3)} | {_n(row['noop']['seconds'], 3)} "
            f"| **{_n(row['ratio'])}** | {_n(row['default_gc_ratio'])} "
            f"| {_n(row['ours']['cpu_seconds'], 3)} / {_n(row['noop']['cpu_seconds'], 3)} ({_n(row['cpu_ratio'])}) "
            f"| {rss} | {shares} |"
        )
    lines += [
        "",
        "ours = the pack as shipped (collector policy: the collector paused during AnalyzeStack); default GC = the same pack with CPython's default collector; notes = the advisory "
        "coverage notes it reported (one per target: the default config declares no trail); peak RSS = the "
        "pack process's highest resident memory during a call of that size, including what it kept from "
        "earlier, larger calls (the sizes' calls alternate), so the largest size's is the telling one.",
        "",
        _growth_line("Growth per 10x resources", pack["growth"], "from_resources", "to_resources"),
        "",
        _growth_line(
            "Growth per 10x resources, CPU time", pack["cpu_growth"], "from_resources", "to_resources"
        ),
    ]
    per_resource = pack["analyze_per_resource"]
    lines += [
        "",
        f"Per-resource `Analyze` (the CLI's call for resource policies), {per_resource['resources']:,} calls: "
        f"ours {_n(per_resource['ours']['seconds'], 3)} s ({_n(per_resource['ours']['resources_per_second'], 0)}/s), "
        f"no-op {_n(per_resource['noop']['seconds'], 3)} s ({_n(per_resource['noop']['resources_per_second'], 0)}/s): "
        f"**{_n(per_resource['ratio'])}x**.",
    ]
    if "growth_without_gc" in in_process:
        lines += [
            "",
            _growth_line(
                "Growth per 10x resources in-process (collector on), GC time subtracted",
                in_process["growth_without_gc"],
                "from_resources",
                "to_resources",
            ),
        ]
    return lines


def engine_table(engine: dict[str, Any]) -> list[str]:
    lines = [
        "### Pattern engine (uncached: caches cleared before every call)",
        "",
        "| pattern | covers | too broad | parses/s | parse+judge/s |",
        "|---|:-:|:-:|---:|---:|",
    ]
    for row in engine["patterns"]:
        lines.append(
            f"| {row['pattern']} | {'yes' if row['covers'] else 'no'} | {'yes' if row['too_broad'] else 'no'} "
            f"| {_n(row['parse_per_second'], 0)} | {_n(row['judge_per_second'], 0)} |"
        )
    share = engine["share"]
    once, every = share["cleared_once"], share["cleared_per_target"]
    lines += [
        "",
        f"Share of a {share['resources']:,}-resource stack check (StackIndex.build + evaluate_chain for "
        f"{share['targets']:,} targets, in-process) spent in `judge`: caches cleared once "
        f"{once['judge_seconds'] * 1000:.1f} ms of {once['seconds'] * 1000:.0f} ms ({once['share']:.1%}); "
        f"cleared before every target {every['judge_seconds'] * 1000:.0f} ms of {every['seconds'] * 1000:.0f} ms "
        f"({every['share']:.1%}).",
    ]
    if "share_of_analyze_stack" in share:
        lines.append(
            f"Of the {share['resources']:,}-resource AnalyzeStack over gRPC (median above), `judge` is "
            f"{share['share_of_analyze_stack']:.2%} with caches cleared once, and would be "
            f"{share['worst_share_of_analyze_stack']:.0%} if every target had its own pattern text."
        )
    return lines


def goals_table(found: list[dict[str, Any]]) -> list[str]:
    lines = ["### Goals", "", "| goal | measured | limit | status |", "|---|---:|---:|---|"]
    for goal in found:
        status = "MET" if goal["met"] else "**NOT MET**"
        note = f" ({goal['note']})" if goal["note"] else ""
        limit = f"≥ {_n(goal['limit'])}" if goal.get("at_least") else _n(goal["limit"])
        lines.append(f"| {goal['goal']} | {_n(goal['measured'])} | {limit} | {status}{note} |")
    return lines


def _growth_line(title: str, growth: dict[str, list[dict[str, Any]]], start: str, end: str) -> str:
    parts = []
    for name, steps in growth.items():
        shown = ", ".join(f"{s[start]:,}->{s[end]:,}: {_n(s['factor_per_10x'])}x" for s in steps)
        parts.append(f"{name} {shown}")
    return f"{title}: " + "; ".join(parts) + "."


def reports_table(reports: dict[str, Any]) -> list[str]:
    lines = [
        "### Reports: HTML and terminal rendering, and opening the HTML in headless chromium (seconds: median)",
        "",
        "| targets (accounts x Regions) | HTML s (view / template) | first HTML s | HTML MB | terminal s (80 col)"
        " | terminal lines | chromium --dump-dom s | empty page s | report's share s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in reports["sizes"]:
        html, text, shown = row["html"], row["terminal"], row["browser"]
        opened = (
            f"{_n(shown['dump_dom_seconds'])} | {_n(shown['empty_page_seconds'])} | {_n(shown['report_share_seconds'])}"
            if "skipped" not in shown
            else f"skipped: {shown['skipped']} | | "
        )
        lines.append(
            f"| {row['targets']:,} ({row['accounts']} x {row['regions']}) | {_n(html['seconds'])}"
            f" ({_n(html['view_seconds'])} / {_n(html['template_seconds'])}) | {_n(html['first_render_seconds'])}"
            f" | {_n(html['mb'], 1)} | {_n(text['seconds'])} | {text['lines']:,} | {opened} |"
        )
    return lines


def audit_table(audit: dict[str, Any]) -> list[str]:
    prowler = f"Prowler {audit['prowler_version']}" if "prowler_version" in audit else "Prowler"
    lines = [
        f"### Audit: ours against {prowler}'s check `{audit['prowler_check']}` (emulated organization, moto)",
        "",
    ]
    if "skipped" in audit:
        lines += [f"Prowler skipped: {audit['skipped']}.", ""]
    lines += [
        "| pairs (accounts) | broken | ours s (with proofs / no matcher / CLI) | ours calls/pair "
        "| Prowler in-process s (+start-up) | Prowler calls/pair | Prowler CLI s per account | Prowler CLI s, all "
        "| in-process ratio | CLI ratio |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in audit["sizes"]:
        ours = row["ours"]
        broken = ", ".join(f"{n} {name}" for name, n in row["broken"].items())
        mine = f"{_n(ours['proofs']['seconds'])} / {_n(ours['no_matcher']['seconds'])} / {_n(ours['cli']['seconds'])}"
        calls = f"{_n(ours['proofs']['calls_per_pair'], 1)} / {_n(ours['no_matcher']['calls_per_pair'], 1)}"
        if "prowler" not in row:
            lines.append(
                f"| {row['pairs']:,} ({row['accounts']}) | {broken} | {mine} | {calls} | skipped | | | | | |"
            )
            continue
        inside, cli = row["prowler"]["in_process"], row["prowler"]["cli"]
        sampled = (
            f" ({cli['accounts_run']} of {cli['accounts']} run, extrapolated)" if cli["extrapolated"] else ""
        )
        lines.append(
            f"| {row['pairs']:,} ({row['accounts']}) | {broken} | {mine} | {calls} "
            f"| {_n(inside['seconds'])} (+{_n(inside['startup_seconds'], 1)}) | {_n(inside['calls_per_pair'], 1)} "
            f"| {_n(cli['seconds_per_account'], 1)} | {_n(cli['seconds'], 0)}{sampled} "
            f"| **{_n(row['ratios']['in_process'], 1)}x** | **{_n(row['ratios']['cli'], 0)}x** |"
        )
    lines += [
        "",
        "ours calls/pair: with proofs / without the matcher (botocore before-call events); Prowler's: botocore "
        "calls in its runner. In-process ratio: Prowler in-process / ours with proofs; CLI ratio: Prowler CLI "
        "(one run per account) / our CLI (one run).",
        "",
    ]
    for goal in audit_goals(audit):
        status = "MET" if goal["met"] else "NOT MET"
        lines.append(
            f"- {goal['goal']} ≥ {_n(goal['limit'], 0)}x: measured {_n(goal['measured'], 1)}x, {status}"
        )
    for row in audit["sizes"]:
        if row["ours"]["unexpected"]:
            lines.append(f"- ours, not the verdict built for: {'; '.join(row['ours']['unexpected'])}")
        verdicts = row.get("verdicts")
        if verdicts is None:
            continue
        lines.append(
            f"- verdicts at {row['pairs']} pairs: {verdicts['comparable']} of {verdicts['pairs']} pairs comparable, "
            f"{verdicts['agree']} agree, {verdicts['disagree']} disagree"
            + "".join(f"; {n} because {cause}" for cause, n in verdicts["by_cause"].items())
        )
        if verdicts["prowler_unexpected"]:
            lines.append(
                f"  - Prowler, not the verdict expected: {'; '.join(verdicts['prowler_unexpected'])}"
            )
    return lines


def markdown(result: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in result["versions"].items())
    machine = result["machine"]
    lines = [
        f"## cis-monitoring benchmarks ({result['kind']} run, {result['duration_seconds']:.0f} s)",
        "",
        f"Machine: {machine['cpu_count']} CPUs, {machine['cpu_model']}; {machine['platform']}. "
        f"Load average at start {_n(machine['load_average'][0]) if machine['load_average'] else 'n/a'}.",
        f"Versions: {versions}.",
        "",
    ]
    for part, table in (
        ("program", program_table),
        ("pack", pack_table),
        ("engine", engine_table),
        ("reports", reports_table),
        ("audit", audit_table),
    ):
        if part in result:
            lines += [*table(result[part]), ""]
    for run in result.get("part_runs", []):
        lines.append(
            f"Parts {', '.join(run['parts'])}: run from {run['started_at']}, {run['duration_seconds']:.0f} s, load"
            f" average {_n(run['load_average_at_start'])} at the start and {_n(run['load_average_at_end'])} at the end."
        )
    if result.get("part_runs"):
        lines.append("")
    if result["goals"]:
        lines += goals_table(result["goals"])
    else:
        lines.append("Goals not checked (smoke run).")
    return "\n".join(lines) + "\n"
