"""A small model of what the Pulumi engine does with two runs of a program, and what AWS then holds.

The program runs under mocks (``local.program_harness``); the model then plays the
engine's part for one ``pulumi up`` of a stack:

- a resource of the new run matches the state's resource with the same URN, or else
  one of its aliases (the engine's rule; URNs formed as the engine forms them: a
  top-level resource has no parent type, a child carries its parent's type chain);
- a match whose physical identity changed (or a ``replace_keys`` input, or its
  account or Region) is a replacement: create the new one first, delete the old one
  at the end (Pulumi's default order);
- a state resource nothing matches is deleted at the end of the update;
- a delete of a resource whose state says ``retainOnDelete`` leaves it in AWS.

"AWS" is a set of physical identities (metric filter = account, Region, log group and
filter name; alarm, topic, key alias by name; subscription by topic, protocol and
endpoint; topic and queue policy by topic and queue). Creating an identity that exists
already takes it over silently where the API is a Put or idempotent (PutMetricFilter,
PutMetricAlarm, CreateTopic, Subscribe, SetTopicAttributes, SetQueueAttributes), and
fails loudly where it is not (CreateAlias). After every update has run, a resource that
a stack's state holds but AWS no longer has is a **loss**: deleted after it was created,
the failure this model exists to find.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from local.mock_runner import decode_provider_inputs, run_under_mocks
from local.program_harness import PROGRAM, AwsMocks, RecordingMonitor

PROJECT = "cis-monitoring"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
KEY_ALIAS = "aws:kms/alias:Alias"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
PERMISSION = "aws:lambda/permission:Permission"
PROVIDER = "pulumi:providers:aws"

_IDENTITY = {
    FILTER: lambda i: f"metric-filter {i['logGroupName']} {i['name']}",
    ALARM: lambda i: f"alarm {i['name']}",
    TOPIC: lambda i: f"topic {i['name']}",
    KEY_ALIAS: lambda i: f"key-alias {i['name']}",
    SUBSCRIPTION: lambda i: f"subscription {i['topic']} {i['protocol']} {i['endpoint']}",
    TOPIC_POLICY: lambda i: f"topic-policy {i['arn']}",
    QUEUE_POLICY: lambda i: f"queue-policy {i['queueUrl']}",
}
# Inputs that replace the resource when they change, besides its identity (provider schema: ForceNew).
_REPLACE_KEYS = {PERMISSION: ("action", "function", "principal", "sourceArn")}
_TAKEN_OVER_SILENTLY = {FILTER, ALARM, TOPIC, SUBSCRIPTION, TOPIC_POLICY, QUEUE_POLICY}


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    custom: bool
    identity: str | None
    """What AWS knows the resource by (prefixed with account/Region); None if only by a generated id."""
    target: tuple[str, str] | None = None
    replace_values: tuple[Any, ...] = ()
    retain: bool = False
    aliases: frozenset[str] = frozenset()


@dataclass
class Update:
    """What one ``pulumi up`` of one stack did."""

    stack: str
    created: list[Resource] = field(default_factory=list)
    replaced: list[tuple[Resource, Resource]] = field(default_factory=list)
    kept: list[tuple[Resource, Resource]] = field(default_factory=list)
    removed: list[Resource] = field(default_factory=list)
    retained: list[Resource] = field(default_factory=list)
    """Deleted from the state, left in AWS (retainOnDelete)."""
    conflicts: list[Resource] = field(default_factory=list)
    """Creates AWS refuses because the identity exists (a loud failure of the update)."""
    state: list[Resource] = field(default_factory=list)

    def aws_changes(self) -> list[str]:
        """Every create, replace and delete of a resource that exists in AWS (not components, not
        providers), as text: empty when the update changes nothing in AWS."""
        changes = [f"create {r.urn}" for r in self.created if _in_aws(r)]
        changes += [f"replace {new.urn}" for _, new in self.replaced if _in_aws(new)]
        changes += [f"delete {r.urn}" for r in self.removed if _in_aws(r)]
        return changes


def _in_aws(resource: Resource) -> bool:
    return resource.custom and resource.type != PROVIDER


# ---------------------------------------------------------------- recording a run


class _OptionsMonitor(RecordingMonitor):
    """Also keeps each registration's aliases and retainOnDelete (the engine reads both)."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.options: dict[str, tuple[list[Any], bool]] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        self.options[response.urn] = (list(request.aliases), bool(request.retainOnDelete))
        return response


def engine_urn(stack: str, parent_urn: str | None, type_: str, name: str) -> str:
    qualified = type_ if not parent_urn else f"{parent_urn.split('::')[2]}${type_}"
    return f"urn:pulumi:{stack}::{PROJECT}::{qualified}::{name}"


def _alias_urn(alias: Any, stack: str, parent_urn: str | None, type_: str, name: str) -> str:
    if alias.WhichOneof("alias") == "urn":
        return alias.urn
    spec = alias.spec
    parent = None if spec.noParent else (spec.parentUrn or parent_urn)
    return engine_urn(spec.stack or stack, parent, spec.type or type_, spec.name or name)


