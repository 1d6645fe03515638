"""``decode``: the request straight into plain ``Resource`` objects equals the SDK's path.

The SDK's path is what the pack did before and still does where pulumi-policy runs a policy
itself: pulumi-policy's own servicer builds its ``PolicyResource`` proxies, and
``rules.to_resource`` copies them through ``stack_model.plain``. Both are run here on the
stacks the real program registers, known and with preview unknowns, and must agree exactly.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy import proxy as sdk_proxy
from pulumi_policy.deserialize import SPECIAL_ASSET_SIG, SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.policy import _PolicyAnalyzerServicer

from local.analyzer_client import stack_resources
from local.program_harness import ProgramRun, run_program, stack_config
from policy.cis_guard.decode import decode_resource, decode_resources, decode_struct
from policy.cis_guard.rules import to_resource
from policy.cis_guard.stack_model import UNKNOWN, Resource
from tests.policy.test_pack_protocol import PREVIEW_UNKNOWNS


def _sdk_resources(resources: list[analyzer_pb2.AnalyzerResource]) -> list[Resource]:
    """The stack as pulumi-policy's own servicer shows it to a stack policy, copied by ``to_resource``."""
    seen: list[Resource] = []

    def capture(args: Any, report: Any) -> None:
        seen.extend(to_resource(r) for r in args.resources)

    policy = StackValidationPolicy(name="capture", description="captures", validate=capture)
    servicer = _PolicyAnalyzerServicer("capture", "0.0.1", [policy], EnforcementLevel.MANDATORY)
    response = servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), None)
    assert not response.diagnostics
    return seen


@pytest.fixture(scope="module")
def prod_run() -> ProgramRun:
    from tests.conftest import PAGER_URL

    config = stack_config("prod")[0]
    config["pagerEndpoint"] = PAGER_URL  # a secret: the SDK unwraps it
    run = run_program(config, stack="prod", secret_keys=["pagerEndpoint"])
    assert run.error is None
    return run


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_decoded_stack_equals_the_sdks_proxies_copied(prod_run: ProgramRun, preview: bool) -> None:
    resources = stack_resources(prod_run, unknown=PREVIEW_UNKNOWNS if preview else None)
    decoded = decode_resources(resources)
    assert decoded == _sdk_resources(resources)
    # The comparison means something: the stack has providers, dependencies and (in preview) unknowns.
    assert any(r.provider_props for r in decoded) and any(r.property_dependencies for r in decoded)
    assert preview == any(UNKNOWN in r.props.values() for r in decoded)


def test_dependencies_outside_the_request_are_left_out_as_the_sdk_does(prod_run: ProgramRun) -> None:
    resources = stack_resources(prod_run)
    topics = {r.urn for r in resources if r.type == "aws:sns/topic:Topic"}
    without_topics = [r for r in resources if r.urn not in topics]
    decoded = decode_resources(without_topics)
    assert decoded == _sdk_resources(without_topics)
    assert not any(u in topics for r in decoded for deps in r.property_dependencies.values() for u in deps)


def test_values_the_sdk_unwraps_or_marks() -> None:
    """Secrets become their value, unknown sentinels UNKNOWN at any depth, an asset what the SDK makes."""
    struct = struct_pb2.Struct()
    struct.update(
        {
            "secret": {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": {"inner": [1, "x"]}},
            "nested": {
                "list": ["a", sdk_proxy.UNKNOWN_STRING_VALUE],
                "flag": sdk_proxy.UNKNOWN_BOOLEAN_VALUE,
            },
            "array": sdk_proxy.UNKNOWN_ARRAY_VALUE,
            "asset": {SPECIAL_SIG_KEY: SPECIAL_ASSET_SIG, "text": "hello"},
            "none": None,
            "number": 3,
        }
    )
    decoded = decode_struct(struct)
    assert decoded["secret"] == {"inner": [1.0, "x"]}
    assert decoded["nested"] == {"list": ["a", UNKNOWN], "flag": UNKNOWN} and decoded["array"] is UNKNOWN
    assert decoded["none"] is None and decoded["number"] == 3.0
    request = analyzer_pb2.AnalyzerResource(urn="urn:x", type="t", name="n", properties=struct)
    [ours], [sdks] = decode_resources([request]), _sdk_resources([request])
    ours_asset, sdks_asset = ours.props.pop("asset"), sdks.props.pop("asset")  # assets have no __eq__
    assert type(ours_asset) is type(sdks_asset) and ours_asset.text == sdks_asset.text == "hello"
    assert ours == sdks


def test_a_single_resource_decodes_as_in_the_stack(prod_run: ProgramRun) -> None:
    for resource in stack_resources(prod_run, unknown=PREVIEW_UNKNOWNS)[:40]:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name
        )
        if resource.HasField("provider"):
            request.provider.CopyFrom(resource.provider)
        single = decode_resource(request)
        [in_stack] = decode_resources([resource])
        assert single.props == in_stack.props and single.provider_props == in_stack.provider_props
        assert (single.urn, single.type, single.name, single.provider_urn) == (
            in_stack.urn,
            in_stack.type,
            in_stack.name,
            in_stack.provider_urn,
        )
