"""ARNs and account ids: the only code that parses or builds them (standard library only).

``parse_arn`` splits any ARN into its five parts; the specific parsers add what one
resource type's ARN must look like and return ``None`` for anything else, so callers
never split ARNs on colons themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTITION_RE = re.compile(r"^aws(?:-[a-z]+)*$")
"""aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b ..."""
REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")

REGION_PLACEHOLDER = "{region}"
ACCOUNT_PLACEHOLDER = "{accountId}"

_ROLE_PATH_AND_NAME_RE = re.compile(r"^role/[\w+=,.@/-]{1,512}$", re.ASCII)
_TOPIC_NAME_RE = re.compile(r"^[\w-]{1,256}$", re.ASCII)
_QUEUE_NAME_RE = re.compile(r"^[\w-]{1,80}(?:\.fifo)?$", re.ASCII)
_FUNCTION_RE = re.compile(r"^function:[\w-]{1,64}(?::[\w$-]+)?$", re.ASCII)
_ASSUMED_ROLE_RE = re.compile(r"^assumed-role/[\w+=,.@-]{1,64}/[\w+=,.@-]{2,64}$", re.ASCII)


@dataclass(frozen=True)
class Arn:
    """``arn:<partition>:<service>:<region>:<account>:<resource>``; region and account may be empty."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def is_account_id(text: object) -> bool:
    return isinstance(text, str) and bool(ACCOUNT_ID_RE.match(text))


def parse_arn(text: object) -> Arn | None:
    """The parts of any well-formed ARN, or None. The resource part may itself contain colons."""
    if not isinstance(text, str):
        return None
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not PARTITION_RE.match(parts[1]) or not parts[2]:
        return None
    if not parts[5]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def parse_role_arn(text: object) -> Arn | None:
    """An IAM role ARN (``arn:aws:iam::<account>:role/<path/name>``), or None."""
    arn = parse_arn(text)
    if (
        arn is None
        or arn.service != "iam"
        or arn.region
        or not is_account_id(arn.account)
        or not _ROLE_PATH_AND_NAME_RE.match(arn.resource)
    ):
        return None
    return arn


def parse_assumed_role_arn(text: object) -> Arn | None:
    """An STS assumed-role session ARN (``arn:aws:sts::<account>:assumed-role/<role>/<session>``), or None.

    The shape is IAM's (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html,
    "IAM ARNs": ``arn:aws:sts::account:assumed-role/role-name/role-session-name``); the role's path
    is not part of it, and a session name is 2-64 of ``[\\w+=,.@-]`` (AssumeRole's RoleSessionName).
    """
    arn = parse_arn(text)
    if (
        arn is None
        or arn.service != "sts"
        or arn.region
        or not is_account_id(arn.account)
        or not _ASSUMED_ROLE_RE.match(arn.resource)
    ):
        return None
    return arn


def parse_sns_topic_arn(text: object, *, placeholders: bool = False) -> Arn | None:
    """An SNS topic ARN, or None. With ``placeholders``, ``{region}`` and ``{accountId}`` may stand in."""
    arn = parse_arn(text)
    if arn is None or arn.service != "sns" or not _TOPIC_NAME_RE.match(arn.resource):
        return None
    region_ok = bool(REGION_RE.match(arn.region)) or (placeholders and arn.region == REGION_PLACEHOLDER)
    account_ok = is_account_id(arn.account) or (placeholders and arn.account == ACCOUNT_PLACEHOLDER)
    return arn if region_ok and account_ok else None


def parse_sqs_queue_arn(text: object) -> Arn | None:
    """An SQS queue ARN (``arn:aws:sqs:<region>:<account>:<queue>``, FIFO included), or None."""
    arn = parse_arn(text)
    if (
        arn is None
        or arn.service != "sqs"
        or not REGION_RE.match(arn.region)
        or not is_account_id(arn.account)
        or not _QUEUE_NAME_RE.match(arn.resource)
    ):
        return None
    return arn


