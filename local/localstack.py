"""LocalStack as a subprocess from its own venv, for the LocalStack test tier. Dev tooling, not product code.

LocalStack (``localstack-core``, pinned in ``requirements-localstack.txt``) needs Python 3.13 or
later, while the project supports 3.11, so it lives in a venv of its own (``make localstack-venv``
builds ``.venv-localstack``). This module only needs the standard library: it finds that venv,
starts ``python -m localstack.runtime.main`` from it on loopback with a private filesystem root,
waits until it is ready, and stops it (SIGTERM to its process group, then SIGKILL).

What the free edition really does for the CIS chain, as the tier relies on it: PutLogEvents
drives metric filters, but **ignores the filter pattern and the log group** (every event
increments every filter's metric); an alarm is evaluated when it is created and then every
period x evaluation periods; ALARM publishes to SNS, which delivers to SQS; SetAlarmState runs
the alarm's actions. It enforces neither KMS key policies nor SQS queue policies, has no
TestMetricFilter and no CloudTrail.

``python -m local.localstack find-python [PYTHON...]`` prints a Python >= 3.13 for the Makefile to
build the venv with (exit 1 and a reason on stderr when there is none).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_ENV = "CIS_LOCALSTACK_VENV"
"""Environment variable naming the LocalStack venv (default: ``.venv-localstack`` in the repo)."""
DEFAULT_VENV = REPO_ROOT / ".venv-localstack"
MIN_PYTHON = (3, 13)
"""localstack-core 4.14.0 declares >= 3.10, but its SNS, SQS, CloudWatch and KMS stores import
``warnings.deprecated`` (new in 3.13): on 3.12 every call to them is an InternalError, on 3.11 a
syntax error."""
SERVICES = ("logs", "cloudwatch", "sns", "sqs", "sts", "iam", "kms", "events")

# Each setting is here for a reason seen on this kind of machine (no Docker, no internet):
_SETTINGS = {
    "GATEWAY_SERVER": "hypercorn",  # the default server listens on 0.0.0.0 whatever GATEWAY_LISTEN says
    "OVERRIDE_IN_DOCKER": "0",  # else it thinks it is in a container and ignores FILESYSTEM_ROOT
    "PERSISTENCE": "0",
    "DNS_ADDRESS": "0",  # no DNS server of its own (it would want port 53)
    "DISABLE_EVENTS": "1",  # no analytics calls home
    "SKIP_SSL_CERT_DOWNLOAD": "1",  # no internet: use the self-signed certificate
    "LOCALSTACK_CLI": "0",
}
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""An opener that ignores http_proxy & co.: LocalStack is on loopback."""
_EXIT_GRACE = 2.0
"""Seconds a stopping LocalStack may take to exit once its gateway no longer answers."""
# What the child inherits from us; everything else (AWS_* keys, profiles, LocalStack settings
# of the user's shell) stays out, so a test run is the same on every machine.
_INHERITED = ("PATH", "LANG", "LC_ALL", "HOME", "SSL_CERT_FILE")


class LocalStackUnavailable(RuntimeError):
    """LocalStack cannot run here (no Python new enough, no venv, or it is not installed in it)."""


class LocalStackError(RuntimeError):
    """LocalStack was started but did not become ready (the message ends with its log's tail)."""


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        found = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = found.stdout.split()
    if found.returncode != 0 or len(parts) != 2:
        return None  # e.g. a pyenv shim for a version that is installed but not selected
    return int(parts[0]), int(parts[1])


def python_candidates() -> list[str]:
    """Interpreters that may be new enough, oldest minor version first (the pins were tried on 3.13;
    a newer Python is likelier to break them): per minor version, ``python3.N`` on PATH, then pyenv's
    installed 3.N versions, newest patch first."""
    pyenv_versions = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    installed = sorted(
        (p for p in pyenv_versions.iterdir() if (p / "bin" / "python3").exists())
        if pyenv_versions.is_dir()
        else (),
        key=lambda p: _numeric(p.name),
        reverse=True,
    )
    found: list[str] = []
    for minor in range(MIN_PYTHON[1], 30):
        if on_path := shutil.which(f"python3.{minor}"):
            found.append(on_path)
        found.extend(str(p / "bin" / "python3") for p in installed if _numeric(p.name)[:2] == (3, minor))
    return found


def _numeric(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def find_python(candidates: Iterable[str] | None = None) -> str | None:
    """The first candidate that really runs as a Python >= MIN_PYTHON (pyenv shims may not), or None."""
    for python in python_candidates() if candidates is None else candidates:
        version = _version_of(python)
        if version is not None and version >= MIN_PYTHON:
            return python
    return None


def venv_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(VENV_ENV) or DEFAULT_VENV)


