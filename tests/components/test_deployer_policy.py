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


# ---------------------------------------------------------------- decided as IAM decides (the core's evaluator)

OTHER_KEY = "arn:aws:kms:us-east-1:111111111111:key/0987dcba-09fe-87dc-65ba-ab0987654321"
"""A key the program did not create (the trail's key, another team's)."""
MRK = "arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab"
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:pager-relay"
OURS = "cis-monitoring"


def decide_request(action: str, resource: str, **context: str | None) -> str:
    """IAM's decision for the deployer's request under this one identity policy, with its condition keys.

    The core's three-valued evaluator (``cis_monitoring.core.judge.policy_document``) takes resource
    policies: each statement gets ``"Principal": "*"`` (an identity policy applies to its holder).
    ``context``: condition keys with ``_`` for ``/`` (``aws_RequestTag_Project``), lowercased as IAM
    compares them; None means absent from the request. A key not given is unknown (a condition on it is
    "undecided", never allowed).
    """
    from cis_monitoring.core.judge.policy_document import Request, decide, parse_policy

    statements = parse_policy({"Statement": [{**s, "Principal": "*"} for s in POLICY["Statement"]]})
    known = {
        key.replace("aws_", "aws:", 1).replace("_", "/").lower(): value for key, value in context.items()
    }
    known = {key.replace("lambda/", "lambda:", 1): value for key, value in known.items()}
    return decide(statements, Request("deployer", action, resource, known)).outcome


@pytest.mark.parametrize("key", [OTHER_KEY, MRK])
@pytest.mark.parametrize("resource_tag", [None, "another-project"])
def test_the_deployer_cannot_make_another_key_a_project_key(key: str, resource_tag: str | None) -> None:
    """Tagging a key Project=cis-monitoring would hand it PutKeyPolicy and ScheduleKeyDeletion."""
    request_tag = {"aws_RequestTag_Project": OURS, "aws_ResourceTag_Project": resource_tag}
    assert decide_request("kms:TagResource", key, **request_tag) == "denied"
    assert decide_request("kms:UntagResource", key, aws_ResourceTag_Project=resource_tag) == "denied"
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:UpdateKeyDescription"):
        assert decide_request(action, key, aws_ResourceTag_Project=resource_tag) == "not allowed", action


@pytest.mark.parametrize(
    "resource",
    # CreateKey's own tagging is authorized on no particular key: KMS, "Controlling access to tags": "To add
    # tags while creating a KMS key, the principal must have permission in an IAM policy that isn't
    # restricted to particular KMS keys"; AWS's denial names no resource. Either reading passes.
    ["*", "arn:aws:kms:us-east-1:111111111111:key/*"],
)
def test_a_new_key_is_created_with_the_project_tag_and_only_with_it(resource: str) -> None:
    assert decide_request("kms:CreateKey", "*", aws_RequestTag_Project=OURS) == "allowed"
    assert decide_request("kms:CreateKey", "*", aws_RequestTag_Project=None) == "not allowed"
    assert decide_request("kms:CreateKey", "*", aws_RequestTag_Project="another-project") == "not allowed"
    tagging = {"aws_RequestTag_Project": OURS, "aws_ResourceTag_Project": None}
    assert decide_request("kms:TagResource", resource, **tagging) == "allowed"


def test_this_projects_keys_can_be_retagged_and_updated() -> None:
    ours = {"aws_ResourceTag_Project": OURS}
    assert decide_request("kms:TagResource", KEY, aws_RequestTag_Project=None, **ours) == "allowed"
    assert decide_request("kms:UntagResource", KEY, **ours) == "allowed"
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKeyRotation"):
        assert decide_request(action, KEY, **ours) == "allowed", action
    # Rotation must work on a key created a moment ago (tags may take minutes to count for
    # authorization: KMS, "Use tags to control access to KMS keys"); it only makes a key stronger.
    assert decide_request("kms:EnableKeyRotation", KEY, aws_ResourceTag_Project=None) == "allowed"


@pytest.mark.parametrize(
    ("principal", "outcome"),
    [
        ("sns.amazonaws.com", "allowed"),
        ("events.amazonaws.com", "not allowed"),
        ("*", "not allowed"),
        ("111111111111", "not allowed"),
    ],
)
def test_the_deployer_lets_only_sns_invoke_a_function(principal: str, outcome: str) -> None:
    """lambda:AddPermission with any principal would let the deployer open any function to anyone."""
    assert decide_request("lambda:AddPermission", FUNCTION, lambda_Principal=principal) == outcome


def test_the_deployer_can_still_remove_its_function_permission() -> None:
    assert decide_request("lambda:RemovePermission", FUNCTION) == "allowed"
    assert decide_request("lambda:GetPolicy", FUNCTION) == "allowed"