def parse_lambda_function_arn(text: object) -> Arn | None:
    """A Lambda function ARN (``...:function:<name>[:<version or alias>]``), or None."""
    arn = parse_arn(text)
    if (
        arn is None
        or arn.service != "lambda"
        or not REGION_RE.match(arn.region)
        or not is_account_id(arn.account)
        or not _FUNCTION_RE.match(arn.resource)
    ):
        return None
    return arn


BY_NAME = "name"
BY_PREFIX = "prefix"
ANY_GROUP = "any"
"""How a ``LogGroupRef`` names its group: by its full name, by the start of it (AWS Control Tower
suffixes its group at random), or not at all (any group of the account and Region)."""


@dataclass(frozen=True, order=True)
class LogGroupRef:
    """A CloudWatch Logs group: the owner's account, its Region and its name (or how it is named).

    The one type for a log group, wherever it comes from: a trail's ``CloudWatchLogsLogGroupArn``
    (always by name), a stack's config (by name or prefix), the pack's config (also "any").
    """

    account_id: str
    region: str
    name: str
    match: str = BY_NAME
    """BY_NAME, BY_PREFIX (``name`` is the start of the group's name) or ANY_GROUP (``name`` unused)."""

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.name}"

    def matches(self, log_group_name: object) -> bool:
        """Whether the group called ``log_group_name`` (in this account and Region) is this one."""
        if not isinstance(log_group_name, str):
            return False
        if self.match == ANY_GROUP:
            return True
        if self.match == BY_PREFIX:
            return log_group_name.startswith(self.name)
        return log_group_name == self.name

    def describe(self) -> str:
        where = f"in account {self.account_id} {self.region}"
        if self.match == ANY_GROUP:
            return f"the trail's log group {where}"
        if self.match == BY_PREFIX:
            return f"the log group whose name starts with {self.name!r} {where}"
        return f"log group {self.name!r} {where}"


_LOG_GROUP_NAME_RE = re.compile(r"^[\w#/.-]{1,512}$", re.ASCII)


def parse_log_group_arn(text: object) -> LogGroupRef | None:
    """A log group ARN (``...:log-group:<name>``, with or without AWS's ``:*`` suffix), or None."""
    arn = parse_arn(text)
    if arn is None or arn.service != "logs" or not is_account_id(arn.account):
        return None
    kind, _, name = arn.resource.partition(":")
    name = name.removesuffix(":*")
    if kind != "log-group" or not _LOG_GROUP_NAME_RE.match(name):
        return None
    return LogGroupRef(arn.account, arn.region, name)


def sns_topic_arn(account_id: str, region: str, topic_name: str, partition: str = "aws") -> str:
    """The ARN of topic ``topic_name`` in ``account_id`` and ``region``."""
    return f"arn:{partition}:sns:{region}:{account_id}:{topic_name}"


def alarm_arn(account_id: str, region: str, alarm_name: str, partition: str = "aws") -> str:
    """The ARN of CloudWatch alarm ``alarm_name`` in ``account_id`` and ``region``."""
    return f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{alarm_name}"


def event_rule_arn(
    account_id: str, region: str, rule_name: str, partition: str = "aws", event_bus: str = "default"
) -> str:
    """The ARN of EventBridge rule ``rule_name`` (a custom bus's rule ARN names the bus, the default's does not)."""
    bus = "" if event_bus == "default" else f"{event_bus}/"
    return f"arn:{partition}:events:{region}:{account_id}:rule/{bus}{rule_name}"


def event_bus_arn(account_id: str, region: str, bus_name: str = "default", partition: str = "aws") -> str:
    """The ARN of EventBridge event bus ``bus_name`` in ``account_id`` and ``region``."""
    return f"arn:{partition}:events:{region}:{account_id}:event-bus/{bus_name}"


def role_arn(account_id: str, role_name: str, partition: str = "aws") -> str:
    """The ARN of role ``role_name`` (which may include a path) in ``account_id``."""
    return f"arn:{partition}:iam::{account_id}:role/{role_name.lstrip('/')}"


def fill_placeholders(text: str, account_id: str, region: str) -> str:
    """``text`` with its ``{region}`` and ``{accountId}`` placeholders filled in."""
    return text.replace(REGION_PLACEHOLDER, region).replace(ACCOUNT_PLACEHOLDER, account_id)
