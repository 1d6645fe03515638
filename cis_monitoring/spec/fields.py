"""How one config field is read: the base every config model shares, and the checks of single values.

``Model`` makes every key camelCase (``homeRegion``), refuses unknown keys (a typo is an
error, never ignored) and freezes the values; ``problems.py`` relies on both when it turns
pydantic's errors into key paths. It lives here, below every model module, because they
all need it and ``model.py`` (the top-level keys) needs them.

Each check returns the value or raises ValueError saying what is wrong. The models call
them from their field validators, and the audit's command line (cis_monitoring/audit/scope.py) calls
the same functions for its flags, so a value means the same everywhere. Messages name
neither the key nor the flag: the caller adds that.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from cis_monitoring.core.aws import arns
from cis_monitoring.core.aws.regions import is_known_region
from cis_monitoring.core.catalog import ALL_CONTROLS, DEFAULT_CONTROL_IDS, select_controls
from cis_monitoring.core.plan import MEMBERS_ACCOUNTS, MEMBERS_ALL

NAME_PREFIX_MAX = 20
EXTERNAL_ID_MIN, EXTERNAL_ID_MAX = 2, 1224
TAG_KEY_MAX, TAG_VALUE_MAX, TAGS_MAX = 128, 256, 50
"""AWS tag limits: per key, per value, and user tags per resource."""

_LOG_GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_ACCOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?$")
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_EXTERNAL_ID_CHARS_RE = re.compile(r"^[\w+=,.@:/-]*$", re.ASCII)
_STACK_NAME_RE = re.compile(r"^[^/\s]+/[^/\s]+/[^/\s]+$")
_CONFIG_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")

ALL = "all"
"""``coveredRegions: all``: every Region of the account."""


class Model(BaseModel):
    """The base of every config model: camelCase keys, typos refused, values frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False
    )


