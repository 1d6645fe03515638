"""pulumi-policy's analyzer servicer, with each request decoded once for all the pack's policies.

The SDK's ``_PolicyAnalyzerServicer`` (pinned by ``pulumi-policy>=1.20,<2``; ``recording`` already
serves through a subclass of it) decodes the request again for every policy it runs: in
``AnalyzeStack`` every resource of the stack and its provider per stack policy (three here), in
``Analyze`` the resource per resource policy (seven here). This subclass runs the same loop with the
SDK's own helpers for levels, configs, diagnostics and runtime settings, and changes only what each
policy is handed:

- a ``SharedStackPolicy`` gets ``SharedStackArgs`` over one ``StackAnalysis`` per call
  (``decode``: plain data, straight from the request), made when the first such policy runs;
- any other stack policy gets the SDK's own ``StackValidationArgs``, built the SDK's way, per policy;
- every resource policy gets the SDK's ``ResourceValidationArgs`` over one view of the request
  (``DecodedResourceArgs``): the SDK's proxies, options and provider, and the pack's plain
  ``Resource``, each decoded when a policy first reads it and then shared. This pack's policies
  read the type, then the plain ``Resource`` only for the types they judge.

What the SDK does with a policy's outcome is kept: a disabled policy is skipped before anything is
decoded, ``remediate`` reports as mandatory, an ``UnknownValueError`` becomes the SDK's advisory
"can't run during preview" diagnostic, ``not_applicable`` is recorded as such. The protocol tests
(``tests/policy``) run the built pack through it.

The collector is paused for the length of an ``AnalyzeStack`` call (``collector``).
"""

from __future__ import annotations

import asyncio
from functools import cached_property
from inspect import isawaitable
from types import MappingProxyType
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as sdk
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from . import collector
from .analysis import SharedStackArgs, SharedStackPolicy, StackAnalysis
from .decode import decode_resource, decode_resources
from .stack_model import Resource

__all__ = ["DecodedResourceArgs", "decoding_once"]

_NOT_APPLICABLE = getattr(sdk, "_NotApplicableError", None)


class _RequestView:
    """One ``Analyze`` request, decoded on first use, once, for every resource policy that reads it."""

    def __init__(self, servicer: Any, request: Any) -> None:
        self._servicer, self.request = servicer, request

    @cached_property
    def props(self) -> Any:
        """The SDK's view: its unknown-checking proxy over its own deserialization."""
        return unknown_checking_proxy(
            deserialize_properties(json_format.MessageToDict(self.request.properties))
        )

    @cached_property
    def opts(self) -> Any:
        return self._servicer._get_resource_options(self.request)

    @cached_property
    def provider(self) -> Any:
        return self._servicer._get_provider_resource(self.request)

    @cached_property
    def resource(self) -> Resource:
        """The pack's view: a plain ``Resource`` (``decode``)."""
        return decode_resource(self.request)


_LAZY: Any = object()
"""Passed to the SDK's constructor for what ``DecodedResourceArgs`` reads from the request view."""


def _from_view(name: str) -> property:
    """An attribute of the SDK's args read from the request view when first read (not when set)."""

    def read(args: DecodedResourceArgs) -> Any:
        value = args.__dict__.get(name, _LAZY)
        return getattr(args._view, name) if value is _LAZY else value

    def write(args: DecodedResourceArgs, value: Any) -> None:
        args.__dict__[name] = value

    return property(read, write)


class DecodedResourceArgs(ResourceValidationArgs):
    """The SDK's resource validation args over one request view, plus the resource as the pack's
    plain ``Resource``. ``props``, ``opts`` and ``provider`` are the SDK's own objects, built when a
    policy first reads them: this pack's policies read the plain ``Resource`` instead, so the SDK's
    decoding is made only for a policy that asks for it."""

    props = _from_view("props")
    opts = _from_view("opts")
    provider = _from_view("provider")

    def __init__(self, view: _RequestView, config: Any, stack_tags: Any) -> None:
        self._view = view
        request = view.request
        super().__init__(request.type, _LAZY, request.urn, request.name, _LAZY, _LAZY, config, stack_tags)

    @property
    def resource(self) -> Resource:
        return self._view.resource


