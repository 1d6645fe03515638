"""``make demo``: the whole chain on this machine, no AWS account needed.

1. start an AWS emulator (moto) on 127.0.0.1, on a free port;
2. build the ``organization`` world in it (``local.worlds``): an AWS Control Tower landing
   zone whose management account owns the organization trail, delivering to
   ``aws-controltower/CloudTrailLogs-<suffix>``; members that see it only as a shadow; a
   Sandbox account with a multi-Region trail of its own. ``Pulumi.local.yaml`` describes it;
3. deploy the ``local`` stack into the emulator: with the Pulumi CLI when ``pulumi`` is
   on PATH (a throwaway copy of the project and a throwaway local backend, so the
   repository and your Pulumi login are untouched), else through the test adapter
   (``local.emulator_deploy``: the real program under Pulumi mocks, each resource
   created in the emulator with boto3);
4. run the audit (``cis-monitoring audit``) against the emulator: every account in every
   Region, members judged from the organization trail without a role in each, and a fire
   drill; moto has neither TestMetricFilter nor alarm history nor alarm actions, so those
   proofs read ``n/a`` ("not available in this emulator"), never PASS. It writes the reports
   for auditors and CI (``REPORT_FORMATS``) into ``--output-dir`` (default
   ``./cis-monitoring-report/``);
5. stop the emulator, and end with the paths of the reports the audit wrote.

Exit code: the audit's (cis_monitoring.cli: 0 every pair PASS, 1 a FAIL, 2 could not audit, 3 an ERROR); 1 if the
deploy itself failed (then nothing is audited).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from local.emulator import Emulator
from local.emulator_deploy import REPO_ROOT, deploy_stack, stack_file_config, with_emulator_endpoint
from local.worlds import REGIONS, World, build_world

STACK = "local"
WORLD = "organization"
STEPS = 5
REPORT_FORMATS = ("html", "json", "ocsf", "junit")
"""The page for auditors, the findings model, OCSF for Security Hub and SIEMs, JUnit for CI (``audit --format``)."""
DEFAULT_OUTPUT_DIR = Path("cis-monitoring-report")
DRILL_TIMEOUT = "2"
"""Seconds the drill waits for the alarm's history (moto has none: the drill then says so)."""
ADAPTER_NOTICE = (
    "Pulumi CLI not found: deploying through the test adapter (the program under Pulumi mocks,"
    " creating each resource in the emulator with boto3)"
)
# What a copy of the project for `pulumi up` leaves out: caches, history, the (linked) venv.
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules"
)


def say(text: str = "") -> None:
    print(text, flush=True)


def step(number: int, text: str) -> None:
    say(f"\n[{number}/{STEPS}] {text}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repo-root", type=Path, default=REPO_ROOT, help="the project (default: this checkout)"
    )
    parser.add_argument(
        "--adapter", action="store_true", help="deploy through the test adapter even if pulumi is on PATH"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"where the audit writes its reports (default: ./{DEFAULT_OUTPUT_DIR}/)",
    )
    args = parser.parse_args(argv)
    repo_root: Path = args.repo_root.resolve()
    reports: list[Path] = []

    step(1, "Starting the AWS emulator (moto) on 127.0.0.1")
    emulator = Emulator().start()
    # moto answers what it lacks (TestMetricFilter, DescribeAlarmHistory) with HTTP 500 and logs a
    # traceback for each; the audit reports those proofs as "not available in this emulator".
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    try:
        # A new server is empty; this matters only if another emulator runs in this process.
        emulator.reset()
        say(f"  listening at {emulator.url}")
        return _run(emulator, repo_root, not args.adapter, args.output_dir.resolve(), reports)
    finally:
        step(STEPS, "Stopping the emulator")
        emulator.stop()
        say("  stopped")
        if reports:
            say(
                "\nReports the audit wrote (cis-monitoring report FILE.json --format ... renders the json again):"
            )
            for path in reports:
                say(f"  {path}")


def _describe(world: World) -> None:
    for account in world.accounts:
        own = world.own_trails(account.id)
        trails = "; ".join(
            f"{t.facts.describe()} -> {t.log_group.describe() if t.log_group else 'no CloudWatch Logs group'}"
            for t in own
        )
        say(
            f"  {account.id} ({account.name}, {account.ou}): {trails or 'no trail of its own (sees the shadow)'}"
        )


