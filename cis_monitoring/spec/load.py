"""The entry points: validate the project's config keys, raising one ConfigError with every problem,
and read them from ``Pulumi.<stack>.yaml`` files.

``load_config`` knows nothing of Pulumi, so the program, the audit, discovery and the shard
check share it. The stack-file readers are the one reader of ``Pulumi.<stack>.yaml``: the
file is read as data (no Pulumi CLI, no secrets): ``cis-monitoring:<key>`` entries are the
project's config, other namespaces (``aws:``) are ignored. Subscriptions that name an
``endpointSecretKey`` stay unresolved, which the audit does not need.
``read_project_keys`` gives the raw keys (the shard check validates only what it needs);
``read_stack_file`` validates them all. The audit's view is cis_monitoring/audit/scope.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from cis_monitoring.core.aws import arns
from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.errors import InputError
from cis_monitoring.core.project import PROJECT

from . import realtime
from .accounts import AccountConfig, OrganizationTrailConfig
from .checks import account_problems, tag_problems, trail_problems
from .inventory import OrganizationConfig
from .model import KNOWN_KEYS, StackConfig
from .notifications import NotificationConfig
from .problems import ConfigError, ConfigProblem, problems_from
from .resolve import (
    DeployTarget,
    account_indexes,
    real_time_settings,
    resolve_subscriptions,
    site_contexts,
    targets,
)


class _Valid(NamedTuple):
    """The parts of a config that validate on their own (all of it, when the config is valid)."""

    notifications: NotificationConfig | None
    """None when the stack-wide notifications are invalid: their effect on accounts is unknown."""
    tags: Mapping[str, str]
    accounts: list[tuple[int, AccountConfig]]
    organization_trail: OrganizationTrailConfig | None
    """None when absent or invalid."""


def load_config(
    raw: Mapping[str, Any],
    *,
    secrets: Mapping[str, str] | None = None,
    secret_keys: frozenset[str] = frozenset(),
    source: str = "stack config",
    require_subscribers: bool = True,
) -> StackConfig:
    """Validate the project's config (keys without namespace) or raise ConfigError with every problem.

    ``secrets`` maps config key names to values, for subscriptions that name an
    ``endpointSecretKey``; ``secret_keys`` names the keys that were set as secrets.
    Without ``secrets`` (the audit, discovery) those subscriptions are not resolved.
    ``require_subscribers`` False (the read-only audit) accepts chain sites without a subscriber.
    """
    problems: list[ConfigProblem] = []
    referenced = _referenced_secret_keys(raw)
    for key in raw:
        if key not in KNOWN_KEYS and key not in referenced:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(KNOWN_KEYS)}"
            problems.append(ConfigProblem(key, "unknown config key (typos are not ignored)" + hint))
    known = {k: v for k, v in raw.items() if k in KNOWN_KEYS}
    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate(known)
        valid = _Valid(
            config.notifications, config.tags, list(enumerate(config.accounts)), config.organization_trail
        )
    except ValidationError as error:
        problems.extend(problems_from(error, StackConfig))
        # Entries that validate on their own are still cross-checked, so one run shows everything.
        valid = _partial(known)
    if config is not None and not config.accounts and config.organization is None:
        problems.append(
            ConfigProblem(
                "accounts",
                "must list at least one entry (or read accounts from an organization stack with 'organization')",
            )
        )
    problems.extend(
        account_problems(
            valid.notifications,
            valid.accounts,
            valid.organization_trail,
            require_subscribers=require_subscribers,
        )
    )
    problems.extend(
        trail_problems(
            valid.accounts,
            valid.organization_trail,
            organization_given="organizationTrail" in known,
            listed_ids=_listed_ids(known),
        )
    )
    problems.extend(tag_problems(valid.tags, valid.accounts))
    if valid.notifications is not None:
        indexes = account_indexes(valid.accounts)
        for context in site_contexts(valid.notifications, valid.accounts, valid.organization_trail):
            site = context.site
            resolved = resolve_subscriptions(
                context.layers, site.account_id, site.region, secrets, secret_keys, indexes
            )
            problems.extend(resolved[1])
    if config is not None and config.real_time is not None and valid.notifications is not None:
        problems.extend(_real_time_problems(config, valid, secrets, secret_keys))
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config


def _real_time_problems(
    config: StackConfig, valid: _Valid, secrets: Mapping[str, str] | None, secret_keys: frozenset[str]
) -> list[ConfigProblem]:
    """The ``realTime`` key against the chains: its Regions, its high-risk topic, its central bus."""
    real_time = config.real_time
    assert real_time is not None and valid.notifications is not None
    contexts = site_contexts(valid.notifications, valid.accounts, valid.organization_trail)
    sites = [
        (
            c.site.account_id,
            c.site.region,
            arns.fill_placeholders(t, c.site.account_id, c.site.region)
            if (t := c.layers.effective().topic_arn)
            else None,
            c.account.name,
        )
        for c in contexts
    ]
    chains: dict[str, list[str]] = {}
    for account_id, region, _topic, _name in sites:
        chains.setdefault(account_id, []).append(region)
    controls = [CONTROLS[c] for c in config.controls]
    problems = realtime.high_risk_topic_problems(real_time, sites, config.name_prefix)
    problems += realtime.region_problems(real_time, chains, realtime.controls_with_rules(controls))
    problems += realtime.central_bus_problems(real_time, [(a, r) for a, r, _t, _n in sites])
    indexes = account_indexes(valid.accounts)
    problems += real_time_settings(config, contexts, secrets, secret_keys, indexes)[1]
    return problems


def validate_organization(raw: Any, source: str = "stack config") -> OrganizationConfig:
    """The ``organization`` key alone (for tools that need only the selection), or ConfigError."""
    try:
        return OrganizationConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(problems_from(error, OrganizationConfig, prefix="organization"), source) from None


def _referenced_secret_keys(raw: Any) -> set[str]:
    """Config keys named by some subscription's endpointSecretKey (they are not typos)."""
    if isinstance(raw, Mapping):
        found = {raw["endpointSecretKey"]} if isinstance(raw.get("endpointSecretKey"), str) else set()
        for value in raw.values():
            found |= _referenced_secret_keys(value)
        return found
    if isinstance(raw, list):
        return set().union(*(_referenced_secret_keys(v) for v in raw)) if raw else set()
    return set()


