"""``servicer``: one decoding per request for every policy, and notes that need no hand-off.

In-process, through the servicer class the pack serves with (``decoding_once`` over
pulumi-policy's own ``_PolicyAnalyzerServicer``), on the stack the real program registers for
the dev config. The protocol tests run the same servicer in the built pack over gRPC.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from local.analyzer_client import NO_TRAIL_DECLARED, stack_resources
from local.program_harness import ProgramRun, run_program, stack_config
from policy.cis_guard import collector, servicer
from policy.cis_guard.rules import (
    ALARM_NOT_MUTED,
    CHAIN_POLICY,
    NOTES_POLICY,
    NOTES_WITHOUT_CHAIN_CONFIG,
    policies,
)
from tests.policy.test_pack_protocol import PREVIEW_UNKNOWNS

DecodingServicer = servicer.decoding_once(_PolicyAnalyzerServicer)


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    run = run_program(stack_config("dev")[0], stack="dev")
    assert run.error is None
    return run


@pytest.fixture
def stack(dev_run: ProgramRun) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(resources=stack_resources(dev_run))


def _pack(chosen: list[Any], levels: dict[str, analyzer_pb2.EnforcementLevel] | None = None) -> Any:
    pack = DecodingServicer("cis-monitoring-guard", "1.0.0", chosen, EnforcementLevel.MANDATORY)
    configs = {
        name: analyzer_pb2.PolicyConfig(enforcementLevel=level) for name, level in (levels or {}).items()
    }
    pack.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=configs), None)
    return pack


def _by_policy(response: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for diagnostic in response.diagnostics:
        found.setdefault(diagnostic.policyName, []).append(diagnostic)
    return found


def _notes(response: Any) -> list[str]:
    return sorted(d.message for d in _by_policy(response).get(NOTES_POLICY, []))


def test_the_notes_come_from_the_same_call_in_any_order_and_on_any_thread(
    stack: analyzer_pb2.AnalyzeStackRequest,
) -> None:
    """No hand-off between policies: the notes policy first, or alone on another thread, still has them."""
    in_order = _pack(policies()).AnalyzeStack(stack, None)
    expected = _notes(in_order)
    assert expected and all(NO_TRAIL_DECLARED in n for n in expected)
    assert {d.enforcementLevel for d in _by_policy(in_order)[NOTES_POLICY]} == {analyzer_pb2.ADVISORY}
    assert _notes(_pack(policies()[::-1]).AnalyzeStack(stack, None)) == expected

    answers: list[Any] = []
    pack = _pack(policies())
    worker = threading.Thread(target=lambda: answers.append(pack.AnalyzeStack(stack, None)))
    worker.start()
    worker.join()
    assert _notes(answers[0]) == expected


def test_no_notes_when_the_chain_policy_is_disabled_and_the_chain_without_notes(
    stack: analyzer_pb2.AnalyzeStackRequest,
) -> None:
    without_chain = _pack(policies(), {CHAIN_POLICY: analyzer_pb2.DISABLED}).AnalyzeStack(stack, None)
    assert not _by_policy(without_chain)
    without_notes = _pack(policies(), {NOTES_POLICY: analyzer_pb2.DISABLED}).AnalyzeStack(stack, None)
    assert not _by_policy(without_notes)  # the dev stack's chains are intact: nothing to report


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the SDK's decoding and the pack's run while a test calls the servicer."""
    counts = {"sdk": 0, "pack": 0}

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(json_format, "MessageToDict", counting("sdk", json_format.MessageToDict))
    monkeypatch.setattr(servicer, "decode_resources", counting("pack", servicer.decode_resources))
    return counts


def test_the_stack_is_decoded_once_for_all_stack_policies(
    stack: analyzer_pb2.AnalyzeStackRequest, counted: dict[str, int]
) -> None:
    response = _pack(policies()).AnalyzeStack(stack, None)
    assert _notes(response), "the notes policy ran"
    assert counted == {"sdk": 0, "pack": 1}


