"""Every list-typed key given a scalar says "must be a list" and shows the accepted form.

The keys are found by walking the schema, so a new list key is covered without editing
this test; a new model with list keys must be placed in MODEL_PATHS (the test says so).
"""

from __future__ import annotations

import copy
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from cis_monitoring.spec import (
    AccountConfig,
    ConfigError,
    NotificationConfig,
    OrganizationConfig,
    OrganizationTrailConfig,
    SelectorConfig,
    StackConfig,
    load_config,
)
from cis_monitoring.spec.problems import model_in
from cis_monitoring.spec.realtime import HighRiskConfig, RealTimeConfig

# Where an instance of each model sits in a config (a path of keys and indexes).
MODEL_PATHS: dict[type[BaseModel], tuple[str | int, ...]] = {
    StackConfig: (),
    AccountConfig: ("accounts", 0),
    NotificationConfig: ("notifications",),
    OrganizationConfig: ("organization",),
    SelectorConfig: ("organization", "select"),
    OrganizationTrailConfig: ("organizationTrail",),
    RealTimeConfig: ("realTime",),
    HighRiskConfig: ("realTime", "highRisk"),
}


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (tuple, list):
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation) if arg is not type(None))


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    found = [root]
    for field in root.model_fields.values():
        nested = model_in(field.annotation)
        if nested is not None and nested not in found:
            found += [m for m in _models(nested) if m not in found]
    return found


def _list_keys() -> list[tuple[type[BaseModel], str]]:
    return [
        (model, to_camel(name))
        for model in _models(StackConfig)
        for name, field in model.model_fields.items()
        if _is_list(field.annotation)
    ]


def test_every_model_with_list_keys_has_a_place_in_this_test() -> None:
    assert {model for model, _ in _list_keys()} <= set(MODEL_PATHS)
    assert len(_list_keys()) >= 10  # controls, accounts, regions, subscriptions, ... (the walk works)


@pytest.mark.parametrize(("model", "key"), _list_keys(), ids=[f"{m.__name__}.{k}" for m, k in _list_keys()])
def test_a_scalar_list_key_says_list_and_shows_the_form(
    model: type[BaseModel], key: str, dev_config: dict[str, Any]
) -> None:
    config = copy.deepcopy(dev_config)
    config["organization"] = {"stack": "acme/landing-zone/prod", "select": {}}
    config["organizationTrail"] = {"accountId": "111111111111", "homeRegion": "eu-west-1", "logGroup": "org"}
    config["realTime"] = {"highRisk": {"topicArn": "arn:aws:sns:{region}:{accountId}:high-risk"}}
    node: Any = config
    for part in MODEL_PATHS[model]:
        node = node[part]
    node[key] = "us-east-1"
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    path = ".".join(str(p) for p in MODEL_PATHS[model] if isinstance(p, str))
    path = (path + "." if path else "") + key
    path = path.replace("accounts.", "accounts[0].", 1) if model is AccountConfig else path
    [problem] = [p for p in raised.value.problems if p.path == path]
    assert problem.message.startswith("must be a list, not the string 'us-east-1'; write e.g. " + key + ": [")
    assert "valid tuple" not in str(raised.value)
