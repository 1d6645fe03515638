"""The rollup project under Pulumi mocks: its program run with the rollup's project name, and its view module.

Stack references are answered from a map of stack name -> outputs, so a test hands the rollup
the outputs the real cis-monitoring program produced (and an inventory).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import runpy
import sys
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func

from local.program_harness import REPO_ROOT, AwsMocks, ProgramRun, RecordingMonitor

ROLLUP_DIR = REPO_ROOT / "rollup"
PROGRAM = ROLLUP_DIR / "__main__.py"
PROJECT = "cis-monitoring-rollup"
STACK_REF = "pulumi:pulumi:StackReference"

# The rollup program imports rollup_view as Pulumi runs it: from its own directory.
if str(ROLLUP_DIR) not in sys.path:
    sys.path.insert(0, str(ROLLUP_DIR))
view = importlib.import_module("rollup_view")


# ---- a runner with the rollup's own project name (the shared harness is for cis-monitoring) ----


class StackReferenceMocks(AwsMocks):
    """Answers stack references from ``stacks``: name -> that stack's outputs."""

    def __init__(self, stacks: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__()
        self.stacks = stacks
        self.referenced: list[str] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == STACK_REF:
            name = args.inputs["name"]
            self.referenced.append(name)
            if name not in self.stacks:
                raise Exception(f"unknown stack {name}")
            return name, {"name": name, "outputs": dict(self.stacks[name]), "secretOutputNames": []}
        return super().new_resource(args)


def run_rollup(config: Mapping[str, Any], mocks: StackReferenceMocks) -> ProgramRun:
    """Like run_program, with the config under ``cis-monitoring-rollup:`` and that project name."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    monitor = RecordingMonitor(mocks)
    error: BaseException | None = None
    outputs: dict[str, Any] = {}
    try:
        pulumi_settings.reset_options(project=PROJECT, stack="org", preview=False)
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="org", preview=False, monitor=monitor)
        pulumi.runtime.set_all_config(
            {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}, []
        )
        try:
            loop.run_until_complete(
                run_pulumi_func(lambda: runpy.run_path(str(PROGRAM), run_name="__main__"))
            )
        except BaseException as exc:
            error = exc
        root = pulumi_settings.get_root_resource()
        if error is None and root is not None:
            outputs = loop.run_until_complete(pulumi.Output.from_input(dict(root.outputs)).future())
    finally:
        pulumi.runtime.set_all_config({}, [])
        loop.close()
        asyncio.set_event_loop(None)
    return ProgramRun(resources=monitor.registrations, outputs=outputs, invokes=[], error=error)
