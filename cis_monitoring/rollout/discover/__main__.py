"""``python -m cis_monitoring.rollout.discover``: the same as ``cis-monitoring discover``."""

from cis_monitoring.rollout.discover.cli import main

raise SystemExit(main())
