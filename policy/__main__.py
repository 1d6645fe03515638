"""Entry point the Pulumi CLI runs: build the pack, which then serves until the CLI is done."""

from cis_guard.pack import build_pack

build_pack()
