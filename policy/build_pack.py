"""Build the self-contained policy pack directory: ``policy/`` plus a vendored copy of ``cis_monitoring.core``.

The pack and the program judge with the same core (``cis_monitoring.core``), which lives once in this
repository. ``pulumi policy publish`` and ``pulumi preview --policy-pack DIR`` need a
directory that imports nothing from the checkout, so this step copies the pack's own
files and the core into one directory. Nothing built here is committed.

    python -m policy.build_pack --out dist/policy-pack      (or: make pack)

Exit codes: 0 built, 2 bad usage (the output directory is not empty and not a previous build).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

POLICY_DIR = Path(__file__).resolve().parent
REPO_ROOT = POLICY_DIR.parent
CORE_DIR = REPO_ROOT / "cis_monitoring" / "core"
DEFAULT_OUT = REPO_ROOT / "dist" / "policy-pack"
MARKER = ".cis-monitoring-pack-build"
VENDORED_INIT = (
    '"""cis-monitoring\'s core, vendored into the policy pack by policy/build_pack.py (only ``core``)."""\n'
)
"""Written into every build, so a rebuild may replace it but never another directory."""

PACK_FILES = ("PulumiPolicy.yaml", "__main__.py", "requirements.txt", "README.md", "verdicts.schema.json")
PACK_DIRS = ("cis_guard", "config")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


class BuildError(Exception):
    pass


def build_pack(out: Path = DEFAULT_OUT) -> Path:
    """Write the pack into ``out`` (replacing an earlier build there) and return it."""
    out = out.resolve()
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise BuildError(
                f"{out} exists, is not empty and is not an earlier pack build; choose another --out"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in PACK_FILES:
        shutil.copy2(POLICY_DIR / name, out / name)
    for name in PACK_DIRS:
        shutil.copytree(POLICY_DIR / name, out / name, ignore=_IGNORE)
    shutil.copytree(CORE_DIR, out / "cis_monitoring" / "core", ignore=_IGNORE)
    (out / "cis_monitoring" / "__init__.py").write_text(VENDORED_INIT, encoding="utf-8")
    (out / MARKER).write_text("built by policy/build_pack.py; safe to delete\n", encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policy.build_pack",
        description="Build the self-contained CrossGuard pack (policy/ + vendored cis_monitoring.core).",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    try:
        out = build_pack(args.out)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"policy pack built in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
