"""The benchmark at its smallest (``python -m benchmarks.run --smoke``), so it cannot rot unnoticed.

Runs in-process, one repetition, no goals and no timing assertions: only that every figure,
the versions and the machine are in the JSON it writes, and the table is printed.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from benchmarks import audit_bench, program_bench, report, targets
from benchmarks import run as bench_run


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        assert bench_run.main(["--smoke", "--out", str(out)]) == 0
    return json.loads(out.read_text()), table.getvalue()


@pytest.mark.protocol
def test_versions_and_machine(smoke: tuple[dict[str, Any], str]) -> None:
    result, _ = smoke
    assert result["kind"] == "smoke"
    for package in ("python", "pulumi", "pulumi-aws", "pulumi-policy"):
        assert result["versions"][package] and result["versions"][package] != "not installed"
    assert isinstance(result["machine"]["cpu_count"], int) and result["machine"]["cpu_count"] >= 1
    assert result["machine"]["cpu_model"]
    assert _number(result["duration_seconds"])
    assert result["goals_checked"] is False and result["goals"] == []


@pytest.mark.protocol
def test_program_figures(smoke: tuple[dict[str, Any], str]) -> None:
    program = smoke[0]["program"]
    assert program["baseline_inputs_match"] is True
    assert len(program["sizes"]) == len(bench_run.SMOKE.program.sizes)
    variants = (*program_bench.VARIANTS, *program_bench.LEVER_VARIANTS)
    for row in program["sizes"]:  # the smoke run's sizes are all within diagnostics_up_to
        for key in ("ratio", "cpu_ratio", "ours_vs_structured", "structured_vs_baseline"):
            assert _number(row[key]), key
        for key in ("collector_policy_gain", "sdk_cycles_gain", "legacy_aliases_cost"):
            assert _number(row[key]), key
        for variant in variants:
            figures = row[variant]
            for key in (
                "seconds",
                "cpu_seconds",
                "resources_per_second",
                "gc_seconds",
                "gc_share",
                "peak_rss_mb",
            ):
                assert _number(figures[key]), (variant, key)
            assert figures["resources"] > 0 and figures["runs"]
            assert _number(row["peak_rss_kb_per_resource"][variant])
    for variant in variants:
        assert [_number(step["factor_per_10x"]) for step in program["growth"][variant]] == [True]
        assert [_number(step["factor_per_10x"]) for step in program["cpu_growth"][variant]] == [True]
    everything = program["all_controls"]
    assert _number(everything["ratio"]) and _number(everything["cpu_ratio"])
    for variant in program_bench.ALL_CONTROLS_VARIANTS:  # every catalog control's filter and alarm
        assert everything[variant]["resources"] == program_bench.per_target(variant) * everything["targets"]
    assert program_bench.per_target("ours_all") > program_bench.per_target("ours")
    real_time = everything["real_time"]
    assert _number(real_time["ratio"]) and _number(real_time["cpu_ratio"])
    assert real_time["regions"] == list(targets.REAL_TIME["regions"])
    for variant in program_bench.REAL_TIME_VARIANTS:  # every real-time rule, target, role and policy too
        assert _number(real_time[variant]["cpu_seconds"]), variant
        assert real_time[variant]["resources"] == program_bench.per_target(variant) * everything["targets"]
    for variant in ("ours", "baseline"):
        assert all(_number(step["factor_per_10x"]) for step in program["gc_off"]["growth"][variant])
    assert all(_number(row["ours"]) and _number(row["baseline"]) for row in program["gc_off"]["sizes"])


@pytest.mark.protocol
def test_program_goals_are_computed_from_the_figures(smoke: tuple[dict[str, Any], str]) -> None:
    """The smoke run checks no goal, but the goal lines a full run prints must come out of its figures."""
    found = report.program_goals(smoke[0]["program"])
    names = [goal["goal"] for goal in found]
    assert any(name.startswith("program/baseline at ") for name in names)
    assert any("controls: all" in name for name in names)
    assert any("controls: all and real-time rules" in name for name in names)
    assert any(name.startswith("program growth per 10x") for name in names)
    assert any(name.startswith("program peak memory per resource") for name in names)
    assert any("legacyAliases: false" in name for name in names)
    assert all(_number(goal["measured"]) and isinstance(goal["met"], bool) for goal in found)
    table = "\n".join(report.goals_table(found))
    assert "MET" in table


@pytest.mark.protocol
def test_pack_figures(smoke: tuple[dict[str, Any], str]) -> None:
    pack = smoke[0]["pack"]
    assert len(pack["sizes"]) == len(bench_run.SMOKE.pack.sizes)
    packs = ("ours", "ours_default_gc", "noop")
    for row in pack["sizes"]:
        # CPU time comes in 10 ms ticks: a smoke-sized call may count none, and its ratio be infinite.
        assert _number(row["ratio"]) and _number(row["default_gc_ratio"]) and row["cpu_ratio"] >= 0
        for name in packs:
            assert _number(row[name]["seconds"]) and _number(row[name]["cpu_seconds"]) and row[name]["runs"]
            # Peak RSS comes from /proc (Linux, as in CI); elsewhere the bench says n/a.
            assert _number(row[name]["peak_rss_mb"]) or not Path("/proc/self/status").exists(), name
        assert row["violations"] == row["expected_violations"]
        # The advisory notes ran in every call: one per target (the default config declares no trail).
        assert row["notes"] == row["expected_notes"] == row["targets"] > 0
    assert pack["sizes"][-1]["violations"] > 0, "the slow path (non-compliant targets) must run"
    for name in packs:
        assert all(_number(step["factor_per_10x"]) for step in pack["growth"][name])
        assert all(step["factor_per_10x"] >= 0 for step in pack["cpu_growth"][name])
    for name in ("ours", "noop"):
        assert _number(pack["analyze_per_resource"][name]["resources_per_second"])
    assert _number(pack["analyze_per_resource"]["ratio"])
    for row in pack["gc_in_process"]["sizes"]:
        assert _number(row["ours"]["gc_share"]) and _number(row["noop"]["gc_share"])
    for name in ("ours", "noop"):
        assert all(
            _number(step["factor_per_10x"]) for step in pack["gc_in_process"]["growth_without_gc"][name]
        )


@pytest.mark.protocol
def test_pack_goals_are_stated_from_the_figures(smoke: tuple[dict[str, Any], str]) -> None:
    """Every pack goal of issue 18 gets a measured ratio, its limit and a status; no time is asserted."""
    pack = copy.deepcopy(smoke[0]["pack"])
    found = {goal["goal"]: goal for goal in report.pack_goals(pack)}
    top, first = pack["sizes"][-1], pack["sizes"][0]
    analyze_stack = found[f"policy pack AnalyzeStack / no-op at {top['resources']} resources"]
    assert (
        analyze_stack["measured"] == top["ratio"]
        and analyze_stack["limit"] == report.PACK_RATIO_LIMIT == 1.25
    )
    assert "advisory notes on" in analyze_stack["note"]
    per_resource = found[f"policy pack per-resource Analyze / no-op ({first['resources']} calls)"]
    assert per_resource["limit"] == report.PACK_PER_RESOURCE_LIMIT == 1.3
    growth = found[f"policy pack growth per 10x, {first['resources']} -> {top['resources']} resources"]
    assert growth["limit"] == report.GROWTH_LIMIT == 11.0
    assert all(isinstance(goal["met"], bool) for goal in found.values())
    assert all(_number(goal["measured"]) for goal in found.values() if "CPU" not in goal["goal"])
    # A run whose notes were not made does not meet the goals, whatever its times.
    for row in pack["sizes"]:
        row["ratio"] = 0.5
    top["notes"] = 0
    assert not {goal["goal"]: goal for goal in report.pack_goals(pack)}[analyze_stack["goal"]]["met"]
    assert "| goal | measured | limit | status |" in "\n".join(report.goals_table(report.pack_goals(pack)))


@pytest.mark.protocol
def test_engine_figures(smoke: tuple[dict[str, Any], str]) -> None:
    engine = smoke[0]["engine"]
    assert {row["pattern"] for row in engine["patterns"]} >= {"canonical"}
    for row in engine["patterns"]:
        assert _number(row["parse_per_second"]) and _number(row["judge_per_second"])
    share = engine["share"]
    for mode in ("cleared_once", "cleared_per_target"):
        assert _number(share[mode]["share"]) and _number(share[mode]["judge_seconds"])
    assert _number(share["share_of_analyze_stack"]) and _number(share["worst_share_of_analyze_stack"])


@pytest.mark.protocol
def test_report_figures(smoke: tuple[dict[str, Any], str]) -> None:
    (row,) = smoke[0]["reports"]["sizes"]
    assert row["targets"] == row["accounts"] * row["regions"] > 0
    for key in (
        "seconds",
        "first_render_seconds",
        "view_seconds",
        "template_seconds",
        "mb",
        "targets_per_second",
    ):
        assert _number(row["html"][key]), key
    assert _number(row["terminal"]["seconds"]) and row["terminal"]["lines"] > row["targets"]
    shown = row["browser"]
    assert "skipped" in shown or all(
        _number(shown[k])
        for k in ("dump_dom_seconds", "empty_page_seconds", "report_share_seconds", "dom_mb")
    )


@pytest.mark.protocol
def test_table_is_printed(smoke: tuple[dict[str, Any], str]) -> None:
    table = smoke[1]
    for heading in (
        "### Program evaluation",
        "### Policy pack",
        "### Pattern engine",
        "### Reports",
        "### Audit",
    ):
        assert heading in table
    assert "Goals not checked" in table


@pytest.mark.protocol
def test_audit_figures(smoke: tuple[dict[str, Any], str]) -> None:
    audit = smoke[0]["audit"]
    assert [row["pairs"] for row in audit["sizes"]] == list(bench_run.SMOKE.audit.pairs)
    for row in audit["sizes"]:
        assert row["pairs"] == row["accounts"] * len(row["regions"])
        assert sum(row["broken"].values()) >= 1, "a broken account, so FAIL paths run"
        for mode in ("proofs", "no_matcher"):
            figures = row["ours"][mode]
            for key in ("seconds", "seconds_per_pair", "calls_per_pair", "requests_per_pair"):
                assert _number(figures[key]) and figures[key] > 0, (mode, key)
            assert figures["calls"]["sts:AssumeRole"] == row["accounts"], "a role assumed per account, once"
        # The matcher's call is what the two modes differ by.
        assert "logs:TestMetricFilter" in row["ours"]["proofs"]["calls"]
        assert "logs:TestMetricFilter" not in row["ours"]["no_matcher"]["calls"]
        assert row["ours"]["unexpected"] == [], "every pair has the verdict the organization was built for"
        cli = row["ours"]["cli"]
        assert cli["exit_code"] == 1 and cli["pair_statuses"].get("FAIL", 0) >= 1 and _number(cli["seconds"])
        if "skipped" in audit:
            assert "prowler" not in row and "ratios" not in row
            continue
        inside, prowler_cli = row["prowler"]["in_process"], row["prowler"]["cli"]
        for key in (
            "seconds",
            "seconds_per_account",
            "startup_seconds",
            "calls_per_pair",
            "requests_per_pair",
        ):
            assert _number(inside[key]) and inside[key] > 0, key
        assert prowler_cli["accounts_run"] >= 1 and _number(prowler_cli["seconds_per_account"])
        assert all(
            run["exit_code"] in (0, 3) and run["verdict"] in ("PASS", "FAIL") for run in prowler_cli["runs"]
        )
        assert all(_number(value) for value in row["ratios"].values())
        verdicts = row["verdicts"]
        assert verdicts["comparable"] == verdicts["pairs"] == row["pairs"]
        assert verdicts["agree"] + verdicts["disagree"] == verdicts["comparable"]
        assert all(not d["cause"].startswith("unexplained") for d in verdicts["disagreements"])
        assert verdicts["prowler_unexpected"] == [] and verdicts["prowler_cli_differs_from_in_process"] == []
    goals = "\n".join(line for line in smoke[1].splitlines() if line.startswith("- audit vs Prowler"))
    if "skipped" in audit:
        assert f"Prowler skipped: {audit['skipped']}" in smoke[1]
    else:
        assert "in-process" in goals and "Prowler CLI" in goals and ("MET" in goals)


def test_audit_bench_says_prowler_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    missing = tmp_path_factory.mktemp("no-prowler") / "bin" / "python"
    monkeypatch.setenv(audit_bench.PROWLER_PYTHON_ENV, str(missing))
    found = audit_bench.bench(
        audit_bench.AuditSettings(pairs=(), repetitions=1, cli_accounts=1), lambda _: None
    )
    assert found["skipped"] == f"Prowler not installed at {missing} (set {audit_bench.PROWLER_PYTHON_ENV})"
    assert found["sizes"] == [] and "prowler_version" not in found


@pytest.mark.protocol
def test_full_runs_of_different_parts_combine_into_one_report_with_every_goal(
    smoke: tuple[dict[str, Any], str], tmp_path: Path
) -> None:
    result = copy.deepcopy(smoke[0])
    first = {k: v for k, v in result.items() if k not in ("audit", "reports")} | {"kind": "full"}
    second = {k: v for k, v in result.items() if k not in ("program", "pack", "engine")} | {"kind": "full"}
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path, part in zip(paths, (first, second), strict=True):
        path.write_text(json.dumps(part))
    out, table = tmp_path / "all.json", io.StringIO()
    with contextlib.redirect_stdout(table):
        assert bench_run.main(["--combine", *map(str, paths), "--out", str(out)]) == 0
    combined = json.loads(out.read_text())
    assert all(part in combined for part in bench_run.PARTS)
    assert combined["goals_checked"] is True
    named = {goal["goal"] for goal in combined["goals"]}
    assert any(name.startswith("audit vs Prowler") for name in named)
    assert any("AnalyzeStack" in name for name in named) and any("program" in name for name in named)
    assert len(combined["part_runs"]) == 2 and "| goal | measured | limit | status |" in table.getvalue()
    # The same part in two files, or a smoke run, is refused with exit 2 and nothing written.
    with pytest.raises(SystemExit) as refused:
        bench_run.main(["--combine", str(paths[0]), str(paths[0]), "--out", str(tmp_path / "x.json")])
    assert refused.value.code == 2 and not (tmp_path / "x.json").exists()


@pytest.mark.protocol
def test_the_client_micro_benchmark_runs_at_its_smallest(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import client_bench

    assert client_bench.main(["--accounts", "1", "--rounds", "1"]) == 0
    assert "ms" in capsys.readouterr().out


@pytest.mark.protocol
def test_the_before_and_after_audit_runs_at_its_smallest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import audit_ab
    from benchmarks.measure import REPO_ROOT

    out = tmp_path / "runs.json"
    argv = ["--pairs", "2", "--rounds", "2", "--checkout", f"a={REPO_ROOT}", "--checkout", f"b={REPO_ROOT}"]
    assert audit_ab.main([*argv, "--json", str(out)]) == 0
    runs = json.loads(out.read_text())
    assert sorted((r["name"], r["round"]) for r in runs) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert all(_number(r["cpu_seconds"]) and r["clients"] > 0 for r in runs)
    assert {json.dumps(r["verdicts"], sort_keys=True) for r in runs} == {
        json.dumps(runs[0]["verdicts"], sort_keys=True)
    }
    assert "median        a" in capsys.readouterr().out
