"""Alias kept for scripts: ``python -m cis_tools.demo`` is ``make demo`` (``local.demo``)."""

from local.demo import main

if __name__ == "__main__":
    raise SystemExit(main())
