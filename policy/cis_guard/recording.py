"""Serve the pack with pulumi-policy's own analyzer, and record every diagnostic it answers with.

The enforcement level of a violation is decided by the SDK (from the config the CLI sends in
``Configure``) and is never shown to a policy; the diagnostics the SDK returns carry it, with the
policy, message and URN, exactly as the CLI receives them. So the pack serves with a subclass of
the SDK's servicer (``pulumi_policy.policy._PolicyAnalyzerServicer``, pinned by
``pulumi-policy>=1.20,<2`` and by the protocol tests, which read the report this produces) that
calls the SDK and then hands the response to ``verdicts.Recorder``. ``PolicyPack`` builds its
servicer by that module-level name, so ``serve`` points the name at the subclass before the SDK
starts the server; the SDK still prints the port line first and nothing else on stdout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import PolicyPack, StackValidationPolicy
from pulumi_policy import policy as sdk

from .servicer import decoding_once
from .stack_model import plain, provider_target
from .verdict_files import Recorder
from .verdicts import (
    ADVISORY,
    ANALYZE,
    ANALYZE_STACK,
    DISABLED,
    MANDATORY,
    REPORT_PATH_KEY,
    RESOURCE,
    STACK,
    PolicyState,
    Verdict,
    take_details,
    with_detail,
)

LEVELS = {
    analyzer_pb2.ADVISORY: ADVISORY,
    analyzer_pb2.MANDATORY: MANDATORY,
    analyzer_pb2.DISABLED: DISABLED,
    analyzer_pb2.REMEDIATE: MANDATORY,  # the SDK reports a remediation that still fails as mandatory
}
_SDK_SERVICER = getattr(sdk, "_PolicyAnalyzerServicer", None)
_VERSION = re.compile(r"^version:\s*(\S+)\s*$", re.MULTILINE)
RECORDER_UNAVAILABLE = (
    f"{REPORT_PATH_KEY}: this pulumi-policy has no analyzer servicer the pack can record from, so no report"
    " is written; use pulumi-policy >= 1.20, < 2 (the pack's requirements.txt)"
)


def pack_version() -> str:
    """The version the CLI uses: PulumiPolicy.yaml's (the SDK itself always says 0.0.1)."""
    path = Path(__file__).resolve().parents[1] / "PulumiPolicy.yaml"
    try:
        found = _VERSION.search(path.read_text(encoding="utf-8"))
    except OSError:
        found = None
    return found.group(1) if found else "unknown"


def serve(recorder: Recorder, chain_policy: str, **pack: Any) -> None:
    """Build and serve the pack (blocks), recording into ``recorder``."""
    servicer = servicer_class(recorder, chain_policy)
    if servicer is None:
        recorder.problem = RECORDER_UNAVAILABLE
    else:
        sdk._PolicyAnalyzerServicer = servicer  # type: ignore[attr-defined]
    PolicyPack(**pack)


def servicer_class(recorder: Recorder, chain_policy: str) -> type | None:
    """The class the pack serves with: the SDK's servicer decoding once (``servicer``), recording into
    ``recorder``; None when this pulumi-policy has no servicer to subclass."""
    if _SDK_SERVICER is None:
        return None
    return _recording_servicer(decoding_once(_SDK_SERVICER), recorder, chain_policy)


def _recording_servicer(base: type, recorder: Recorder, chain_policy: str) -> type:
    class RecordingServicer(base):  # type: ignore[misc, valid-type]
        def __init__(self, name: str, version: str, policies: list[Any], *args: Any, **kwargs: Any) -> None:
            super().__init__(name, version, policies, *args, **kwargs)
            self.recorded_policies = policies
            self.default_level = args[0] if args else kwargs.get("enforcement_level")

        def Configure(self, request: Any, context: Any) -> Any:  # the gRPC method names are the SDK's
            response = super().Configure(request, context)
            configs = dict(request.policyConfig)
            chain = configs.get(chain_policy)
            properties = json_format.MessageToDict(chain.properties) if chain is not None else {}
            recorder.configure(properties.get(REPORT_PATH_KEY), self._states(configs))
            return response

        def Analyze(self, request: Any, context: Any) -> Any:
            take_details()  # whatever an earlier call on this thread left is not this call's
            response = super().Analyze(request, context)
            # The provider's account and Region, read only when there is a violation to place.
            placed = response.diagnostics and request.HasField("provider")
            target = provider_target(_props(request.provider)) if placed else None
            # A resource policy's violation is about the resource analyzed, whether or not it names it.
            recorder.record(ANALYZE, _verdicts(response, ANALYZE, lambda _urn: target, request.urn))
            return response

        def AnalyzeStack(self, request: Any, context: Any) -> Any:
            take_details()
            response = super().AnalyzeStack(request, context)
            # The provider's account and Region only for the resources a diagnostic names (not the
            # whole stack: decoding every resource's provider again cost a third of the call).
            named = {d.urn for d in response.diagnostics if d.urn}
            targets = {
                r.urn: provider_target(_props(r.provider))
                for r in request.resources
                if r.urn in named and r.HasField("provider")
            }
            recorder.record(ANALYZE_STACK, _verdicts(response, ANALYZE_STACK, targets.get))
            return response

        def _states(self, configs: Mapping[str, Any]) -> list[PolicyState]:
            states = []
            for policy in self.recorded_policies:
                config = configs.get(policy.name)
                if config is not None:
                    level = LEVELS.get(config.enforcementLevel, MANDATORY)
                else:  # the CLI sent no config for it: its own default, else the pack's
                    default = policy.enforcement_level or self.default_level
                    level = {DISABLED: DISABLED, ADVISORY: ADVISORY}.get(
                        getattr(default, "value", ""), MANDATORY
                    )
                kind = STACK if isinstance(policy, StackValidationPolicy) else RESOURCE
                states.append(PolicyState(policy.name, kind, level))
            return states

    return RecordingServicer


def _props(provider: Any) -> dict[str, Any]:
    return plain(json_format.MessageToDict(provider.properties))


def _verdicts(response: Any, call: str, target_of: Any, analyzed: str | None = None) -> Iterable[Verdict]:
    details = take_details()
    for diagnostic in response.diagnostics:
        # The SDK sends "<policy description>\n<message>"; the report keeps the message.
        message = diagnostic.message
        prefix = f"{diagnostic.description}\n"
        if diagnostic.description and message.startswith(prefix):
            message = message[len(prefix) :]
        urn = diagnostic.urn or analyzed or None
        target = target_of(urn)
        verdict = Verdict(
            policy=diagnostic.policyName,
            level=LEVELS.get(diagnostic.enforcementLevel, MANDATORY),
            message=message,
            urn=urn,
            account=target.account if target else None,
            region=target.region if target else None,
            control=None,
            call=call,
        )
        yield with_detail(verdict, details.get((diagnostic.policyName, diagnostic.urn, message)))
