"""cis-monitoring: CIS AWS Foundations monitoring controls across an AWS organization.

``core`` (standard library only) judges; ``spec`` reads stack files; ``audit`` reads AWS;
``rollout`` discovers and shards; ``program`` holds the Pulumi program's helpers; ``cli``
is the ``cis-monitoring`` command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cis-monitoring")
except PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"
