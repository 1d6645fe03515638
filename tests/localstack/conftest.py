"""The LocalStack tier: one LocalStack process for the session, from its own venv.

LocalStack needs Python >= 3.13, so it is not in the project's venv: ``make localstack-venv``
installs it into ``.venv-localstack`` (``CIS_LOCALSTACK_VENV`` names another). Without it the tier
is SKIPPED with the reason, which ``pytest -ra`` (and so ``make test``) prints in its last lines,
next to a one-line verdict for the tier. With ``CIS_REQUIRE_LOCALSTACK=1`` (``.ci/run`` sets it
where it installed LocalStack) a missing LocalStack fails the tier instead, and so does a session
in which none of the tier's tests passed. A LocalStack that is installed but does not start is a
failure, never a skip; its log's last lines go into the failure report.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

import pytest

from local.localstack import LocalStack, LocalStackError, LocalStackUnavailable, venv_dir, venv_python
from tests.localstack.chain import Chain, deploy_chain

REQUIRE_ENV = "CIS_REQUIRE_LOCALSTACK"


@dataclass
class _Tier:
    skipped: str | None = None
    passed: int = 0
    failed: int = 0
    server: LocalStack | None = None
    version: str = ""
    seen: set[str] = field(default_factory=set)


_TIER = _Tier()


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


@pytest.fixture(scope="session")
def localstack() -> Iterator[LocalStack]:
    try:
        venv_python(venv_dir())
    except LocalStackUnavailable as why:
        _TIER.skipped = str(why)
    if _TIER.skipped is not None:  # outside the except: no chained traceback in the report
        if _required():
            pytest.fail(f"{REQUIRE_ENV}=1, but {_TIER.skipped}", pytrace=False)
        pytest.skip(f"LocalStack tier: {_TIER.skipped}")
    server = LocalStack()
    failure = None
    try:
        server.start()
    except LocalStackError as error:
        failure = str(error)
    if failure is not None:
        pytest.fail(failure, pytrace=False)
    _TIER.server, _TIER.version = server, server.version
    try:
        yield server
    finally:
        _TIER.server = None
        server.stop()


_ACCOUNTS = itertools.count(1)


@pytest.fixture
def chain(localstack: LocalStack) -> Chain:
    """The program deployed into a fresh account of the session's LocalStack (one per test)."""
    number = next(_ACCOUNTS)
    return deploy_chain(localstack, account_id=f"{210987654300 + number:012d}", account_name=f"tier-{number}")


# -- reporting: LocalStack's log on failure, and the tier's verdict in the last lines -----------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and _TIER.server is not None:
        report.sections.append(("LocalStack log", _TIER.server.log_tail(60)))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Only this directory's tests reach this conftest's item hooks; of those, the marked ones
    # are the tier (they need LocalStack).
    if "localstack" not in report.keywords or report.nodeid in _TIER.seen:
        return
    if report.when == "call" and report.passed:
        _TIER.passed += 1
        _TIER.seen.add(report.nodeid)
    elif report.failed:
        _TIER.failed += 1
        _TIER.seen.add(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _required() and _TIER.passed == 0 and session.exitstatus == 0:
        # E.g. every tier test deselected: CI must not pass without the tier having run.
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reporter = terminalreporter
    # Printed just above pytest's short summary (its SKIPPED lines): the last lines of the run.
    if _TIER.skipped is not None and not _required():
        reporter.write_line(f"LocalStack tier: SKIPPED ({_TIER.skipped})", yellow=True, bold=True)
    elif _TIER.skipped is not None:
        reporter.write_line(
            f"LocalStack tier: FAILED, {REQUIRE_ENV}=1 ({_TIER.skipped})", red=True, bold=True
        )
    elif _TIER.passed or _TIER.failed:
        verdict = f"{_TIER.passed} passed, {_TIER.failed} failed against LocalStack {_TIER.version}"
        reporter.write_line(
            f"LocalStack tier: {verdict} (the path after the pattern; LocalStack does not judge the pattern)",
            green=not _TIER.failed,
            red=bool(_TIER.failed),
            bold=True,
        )
    elif _required():
        reporter.write_line(f"LocalStack tier: FAILED, {REQUIRE_ENV}=1 and none of its tests ran", red=True)
