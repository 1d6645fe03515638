"""The Pulumi program's helpers (needs pulumi and pulumi-aws: the ``program`` extra)."""
