"""``python -m rollout.discover``: the same as ``cis-monitoring discover``."""

from rollout.discover.cli import main

raise SystemExit(main())
