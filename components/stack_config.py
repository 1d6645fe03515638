"""Read this project's Pulumi config and validate it before anything is registered."""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config, get_config_env, is_config_secret

from .config import KNOWN_KEYS, ConfigError, StackConfig, Target, load_config, targets


def _decode(value: Any) -> Any:
    # Pulumi hands structured config to the program as JSON text.
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_project_config(project: str) -> tuple[dict[str, Any], frozenset[str]]:
    """All ``<project>:*`` config values (decoded) and the names of those set as secrets."""
    prefix = f"{project}:"
    raw: dict[str, Any] = {}
    secret: set[str] = set()
    for full_key in sorted(set(CONFIG.get()) | set(get_config_env())):
        if not full_key.startswith(prefix):
            continue
        name = full_key[len(prefix) :]
        raw[name] = _decode(get_config(full_key))
        if is_config_secret(full_key):
            secret.add(name)
    return raw, frozenset(secret)


def load_stack() -> tuple[StackConfig, list[Target]]:
    """The validated config and its targets, or a RunError that lists every problem."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    raw, secret_keys = read_project_config(project)
    # Candidates for endpointSecretKey; load_config says which are missing or not secret.
    secrets = {k: v for k, v in raw.items() if isinstance(v, str) and k not in KNOWN_KEYS}
    source = f"the config of stack {stack!r} (Pulumi.{stack}.yaml, keys under '{project}:')"
    try:
        config = load_config(raw, secrets=secrets, secret_keys=secret_keys, source=source)
        return config, targets(config, secrets, secret_keys)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
