"""The config package's shape: one job per module, the public API every importer uses, no ARN parsing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import components.config as config
from local.program_harness import REPO_ROOT

PACKAGE = REPO_ROOT / "components" / "config"
PRODUCT_DIRS = (
    "components",
    "verify",
    "rollout",
    "local",
    "benchmarks",
    "cis_monitoring",
    "cis_tools",
    "tests",
)


def _imported_names() -> dict[str, set[str]]:
    """Names imported from components.config (or .config inside components), by importing file."""
    found: dict[str, set[str]] = {}
    files = [REPO_ROOT / "__main__.py", *(p for d in PRODUCT_DIRS for p in (REPO_ROOT / d).rglob("*.py"))]
    for path in files:
        if PACKAGE in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            relative = node.level == 1 and node.module == "config" and path.parent.name == "components"
            if node.module == "components.config" or relative:
                found.setdefault(str(path.relative_to(REPO_ROOT)), set()).update(a.name for a in node.names)
    return found


def test_every_name_imported_from_components_config_exists() -> None:
    imported = _imported_names()
    assert imported, "the walk found no importer"
    missing = {f: sorted(n for n in names if not hasattr(config, n)) for f, names in imported.items()}
    assert {f: n for f, n in missing.items() if n} == {}


def test_the_public_api_is_re_exports_only() -> None:
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "ImportFrom", "Assign"}  # docstring, re-exports, __all__
    assert sorted(config.__all__) == sorted(set(config.__all__))
    assert all(hasattr(config, name) for name in config.__all__)


def test_no_module_is_over_400_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert len(sizes) >= 7 and max(sizes.values()) <= 400, sizes


def test_config_parses_no_arn_itself() -> None:
    # cis_core/aws/arns.py is the one place that knows what an ARN looks like.
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"re\.compile\([^)]*arn", text), path.name
        assert 'split(":")' not in text, path.name


def test_deploy_targets_and_audit_locations_are_different_types() -> None:
    from verify.locations import AuditLocation

    assert not hasattr(config, "Target")
    assert set(AuditLocation.__dataclass_fields__) < set(config.DeployTarget.__dataclass_fields__)
    assert "notifications" not in AuditLocation.__dataclass_fields__
    assert Path(config.__file__).parent == PACKAGE
