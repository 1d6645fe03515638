"""Input transformers rendered as the EventBridge User Guide's "Transforming target input" shows them."""

from __future__ import annotations

import json

import pytest

from cis_monitoring.core.event_pattern import InputTransformer, TemplateError, message_text, render

# The guide's own example event and input path.
EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}


@pytest.mark.parametrize(
    ("template", "output"),
    [
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        ('"instance \\"<instance>\\" is in <state>"', '"instance \\"i-0123456789\\" is in RUNNING"'),
        ('{"instance" : <instance>, "state": <state>}', '{"instance" : "i-0123456789", "state": "RUNNING"}'),
        (
            '{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
            '{"instance" : "i-0123456789", "state": [ 9, "RUNNING", true ], "Transformed" : "Yes"}',
        ),
        ('"<aws.events.rule-name> triggered"', '"example triggered"'),
        (
            '{"ruleArn" : <aws.events.rule-arn>}',
            '{"ruleArn" : "arn:aws:events:us-east-2:123456789012:rule/example"}',
        ),
    ],
)
def test_the_guides_examples(template: str, output: str) -> None:
    rendered = render(
        InputTransformer(template, PATHS),
        EVENT,
        rule_name="example",
        rule_arn="arn:aws:events:us-east-2:123456789012:rule/example",
    )
    assert rendered == output


def test_the_original_event_goes_in_as_json() -> None:
    rendered = render(InputTransformer('{"originalEvent" : <aws.events.event>}'), EVENT)
    assert json.loads(rendered)["originalEvent"] == EVENT


def test_a_path_the_event_lacks_leaves_nothing_inside_quotes() -> None:
    rendered = render(InputTransformer('"error: <error>."', {"error": "$.detail.errorCode"}), EVENT)
    assert message_text(rendered) == "error: ."


def test_a_missing_value_outside_quotes_is_not_guessed() -> None:
    with pytest.raises(TemplateError, match="not documented"):
        render(InputTransformer('{"error": <error>}', {"error": "$.detail.errorCode"}), EVENT)


def test_an_unknown_placeholder_stays_as_text() -> None:
    assert render(InputTransformer('"a <b> c"'), EVENT) == '"a <b> c"'


@pytest.mark.parametrize(
    "paths",
    [{"x": "$.detail['state']"}, {"x": "detail.state"}, {"aws.mine": "$.time"}, {"bad key": "$.time"}],
)
def test_what_the_api_refuses_is_an_error(paths: dict[str, str]) -> None:
    with pytest.raises(TemplateError):
        render(InputTransformer('"<x>"', paths), EVENT)
