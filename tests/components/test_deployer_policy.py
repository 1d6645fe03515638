"""iam/deployer-policy.json grants what the provider calls when it updates the program's resources.

(tests/audit/test_audit_permissions.py lints the document and checks names and the deny.)
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from local.program_harness import REPO_ROOT

POLICY = json.loads((REPO_ROOT / "iam" / "deployer-policy.json").read_text())
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUEUE = "arn:aws:sqs:us-east-1:555555555555:security-alerts"
PROJECT_TAG = {"StringEquals": {"aws:ResourceTag/Project": "cis-monitoring"}}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granting(action: str, resource: str) -> list[dict[str, Any]]:
    """The Allow statements that name ``action`` on ``resource`` (IAM action names ignore case)."""
    return [
        s
        for s in POLICY["Statement"]
        if s["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _list(s["Action"]))
        and any(fnmatch.fnmatchcase(resource, r) for r in _list(s["Resource"]))
    ]


@pytest.mark.parametrize(
    "action",
    [
        "kms:UpdateKeyDescription",  # a renamed account or namePrefix renames the topic the description names
        "kms:DisableKeyRotation",  # an update that turns rotation off
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
    ],
)
def test_key_updates_are_granted_only_on_this_projects_keys(action: str) -> None:
    statements = granting(action, KEY)
    assert statements, f"{action} is not granted: an update that needs it fails half-way"
    assert all(s.get("Condition") == PROJECT_TAG for s in statements), action


@pytest.mark.parametrize("action", ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"])
def test_a_managed_queue_policy_can_be_written_and_read(action: str) -> None:
    assert granting(action, QUEUE), action


def test_the_deployer_gets_no_other_sqs_call() -> None:
    sqs = {a.lower() for s in POLICY["Statement"] for a in _list(s["Action"]) if a.lower().startswith("sqs:")}
    assert sqs == {"sqs:setqueueattributes", "sqs:getqueueattributes"}