def venv_python(venv: Path) -> Path:
    """The venv's interpreter, checked: it exists, is >= MIN_PYTHON and has localstack-core installed."""
    python = venv / "bin" / "python"
    if not python.exists():
        if find_python() is None:
            raise LocalStackUnavailable(
                f"no Python >= {_dotted(MIN_PYTHON)} on this machine (LocalStack 4.14 needs one),"
                " so no LocalStack venv"
            )
        raise LocalStackUnavailable(
            f"no LocalStack venv at {venv}: run `make localstack-venv`"
            f" (it finds a Python >= {_dotted(MIN_PYTHON)})"
        )
    found = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, importlib.metadata as m; print(*sys.version_info[:2], m.version('localstack-core'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    parts = found.stdout.split()
    if found.returncode != 0 or len(parts) != 3:
        last = (found.stderr.strip().splitlines() or ["no output"])[-1]
        raise LocalStackUnavailable(
            f"LocalStack is not installed in {venv} ({last}): run `make localstack-venv`"
        )
    if (int(parts[0]), int(parts[1])) < MIN_PYTHON:
        raise LocalStackUnavailable(
            f"{venv} is Python {parts[0]}.{parts[1]}; LocalStack needs >= {_dotted(MIN_PYTHON)}:"
            " delete it and run `make localstack-venv`"
        )
    return python


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalStack:
    """One LocalStack process on loopback, with its own filesystem root (a temp dir it deletes).

    Use as a context manager, or call ``start``/``stop``. ``log_tail`` gives the end of its
    output (stdout and stderr), for failure messages.
    """

    def __init__(
        self,
        venv: Path | None = None,
        *,
        host: str = "127.0.0.1",
        services: Iterable[str] = SERVICES,
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
    ) -> None:
        self.venv = venv or venv_dir()
        self.host = host
        self.services = tuple(services)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.port: int | None = None
        self.version = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._root: Path | None = None
        self._log_path: Path | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("LocalStack is not started")
        return f"http://{self.host}:{self.port}"

    def environment(self, root: Path, port: int) -> dict[str, str]:
        inherited = {key: os.environ[key] for key in _INHERITED if key in os.environ}
        return {
            **inherited,
            **_SETTINGS,
            "GATEWAY_LISTEN": f"{self.host}:{port}",
            "SERVICES": ",".join(self.services),
            "FILESYSTEM_ROOT": str(root / "fs"),
            "CONFIG_DIR": str(root / "config"),  # else ~/.localstack
            "XDG_CACHE_HOME": str(root / "cache"),  # its plugin index, else ~/.cache/plux
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",  # its last words reach the log even when it crashes
        }

    def start(self) -> LocalStack:
        python = venv_python(self.venv)
        self._root = Path(tempfile.mkdtemp(prefix="cis-localstack-"))
        self._log_path = self._root / "localstack.log"
        for _attempt in range(3):  # the port may be taken between choosing and binding it
            port = free_port(self.host)
            with self._log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    [str(python), "-m", "localstack.runtime.main"],
                    env=self.environment(self._root, port),
                    cwd=self._root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stop() ends its children too
                )
            self.port = port
            try:
                self._wait_until_ready()
                return self
            except LocalStackError:
                exited = self._process.poll() is not None
                self._terminate()
                if not exited or "address already in use" not in self.log_tail().lower():
                    self._cleanup_root(keep_log=True)
                    raise
        self._cleanup_root(keep_log=True)
        raise LocalStackError(f"found no free port on {self.host} for LocalStack\n{self.log_tail()}")

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalStackError(
                    f"LocalStack exited with code {self._process.returncode} while starting\n{self.log_tail()}"
                )
            try:
                init = self._get("/_localstack/init")
                health = self._get("/_localstack/health")
            except (OSError, ValueError) as error:
                last = str(error)
            else:
                states = health.get("services", {})
                missing = [s for s in self.services if states.get(s) not in ("available", "running")]
                if init.get("completed", {}).get("READY") and not missing:
                    self.version = str(health.get("version", ""))
                    return
                last = f"ready: {init.get('completed')}, services not available: {missing}"
            time.sleep(0.2)
        raise LocalStackError(
            f"LocalStack at {self.url} not ready after {self.start_timeout:.0f}s ({last})\n{self.log_tail()}"
        )

    def _get(self, path: str) -> dict:
        with _DIRECT.open(f"{self.url}{path}", timeout=2) as response:
            return json.loads(response.read())

    def log_tail(self, lines: int = 40) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "(no LocalStack log)"
        text = self._log_path.read_text(errors="replace").splitlines()
        return "\n".join([f"--- LocalStack log {self._log_path} (last {lines} lines) ---", *text[-lines:]])

    def _terminate(self) -> None:
        """SIGTERM, then SIGKILL once the runtime has shut down or ``stop_timeout`` has passed.

        LocalStack 4.14 runs its shutdown in well under a second (its gateway stops answering
        then), but its interpreter can then spend many seconds in garbage collection at exit
        (seen: 4 to 20+ s, "Garbage-collecting" in a faulthandler dump). Nothing is left to save
        by then (persistence is off and the root is deleted), so that tail is cut short.
        """
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        silent_since: float | None = None
        while time.monotonic() < deadline:
            try:
                process.wait(timeout=0.25)
                return
            except subprocess.TimeoutExpired:
                pass
            if silent_since is None and not self._answers():
                silent_since = time.monotonic()
            if silent_since is not None and time.monotonic() - silent_since > _EXIT_GRACE:
                break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            self._get("/_localstack/health")
        except (OSError, ValueError):
            return False
        return True

    def _cleanup_root(self, keep_log: bool = False) -> None:
        if self._root is None:
            return
        if keep_log and self._log_path is not None and self._log_path.exists():
            # Keep the log next to the temp dir's name for whoever reads the failure.
            kept = Path(tempfile.gettempdir()) / f"{self._root.name}.log"
            shutil.copyfile(self._log_path, kept)
            self._log_path = kept
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    def stop(self) -> None:
        self._terminate()
        self._cleanup_root()

    def __enter__(self) -> LocalStack:
        return self.start() if self._process is None else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``find-python [PYTHON...]``: print the first new-enough Python (of those given, else of
    ``python_candidates()``); exit 1 with the reason on stderr when there is none."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["find-python"]:
        print("usage: python -m local.localstack find-python [PYTHON...]", file=sys.stderr)
        return 2
    given = args[1:]
    python = find_python(given or None)
    if python is None:
        where = " ".join(given) if given else "python3.N on PATH or in pyenv's versions"
        print(
            f"no Python >= {_dotted(MIN_PYTHON)} found ({where}); LocalStack cannot be installed here",
            file=sys.stderr,
        )
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
