"""The one reader of ``Pulumi.<stack>.yaml`` files: their project config, validated as the program does.

The file is read as data (no Pulumi CLI, no secrets): ``cis-monitoring:<key>`` entries
are the project's config, other namespaces (``aws:``) are ignored. Subscriptions that
name an ``endpointSecretKey`` stay unresolved, which the audit does not need.
``read_project_keys`` gives the raw keys (the shard check validates only what it needs);
``read_stack_file`` validates them all. The audit's view is verify/locations.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cis_monitoring.spec import PROJECT, ConfigError, DeployTarget, Problem, StackConfig, load_config, targets


class StackFileError(Exception):
    """The stack file is missing, unreadable or invalid; ``lines`` say why, one problem each."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        super().__init__("\n".join(lines))


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


def read_stack_file(path_or_stack: str, repo_root: Path | str | None = None) -> StackFile:
    """The validated config and deploy targets of a stack file, or StackFileError naming the file."""
    path, keys = read_project_keys(path_or_stack, repo_root)
    try:
        config = load_config(keys, source=str(path))
        return StackFile(path, config, targets(config))
    except ConfigError as error:
        raise StackFileError(
            path, [f"{len(error.problems)} problem(s) in {path}:", *_lines(error.problems)]
        ) from None


def _lines(problems: list[Problem]) -> list[str]:
    return [f"  - {problem}" for problem in problems]


def load_stack_file(path_or_stack: str, repo_root: Path | str | None = None) -> list[DeployTarget]:
    """Every (account, region) deploy target of a stack file (see ``read_stack_file``)."""
    return read_stack_file(path_or_stack, repo_root).targets
