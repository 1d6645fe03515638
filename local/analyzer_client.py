"""Dev tooling: run the policy pack as the Pulumi CLI does and talk to it over gRPC.

The pack is first built (``policy.build_pack``: ``policy/`` plus the vendored core) into
a temporary directory, then started with ``python -u -m pulumi.policy <engine-address> .``
there, with no access to the repository on its path (proving the built pack is
self-contained); the first line it prints is the port of its Analyzer service.
Config is resolved like the CLI does: schema defaults, then ``all``, then each
policy's own entry.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2

from cis_monitoring.core.project import PROJECT
from local.program_harness import ProgramRun, Registration
from policy.build_pack import build_pack

REPO_ROOT = Path(__file__).resolve().parents[1]
POLICY_SOURCE_DIR = REPO_ROOT / "policy"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
LEVEL_NAMES = {v: k for k, v in LEVELS.items()}


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    message: str
    urn: str


NO_TRAIL_DECLARED = "no trail is declared for this account"
"""The coverage notes' advice for a target the pack config declares no trail for."""


def without_no_trail_notes(violations: list[Violation]) -> list[Violation]:
    """The violations, less the advisory note that no trail is declared for a target: tests that
    configure the pack with ``{}`` (no trails) judge the chain, and test that note on its own."""
    return [v for v in violations if NO_TRAIL_DECLARED not in v.message]


@cache
def built_pack_dir() -> Path:
    """The pack, built once per process into a temporary directory outside the repository."""
    parent = Path(tempfile.mkdtemp(prefix="cis-pack-"))
    atexit.register(shutil.rmtree, parent, True)
    return build_pack(parent / "policy-pack")


class PolicyPackServer:
    """The running pack process and a stub to call it."""

    def __init__(self, python: str = sys.executable, cwd: Path | None = None) -> None:
        cwd = cwd or built_pack_dir()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update({"PULUMI_PROJECT": PROJECT, "PULUMI_STACK": "test", "PULUMI_DRY_RUN": "true"})
        self.process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        first_line = self.process.stdout.readline().decode().strip() if self.process.stdout else ""
        if not first_line.isdigit():
            self.process.kill()
            err = self.process.stderr.read().decode() if self.process.stderr else ""
            raise RuntimeError(
                f"policy pack did not print its port first (got {first_line!r}); stderr:\n{err}"
            )
        self.port = int(first_line)
        # Keep draining stderr so the pack never blocks on a full pipe.
        self._stderr: list[bytes] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    # --- calls -------------------------------------------------------------------------------
    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def plugin_info(self) -> plugin_pb2.PluginInfo:
        return self.stub.GetPluginInfo(empty_pb2.Empty())

    def configure(self, config: Mapping[str, Any] | None = None) -> None:
        """Send the config the CLI would resolve from a ``--policy-pack-config`` file."""
        info = self.info()
        config = dict(config or {})
        resolved: dict[str, analyzer_pb2.PolicyConfig] = {}
        default_all = config.get("all")
        for policy in info.policies:
            level = policy.enforcementLevel
            properties: dict[str, Any] = {}
            schema = (
                json_format.MessageToDict(policy.configSchema.properties)
                if policy.HasField("configSchema")
                else {}
            )
            for key, spec in schema.items():
                if "default" in spec:
                    properties[key] = spec["default"]
            for entry in (default_all, config.get(policy.name)):
                if isinstance(entry, str):
                    level = LEVELS[entry]
                elif isinstance(entry, Mapping):
                    for key, value in entry.items():
                        if key == "enforcementLevel":
                            level = LEVELS[value]
                        else:
                            properties[key] = value
            struct = struct_pb2.Struct()
            struct.update(properties)
            resolved[policy.name] = analyzer_pb2.PolicyConfig(enforcementLevel=level, properties=struct)
        self.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=resolved))

    def analyze_stack(self, resources: Iterable[analyzer_pb2.AnalyzerResource]) -> list[Violation]:
        response = self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=list(resources)))
        return _violations(response)

    def analyze(self, resource: analyzer_pb2.AnalyzerResource) -> list[Violation]:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=resource.properties,
            urn=resource.urn,
            name=resource.name,
            options=resource.options,
            provider=resource.provider,
        )
        return _violations(self.stub.Analyze(request))


def _violations(response: analyzer_pb2.AnalyzeResponse) -> list[Violation]:
    return [
        Violation(
            d.policyName, LEVEL_NAMES.get(d.enforcementLevel, str(d.enforcementLevel)), d.message, d.urn
        )
        for d in response.diagnostics
    ]


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(json.loads(json.dumps(value)))
    return struct


def stack_resources(
    run: ProgramRun, *, unknown: Mapping[str, Iterable[str]] | None = None
) -> list[analyzer_pb2.AnalyzerResource]:
    """What the engine sends in ``AnalyzeStack`` for the recorded program run.

    ``unknown`` maps a resource type to property names whose values are unknown, as
    during a preview (e.g. the topic ARN in an alarm's ``alarmActions``).
    """
    unknown = {k: set(v) for k, v in (unknown or {}).items()}
    by_urn = run.by_urn()
    return [to_analyzer_resource(r, by_urn, unknown.get(r.type, set())) for r in run.resources]


def state_of(resource: Registration, unknown_props: set[str] = frozenset()) -> dict[str, Any]:
    state = {**resource.outputs, **resource.inputs}
    for name in unknown_props:
        if name in state:
            value = state[name]
            state[name] = [UNKNOWN_STRING for _ in value] if isinstance(value, list) else UNKNOWN_STRING
    return state


def to_analyzer_resource(
    resource: Registration, by_urn: Mapping[str, Registration], unknown_props: set[str] = frozenset()
) -> analyzer_pb2.AnalyzerResource:
    provider_message = None
    if resource.provider:
        provider_urn = resource.provider.rsplit("::", 1)[0]
        provider = by_urn.get(provider_urn)
        if provider is not None:
            provider_message = analyzer_pb2.AnalyzerProviderResource(
                type=provider.type, properties=_struct(provider.inputs), urn=provider.urn, name=provider.name
            )
    return analyzer_pb2.AnalyzerResource(
        type=resource.type,
        properties=_struct(state_of(resource, unknown_props)),
        urn=resource.urn,
        name=resource.name,
        options=analyzer_pb2.AnalyzerResourceOptions(parent=resource.parent),
        provider=provider_message,
        parent=resource.parent,
        dependencies=resource.dependencies,
        propertyDependencies={
            k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
            for k, v in resource.property_dependencies.items()
        },
    )
