"""The project's name: the Pulumi project, its config namespace and the console command."""

PROJECT = "cis-monitoring"
"""Must equal ``name`` in ``Pulumi.yaml`` (a test holds them together)."""
