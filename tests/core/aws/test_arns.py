"""ARN parsing and building: the one place that knows what ARNs and account ids look like."""

from __future__ import annotations

import pytest

from cis_monitoring.core.aws import arns
from cis_monitoring.core.aws.arns import Arn


def test_parse_arn_splits_five_parts_and_keeps_colons_in_the_resource() -> None:
    arn = arns.parse_arn("arn:aws:lambda:us-east-1:111111111111:function:page:live")
    assert arn == Arn("aws", "lambda", "us-east-1", "111111111111", "function:page:live")
    assert str(arn) == "arn:aws:lambda:us-east-1:111111111111:function:page:live"
    assert arns.parse_arn("arn:aws-us-gov:iam::111111111111:role/x").partition == "aws-us-gov"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "arn:aws:sqs",
        "arn:aws:sqs:us-east-1:111111111111:",
        "urn:aws:sqs:r:a:q",
        "arn:gcp:sqs:r:a:q",
        None,
        7,
    ],
)
def test_parse_arn_refuses_what_is_not_an_arn(text: object) -> None:
    assert arns.parse_arn(text) is None


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("arn:aws:iam::111111111111:role/cis-monitoring-deployer", True),
        ("arn:aws:iam::111111111111:role/path/to/name", True),
        ("arn:aws-cn:iam::111111111111:role/x", True),
        ("arn:aws:iam:us-east-1:111111111111:role/x", False),  # IAM is global: no Region
        ("arn:aws:iam::11111111111:role/x", False),
        ("arn:aws:iam::111111111111:user/x", False),
        ("arn:aws:iam::111111111111:role/" + "x" * 513, False),
        ("cis-monitoring-deployer", False),
    ],
)
def test_role_arns(text: str, ok: bool) -> None:
    assert (arns.parse_role_arn(text) is not None) is ok


def test_sns_topic_arns_with_and_without_placeholders() -> None:
    placeholder = "arn:aws:sns:{region}:{accountId}:aws-controltower-SecurityNotifications"
    assert arns.parse_sns_topic_arn(placeholder) is None
    assert arns.parse_sns_topic_arn(placeholder, placeholders=True).region == "{region}"
    assert arns.parse_sns_topic_arn("arn:aws:sns:eu-west-1:111111111111:alerts").region == "eu-west-1"
    assert arns.parse_sns_topic_arn("arn:aws:sqs:eu-west-1:111111111111:alerts") is None
    assert arns.parse_sns_topic_arn("arn:aws:sns:eu-west-1:111111111111:a b") is None


def test_queue_and_function_arns() -> None:
    queue = arns.parse_sqs_queue_arn("arn:aws:sqs:us-east-1:555555555555:security-alerts")
    assert (queue.account, queue.region, queue.resource) == ("555555555555", "us-east-1", "security-alerts")
    assert arns.parse_sqs_queue_arn("arn:aws:sqs:us-east-1:555555555555:q.fifo") is not None
    assert arns.parse_sqs_queue_arn("arn:aws:sqs:us-east-1:alerts") is None
    function = arns.parse_lambda_function_arn("arn:aws:lambda:eu-west-1:111111111111:function:page:3")
    assert (function.account, function.region) == ("111111111111", "eu-west-1")
    assert arns.parse_lambda_function_arn("arn:aws:lambda:us-east-1:111111111111:page") is None


def test_account_ids_and_building() -> None:
    assert arns.is_account_id("012345678901") and not arns.is_account_id(12345678901)
    assert not arns.is_account_id("12345678901a")
    assert arns.role_arn("111111111111", "cis-auditor") == "arn:aws:iam::111111111111:role/cis-auditor"
    assert (
        arns.role_arn("111111111111", "/ops/r", partition="aws-cn")
        == "arn:aws-cn:iam::111111111111:role/ops/r"
    )
    assert arns.parse_role_arn(arns.role_arn("111111111111", "ops/r")) is not None
    filled = arns.fill_placeholders("arn:aws:sns:{region}:{accountId}:t", "111111111111", "eu-west-1")
    assert filled == "arn:aws:sns:eu-west-1:111111111111:t"


def test_arns_is_standard_library_only() -> None:
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(arns.__file__).read_text(encoding="utf-8"))
    modules = {
        (n.module or "").split(".")[0] if isinstance(n, ast.ImportFrom) else a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])
    }
    assert modules - {"__future__"} <= set(sys.stdlib_module_names)
