"""A plain, unknown-aware view of the resources the policy pack is shown.

During ``pulumi preview`` values that depend on other resources are unknown. The
SDK's property proxy raises when such a value is read, and the SDK then turns the
whole policy into an advisory "can't run during preview" note: a mandatory check
would silently stop blocking. So the pack never judges through the proxy: it copies
the properties once into plain data, with ``UNKNOWN`` where a value is not known yet.

The copy walks the proxies through their public protocols (they are ``Mapping`` and
``Sequence``: iterating keys and taking lengths never raises). Reading one value is the
only place that depends on the SDK beyond its documented classes: ``read_property``
(pinned by a test, so an SDK upgrade that changes it fails loudly).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from cis_monitoring.core.aws.arns import parse_role_arn
from cis_monitoring.core.unknown import UNKNOWN, is_unknown

__all__ = [
    "UNKNOWN",
    "Resource",
    "Target",
    "decode_json_strings",
    "is_unknown",
    "plain",
    "provider_target",
    "read_property",
]

# The engine's sentinels for unknown values: what plain data (a decoded provider input, a
# recorded state) carries where a proxy would raise. pulumi_policy.proxy defines the same strings.
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def read_property(container: Mapping[Any, Any] | Sequence[Any], key: Any) -> Any:
    """``container[key]``, or ``UNKNOWN`` where the SDK's proxy refuses because the value is unknown.

    The SDK documents ``UnknownValueError`` as what reading an unknown value raises; it
    lives in ``pulumi_policy.proxy``, which the package does not re-export.
    """
    try:
        return container[key]
    except UnknownValueError:
        return UNKNOWN


def plain(value: Any) -> Any:
    """Deep copy of SDK property proxies (or plain data) with unknowns replaced by UNKNOWN."""
    if isinstance(value, Mapping):
        return {str(key): plain(read_property(value, key)) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(read_property(value, index)) for index in range(len(value))]
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def decode_json_strings(props: Mapping[str, Any]) -> dict[str, Any]:
    """Provider inputs arrive with list and object values JSON-encoded; decode them."""
    decoded = {}
    for key, value in props.items():
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                value = plain(json.loads(value))
        decoded[key] = value
    return decoded


@dataclass(frozen=True)
class Target:
    """An (account, region) a stack deploys into; None when the provider does not say."""

    account: str | None
    region: str | None

    def label(self) -> str:
        account = self.account or "the provider's default account"
        region = self.region or "the provider's default region"
        return f"account {account} region {region}"


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    props: dict[str, Any]
    provider_urn: str | None = None
    provider_props: dict[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.props.get(key, default)


def provider_target(provider_props: Mapping[str, Any]) -> Target:
    """Which account and region an AWS provider deploys into, from its configuration."""
    props = decode_json_strings(provider_props)
    region = props.get("region")
    account = None
    allowed = props.get("allowedAccountIds")
    if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str):
        account = allowed[0]
    else:
        roles = props.get("assumeRoles")
        if not isinstance(roles, list) or not roles:
            roles = [props["assumeRole"]] if isinstance(props.get("assumeRole"), dict) else []
        if roles and isinstance(roles[0], dict):
            role = parse_role_arn(roles[0].get("roleArn"))
            account = role.account if role else None
    return Target(account=account, region=region if isinstance(region, str) else None)
