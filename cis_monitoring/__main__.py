"""``python -m cis_monitoring ...`` is the same as the ``cis-monitoring`` command."""

from cis_monitoring.cli import main

raise SystemExit(main())
