"""Dev tooling: run the real ``__main__.py`` under Pulumi mocks and record what it registered.

Not product code. The recording keeps what the Pulumi CLI's engine would see for
each resource: type, URN, inputs, provider reference, parent, dependencies and
property dependencies, so tests can assert on them and replay them to the
policy pack as an ``AnalyzeStack`` request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from cis_monitoring.spec.load import read_project_keys
from local.mock_runner import OutputsMonitor, decode_provider_inputs, plain, run_under_mocks

REPO_ROOT = Path(__file__).resolve().parents[1]
PROGRAM = REPO_ROOT / "__main__.py"


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    custom: bool
    inputs: dict[str, Any]
    """Inputs with secrets unwrapped to their values."""
    raw_inputs: dict[str, Any]
    """Inputs as the SDK sent them, secret markers included."""
    outputs: dict[str, Any]
    provider: str
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    id: str | None = None


@dataclass
class ProgramRun:
    resources: list[Registration]
    outputs: dict[str, Any]
    invokes: list[pulumi_mocks.MockCallArgs]
    error: BaseException | None = None

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    def provider_for(self, resource: Registration) -> Registration | None:
        """The provider resource a custom resource was registered with."""
        if not resource.provider:
            return None
        urn = resource.provider.rsplit("::", 1)[0]
        return self.by_urn().get(urn)

    def provider_site(self, resource: Registration) -> tuple[str, str]:
        """The account (``allowedAccountIds``) and Region of the provider ``resource`` was registered
        with (a v7 resource's own ``region`` input, where set, is not applied here)."""
        provider = self.provider_for(resource)
        assert provider is not None, f"{resource.name} was registered without an explicit provider"
        inputs = decode_provider_inputs(provider.inputs)
        return inputs["allowedAccountIds"][0], inputs["region"]


class AwsMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs and fill in the computed AWS attributes the program reads."""

    def __init__(
        self,
        missing_log_groups: Iterable[str] = (),
        on_new_resource: Callable[..., Any] | None = None,
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        log_groups_by_prefix: Mapping[str, Iterable[str]] | None = None,
    ):
        self.missing_log_groups = set(missing_log_groups)
        # getLogGroups answers: prefix -> the group names found; an unlisted prefix finds one group
        # of exactly that name (Control Tower's before landing zone 4.0 added its suffix).
        self.log_groups_by_prefix = {k: list(v) for k, v in (log_groups_by_prefix or {}).items()}
        # Outputs of referenced stacks, by fully qualified name (what StackReference reads).
        self.stack_outputs = dict(stack_outputs or {})
        self.invokes: list[pulumi_mocks.MockCallArgs] = []
        self.provider_inputs: dict[str, dict[str, Any]] = {}
        self._on_new_resource = on_new_resource

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        if self._on_new_resource is not None:
            return self._on_new_resource(args)
        outputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs["name"]
            return name, {
                "name": name,
                "outputs": dict(self.stack_outputs.get(name, {})),
                "secretOutputNames": [],
            }
        if args.typ == "pulumi:providers:aws":
            return f"{args.name}-id", outputs
        # Computed ARNs use the account and region of the resource's own provider.
        provider_inputs = self.provider_inputs.get(args.provider.split("::")[-2] if args.provider else "", {})
        region = provider_inputs.get("region", "us-east-1")
        account = (decode_provider_inputs(provider_inputs).get("allowedAccountIds") or ["123456789012"])[0]
        if args.typ == "aws:sns/topic:Topic":
            outputs["arn"] = f"arn:aws:sns:{region}:{account}:{args.inputs['name']}"
        elif args.typ == "aws:kms/key:Key":
            outputs["arn"] = f"arn:aws:kms:{region}:{account}:key/{args.name}"
            outputs["keyId"] = args.name
        elif args.typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            outputs["arn"] = f"arn:aws:cloudwatch:{region}:{account}:alarm:{args.inputs['name']}"
        elif args.typ == "aws:sns/topicSubscription:TopicSubscription":
            outputs["arn"] = f"{args.inputs['topic']}:{args.name}"
        elif args.typ == "aws:cloudwatch/eventRule:EventRule":
            # A rule outside the provider's Region names its own (per-resource region); a custom bus's rule names it.
            where = args.inputs.get("region") or region
            bus = args.inputs.get("eventBusName")
            rule = f"{bus}/{args.inputs['name']}" if bus and bus != "default" else args.inputs["name"]
            outputs["arn"] = f"arn:aws:events:{where}:{account}:rule/{rule}"
        elif args.typ == "aws:cloudwatch/eventBus:EventBus":
            outputs["arn"] = f"arn:aws:events:{region}:{account}:event-bus/{args.inputs['name']}"
        elif args.typ == "aws:iam/role:Role":
            outputs["arn"] = f"arn:aws:iam::{account}:role/{args.inputs['name']}"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        self.invokes.append(args)
        if args.token == "aws:cloudwatch/getLogGroup:getLogGroup":
            name = args.args["name"]
            if name in self.missing_log_groups:
                # A failure of the data source, as the engine reports a provider's error (an
                # exception here would be a broken RPC, which the SDK reports instead of the program's).
                return {}, [("name", f"reading CloudWatch Logs Log Group ({name}): couldn't find resource")]
            return {
                "name": name,
                "arn": f"arn:aws:logs:{args.args.get('region') or 'us-east-1'}:123456789012:log-group:{name}",
                "id": name,
            }, []
        if args.token == "aws:cloudwatch/getLogGroups:getLogGroups":
            prefix = args.args.get("logGroupNamePrefix") or ""
            region = args.args.get("region") or "us-east-1"
            names = self.log_groups_by_prefix.get(prefix, [prefix])
            return {
                "logGroupNames": names,
                "arns": [f"arn:aws:logs:{region}:123456789012:log-group:{n}" for n in names],
                "logGroupNamePrefix": prefix,
                "region": region,
                "id": region,
            }, []
        return {}, []


class RecordingMonitor(OutputsMonitor):
    """The SDK's mock monitor, also keeping each registration's dependencies and parent."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.mocks_ = mocks
        self.registrations: list[Registration] = []

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                custom=True,
                inputs=plain(pulumi.runtime.rpc.deserialize_properties(request.properties)),
                raw_inputs={},
                outputs=plain(pulumi.runtime.rpc.deserialize_properties(response.properties)),
                provider=request.provider,
                parent=request.parent,
                dependencies=list(request.dependencies),
                property_dependencies={},
                id=request.id or None,
            )
        )
        return response

    def RegisterResource(self, request: Any) -> Any:
        if request.type == "pulumi:providers:aws":
            inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
            self.mocks_.provider_inputs[request.name] = inputs
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
        outputs = pulumi.runtime.rpc.deserialize_properties(response.object) if response.object else {}
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                custom=request.custom,
                inputs=plain(inputs),
                raw_inputs=inputs,
                outputs=plain(outputs),
                provider=request.provider,
                parent=request.parent,
                dependencies=list(request.dependencies),
                property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                id=response.id or None,
            )
        )
        return response


def stack_config(stack: str) -> tuple[dict[str, Any], set[str]]:
    """The project config of ``Pulumi.<stack>.yaml`` (namespace stripped), as the CLI would pass it."""
    return read_project_keys(stack, REPO_ROOT)[1], set()


def run_program(
    config: Mapping[str, Any],
    *,
    stack: str = "test",
    secret_keys: Iterable[str] = (),
    preview: bool = False,
    mocks: AwsMocks | None = None,
    program: Path = PROGRAM,
    restore_collector: bool = True,
) -> ProgramRun:
    """Run ``program`` once under mocks with ``config`` (project keys without namespace)."""
    mocks = mocks or AwsMocks()
    monitor = RecordingMonitor(mocks)
    error = run_under_mocks(
        program,
        config,
        mocks,
        monitor,
        stack=stack,
        secret_keys=secret_keys,
        preview=preview,
        restore_collector=restore_collector,
    )
    outputs = monitor.stack_outputs
    return ProgramRun(resources=monitor.registrations, outputs=outputs, invokes=mocks.invokes, error=error)
