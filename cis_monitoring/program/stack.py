"""Read this project's Pulumi config, and what it references, and validate it all before anything is registered.

Besides the stack's own config this reads two stack references: the organization
stack's account inventory (``organization``), and the earlier wave's results
(``promoteAfter``). Every problem from any of them comes back in one RunError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config, get_config_env, is_config_secret

from cis_monitoring.core.catalog import CATALOG_VERSION, Control, get_control
from cis_monitoring.core.plan import CoveragePlan
from cis_monitoring.spec import (
    KNOWN_KEYS,
    ConfigError,
    ConfigProblem,
    DeployTarget,
    OrganizationConfig,
    StackConfig,
    coverage_plan,
    load_config,
    targets,
)
from cis_monitoring.spec.inventory import InventoryError, inventory_accounts, merge_accounts


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


class StackOutputs:
    """One StackReference per referenced stack, created on first use."""

    def __init__(self) -> None:
        self._refs: dict[str, pulumi.StackReference] = {}

    async def get(self, stack: str, output: str) -> Any:
        if stack not in self._refs:
            self._refs[stack] = pulumi.StackReference(stack)
        details = await self._refs[stack].get_output_details(output)
        return details.value if details.value is not None else details.secret_value


def _organization_of(raw: dict[str, Any]) -> OrganizationConfig | None:
    # Validated again (with every other key) by load_config; here only to know what to fetch.
    try:
        return OrganizationConfig.model_validate(raw["organization"]) if "organization" in raw else None
    except ValueError:
        return None


def _relocate(
    problem: ConfigProblem, inline_count: int, merged: Sequence[dict[str, Any]], org: OrganizationConfig
) -> ConfigProblem:
    """Point a problem in an inventory account at the inventory, not at a merged index."""
    match = re.match(r"^accounts\[(\d+)\](.*)$", problem.path)
    if not match or int(match.group(1)) < inline_count:
        return problem
    account_id = merged[int(match.group(1))].get("id")
    return ConfigProblem(
        f"{org.stack} output {org.output!r}, account {account_id}{match.group(2)}", problem.message
    )


async def load_stack(
    stack_outputs: StackOutputs | None = None,
) -> tuple[StackConfig, list[DeployTarget], CoveragePlan]:
    """The validated config, its deploy targets (one per chain site) and its coverage plan, or a
    RunError that lists every problem."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    outputs = stack_outputs or StackOutputs()
    raw, secret_keys = read_project_config(project)
    source = f"the config of stack {stack!r} (Pulumi.{stack}.yaml, keys under '{project}:')"
    problems: list[ConfigProblem] = []

    organization = _organization_of(raw)
    inline = raw.get("accounts") if isinstance(raw.get("accounts"), list) else []
    if organization is not None:
        try:
            found = inventory_accounts(
                await outputs.get(organization.stack, organization.output), organization
            )
            raw = {**raw, "accounts": merge_accounts(inline, found)}
        except InventoryError as error:
            problems.extend(error.problems)
            raw = {**raw, "accounts": inline}

    # Candidates for endpointSecretKey; load_config says which are missing or not secret.
    secrets = {k: v for k, v in raw.items() if isinstance(v, str) and k not in KNOWN_KEYS}
    config: StackConfig | None = None
    try:
        config = load_config(raw, secrets=secrets, secret_keys=secret_keys, source=source)
    except ConfigError as error:
        merged = raw.get("accounts") or []
        problems.extend(
            _relocate(p, len(inline), merged, organization) if organization else p for p in error.problems
        )
    if problems or config is None:
        raise pulumi.RunError(str(ConfigError(problems, source))) from None

    if config.promote_after:
        controls = [get_control(c) for c in config.controls]
        wave = wave_problems(
            config.promote_after, await outputs.get(config.promote_after, "summary"), controls
        )
        if wave:
            raise pulumi.RunError(str(ConfigError(wave, source)))
    return config, targets(config, secrets, secret_keys), coverage_plan(config)


def wave_problems(earlier: str, summary: Any, controls: Sequence[Control]) -> list[ConfigProblem]:
    """Why this stack may not deploy yet: the earlier wave has not deployed the same catalog and patterns."""
    hint = f"run `pulumi up` on {earlier} first"
    if not isinstance(summary, dict):
        return [ConfigProblem("promoteAfter", f"stack {earlier!r} exports no 'summary' output yet; {hint}")]
    problems = []
    deployed = summary.get("catalogVersion")
    if deployed != CATALOG_VERSION:
        problems.append(
            ConfigProblem(
                "promoteAfter",
                f"stack {earlier!r} runs catalog {deployed!r}, this stack would deploy {CATALOG_VERSION!r}; {hint}",
            )
        )
    patterns = summary.get("controlPatterns") or {}
    for control in controls:
        if patterns.get(control.control_id) != control.filter_pattern:
            problems.append(
                ConfigProblem(
                    "promoteAfter",
                    f"control {control.control_id}: stack {earlier!r} has not deployed the pattern this stack would deploy; {hint}",
                )
            )
    return problems
