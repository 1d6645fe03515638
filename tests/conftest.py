"""Shared fixtures. Each Pulumi program run gets its own event loop (see local/program_harness.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local.program_harness import stack_config

PAGER_URL = "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"


@pytest.fixture
def dev_config() -> dict[str, Any]:
    return copy.deepcopy(stack_config("dev")[0])


@pytest.fixture
def prod_config() -> dict[str, Any]:
    """Pulumi.prod.yaml plus the pager secret a real stack keeps encrypted."""
    config = copy.deepcopy(stack_config("prod")[0])
    config["pagerEndpoint"] = PAGER_URL
    return config