def _run(emulator: Emulator, repo_root: Path, use_cli: bool, output_dir: Path, reports: list[Path]) -> int:
    """Steps 2 to 4; ``reports`` gets the paths of the reports the audit wrote."""
    step(2, f"Building the {WORLD!r} world that Pulumi.{STACK}.yaml describes")
    world = build_world(WORLD, emulator.url)
    _describe(world)

    step(3, f"Deploying the {STACK!r} stack into the emulator")
    pulumi = shutil.which("pulumi") if use_cli else None
    deployed = (
        _deploy_with_cli(pulumi, repo_root, emulator.url)
        if pulumi
        else _deploy_with_adapter(repo_root, emulator.url)
    )
    if not deployed:
        say("  the deploy failed: nothing to audit")
        return 1

    step(4, "Auditing every account and Region against the emulator")
    flags = ["--members-from-organization", "--drill", "--drill-timeout", DRILL_TIMEOUT]
    for region in REGIONS:
        flags += ["--region", region]
    for name in REPORT_FORMATS:
        flags += ["--format", name]
    flags += ["--output-dir", str(output_dir)]
    command = [
        sys.executable,
        "-m",
        "cis_monitoring",
        "audit",
        "--stack",
        STACK,
        "--repo-root",
        str(repo_root),
        "--endpoint-url",
        emulator.url,
        *flags,
    ]
    say(f"  $ cis-monitoring audit --stack {STACK} --endpoint-url {emulator.url} {' '.join(flags)}")
    say(
        "  (moto has no TestMetricFilter, alarm history or alarm actions: MATCHER, HISTORY and DRILL read"
        " n/a, not PASS)"
    )
    say()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    started = time.time()
    code = subprocess.run(command, cwd=repo_root, env=env, check=False).returncode
    say(f"\n  audit exit code: {code}")
    if output_dir.is_dir():
        # The files this audit wrote (a report keeps the run's start time in its name, to the second).
        fresh = [p for p in output_dir.iterdir() if p.is_file() and p.stat().st_mtime >= int(started)]
        reports += sorted(fresh, key=lambda p: p.name)
    return code


def _deploy_with_adapter(repo_root: Path, endpoint: str) -> bool:
    say(f"  {ADAPTER_NOTICE}")
    config = with_emulator_endpoint(stack_file_config(STACK, repo_root), endpoint)
    deployment = deploy_stack(config, endpoint, stack=STACK, program=repo_root / "__main__.py")
    if deployment.error is not None:
        say(f"  error: {deployment.error}")
        return False
    kinds = Counter(c.type.split(":")[-1] for c in deployment.created)
    say(
        f"  created {len(deployment.created)} resources: "
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    )
    for key, chain in deployment.outputs.get("chains", {}).items():
        alarms = ", ".join(c["alarmName"] for c in chain["controls"].values())
        say(f"  chain {key} ({chain.get('via')}): alarm {alarms} -> topic {chain['topicArn']}")
    return True


def _deploy_with_cli(pulumi: str, repo_root: Path, endpoint: str) -> bool:
    say(f"  Pulumi CLI found at {pulumi}: pulumi up into a throwaway local backend")
    with tempfile.TemporaryDirectory(prefix="cis-demo-") as scratch:
        root = Path(scratch)
        project = root / "project"
        # `pulumi stack init` and `config set` write to Pulumi.local.yaml: work on a copy.
        shutil.copytree(repo_root, project, ignore=_NOT_COPIED)
        if (repo_root / ".venv").exists():
            (project / ".venv").symlink_to(repo_root / ".venv")  # Pulumi.yaml names .venv
        env = {
            **os.environ,
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_CONFIG_PASSPHRASE": "cis-monitoring-demo",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
        commands = [
            # `pulumi login --local`, but with the state in the scratch directory instead of ~/.pulumi.
            ["login", f"file://{root / 'backend'}"],
            ["stack", "init", STACK],
            ["config", "set", "--path", "cis-monitoring:emulator.endpoint", endpoint, "--stack", STACK],
            ["up", "--stack", STACK, "--yes"],
        ]
        for command in commands:
            say(f"  $ pulumi {' '.join(command)}")
            result = subprocess.run([pulumi, *command], cwd=project, env=env, check=False)
            if result.returncode != 0:
                say(f"  pulumi {command[0]} failed (exit {result.returncode})")
                return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
