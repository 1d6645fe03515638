"""Our audit against Prowler's CIS 4.5 check, on the same emulated organization (``benchmarks.audit_world``).

At each size (account-Region pairs; 2 Regions per account, 5% of the accounts broken, each a different
way), the organization is served by moto in a process of its own, and timed:

- ours in-process: ``audit_coverage`` (the audit's Python entry: role per account, trails, chains,
  verdicts), with the AWS-judged proofs (the default) and without them (``--no-test-metric-filter``;
  the proofs that need no flag still run, as a user's run would), median of ``repetitions`` runs,
  each with fresh sessions (roles assumed again), one round before Prowler's in-process scan and the
  rest after it (the 1-minute load average at the start of each run is kept); and once as the CLI a user types
  (``cis-monitoring audit --stack ... --role-name ...``, a new interpreter);
- Prowler in-process (``benchmarks/prowler_runner.py`` under Prowler's own Python): per account its
  provider through the role, the three services its check reads, the check; the imports (start-up)
  apart;
- Prowler's CLI as its users scan an organization: ``prowler aws --role <account's role> --checks
  <check> -f <Regions>``, one run per account, on a sample of accounts (``cli_accounts``), extrapolated
  to every account (the table says so).

API calls per pair: ours from botocore's ``before-call`` event (one per call and page), Prowler's
in-process from a wrapper of botocore's ``_make_api_call`` in its runner, and for everyone the
requests moto received (which include botocore's retries of what moto lacks, e.g. TestMetricFilter).

Verdicts: Prowler's check gives one finding per account (its ``execute`` returns one report), ours one
per pair; an account's finding stands for its pairs. Where both say PASS or FAIL they are compared,
and every disagreement is listed with its cause (``audit_world.BREAKAGES``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from benchmarks.audit_world import STOP, BenchOrganization, requests_received
from benchmarks.measure import REPO_ROOT, median, ratio
from cis_monitoring.audit.aws import SessionFactory
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.run import audit_coverage
from cis_monitoring.audit.scope import stack_scope
from cis_monitoring.core.catalog import CIS_4_5
from cis_monitoring.core.status import Status
from cis_monitoring.spec import read_stack_file
from local.emulator import EMULATOR_KEY, MEMBER_ROLE

PROWLER_PYTHON_ENV = "CIS_BENCH_PROWLER_PYTHON"
"""The Python of a venv with Prowler installed (default: the repository's ``.venv-prowler``)."""
DEFAULT_PROWLER_PYTHON = REPO_ROOT / ".venv-prowler" / "bin" / "python"
PROWLER_CHECK = "cloudwatch_log_metric_filter_and_alarm_for_cloudtrail_configuration_changes_enabled"
RUNNER = Path(__file__).with_name("prowler_runner.py")
EMULATOR_ATTEMPTS = 2
"""As ``cis-monitoring audit --endpoint-url`` sets it (``cis_monitoring.audit.cli``)."""
PROWLER_STATUSES = ("PASS", "FAIL")
"""Prowler's verdicts that compare with ours (its MANUAL, and our ERROR, do not)."""


@dataclass(frozen=True)
class AuditSettings:
    pairs: tuple[int, ...]
    repetitions: int
    """Runs of ours in-process per mode (median)."""
    cli_accounts: int
    """Prowler CLI runs per size (one per account, a sample spread over the organization)."""
    max_workers: int = 8
    """Ours: ``--max-workers`` (the CLI's default)."""


Log = Callable[[str], None]


def prowler_python() -> Path:
    return Path(os.environ.get(PROWLER_PYTHON_ENV) or DEFAULT_PROWLER_PYTHON)


def prowler_version(python: Path) -> str | None:
    """Prowler's version in that Python's venv, or None when it is not installed there."""
    if not python.exists():
        return None
    found = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('prowler'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 else None


# ---------------------------------------------------------------- the organization's server


@contextmanager
def served(pairs: int, workdir: Path) -> Iterator[BenchOrganization]:
    """The organization, built and served by moto in a child process (stopped on exit)."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.audit_world",
        "--pairs",
        str(pairs),
        "--workdir",
        str(workdir),
    ]
    child = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        line = child.stdout.readline()
        if not line:
            raise RuntimeError(f"the organization's server exited ({child.wait()}) before it was built")
        yield BenchOrganization.from_dict(json.loads(line))
        child.stdin.write(STOP + "\n")
        child.stdin.flush()
        # Past the timeout it is killed below: the figures are taken, its own shutdown does not matter.
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# ---------------------------------------------------------------- ours


class CallCount:
    """API calls through one boto3 session's clients (botocore's ``before-call``: one per call and page)."""

    def __init__(self, session: boto3.Session) -> None:
        self.counts: Counter[str] = Counter()
        self.clients = 0
        """Clients created (botocore's ``creating-client-class``: once per client)."""
        self._lock = threading.Lock()
        session.events.register("before-call", self._record)
        session.events.register("creating-client-class", self._created)

    def _record(self, model: Any, **_kwargs: Any) -> None:
        with self._lock:
            self.counts[f"{model.service_model.service_name}:{model.name}"] += 1

    def _created(self, **_kwargs: Any) -> None:
        with self._lock:
            self.clients += 1


def _ours_once(organization: BenchOrganization, proofs: ProofSettings, max_workers: int) -> dict[str, Any]:
    stack = read_stack_file(str(organization.stack_file), None, require_subscribers=False)
    scope = stack_scope(stack.config, regions=list(organization.regions), role_name=MEMBER_ROLE)
    base = boto3.Session(aws_access_key_id=EMULATOR_KEY, aws_secret_access_key=EMULATOR_KEY)
    calls = CallCount(base)
    sessions = SessionFactory(base, endpoint_url=organization.endpoint, max_attempts=EMULATOR_ATTEMPTS)
    requests_received(organization.endpoint, reset=True)
    load = _load_average()
    started = time.perf_counter()
    report = audit_coverage(scope, sessions, [CIS_4_5], proofs=proofs, max_workers=max_workers)
    seconds = time.perf_counter() - started
    received = requests_received(organization.endpoint, reset=True)
    verdicts = {f"{p.account_id}/{p.region}": str(p.status) for p in report.pairs}
    return {
        "seconds": seconds,
        "load_average_at_start": load,
        "calls": dict(calls.counts.most_common()),
        "clients": calls.clients,
        "requests": received,
        "verdicts": verdicts,
    }


def _ours(organization: BenchOrganization, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of ``runs`` (``_ours_once``), with the last run's counts."""
    seconds = median([r["seconds"] for r in runs])
    last = runs[-1]
    pairs = organization.pairs
    return {
        "seconds": seconds,
        "runs": [r["seconds"] for r in runs],
        "load_average_at_start": [r["load_average_at_start"] for r in runs],
        "seconds_per_pair": seconds / pairs,
        "calls_per_pair": sum(last["calls"].values()) / pairs,
        "requests_per_pair": sum(last["requests"].values()) / pairs,
        "clients_per_account": last["clients"] / len(organization.accounts),
        "calls": last["calls"],
        "requests": last["requests"],
        "verdicts": last["verdicts"],
    }


def _ours_cli(organization: BenchOrganization) -> dict[str, Any]:
    """``cis-monitoring audit`` as a user types it: a new interpreter, the stack, a role per account."""
    command = [sys.executable, "-m", "cis_monitoring", "audit", "--stack", str(organization.stack_file)]
    command += ["--role-name", MEMBER_ROLE, "--json"]
    for region in organization.regions:
        command += ["--region", region]
    requests_received(organization.endpoint, reset=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    received = requests_received(organization.endpoint, reset=True)
    document = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    statuses = Counter(p["status"] for p in document.get("coverage", []))
    return {
        "seconds": seconds,
        "exit_code": done.returncode,
        "pair_statuses": dict(statuses),
        "requests_per_pair": sum(received.values()) / organization.pairs,
    }


# ---------------------------------------------------------------- Prowler


def _prowler_env(organization: BenchOrganization) -> dict[str, str]:
    missing = Path(tempfile.gettempdir()) / "audit-bench-no-aws-config"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        "AWS_ENDPOINT_URL": organization.endpoint,
        "AWS_ACCESS_KEY_ID": EMULATOR_KEY,
        "AWS_SECRET_ACCESS_KEY": EMULATOR_KEY,
        "AWS_DEFAULT_REGION": organization.regions[0],
        "AWS_CONFIG_FILE": str(missing),
        "AWS_SHARED_CREDENTIALS_FILE": str(missing),
    }


def _prowler_in_process(python: Path, organization: BenchOrganization) -> dict[str, Any]:
    request = {
        "regions": list(organization.regions),
        "accounts": [{"account_id": a, "role_arn": organization.role_arn(a)} for a in organization.accounts],
    }
    requests_received(organization.endpoint, reset=True)
    load = _load_average()
    done = subprocess.run(
        [str(python), str(RUNNER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=_prowler_env(organization),
        check=False,
    )
    received = requests_received(organization.endpoint, reset=True)
    if done.returncode != 0:
        raise RuntimeError(f"the Prowler runner failed ({done.returncode}): {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    accounts = result["accounts"]
    seconds = sum(a["seconds"] for a in accounts)
    calls: Counter[str] = Counter()
    for account in accounts:
        calls.update(account["calls"])
    pairs = organization.pairs
    return {
        "seconds": seconds,
        "seconds_per_account": seconds / len(accounts),
        "seconds_per_pair": seconds / pairs,
        "load_average_at_start": load,
        "startup_seconds": result["startup_seconds"],
        "calls_per_pair": sum(calls.values()) / pairs,
        "requests_per_pair": sum(received.values()) / pairs,
        "calls": dict(calls.most_common()),
        "verdicts": {a["account_id"]: _prowler_status(a["findings"]) for a in accounts},
        "findings": {a["account_id"]: [f["status_extended"] for f in a["findings"]] for a in accounts},
    }


def _prowler_status(findings: list[dict[str, Any]]) -> str:
    statuses = {str(f.get("status") or f.get("status_code") or "?").upper() for f in findings}
    return statuses.pop() if len(statuses) == 1 else "MIXED:" + ",".join(sorted(statuses))


def sample(organization: BenchOrganization, count: int) -> list[str]:
    """``count`` accounts spread over the organization, broken ones first (up to half the sample)."""
    broken = list(organization.broken)[: max(1, count // 2)]
    intact = [a for a in organization.accounts if a not in organization.broken]
    step = max(1, len(intact) // max(1, count - len(broken)))
    return (broken + intact[::step])[:count]


def _prowler_cli(python: Path, organization: BenchOrganization, count: int, workdir: Path) -> dict[str, Any]:
    prowler = python.with_name("prowler")
    runs = []
    for account in sample(organization, count):
        output = workdir / f"prowler-{account}"
        command = [str(prowler), "aws", "--role", organization.role_arn(account), "--checks", PROWLER_CHECK]
        command += ["-f", *organization.regions, "-o", str(output), "-F", "scan", "--no-banner"]
        requests_received(organization.endpoint, reset=True)
        started = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env=_prowler_env(organization), check=False
        )
        seconds = time.perf_counter() - started
        received = requests_received(organization.endpoint, reset=True)
        findings = (
            json.loads((output / "scan.ocsf.json").read_text())
            if (output / "scan.ocsf.json").exists()
            else []
        )
        runs.append(
            {
                "account_id": account,
                "seconds": seconds,
                "exit_code": done.returncode,
                "requests": sum(received.values()),
                "verdict": _prowler_status([{"status": f.get("status_code")} for f in findings])
                if findings
                else "none",
            }
        )
        shutil.rmtree(output, ignore_errors=True)
    per_account = statistics.mean(r["seconds"] for r in runs)
    accounts = len(organization.accounts)
    return {
        "accounts_run": len(runs),
        "accounts": accounts,
        "extrapolated": len(runs) < accounts,
        "seconds_per_account": per_account,
        "seconds": per_account * accounts,
        "requests_per_pair": statistics.mean(r["requests"] for r in runs) / len(organization.regions),
        "runs": runs,
    }


# ---------------------------------------------------------------- verdicts


def compare(organization: BenchOrganization, ours: dict[str, str], prowler: dict[str, str]) -> dict[str, Any]:
    """Per pair: ours against Prowler's finding for the pair's account; every disagreement with its cause."""
    comparable = agree = 0
    disagreements, not_comparable = [], []
    for pair, mine in sorted(ours.items()):
        account = pair.split("/")[0]
        theirs = prowler.get(account, "not run")
        breakage = organization.breakage(account)
        if mine not in (Status.PASS, Status.FAIL) or theirs not in PROWLER_STATUSES:
            not_comparable.append({"pair": pair, "ours": mine, "prowler": theirs})
            continue
        comparable += 1
        if mine == theirs:
            agree += 1
            continue
        disagreements.append(
            {
                "pair": pair,
                "ours": mine,
                "prowler": theirs,
                "breakage": breakage.name,
                "what": breakage.what,
                "cause": breakage.cause or "unexplained: no cause expected for this breakage",
            }
        )
    causes = Counter(d["cause"] for d in disagreements)
    return {
        "pairs": len(ours),
        "comparable": comparable,
        "agree": agree,
        "disagree": len(disagreements),
        "disagreements": disagreements,
        "by_cause": dict(causes.most_common()),
        "not_comparable": not_comparable,
        "prowler_unexpected": sorted(
            f"{account}: Prowler {status}, expected {organization.breakage(account).prowler}"
            f" ({organization.breakage(account).what})"
            for account, status in prowler.items()
            if status != organization.breakage(account).prowler
        ),
    }


def unexpected(organization: BenchOrganization, ours: dict[str, str]) -> list[str]:
    """Pairs where our verdict is not the one the organization was built to give (none, when all is well)."""
    found = []
    for pair, mine in sorted(ours.items()):
        breakage = organization.breakage(pair.split("/")[0])
        if mine != breakage.ours:
            found.append(f"{pair}: ours {mine}, expected {breakage.ours} ({breakage.what})")
    return found


# ---------------------------------------------------------------- one size, every size


def _size(pairs: int, settings: AuditSettings, python: Path | None, log: Log) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="audit-bench-") as temporary,
        served(pairs, Path(temporary)) as org,
    ):
        log(
            f"audit: {org.pairs} pairs ({len(org.accounts)} accounts, {len(org.broken)} broken), built in {org.build_seconds:.0f} s"
        )
        row: dict[str, Any] = {
            "pairs": org.pairs,
            "accounts": len(org.accounts),
            "regions": list(org.regions),
            "broken": dict(Counter(b.name for b in org.broken.values())),
            "build_seconds": org.build_seconds,
        }
        # Ours in rounds around Prowler's in-process scan (one round before it, the rest after), so that
        # load which changes during the size (a shared machine) reaches both sides of the ratio.
        runs: dict[str, list[dict[str, Any]]] = {"proofs": [], "no_matcher": []}

        def one_round() -> None:
            for key, proofs in (
                ("proofs", ProofSettings()),
                ("no_matcher", ProofSettings(test_metric_filter=False)),
            ):
                runs[key].append(_ours_once(org, proofs, settings.max_workers))
                log(f"audit: ours ({key}) run {len(runs[key])}: {runs[key][-1]['seconds']:.2f} s")

        one_round()
        in_process = _prowler_in_process(python, org) if python is not None else None
        if in_process is not None:
            log(
                f"audit: Prowler in-process {in_process['seconds']:.2f} s (+ {in_process['startup_seconds']:.1f} s start-up)"
            )
        for _ in range(settings.repetitions - 1):
            one_round()
        with_proofs, without = _ours(org, runs["proofs"]), _ours(org, runs["no_matcher"])
        log(
            f"audit: ours {with_proofs['seconds']:.2f} s with proofs, {without['seconds']:.2f} s without the matcher"
        )
        cli = _ours_cli(org)
        log(f"audit: ours as the CLI {cli['seconds']:.2f} s")
        row["ours"] = {
            "proofs": _strip(with_proofs),
            "no_matcher": _strip(without),
            "cli": cli,
            "unexpected": unexpected(org, with_proofs["verdicts"]) + unexpected(org, without["verdicts"]),
        }
        if python is None or in_process is None:
            return row
        prowler_cli = _prowler_cli(python, org, settings.cli_accounts, Path(temporary))
        log(
            f"audit: Prowler CLI {prowler_cli['seconds_per_account']:.1f} s per account"
            f" ({prowler_cli['accounts_run']} of {prowler_cli['accounts']} run)"
        )
        row["prowler"] = {"in_process": _strip(in_process), "cli": prowler_cli}
        row["ratios"] = {
            "in_process": ratio(in_process["seconds"], with_proofs["seconds"]),
            "in_process_no_matcher": ratio(in_process["seconds"], without["seconds"]),
            "cli": ratio(prowler_cli["seconds"], cli["seconds"]),
            "cli_vs_ours_in_process": ratio(prowler_cli["seconds"], with_proofs["seconds"]),
        }
        row["verdicts"] = compare(org, with_proofs["verdicts"], in_process["verdicts"])
        cli_verdicts = {r["account_id"]: r["verdict"] for r in prowler_cli["runs"]}
        row["verdicts"]["prowler_cli_differs_from_in_process"] = sorted(
            a for a, v in cli_verdicts.items() if v != in_process["verdicts"].get(a)
        )
        row["prowler_findings"] = in_process["findings"]
        return row


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _strip(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if k not in ("verdicts", "findings")}


def bench(settings: AuditSettings, log: Log) -> dict[str, Any]:
    python = prowler_python()
    version = prowler_version(python)
    result: dict[str, Any] = {"prowler_python": str(python), "prowler_check": PROWLER_CHECK}
    if version is None:
        result["skipped"] = f"Prowler not installed at {python} (set {PROWLER_PYTHON_ENV})"
        log(f"audit: Prowler skipped: {result['skipped']}")
    else:
        result["prowler_version"] = version
    result["sizes"] = [_size(pairs, settings, python if version else None, log) for pairs in settings.pairs]
    return result
