"""Operator tools for cis-monitoring that read the same stack config as the program (e.g. ``python -m cis_tools.audit``)."""
