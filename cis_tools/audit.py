"""Alias kept for scripts: ``python -m cis_tools.audit`` is ``cis-monitoring audit`` (``verify.cli``)."""

from verify.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
