"""Alias kept for scripts: ``python -m cis_tools.discover`` is ``cis-monitoring discover`` (``rollout.discover``)."""

from rollout.discover import main

if __name__ == "__main__":
    raise SystemExit(main())
