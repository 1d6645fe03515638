"""Alias kept for scripts: ``python -m cis_tools.audit`` is ``cis-monitoring audit`` (``verify.cli``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cis_monitoring.cli import run


def main(argv: Sequence[str] | None = None) -> int:
    return run("audit", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
