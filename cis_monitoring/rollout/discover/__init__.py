"""Discover an AWS organization's accounts, trails and log groups, as stack config (``cis-monitoring discover``).

Modules: ``aws`` (sessions), ``organization`` (accounts, OUs), ``reader`` (what each account
shows), ``plan`` (what to write, pure), ``entries`` (config entries, merging), ``render`` and
``rewrite`` (YAML), ``names``, ``cli``. ``python -m cis_monitoring.rollout.discover`` runs the command.
"""

from __future__ import annotations

from cis_monitoring.rollout.discover.cli import main, run

__all__ = ["main", "run"]