def record(
    config: Mapping[str, Any],
    *,
    stack: str,
    secret_keys: Iterable[str] = (),
    program: Any = PROGRAM,
) -> list[Resource]:
    """Run the program once under mocks; its resources as the engine would see them."""
    mocks = AwsMocks()
    monitor = _OptionsMonitor(mocks)
    error = run_under_mocks(program, config, mocks, monitor, stack=stack, secret_keys=secret_keys)
    assert error is None, error
    registrations = monitor.registrations
    by_mock_urn = {r.urn: r for r in registrations}
    real: dict[str, str] = {}
    resources = []
    for r in registrations:  # parents register before their children
        parent = real.get(r.parent)
        urn = engine_urn(stack, parent, r.type, r.name)
        real[r.urn] = urn
        aliases, retain = monitor.options.get(r.urn, ([], False))
        target = None
        if r.provider:
            provider = decode_provider_inputs(by_mock_urn[r.provider.rsplit("::", 1)[0]].inputs)
            target = (provider["allowedAccountIds"][0], provider["region"])
        resources.append(
            Resource(
                urn=urn,
                type=r.type,
                custom=r.custom,
                identity=identity_of(r.type, r.inputs, target),
                target=target,
                replace_values=tuple(r.inputs.get(k) for k in _REPLACE_KEYS.get(r.type, ())),
                retain=retain,
                aliases=frozenset(_alias_urn(a, stack, parent, r.type, r.name) for a in aliases),
            )
        )
    return resources


def identity_of(type_: str, inputs: Mapping[str, Any], target: tuple[str, str] | None) -> str | None:
    describe = _IDENTITY.get(type_)
    if describe is None or target is None:
        return None
    return f"{target[0]}/{target[1]} {describe(inputs)}"


def from_recorded(
    stack: str, rows: Sequence[tuple[str, str | None, str | None, tuple[Any, ...]]]
) -> list[Resource]:
    """A state written by an earlier release, recorded as (URN, account/Region, identity, replace values)."""
    resources = []
    for urn, where, identity, values in rows:
        assert urn.startswith(f"urn:pulumi:{stack}::{PROJECT}::"), urn
        type_ = urn.split("::")[2].split("$")[-1]
        custom = not type_.startswith(f"{PROJECT}:")
        target = tuple(where.split("/")) if where else None
        resources.append(Resource(urn, type_, custom, identity, target, tuple(values)))  # type: ignore[arg-type]
    return resources


def as_rows(resources: Iterable[Resource]) -> list[tuple[str, str | None, str | None, tuple[Any, ...]]]:
    """The inverse of ``from_recorded`` (how the recorded rows were made)."""
    return [
        (r.urn, "/".join(r.target) if r.target else None, r.identity, r.replace_values)
        for r in sorted(resources, key=lambda r: r.urn)
    ]


def moved(resources: Iterable[Resource], to_stack: str) -> list[Resource]:
    """What ``pulumi state move`` writes into the destination stack: the same resources, its URNs."""
    result = []
    for r in resources:
        rest = r.urn.split("::", 1)[1]
        result.append(replace(r, urn=f"urn:pulumi:{to_stack}::{rest}"))
    return result


# ---------------------------------------------------------------- the engine's diff and AWS


def update(world: set[str], stack: str, state: Sequence[Resource], goal: Sequence[Resource]) -> Update:
    """One ``pulumi up`` of ``stack`` from ``state`` to ``goal``; changes ``world`` (what AWS holds)."""
    result = Update(stack)
    by_urn = {r.urn: r for r in state}
    claimed: dict[str, str] = {}
    for new in goal:
        old = by_urn.get(new.urn) or next((by_urn[a] for a in sorted(new.aliases) if a in by_urn), None)
        if old is not None:
            assert old.urn not in claimed, f"{new.urn} and {claimed.get(old.urn)} both match {old.urn}"
            claimed[old.urn] = new.urn
        if old is None or _replaces(old, new):
            if new.identity and new.identity in world and new.type not in _TAKEN_OVER_SILENTLY:
                result.conflicts.append(new)
                continue
            if new.identity:
                world.add(new.identity)
            if old is None:
                result.created.append(new)
            else:
                result.replaced.append((old, new))
        else:
            result.kept.append((old, new))
        result.state.append(new)
    result.removed = [r for r in state if r.urn not in claimed]
    # Deletes run last: replaced resources (create-before-delete), then the ones the program dropped.
    for old in [old for old, _ in result.replaced] + result.removed:
        if old.retain:
            result.retained.append(old)
        elif old.identity:
            world.discard(old.identity)
    return result


def _replaces(old: Resource, new: Resource) -> bool:
    if not new.custom:
        return False
    return (old.identity, old.target, old.replace_values) != (new.identity, new.target, new.replace_values)


def losses(world: set[str], *states: Sequence[Resource]) -> list[str]:
    """Resources a stack's state holds that AWS no longer has: each one was deleted after a create."""
    return sorted(
        f"{r.urn} ({r.identity})" for s in states for r in s if r.identity and r.identity not in world
    )


def leftovers(world: set[str], *states: Sequence[Resource]) -> set[str]:
    """What AWS holds that no stack's state does (retained resources)."""
    return world - {r.identity for s in states for r in s if r.identity}


def world_of(*states: Sequence[Resource]) -> set[str]:
    return {r.identity for s in states for r in s if r.identity}
