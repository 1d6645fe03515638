"""The engine's resources, straight from the gRPC request into plain ``Resource`` objects, once per call.

pulumi-policy turns every resource of an ``AnalyzeStack`` request into its own objects again for
each stack policy (``json_format.MessageToDict``, ``deserialize_properties``, a proxy that raises
on unknown values, and the same for the resource's provider), and the pack then copied those
proxies into plain data (``stack_model.plain``). Here the request's ``google.protobuf.Struct``
values become that plain data in one walk: the same values ``plain`` makes from the SDK's
proxies (``tests/policy/test_decode.py`` holds them equal on recorded stacks, with and without
preview unknowns), without the three intermediate copies.

What the walk does, value by value, and why it equals the SDK's path:

- a ``Struct`` becomes a ``dict`` and a ``ListValue`` a ``list`` (``MessageToDict``);
- a number stays a ``float``, a null is ``None`` (``MessageToDict`` of a ``Value``);
- the engine's unknown sentinels (a string, at any depth) become ``UNKNOWN`` (``plain``);
- a secret (an object with the signature key and the secret signature) becomes its value
  (``deserialize_properties`` without ``proxy_secrets``, as the SDK calls it);
- an asset or archive goes through the SDK's own ``deserialize_properties`` (no policy of
  this pack reads one; they are rare enough that exactness beats speed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties

from .stack_model import UNKNOWN, UNKNOWN_SENTINELS, Resource, plain

__all__ = ["decode_resource", "decode_resources", "decode_struct"]


def decode_struct(struct: Any) -> dict[str, Any]:
    """A resource's properties (a ``google.protobuf.Struct``) as the plain, unknown-aware dict ``plain``
    makes of the SDK's proxy."""
    return {key: _value(value) for key, value in struct.fields.items()}


def _object(struct: Any) -> Any:
    """A property value that is an object: a dict, or what a signature makes of it."""
    decoded = decode_struct(struct)
    signature = decoded.get(SPECIAL_SIG_KEY)
    if signature is None:
        return decoded
    if signature == SPECIAL_SECRET_SIG and "value" in decoded:
        return decoded["value"]
    # An asset or archive (or a signature the SDK rejects): exactly what the SDK makes of it.
    return plain(deserialize_properties({"value": json_format.MessageToDict(struct)})["value"])


def _value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return UNKNOWN if text in UNKNOWN_SENTINELS else text
    if kind == "struct_value":
        return _object(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        return value.number_value
    return None  # null_value, or a Value with no kind set: MessageToDict says None too


def decode_resources(resources: Iterable[Any]) -> list[Resource]:
    """Every ``AnalyzerResource`` of a request as a ``Resource``; each provider's properties decoded once.

    Every resource carries its provider's state, and a stack has one provider per account and
    Region, so the provider of the 10 resources of a target would be decoded 10 times. Within one
    request a provider URN names one provider state (the engine sends its current inputs), so
    the decoded properties are shared between the resources that name it. Dependencies name only
    resources of the request, as the SDK's ``PolicyResource.dependencies`` do.
    """
    resources = list(resources)
    present = {resource.urn for resource in resources}
    provider_props: dict[str, dict[str, Any]] = {}
    decoded = []
    for resource in resources:
        provider_urn: str | None = None
        props: dict[str, Any] = {}
        if resource.HasField("provider"):
            provider_urn = resource.provider.urn
            if provider_urn not in provider_props:
                provider_props[provider_urn] = decode_struct(resource.provider.properties)
            props = provider_props[provider_urn]
        decoded.append(
            Resource(
                urn=resource.urn,
                type=resource.type,
                name=resource.name,
                props=decode_struct(resource.properties),
                provider_urn=provider_urn,
                provider_props=props,
                dependencies=tuple(urn for urn in resource.dependencies if urn in present),
                property_dependencies={
                    key: tuple(urn for urn in deps.urns if urn in present)
                    for key, deps in resource.propertyDependencies.items()
                },
            )
        )
    return decoded


def decode_resource(request: Any) -> Resource:
    """One ``AnalyzeRequest``'s resource (the per-resource call), as a ``Resource``.

    A single resource has no dependencies to offer (the SDK shows a resource policy none either).
    """
    has_provider = request.HasField("provider")
    return Resource(
        urn=request.urn,
        type=request.type,
        name=request.name,
        props=decode_struct(request.properties),
        provider_urn=request.provider.urn if has_provider else None,
        provider_props=decode_struct(request.provider.properties) if has_provider else {},
    )
