"""Deploy the program into the AWS emulator without the Pulumi CLI. A test and demo tool, not product code.

The Pulumi CLI and its AWS provider plugin are not always available (CI sandboxes, a
laptop without Pulumi). ``EmulatorDeployMocks`` stands in for them: it runs the real
``__main__.py`` under Pulumi's mocks and, for each resource the program registers,
creates that resource in the emulator with boto3 from exactly the inputs the program
gave pulumi-aws, in the account and region of the resource's own provider (assuming the
provider's role when it has one, and refusing accounts outside ``allowedAccountIds`` as
the real provider does). The emulator's real ids and ARNs go back to the program as
outputs. It only creates (no update, no delete), and it models only the inputs the
program uses: an unknown resource type, invoke or input is an error, never ignored.

``local/emulator_adapter.py`` mixes this into the recording harness for the tests; ``local.demo``
uses ``deploy_stack`` when no ``pulumi`` binary is on PATH.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from botocore.exceptions import ClientError
from pulumi.runtime import mocks as pulumi_mocks

from cis_monitoring.spec.load import read_project_keys
from local.emulator import EmulatorSessions
from local.mock_runner import OutputsMonitor, decode_provider_inputs, plain, run_under_mocks

REPO_ROOT = Path(__file__).resolve().parents[1]

PROVIDER = "pulumi:providers:aws"
GET_LOG_GROUP = "aws:cloudwatch/getLogGroup:getLogGroup"
GET_LOG_GROUPS = "aws:cloudwatch/getLogGroups:getLogGroups"


class EmulatorDeployError(RuntimeError):
    """The emulator refused a resource, or the adapter cannot model it."""


@dataclass(frozen=True)
class ProviderTarget:
    """Where a registered ``pulumi:providers:aws`` acts: its account, region and identity."""

    name: str
    account_id: str
    region: str
    role_arn: str | None
    external_id: str | None
    session_name: str
    default_tags: Mapping[str, str]


@dataclass(frozen=True)
class Created:
    type: str
    name: str
    account_id: str
    region: str
    id: str


Handler = Callable[[ProviderTarget, str, str, dict[str, Any]], tuple[str, dict[str, Any]]]

# The alarm inputs the adapter passes to PutMetricAlarm, and under which request names.
_ALARM_FIELDS = {
    "name": "AlarmName",
    "alarmDescription": "AlarmDescription",
    "metricName": "MetricName",
    "namespace": "Namespace",
    "statistic": "Statistic",
    "extendedStatistic": "ExtendedStatistic",
    "period": "Period",
    "threshold": "Threshold",
    "comparisonOperator": "ComparisonOperator",
    "evaluationPeriods": "EvaluationPeriods",
    "datapointsToAlarm": "DatapointsToAlarm",
    "treatMissingData": "TreatMissingData",
    "unit": "Unit",
    "actionsEnabled": "ActionsEnabled",
    "alarmActions": "AlarmActions",
    "okActions": "OKActions",
    "insufficientDataActions": "InsufficientDataActions",
}
_ALARM_INTEGERS = {"period", "evaluationPeriods", "datapointsToAlarm"}


class EmulatorDeployMocks(pulumi.runtime.Mocks):
    """Pulumi mocks that create every registered resource in the emulator at ``endpoint``."""

    def __init__(self, endpoint: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # cooperative: the test adapter mixes in the harness's AwsMocks
        self.endpoint = endpoint.rstrip("/")
        self.sessions = EmulatorSessions(self.endpoint)
        self.providers: dict[str, ProviderTarget] = {}
        self.created: list[Created] = []
        self.calls: list[pulumi_mocks.MockCallArgs] = []
        self._lock = threading.Lock()
        self._handlers: dict[str, tuple[frozenset[str], Handler]] = {
            "aws:kms/key:Key": (
                frozenset({"description", "policy", "enableKeyRotation", "deletionWindowInDays", "tags"}),
                self._kms_key,
            ),
            "aws:kms/alias:Alias": (frozenset({"name", "targetKeyId"}), self._kms_alias),
            "aws:sns/topic:Topic": (
                frozenset({"name", "kmsMasterKeyId", "displayName", "policy", "tags"}),
                self._topic,
            ),
            "aws:sns/topicPolicy:TopicPolicy": (frozenset({"arn", "policy"}), self._topic_policy),
            "aws:sns/topicSubscription:TopicSubscription": (
                # endpointAutoConfirms only makes the provider wait for the confirmation: no API input.
                frozenset(
                    {
                        "topic",
                        "protocol",
                        "endpoint",
                        "rawMessageDelivery",
                        "filterPolicy",
                        "endpointAutoConfirms",
                    }
                ),
                self._subscription,
            ),
            "aws:sqs/queuePolicy:QueuePolicy": (frozenset({"queueUrl", "policy"}), self._queue_policy),
            "aws:cloudwatch/logMetricFilter:LogMetricFilter": (
                frozenset({"name", "logGroupName", "pattern", "metricTransformation"}),
                self._metric_filter,
            ),
            "aws:cloudwatch/metricAlarm:MetricAlarm": (
                frozenset({*_ALARM_FIELDS, "tags", "dimensions"}),
                self._metric_alarm,
            ),
            "aws:lambda/permission:Permission": (
                frozenset({"action", "function", "principal", "sourceArn", "sourceAccount", "statementId"}),
                self._lambda_permission,
            ),
            # realTime: the rules, their targets, and the forwarding role.
            "aws:cloudwatch/eventRule:EventRule": (
                frozenset({"name", "description", "eventPattern", "state", "eventBusName", "tags"}),
                self._event_rule,
            ),
            "aws:cloudwatch/eventTarget:EventTarget": (
                frozenset({"rule", "targetId", "arn", "eventBusName", "inputTransformer", "roleArn"}),
                self._event_target,
            ),
            "aws:iam/role:Role": (frozenset({"name", "assumeRolePolicy", "tags"}), self._role),
            "aws:iam/rolePolicy:RolePolicy": (frozenset({"role", "policy"}), self._role_policy),
        }

    # -- the Mocks interface -------------------------------------------------------------

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == PROVIDER:
            return self._record_provider(args)
        if not args.custom:
            return "", dict(args.inputs)  # component resources exist only in Pulumi's state
        if args.typ not in self._handlers:
            raise EmulatorDeployError(
                f"{args.typ} {args.name}: the emulator adapter has no handler for this resource type;"
                " add one to local/emulator_deploy.py"
            )
        allowed, handler = self._handlers[args.typ]
        target = self._target_of(args.provider, f"{args.typ} {args.name}")
        inputs = plain(dict(args.inputs))
        region = inputs.pop("region", None) or target.region  # pulumi-aws 7's per-resource region
        unknown = sorted(set(inputs) - allowed)
        if unknown:
            raise EmulatorDeployError(
                f"{args.typ} {args.name}: the emulator adapter does not model input(s) {', '.join(unknown)}"
            )
        try:
            resource_id, computed = handler(target, region, args.name, inputs)
        except ClientError as error:
            raise EmulatorDeployError(
                f"{args.typ} {args.name} in account {target.account_id} region {region}: {error}"
            ) from error
        with self._lock:
            self.created.append(Created(args.typ, args.name, target.account_id, region, resource_id))
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        with self._lock:
            self.calls.append(args)
            recorded = getattr(self, "invokes", None)  # the harness's AwsMocks keeps its own list
            if isinstance(recorded, list):
                recorded.append(args)
        if args.token not in (GET_LOG_GROUP, GET_LOG_GROUPS):
            raise EmulatorDeployError(f"invoke {args.token}: the emulator adapter does not serve it")
        target = self._target_of(args.provider, f"invoke {args.token}")
        if args.token == GET_LOG_GROUPS:
            return self._log_groups(target, args.args), []
        name = args.args["name"]
        region = args.args.get("region") or target.region
        logs = self._client("logs", target, region)
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    return {
                        "id": name,
                        "name": name,
                        # The provider reports the group's ARN without the ":*" suffix.
                        "arn": group["arn"].removesuffix(":*"),
                        "creationTime": group.get("creationTime", 0),
                        "retentionInDays": group.get("retentionInDays", 0),
                        "kmsKeyId": group.get("kmsKeyId", ""),
                        "logGroupClass": group.get("logGroupClass", "STANDARD"),
                        "region": region,
                        "tags": {},
                    }, []
        # The real provider's wording, reported as the engine reports a data source's failure (not as a
        # broken RPC), so the program's error handling sees what it would in AWS.
        return {}, [("name", f"reading CloudWatch Logs Log Group ({name}): couldn't find resource")]

    def _log_groups(self, target: ProviderTarget, args: Mapping[str, Any]) -> dict[str, Any]:
        """getLogGroups: every group whose name starts with the prefix, in the provider's account."""
        prefix = args.get("logGroupNamePrefix") or ""
        region = args.get("region") or target.region
        logs = self._client("logs", target, region)
        request = {"logGroupNamePrefix": prefix} if prefix else {}
        groups = [
            g
            for page in logs.get_paginator("describe_log_groups").paginate(**request)
            for g in page["logGroups"]
        ]
        return {
            "id": region,
            "logGroupNamePrefix": prefix,
            "logGroupNames": [g["logGroupName"] for g in groups],
            # The provider reports ARNs without the ":*" suffix.
            "arns": [g["arn"].removesuffix(":*") for g in groups],
            "region": region,
        }

    # -- providers -----------------------------------------------------------------------

    def _record_provider(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
        inputs = decode_provider_inputs(plain(dict(args.inputs)))
        where = f"provider {args.name}"
        for endpoints in inputs.get("endpoints") or []:
            elsewhere = {url for url in endpoints.values() if url and url.rstrip("/") != self.endpoint}
            if elsewhere:
                raise EmulatorDeployError(
                    f"{where} points at {', '.join(sorted(elsewhere))}, but this adapter deploys into"
                    f" the emulator at {self.endpoint}"
                )
        roles = inputs.get("assumeRoles") or []
        if len(roles) > 1:
            raise EmulatorDeployError(f"{where}: role chaining is not modelled")
        role = roles[0] if roles else {}
        allowed = [str(a) for a in inputs.get("allowedAccountIds") or []]
        session_name = role.get("sessionName") or "cis-emulator"
        sts = self.sessions.client(
            "sts",
            inputs.get("region") or "us-east-1",
            role.get("roleArn"),
            role.get("externalId"),
            session_name,
        )
        account = sts.get_caller_identity()["Account"]
        if allowed and account not in allowed:
            # What the real provider does before touching anything.
            raise EmulatorDeployError(f"{where}: AWS account ID not allowed: {account} (allowed: {allowed})")
        if "region" not in inputs:
            raise EmulatorDeployError(f"{where} has no region")
        with self._lock:
            self.providers[args.name] = ProviderTarget(
                name=args.name,
                account_id=account,
                region=inputs["region"],
                role_arn=role.get("roleArn"),
                external_id=role.get("externalId"),
                session_name=session_name,
                default_tags=(inputs.get("defaultTags") or {}).get("tags") or {},
            )
        return f"{args.name}-id", dict(args.inputs)

    def _target_of(self, provider_ref: str, what: str) -> ProviderTarget:
        # A provider reference is "<provider urn>::<provider id>"; the URN ends with the name.
        name = provider_ref.split("::")[-2] if provider_ref else ""
        with self._lock:
            target = self.providers.get(name)
        if target is None:
            raise EmulatorDeployError(
                f"{what} was registered without a known explicit provider ({provider_ref!r}),"
                " so the adapter cannot tell its account and region"
            )
        return target

    def _client(self, service: str, target: ProviderTarget, region: str) -> Any:
        return self.sessions.client(service, region, target.role_arn, target.external_id, target.session_name)

    # -- resources -----------------------------------------------------------------------

    def _kms_key(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        kms = self._client("kms", t, region)
        tags = _tags_all(t, inputs)
        request: dict[str, Any] = {"Tags": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}
        if "description" in inputs:
            request["Description"] = inputs["description"]
        if "policy" in inputs:
            request["Policy"] = inputs["policy"]
        key = kms.create_key(**request)["KeyMetadata"]
        if inputs.get("enableKeyRotation"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        # deletionWindowInDays matters only when the key is destroyed, which this adapter never does.
        return key["KeyId"], {"arn": key["Arn"], "keyId": key["KeyId"], "tagsAll": tags}

    def _kms_alias(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        kms = self._client("kms", t, region)
        kms.create_alias(AliasName=inputs["name"], TargetKeyId=inputs["targetKeyId"])
        key_arn = kms.describe_key(KeyId=inputs["targetKeyId"])["KeyMetadata"]["Arn"]
        arn = f"arn:aws:kms:{region}:{t.account_id}:{inputs['name']}"
        return inputs["name"], {"arn": arn, "targetKeyArn": key_arn}

    def _topic(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        sns = self._client("sns", t, region)
        attributes = {
            attribute: inputs[key]
            for key, attribute in (
                ("kmsMasterKeyId", "KmsMasterKeyId"),
                ("displayName", "DisplayName"),
                ("policy", "Policy"),
            )
            if key in inputs
        }
        tags = _tags_all(t, inputs)
        arn = sns.create_topic(
            Name=inputs["name"],
            Attributes=attributes,
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["TopicArn"]
        return arn, {"arn": arn, "owner": t.account_id, "tagsAll": tags}

    def _topic_policy(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        sns = self._client("sns", t, region)
        sns.set_topic_attributes(
            TopicArn=inputs["arn"], AttributeName="Policy", AttributeValue=inputs["policy"]
        )
        return inputs["arn"], {"owner": t.account_id}

    def _queue_policy(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        sqs = self._client("sqs", t, region)
        sqs.set_queue_attributes(QueueUrl=inputs["queueUrl"], Attributes={"Policy": inputs["policy"]})
        return inputs["queueUrl"], {}

    def _subscription(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        sns = self._client("sns", t, region)
        attributes = {}
        if "rawMessageDelivery" in inputs:
            attributes["RawMessageDelivery"] = str(bool(inputs["rawMessageDelivery"])).lower()
        if "filterPolicy" in inputs:
            attributes["FilterPolicy"] = inputs["filterPolicy"]
        arn = sns.subscribe(
            TopicArn=inputs["topic"],
            Protocol=inputs["protocol"],
            Endpoint=inputs["endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        # moto confirms every subscription at once (PendingConfirmation "false"), so nothing is
        # confirmed here. In AWS an email subscription stays pending until its recipient clicks
        # the link; the output reports the emulator's state either way.
        found = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        return arn, {
            "arn": arn,
            "ownerId": found.get("Owner", t.account_id),
            "pendingConfirmation": found.get("PendingConfirmation") == "true",
            "confirmationWasAuthenticated": found.get("ConfirmationWasAuthenticated") == "true",
        }

    def _metric_filter(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        logs = self._client("logs", t, region)
        transformation = dict(inputs["metricTransformation"])
        unknown = set(transformation) - {"name", "namespace", "value", "defaultValue", "unit", "dimensions"}
        if unknown:
            raise EmulatorDeployError(f"{name}: metricTransformation.{sorted(unknown)} is not modelled")
        metric: dict[str, Any] = {
            "metricName": transformation["name"],
            "metricNamespace": transformation["namespace"],
            "metricValue": transformation["value"],
        }
        if transformation.get("defaultValue") not in (None, ""):
            metric["defaultValue"] = float(transformation["defaultValue"])
        if transformation.get("unit"):
            metric["unit"] = transformation["unit"]
        if transformation.get("dimensions"):
            metric["dimensions"] = transformation["dimensions"]
        logs.put_metric_filter(
            logGroupName=inputs["logGroupName"],
            filterName=inputs["name"],
            filterPattern=inputs["pattern"],
            metricTransformations=[metric],
        )
        return inputs["name"], {}

    def _metric_alarm(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        cloudwatch = self._client("cloudwatch", t, region)
        request: dict[str, Any] = {}
        for key, field_name in _ALARM_FIELDS.items():
            if key in inputs:
                value = inputs[key]
                request[field_name] = int(value) if key in _ALARM_INTEGERS else value
        if "threshold" in request:
            request["Threshold"] = float(request["Threshold"])
        if inputs.get("dimensions"):
            request["Dimensions"] = [{"Name": k, "Value": v} for k, v in inputs["dimensions"].items()]
        tags = _tags_all(t, inputs)
        request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        cloudwatch.put_metric_alarm(**request)
        alarms = cloudwatch.describe_alarms(AlarmNames=[inputs["name"]])["MetricAlarms"]
        if not alarms:
            raise EmulatorDeployError(f"{name}: the emulator did not keep alarm {inputs['name']!r}")
        return inputs["name"], {"arn": alarms[0]["AlarmArn"], "tagsAll": tags}

    def _lambda_permission(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        lambda_ = self._client("lambda", t, region)
        statement_id = inputs.get("statementId") or name
        try:
            lambda_.get_function(FunctionName=inputs["function"])
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            # No such function in the emulator (the worlds create none): the
            # permission is only recorded, as there is nothing to attach it to.
            return statement_id, {"statementId": statement_id, "createdInEmulator": False}
        request = {
            "FunctionName": inputs["function"],
            "StatementId": statement_id,
            "Action": inputs["action"],
            "Principal": inputs["principal"],
        }
        if "sourceArn" in inputs:
            request["SourceArn"] = inputs["sourceArn"]
        if "sourceAccount" in inputs:
            request["SourceAccount"] = inputs["sourceAccount"]
        lambda_.add_permission(**request)
        return statement_id, {"statementId": statement_id, "createdInEmulator": True}

    def _event_rule(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        events = self._client("events", t, region)
        tags = _tags_all(t, inputs)
        request: dict[str, Any] = {
            "Name": inputs["name"],
            "EventPattern": inputs["eventPattern"],
            "State": inputs.get("state", "ENABLED"),
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        }
        if inputs.get("description"):
            request["Description"] = inputs["description"]
        if inputs.get("eventBusName"):
            request["EventBusName"] = inputs["eventBusName"]
        arn = events.put_rule(**request)["RuleArn"]
        return inputs["name"], {"arn": arn, "tagsAll": tags}

    def _event_target(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        events = self._client("events", t, region)
        target: dict[str, Any] = {"Id": inputs["targetId"], "Arn": inputs["arn"]}
        if inputs.get("roleArn"):
            target["RoleArn"] = inputs["roleArn"]
        transformer = inputs.get("inputTransformer")
        if transformer:
            target["InputTransformer"] = {
                "InputPathsMap": dict(transformer.get("inputPaths") or {}),
                "InputTemplate": transformer["inputTemplate"],
            }
        request: dict[str, Any] = {"Rule": inputs["rule"], "Targets": [target]}
        if inputs.get("eventBusName"):
            request["EventBusName"] = inputs["eventBusName"]
        events.put_targets(**request)
        return f"{inputs['rule']}-{inputs['targetId']}", {}

    def _role(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        iam = self._client("iam", t, region)
        tags = _tags_all(t, inputs)
        role = iam.create_role(
            RoleName=inputs["name"],
            AssumeRolePolicyDocument=inputs["assumeRolePolicy"],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["Role"]
        return inputs["name"], {"arn": role["Arn"], "tagsAll": tags}

    def _role_policy(self, t: ProviderTarget, region: str, name: str, inputs: dict) -> tuple[str, dict]:
        iam = self._client("iam", t, region)
        iam.put_role_policy(RoleName=inputs["role"], PolicyName=name, PolicyDocument=inputs["policy"])
        return f"{inputs['role']}:{name}", {}


def _tags_all(target: ProviderTarget, inputs: Mapping[str, Any]) -> dict[str, str]:
    # As the provider applies them: its default tags, overridden by the resource's own.
    return {**target.default_tags, **(inputs.get("tags") or {})}


def stack_file_config(stack: str, repo_root: Path = REPO_ROOT) -> dict[str, Any]:
    """The project keys of ``Pulumi.<stack>.yaml``, without the ``cis-monitoring:`` namespace."""
    return read_project_keys(stack, repo_root)[1]


def with_emulator_endpoint(config: Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    """``config`` with every provider pointed at ``endpoint`` (the local stack's emulator key)."""
    return {**config, "emulator": {**(config.get("emulator") or {}), "endpoint": endpoint}}


@dataclass
class Deployment:
    outputs: dict[str, Any]
    created: list[Created]
    error: BaseException | None = None
    invokes: list[pulumi_mocks.MockCallArgs] = field(default_factory=list)


def deploy_stack(
    config: Mapping[str, Any],
    endpoint: str,
    *,
    stack: str = "local",
    secret_keys: Iterable[str] = (),
    program: Path = REPO_ROOT / "__main__.py",
) -> Deployment:
    """Run ``program`` once with ``config`` (project keys), creating its resources in the emulator."""
    mocks = EmulatorDeployMocks(endpoint)
    monitor = OutputsMonitor(mocks)
    error = run_under_mocks(program, config, mocks, monitor, stack=stack, secret_keys=secret_keys)
    return Deployment(monitor.stack_outputs, list(mocks.created), error, list(mocks.calls))
