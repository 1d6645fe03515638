"""Run a Pulumi program in-process under the SDK's mocks, the way the language host runs it.

Shared by the emulator deploy (``make demo`` without the Pulumi CLI) and the tests'
harness. Each run gets its own event loop and a fresh root stack, then the
program's ``pulumi.run()`` entry point runs, then the stack's outputs are registered.
"""

from __future__ import annotations

import asyncio
import gc
import json
import runpy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_in_stack

from cis_monitoring.core.project import PROJECT


def plain(value: Any) -> Any:
    """``value`` with Pulumi's secret markers replaced by the values they wrap."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def decode_provider_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Provider inputs with their JSON-encoded values (lists, objects) decoded, as the SDK sends them."""
    decoded = {}
    for key, value in inputs.items():
        if isinstance(value, str) and value[:1] in ("[", "{"):
            value = json.loads(value)
        decoded[key] = value
    return decoded


class OutputsMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping the stack outputs the program registers."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.stack_outputs = plain(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)


def run_under_mocks(
    program: Path,
    config: Mapping[str, Any],
    mocks: pulumi.runtime.Mocks,
    monitor: OutputsMonitor,
    *,
    stack: str,
    secret_keys: Iterable[str] = (),
    preview: bool = False,
    project: str = PROJECT,
    restore_collector: bool = True,
) -> BaseException | None:
    """Run ``program`` with ``config`` (project keys, no namespace); the program's error, if any.

    ``restore_collector=False`` leaves the collector as the program set it, as the language host's
    process does until it exits (the benchmark's timed run: re-enabling it would start a young
    collection of every object the run made, a cost no real run pays)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The program sets the collector's policy for its process (cis_monitoring/program/collector.py);
    # here many programs share one process, so each run gets back the settings it started with.
    enabled, thresholds, callbacks = gc.isenabled(), gc.get_threshold(), list(gc.callbacks)
    try:
        pulumi_settings.reset_options(project=project, stack=stack, preview=preview)
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        pulumi.runtime.set_all_config(
            {f"{project}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
            [f"{project}:{k}" for k in secret_keys],
        )
        pulumi_settings.ROOT.set(None)
        try:
            loop.run_until_complete(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
        except BaseException as error:  # the program's own failure is the caller's to report
            return error
        return None
    finally:
        if restore_collector:
            gc.set_threshold(*thresholds)
            gc.callbacks[:] = callbacks
            if enabled:
                gc.enable()
        pulumi.runtime.set_all_config({}, [])
        loop.close()
        asyncio.set_event_loop(None)
