"""The goals, and the markdown tables ``benchmarks.run`` prints."""

from __future__ import annotations

import math
from typing import Any

PROGRAM_RATIO_LIMIT = 1.25
PACK_RATIO_LIMIT = 1.5
GROWTH_LIMIT = 11.0
AUDIT_IN_PROCESS_FLOOR = 10.0
"""Our audit at least this many times faster than Prowler's check in-process (issue 18)."""
AUDIT_CLI_FLOOR = 100.0
"""... and than Prowler's CLI, one run per account, as its users scan an organization."""


def _goal(name: str, measured: float, limit: float, note: str = "") -> dict[str, Any]:
    return {"goal": name, "measured": measured, "limit": limit, "met": measured <= limit, "note": note}


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal of the issue, checked against a full run's figures."""
    program, pack = result["program"], result["pack"]
    top = program["sizes"][-1]
    found = [
        _goal(f"program/baseline at {top['targets']} targets", top["ratio"], PROGRAM_RATIO_LIMIT),
        _goal(
            f"policy/no-op at {pack['sizes'][-1]['resources']} resources",
            pack["sizes"][-1]["ratio"],
            PACK_RATIO_LIMIT,
        ),
    ]
    for variant, label in (
        ("ours", "program"),
        ("baseline", "baseline program"),
        ("structured", "structured baseline"),
    ):
        step = program["growth"][variant][-1]
        found.append(
            _goal(
                f"{label} growth per 10x, {step['from_targets']} -> {step['to_targets']} targets",
                step["factor_per_10x"],
                GROWTH_LIMIT,
                "" if variant == "ours" else "reference: no code of ours",
            )
        )
    for pack_name, label in (("ours", "policy pack"), ("noop", "no-op pack")):
        for step in pack["growth"][pack_name]:
            found.append(
                _goal(
                    f"{label} growth per 10x, {step['from_resources']} -> {step['to_resources']} resources",
                    step["factor_per_10x"],
                    GROWTH_LIMIT,
                    "" if pack_name == "ours" else "reference: same SDK cost",
                )
            )
    return found + audit_goals(result.get("audit"))


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


def _n(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _pct(value: float) -> str:
    return f"{value:.0%}"


def program_table(program: dict[str, Any]) -> list[str]:
    lines = [
        "### Program evaluation under Pulumi mocks (seconds: median of runs, each in a fresh worker)",
        "",
        "| targets | resources ours / baseline | ours s | baseline s | ours res/s | baseline res/s "
        "| ours/baseline | structured s | ours/structured | GC share ours / baseline | peak RSS MB ours |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in program["sizes"]:
        ours, base, structured = row["ours"], row["baseline"], row["structured"]
        lines.append(
            f"| {row['targets']:,} | {ours['resources']:,} / {base['resources']:,} | {_n(ours['seconds'])} "
            f"| {_n(base['seconds'])} | {_n(ours['resources_per_second'], 0)} | {_n(base['resources_per_second'], 0)} "
            f"| **{_n(row['ratio'])}** | {_n(structured['seconds'])} | {_n(row['ours_vs_structured'])} "
            f"| {_pct(ours['gc_share'])} / {_pct(base['gc_share'])} | {_n(ours['peak_rss_mb'], 0)} |"
        )
    lines += [
        "",
        "structured = the baseline plus the program's 2 component resources, getLogGroup invoke and stack "
        "outputs, without its code.",
        "",
        _growth_line("Growth per 10x targets", program["growth"], "from_targets", "to_targets"),
    ]
    if "gc_off" in program:
        lines += [
            "",
            "Diagnostic, garbage collector disabled (one run each): "
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
        "| resources | targets | violations | request MB | ours s | no-op s | ours/no-op | GC share ours / no-op |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    in_process = pack.get("gc_in_process", {"sizes": []})
    gc_rows = {r["resources"]: r for r in in_process["sizes"]}
    for row in pack["sizes"]:
        gc_row = gc_rows.get(row["resources"])
        shares = (
            f"{_pct(gc_row['ours']['gc_share'])} / {_pct(gc_row['noop']['gc_share'])}" if gc_row else "n/a"
        )
        lines.append(
            f"| {row['resources']:,} | {row['targets']:,} | {row['violations']} | {row['request_bytes'] / 1e6:.1f} "
            f"| {_n(row['ours']['seconds'], 3)} | {_n(row['noop']['seconds'], 3)} | **{_n(row['ratio'])}** | {shares} |"
        )
    lines += ["", _growth_line("Growth per 10x resources", pack["growth"], "from_resources", "to_resources")]
    per_resource = pack["analyze_per_resource"]
    lines += [
        "",
        f"Per-resource `Analyze` (the CLI's call for resource policies), {per_resource['resources']:,} calls: "
        f"ours {_n(per_resource['ours']['seconds'], 3)} s ({_n(per_resource['ours']['resources_per_second'], 0)}/s), "
        f"no-op {_n(per_resource['noop']['seconds'], 3)} s ({_n(per_resource['noop']['resources_per_second'], 0)}/s).",
    ]
    if "growth_without_gc" in in_process:
        lines += [
            "",
            _growth_line(
                "Growth per 10x resources in-process, GC time subtracted",
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
        status = "met" if goal["met"] else "**missed**"
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
        *program_table(result["program"]),
        "",
        *pack_table(result["pack"]),
        "",
        *engine_table(result["engine"]),
        "",
        *reports_table(result["reports"]),
        "",
        *(audit_table(result["audit"]) if "audit" in result else []),
        "",
    ]
    if result["goals"]:
        lines += goals_table(result["goals"])
    else:
        lines.append("Goals not checked (smoke run).")
    return "\n".join(lines) + "\n"