def decoding_once(base: type) -> type:
    """A subclass of the SDK's servicer ``base`` that decodes each request once (see the module)."""

    class DecodingServicer(base):  # type: ignore[misc, valid-type]
        def __init__(self, name: str, version: str, policies: list[Any], *args: Any, **kwargs: Any) -> None:
            super().__init__(name, version, policies, *args, **kwargs)
            self.pack_name, self.pack_version, self.pack_policies = name, version, policies
            self.stack_tags: Any = MappingProxyType({})

        def ConfigureStack(self, request: Any, context: Any) -> Any:  # the gRPC method names are the SDK's
            response = super().ConfigureStack(request, context)
            self.stack_tags = MappingProxyType(dict(request.tags))
            return response

        def AnalyzeStack(self, request: Any, _context: Any) -> Any:
            with collector.paused():
                return self._analyze_stack(request)

        def _analyze_stack(self, request: Any) -> Any:
            self._configure_runtime_settings()
            response = proto.AnalyzeResponse()
            enabled = [
                (policy, level)
                for policy in self.pack_policies
                if isinstance(policy, StackValidationPolicy)
                and (level := self._level(policy)) != EnforcementLevel.DISABLED
            ]
            analysis: StackAnalysis | None = None
            for policy, level in enabled:
                config = self._get_policy_config(policy.name)
                args: StackValidationArgs
                if isinstance(policy, SharedStackPolicy):
                    if analysis is None:
                        configs = {p.name: self._get_policy_config(p.name) or {} for p, _ in enabled}
                        analysis = StackAnalysis(
                            decode_resources(request.resources), configs, standalone=False
                        )
                    args = SharedStackArgs(analysis, config, self.stack_tags)
                else:
                    args = StackValidationArgs(self._sdk_stack(request), config, self.stack_tags)
                self._run(policy, level, args, response)
            return response

        def Analyze(self, request: Any, _context: Any) -> Any:
            self._configure_runtime_settings()
            response = proto.AnalyzeResponse()
            view = _RequestView(self, request)
            for policy in self.pack_policies:
                if not isinstance(policy, ResourceValidationPolicy):
                    continue
                level = self._level(policy)
                if level == EnforcementLevel.DISABLED:
                    continue
                if not policy.has_validation():  # a remediation-only policy, as the SDK reports it
                    response.not_applicable.append(
                        proto.PolicyNotApplicable(
                            policy_name=policy.name, reason="Policy does not implement validate"
                        )
                    )
                    continue
                args = DecodedResourceArgs(view, self._get_policy_config(policy.name), self.stack_tags)
                self._run(policy, level, args, response)
            return response

        def _level(self, policy: Any) -> EnforcementLevel:
            level = self._get_enforcement_level(policy)
            # A remediation that still fails is mandatory (the SDK's rule; stack policies cannot remediate).
            return EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level

        def _run(self, policy: Any, level: EnforcementLevel, args: Any, response: Any) -> None:
            report = self._create_report_violation(
                response, policy.name, policy.description, level, policy.severity
            )
            try:
                result = policy.validate(args, report)
                if isawaitable(result):
                    loop = asyncio.new_event_loop()
                    try:
                        loop.run_until_complete(result)
                    finally:
                        loop.close()
            except UnknownValueError as unknown:
                response.diagnostics.append(
                    proto.AnalyzeDiagnostic(
                        policyName=policy.name,
                        policyPackName=self.pack_name,
                        policyPackVersion=self.pack_version,
                        message=(
                            f"can't run policy '{policy.name}' from policy pack "
                            f"'{self.pack_name}@v{self.pack_version}' during preview: {unknown.message}"
                        ),
                        urn="",
                        description=policy.description,
                        enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
                    )
                )
            except Exception as error:
                if _NOT_APPLICABLE is None or not isinstance(error, _NOT_APPLICABLE):
                    raise
                response.not_applicable.append(
                    proto.PolicyNotApplicable(
                        policy_name=policy.name, reason=getattr(error, "reason", "") or ""
                    )
                )

        def _sdk_stack(self, request: Any) -> list[PolicyResource]:
            """The stack as the SDK builds it for a stack policy: proxies, parents and dependencies."""
            built: list[tuple[PolicyResource, Any]] = []
            for r in request.resources:
                props = unknown_checking_proxy(
                    deserialize_properties(json_format.MessageToDict(r.properties))
                )
                resource = PolicyResource(
                    r.type,
                    props,
                    r.urn,
                    r.name,
                    self._get_resource_options(r),
                    self._get_provider_resource(r),
                    None,
                    [],
                    {},
                )
                built.append((resource, r))
            by_urn = {resource.urn: resource for resource, _ in built}
            for resource, r in built:
                if r.parent in by_urn:
                    resource.parent = by_urn[r.parent]
                resource.dependencies.extend(by_urn[d] for d in r.dependencies if d in by_urn)
                for key, deps in r.propertyDependencies.items():
                    resource.property_dependencies[key] = [by_urn[d] for d in deps.urns if d in by_urn]
            return [resource for resource, _ in built]

    return DecodingServicer
