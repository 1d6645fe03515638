"""Alias kept for scripts: ``python -m cis_tools.shards`` is ``cis-monitoring shards`` (``rollout.shards``)."""

from rollout.shards import main

if __name__ == "__main__":
    raise SystemExit(main())
