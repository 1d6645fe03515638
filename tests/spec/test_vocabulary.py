"""One vocabulary: the spec's errors are the core's InputErrors, and its protocols come from the core's one list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cis_monitoring.core.errors import InputError
from cis_monitoring.core.judge.facts import SubscriptionFacts
from cis_monitoring.core.judge.notification import ALLOWED_PROTOCOLS, protocol_problem
from cis_monitoring.core.problems import Problem
from cis_monitoring.spec import (
    SUBSCRIPTION_PROTOCOLS,
    ConfigError,
    ConfigProblem,
    OrganizationConfig,
    StackFileError,
    load_config,
    read_stack_file,
)
from cis_monitoring.spec.inventory import InventoryError, inventory_accounts


def test_a_config_problem_is_not_the_cores_chain_problem() -> None:
    assert ConfigProblem is not Problem
    assert str(ConfigProblem("accounts[0].name", "is required")) == "accounts[0].name: is required"


def test_config_error_is_an_input_error_whose_lines_are_its_message(dev_config: dict[str, Any]) -> None:
    dev_config["accounts"][0]["id"] = "123"
    dev_config["tagz"] = {}
    with pytest.raises(ConfigError) as raised:
        load_config(dev_config, source="Pulumi.dev.yaml")
    error = raised.value
    assert isinstance(error, InputError) and isinstance(error, ValueError)
    assert error.lines[0] == "2 problem(s) in Pulumi.dev.yaml:"
    assert error.lines[1:] == [f"  - {p}" for p in error.problems]
    assert str(error) == "\n".join(error.lines)


def test_stack_file_error_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        read_stack_file(str(tmp_path / "Pulumi.nowhere.yaml"))
    assert isinstance(raised.value, StackFileError)
    assert raised.value.lines == [f"{tmp_path / 'Pulumi.nowhere.yaml'}: no such stack file"]


def test_inventory_error_is_an_input_error_with_its_key_paths() -> None:
    organization = OrganizationConfig(stack="acme/landing-zone/prod")
    with pytest.raises(InputError) as raised:
        inventory_accounts(None, organization)
    assert isinstance(raised.value, InventoryError) and isinstance(raised.value, ValueError)
    assert raised.value.lines == [
        "  - organization.output: stack 'acme/landing-zone/prod' has no output 'accounts'"
    ]


@pytest.mark.parametrize("protocol", SUBSCRIPTION_PROTOCOLS)
def test_every_protocol_the_config_offers_is_one_the_pack_and_audit_accept(protocol: str) -> None:
    assert protocol in ALLOWED_PROTOCOLS
    assert protocol_problem(SubscriptionFacts(name="s", protocol=protocol, confirmed=True)) is None


def test_email_json_delivers_but_the_config_does_not_offer_it(dev_config: dict[str, Any]) -> None:
    assert protocol_problem(SubscriptionFacts(name="s", protocol="email-json", confirmed=True)) is None
    dev_config["notifications"]["subscriptions"][0]["protocol"] = "email-json"
    with pytest.raises(ConfigError) as raised:
        load_config(dev_config)
    assert [str(p) for p in raised.value.problems] == [
        "notifications.subscriptions[0].protocol: protocol 'email-json' is not allowed; use one of"
        " email, https, sqs, lambda (http and sms would carry alerts unencrypted or unauthenticated)"
    ]