def account_id(value: Any) -> Any:
    """Before type coercion: a YAML number would already have lost its leading zeros."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError("write the account id as a quoted string: a YAML number loses leading zeros")
    if isinstance(value, str) and not arns.is_account_id(value):
        raise ValueError(f"{value!r} is not an AWS account id (12 digits)")
    return value


def account_name(value: str) -> str:
    if not _ACCOUNT_NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a usable account name (letters, digits and '-', at most 40 characters);"
            " it becomes part of every resource name"
        )
    return value


def region(value: str) -> str:
    if not is_known_region(value):
        raise ValueError(f"{value!r} is not an AWS Region")
    return value


def log_group(value: str) -> str:
    if not value.strip():
        raise ValueError("the log group name is empty")
    if value.startswith("arn:"):
        raise ValueError("give the log group's name, not its ARN")
    if not _LOG_GROUP_RE.match(value):
        raise ValueError(f"{value!r} is not a valid log group name")
    return value


def log_group_prefix(value: str) -> str:
    """A prefix of log group names (``logGroupPrefix``): the characters of a name, not a pattern."""
    if not value.strip():
        raise ValueError("the log group name prefix is empty")
    if value.startswith("arn:"):
        raise ValueError("give the start of the log group's name, not an ARN")
    if not _LOG_GROUP_RE.match(value):
        raise ValueError(
            f"{value!r} is not the start of a valid log group name (no wildcards: it is a prefix)"
        )
    return value


def role_arn(value: str) -> str:
    if arns.parse_role_arn(value) is None:
        raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return value


def external_id(value: str) -> str:
    # sts:AssumeRole's ExternalId: 2-1224 characters of [\w+=,.@:/-].
    if not _EXTERNAL_ID_CHARS_RE.match(value):
        bad = sorted({c for c in value if not _EXTERNAL_ID_CHARS_RE.match(c)})
        shown = " and ".join("a space" if c == " " else repr(c) for c in bad)
        raise ValueError(
            f"{value!r} contains {shown}: an external id may use only letters, digits and _+=,.@:/-"
        )
    if not EXTERNAL_ID_MIN <= len(value) <= EXTERNAL_ID_MAX:
        raise ValueError(
            f"{value!r} is {len(value)} character(s); an external id must be"
            f" {EXTERNAL_ID_MIN} to {EXTERNAL_ID_MAX} characters"
        )
    return value


def session_name(value: str) -> str:
    if not _SESSION_NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid role session name (2-64 characters of letters, digits and _+=,.@-)"
        )
    return value


def name_prefix(value: str) -> str:
    if len(value) > NAME_PREFIX_MAX:
        raise ValueError(
            f"{value!r} is {len(value)} characters; namePrefix may have at most {NAME_PREFIX_MAX}"
            " (it starts every resource name, and AWS limits those names)"
        )
    if not _PREFIX_RE.match(value):
        raise ValueError(f"{value!r} must be lowercase letters, digits and '-', starting with a letter")
    return value


def stack_name(value: str) -> str:
    if not _STACK_NAME_RE.match(value):
        raise ValueError(f"{value!r} is not a fully qualified stack name (<org>/<project>/<stack>)")
    return value


def config_key_name(value: str) -> str:
    if not _CONFIG_KEY_RE.match(value):
        raise ValueError(f"{value!r} is not a config key name")
    return value


def tag_problems(tags: dict[str, str]) -> list[tuple[str, str]]:
    """(tag key, what is wrong) for every key or value AWS would refuse."""
    problems = []
    for key, value in tags.items():
        if not key:
            problems.append((key, "a tag key cannot be empty"))
        elif key.lower().startswith("aws:"):
            problems.append((key, "tag keys starting with 'aws:' are reserved for AWS"))
        elif len(key) > TAG_KEY_MAX:
            problems.append((key, f"the tag key is {len(key)} characters; AWS allows at most {TAG_KEY_MAX}"))
        if len(value) > TAG_VALUE_MAX:
            problems.append(
                (key, f"the tag value is {len(value)} characters; AWS allows at most {TAG_VALUE_MAX}")
            )
    return problems


def covered_regions(value: Any) -> Any:
    """``coveredRegions``: ``all`` or a list of distinct Regions (checked before type coercion)."""
    if value == ALL:
        return value
    if isinstance(value, str):
        raise ValueError(
            f'must be a list, not the string {value!r}; write e.g. coveredRegions: ["us-east-1",'
            ' "eu-west-1"], or coveredRegions: all (the default)'
        )
    if not isinstance(value, list | tuple):
        return value  # pydantic says what is wrong with it
    if not value:
        raise ValueError("list at least one Region, or write coveredRegions: all (the default)")
    seen: set[str] = set()
    for name in value:
        if not isinstance(name, str):
            raise ValueError(f"{name!r} is not a Region name")
        region(name)
        if name in seen:
            raise ValueError(f"{name} is named twice; name each Region once")
        seen.add(name)
    return tuple(value)


def controls(value: Any) -> Any:
    """``controls``, before type coercion: ``all`` becomes every control of the catalog (in benchmark order)."""
    if value == ALL_CONTROLS:
        return select_controls(value)
    if isinstance(value, str):
        example = json.dumps(list(DEFAULT_CONTROL_IDS))
        raise ValueError(
            f"must be a list, not the string {value!r}; write e.g. controls: {example}, or controls:"
            f" {ALL_CONTROLS} (every control of the catalog)"
        )
    return value


def members(value: Any) -> Any:
    """``organizationTrail.members``: ``all``, ``accounts`` or a list of distinct account ids."""
    if value in (MEMBERS_ALL, MEMBERS_ACCOUNTS):
        return value
    if isinstance(value, str):
        raise ValueError(
            f'must be a list, not the string {value!r}; write e.g. members: ["222222222222"],'
            f" or members: {MEMBERS_ACCOUNTS} (this stack's accounts, the default), or members: {MEMBERS_ALL}"
        )
    if not isinstance(value, list | tuple):
        return value
    if not value:
        raise ValueError(f"list at least one account id, or write members: {MEMBERS_ACCOUNTS}")
    seen: set[str] = set()
    for member in value:
        account_id(member)
        if member in seen:
            raise ValueError(f"account {member} is listed twice; list each member once")
        seen.add(member)
    return tuple(value)
