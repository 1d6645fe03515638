"""Shared fixtures. Each Pulumi program run gets its own event loop (see local/program_harness.py).

Third-party imports stay inside the fixtures: the core's tests (tests/core) must run with only
the standard library and pytest importable (tests/test_packaging.py proves it).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

PAGER_URL = "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"


def _stack_config(name: str) -> dict[str, Any]:
    from local.program_harness import stack_config  # reads YAML: not for the core's tests

    return copy.deepcopy(stack_config(name)[0])


@pytest.fixture
def dev_config() -> dict[str, Any]:
    return _stack_config("dev")


@pytest.fixture
def prod_config() -> dict[str, Any]:
    """Pulumi.prod.yaml plus the pager secret a real stack keeps encrypted."""
    config = _stack_config("prod")
    config["pagerEndpoint"] = PAGER_URL
    return config
