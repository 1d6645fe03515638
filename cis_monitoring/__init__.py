"""The ``cis-monitoring`` command: one entry point for the audit and the roll-out tools."""
