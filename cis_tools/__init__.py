"""Aliases of the old ``python -m cis_tools.<tool>`` commands; the tools live in ``verify``, ``rollout`` and ``local``."""