def test_a_resource_is_decoded_at_most_once_for_all_resource_policies(
    stack: analyzer_pb2.AnalyzeStackRequest, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pack's own policies read its plain decoding, once; a policy that reads the SDK's proxies gets
    them, decoded once however many such policies there are."""
    plain = {"count": 0}
    decode = servicer.decode_resource

    def counting(request: Any) -> Any:
        plain["count"] += 1
        return decode(request)

    monkeypatch.setattr(servicer, "decode_resource", counting)
    seen: list[Any] = []
    foreign = [
        ResourceValidationPolicy(
            name=f"foreign-{n}",
            description="reads the SDK's proxies",
            validate=lambda args, report: seen.append((dict(args.props), args.provider, args.opts)),
        )
        for n in range(2)
    ]
    resource_policies = [p for p in policies() if isinstance(p, ResourceValidationPolicy)]
    assert len(resource_policies) > 2
    ours, with_foreign = _pack(policies()), _pack([*policies(), *foreign])
    judged = 0
    for resource in stack.resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name
        )
        if resource.HasField("provider"):
            request.provider.CopyFrom(resource.provider)
        counted["sdk"], plain["count"] = 0, 0
        ours.Analyze(request, None)
        assert counted["sdk"] == 0 and plain["count"] <= 1, resource.type
        judged += plain["count"]
        counted["sdk"] = 0
        with_foreign.Analyze(request, None)
        # The SDK's decoding of its properties, and of its provider's: once each for both policies.
        assert counted["sdk"] == 1 + resource.HasField("provider"), resource.type
        assert seen[-1][0] == seen[-2][0] and seen[-1][1] is seen[-2][1]
    assert judged > 0, "the pack's resource policies judged some resources"


def test_where_the_sdk_runs_the_policies_itself_the_chain_is_judged_and_the_notes_say_why_not(
    stack: analyzer_pb2.AnalyzeStackRequest,
) -> None:
    """pulumi-policy's own servicer (the pack could not replace it): each policy decodes for itself."""
    sdk = _PolicyAnalyzerServicer("cis-monitoring-guard", "1.0.0", policies(), EnforcementLevel.MANDATORY)
    sdk.Configure(analyzer_pb2.ConfigureAnalyzerRequest(), None)
    found = _by_policy(sdk.AnalyzeStack(stack, None))
    assert [d.message.split("\n", 1)[1] for d in found.pop(NOTES_POLICY)] == [
        NOTES_WITHOUT_CHAIN_CONFIG.format(chain=CHAIN_POLICY)
    ]
    assert not found  # the chain was judged (the dev stack's chains are intact)
    broken = analyzer_pb2.AnalyzeStackRequest(
        resources=[r for r in stack.resources if r.type != "aws:cloudwatch/metricAlarm:MetricAlarm"]
    )
    chain = _by_policy(sdk.AnalyzeStack(broken, None))[CHAIN_POLICY]
    assert chain and {d.enforcementLevel for d in chain} == {analyzer_pb2.MANDATORY}


def test_other_stack_policies_get_the_sdks_own_args_and_its_preview_rule(dev_run: ProgramRun) -> None:
    """A stack policy that is not the pack's own sees the SDK's proxies, and the SDK's advisory note
    when it reads an unknown value; the pack's policies beside it stay mandatory."""
    seen: list[Any] = []

    def reads_an_unknown(args: Any, report: Any) -> None:
        seen.extend(args.resources)
        alarm = next(r for r in args.resources if r.resource_type == "aws:cloudwatch/metricAlarm:MetricAlarm")
        alarm.props["alarmActions"][0]  # unknown in preview: the SDK's proxy raises

    foreign = StackValidationPolicy(name="foreign", description="reads props", validate=reads_an_unknown)
    preview = analyzer_pb2.AnalyzeStackRequest(resources=stack_resources(dev_run, unknown=PREVIEW_UNKNOWNS))
    found = _by_policy(_pack([*policies(), foreign]).AnalyzeStack(preview, None))
    [note] = found.pop("foreign")
    assert note.enforcementLevel == analyzer_pb2.ADVISORY and "during preview" in note.message
    assert seen and all(r.parent is None or r.parent in seen for r in seen)
    assert not [d for ds in found.values() for d in ds if "during preview" in d.message]


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    # As it was before the test, whatever the test left (one test ends with the collector off).
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_during_analyze_stack_and_on_again_after(
    stack: analyzer_pb2.AnalyzeStackRequest, collector_on: None
) -> None:
    during: list[bool] = []
    watcher = StackValidationPolicy(
        name="watcher", description="watches", validate=lambda args, report: during.append(gc.isenabled())
    )
    _pack([watcher, *(p for p in policies() if p.name == ALARM_NOT_MUTED)]).AnalyzeStack(stack, None)
    assert during == [False] and gc.isenabled()


def test_nested_and_concurrent_pauses_end_with_the_last(collector_on: None) -> None:
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled(), "a collector that was off stays off"