def _listed_ids(raw: Mapping[str, Any]) -> set[str]:
    accounts = raw.get("accounts")
    entries = accounts if isinstance(accounts, list) else []
    return {str(e.get("id")) for e in entries if isinstance(e, Mapping)}


def _partial(raw: Mapping[str, Any]) -> _Valid:
    stack: NotificationConfig | None
    try:
        stack = NotificationConfig.model_validate(raw.get("notifications", {}))
    except ValidationError:
        stack = None
    tags = raw.get("tags")
    valid_tags = (
        tags
        if isinstance(tags, Mapping)
        and all(isinstance(v, str) and isinstance(k, str) for k, v in tags.items())
        else {}
    )
    accounts = raw.get("accounts")
    good = []
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        try:
            good.append((i, AccountConfig.model_validate(account)))
        except ValidationError:
            continue
    organization_trail = None
    if raw.get("organizationTrail") is not None:
        try:
            organization_trail = OrganizationTrailConfig.model_validate(raw["organizationTrail"])
        except ValidationError:
            organization_trail = None
    return _Valid(stack, valid_tags, good, organization_trail)


class StackFileError(InputError):
    """The stack file is missing, unreadable or invalid; ``lines`` say why, one problem each."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        super().__init__(lines)


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: StackConfig
    targets: list[DeployTarget]


def stack_path(path_or_stack: str, repo_root: Path | str | None = None) -> Path:
    """``Pulumi.<stack>.yaml`` in ``repo_root`` for a stack name, or the path itself for a file."""
    if path_or_stack.endswith((".yaml", ".yml")) or "/" in path_or_stack:
        return Path(path_or_stack)
    return Path(repo_root or Path.cwd()) / f"Pulumi.{path_or_stack}.yaml"


def project_config(document: Any) -> dict[str, Any]:
    """The ``cis-monitoring:`` keys of a stack file's ``config:`` map, namespace stripped."""
    config = document.get("config") if isinstance(document, Mapping) else None
    result: dict[str, Any] = {}
    for key, value in (config or {}).items():
        namespace, _, name = str(key).partition(":")
        if namespace == PROJECT and name:
            result[name] = value
    return result


def read_project_keys(path_or_stack: str, repo_root: Path | str | None = None) -> tuple[Path, dict[str, Any]]:
    """The stack file's path and its ``cis-monitoring:`` keys (not validated), or StackFileError."""
    path = stack_path(path_or_stack, repo_root)
    if not path.is_file():
        stacks = sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in path.parent.glob("Pulumi.*.yaml")
        )
        known = f" (stacks there: {', '.join(stacks)})" if stacks else ""
        raise StackFileError(path, [f"{path}: no such stack file{known}"])
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise StackFileError(path, [f"{path}: cannot be read: {error}"]) from None
    except yaml.YAMLError as error:
        raise StackFileError(path, [f"{path}: not valid YAML: {error}"]) from None
    if not isinstance(document, Mapping) or not isinstance(document.get("config"), Mapping):
        raise StackFileError(path, [f"{path}: has no 'config:' map"])
    return path, project_config(document)


def read_stack_file(
    path_or_stack: str, repo_root: Path | str | None = None, *, require_subscribers: bool = True
) -> StackFile:
    """The validated config and deploy targets of a stack file, or StackFileError naming the file.

    ``require_subscribers`` False: as ``load_config`` (the audit reads a stack file not deployed yet).
    """
    path, keys = read_project_keys(path_or_stack, repo_root)
    try:
        config = load_config(keys, source=str(path), require_subscribers=require_subscribers)
        return StackFile(path, config, targets(config))
    except ConfigError as error:
        raise StackFileError(
            path, [f"{len(error.problems)} problem(s) in {path}:", *_lines(error.problems)]
        ) from None


def _lines(problems: list[ConfigProblem]) -> list[str]:
    return [f"  - {problem}" for problem in problems]


def load_stack_file(path_or_stack: str, repo_root: Path | str | None = None) -> list[DeployTarget]:
    """Every (account, region) deploy target of a stack file (see ``read_stack_file``)."""
    return read_stack_file(path_or_stack, repo_root).targets
