"""The chain policy's config: its JSON schema, and every problem with a given config at once.

The Pulumi CLI checks a ``--policy-pack-config`` file against the schema the pack declares
(``CHAIN_CONFIG_SCHEMA``), but not every engine path does, and a schema cannot say that a
member is claimed by two organization trails. So the pack checks again before it judges:
the same schema (``jsonschema``), then the rules between entries, and reports every problem
by its key path (``organizationTrails[0].members[1]: ...``). With a bad config it judges
nothing: a gate that guesses what its config meant could pass what it should block.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath, PureWindowsPath
from typing import Any

from jsonschema import Draft7Validator, ValidationError
from pulumi_policy import PolicyConfigSchema

from cis_monitoring.core.aws.regions import is_known_region
from cis_monitoring.core.catalog import ALL_CONTROLS, CONTROLS, DEFAULT_CONTROL_IDS, Control, select_controls
from cis_monitoring.core.topology import ALL_REGIONS

from .chain import ChainSettings
from .declared import DeclaredTrail, declared_trail

ACCOUNT_ID = {"type": "string", "pattern": "^[0-9]{12}$", "description": "a 12-digit AWS account id"}
REGION_PATTERN = "[a-z]{2,4}(-[a-z]+)+-[0-9]+"
REGION = {"type": "string", "pattern": f"^{REGION_PATTERN}$", "description": "an AWS Region (e.g. us-east-1)"}
TRAIL = {
    "accountId": {**ACCOUNT_ID, "description": "the trail owner's account id (12 digits)"},
    "homeRegion": {
        **REGION,
        "description": "the trail's home Region, where its log group is (e.g. us-east-1)",
    },
    "logGroup": {"type": "string", "minLength": 1, "description": "the full name of the trail's log group"},
    "logGroupPrefix": {
        "type": "string",
        "minLength": 1,
        "description": "the start of the group's name (Control Tower: aws-controltower/CloudTrailLogs)",
    },
    "name": {"type": "string", "minLength": 1, "description": "the trail's name, for messages"},
}
MEMBERS = {
    "anyOf": [
        {"type": "string", "enum": ["all"]},
        {"type": "array", "items": ACCOUNT_ID, "minItems": 1, "uniqueItems": True},
    ],
    "description": '"all" (every account of the organization) or a list of distinct 12-digit account ids',
}


def _trails(members: bool, description: str) -> dict[str, Any]:
    properties = {**TRAIL, "members": MEMBERS} if members else TRAIL
    return {
        "type": "array",
        "default": [],
        "description": description,
        "items": {
            "type": "object",
            "properties": properties,
            "required": ["accountId", "homeRegion", *(["members"] if members else [])],
            "additionalProperties": False,
        },
    }


PROPERTIES: dict[str, Any] = {
    "controls": {
        "anyOf": [
            {"type": "string", "enum": [ALL_CONTROLS]},
            {
                "type": "array",
                "items": {"type": "string", "enum": list(CONTROLS)},
                "minItems": 1,
                "uniqueItems": True,
            },
        ],
        "default": list(DEFAULT_CONTROL_IDS),
        "description": f'"{ALL_CONTROLS}" (every control of the catalog) or a list of distinct control ids: the'
        " catalog controls every target must have a chain for",
    },
    "strictCanonicalText": {
        "type": "boolean",
        "default": False,
        "description": "Count a filter only if its text is byte-identical to the benchmark's.",
    },
    "allowedExternalTopicArns": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "SNS topic ARNs (shell-style wildcards allowed) outside the stack that alarms may notify.",
    },
    "organizationTrails": _trails(
        True,
        "Organization trails: the chain on the owner's log group, in its home Region, covers every Region "
        "of each member account.",
    ),
    "accountTrails": _trails(
        False, "Accounts' own multi-Region trails: the chain in the home Region covers every Region."
    ),
    "reportPath": {
        "type": "string",
        "minLength": 1,
        "description": "An absolute directory where the pack writes its violations as JSON and JUnit "
        "(cis-monitoring-guard.json, cis-monitoring-guard.junit.xml) for CI; created if missing.",
    },
    "requiredTargets": {
        "type": "array",
        "default": [],
        "items": {
            "type": "object",
            "properties": {
                "accountId": ACCOUNT_ID,
                "region": {
                    "type": "string",
                    "pattern": f"^([*]|{REGION_PATTERN})$",
                    "description": 'an AWS Region, or "*" (every Region)',
                },
            },
            "required": ["accountId", "region"],
            "additionalProperties": False,
        },
        "description": 'Account/Region pairs ("*": every Region) that must be covered, by a chain in this '
        "stack or by a declared trail's chain.",
    },
}
CHAIN_CONFIG_SCHEMA = PolicyConfigSchema(properties=PROPERTIES)
_VALIDATOR = Draft7Validator({"type": "object", "properties": PROPERTIES, "additionalProperties": False})


class ConfigProblems(Exception):
    """Every problem of one config, each ``<key path>: <what is wrong and what to write>``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PackConfig:
    controls: tuple[Control, ...]
    settings: ChainSettings
    trails: tuple[DeclaredTrail, ...]
    required: tuple[tuple[str, str], ...]
    """(account, Region or ALL_REGIONS) pairs, in config order."""

    def trails_recording(self, account_id: str) -> list[DeclaredTrail]:
        return [t for t in self.trails if t.records(account_id)]


def load(raw: Mapping[str, Any]) -> PackConfig:
    """The config as the pack uses it; ``ConfigProblems`` (all of them) when it is not valid."""
    config = {k: v for k, v in raw.items() if k != "enforcementLevel"}  # the CLI's, not ours
    errors = sorted(_VALIDATOR.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    controls, control_problems = _controls(config)
    # The catalog says what is wrong with a selection of controls in one sentence (as for a stack's
    # `controls`); the schema's anyOf would only say that neither form fits.
    problems = [_say(e) for e in errors if not (control_problems and _under(e, "controls"))]
    problems += control_problems
    # The rules between entries run on the well-formed entries, so one run reports everything
    # (a malformed entry is left out; a rule that would only echo it is skipped).
    bad = {tuple(e.absolute_path)[:2] for e in errors}
    entries = {key: _good_entries(config, key, bad) for key in LISTS}
    trails = [
        declared_trail(entry, f"{key}[{i}]", organization=key == "organizationTrails")
        for key in ("organizationTrails", "accountTrails")
        for i, entry in enumerate(entries[key])
        if entry is not None
    ]
    required = [
        None if t is None else (str(t["accountId"]), str(t["region"])) for t in entries["requiredTargets"]
    ]
    trails_complete = not any(key in {path[0] for path in bad if path} for key in LISTS[:2])
    problems += [
        *_report_path_problems(config.get("reportPath")),
        *_region_problems(entries),
        *_trail_problems(config, trails),
        *_required_problems(required, trails, trails_complete),
    ]
    if problems:
        raise ConfigProblems(sorted(problems, key=_by_path))
    return PackConfig(
        controls=controls,
        settings=ChainSettings(
            strict_canonical_text=bool(config.get("strictCanonicalText", False)),
            allowed_external_topic_arns=tuple(config.get("allowedExternalTopicArns", ())),
        ),
        trails=tuple(trails),
        required=tuple(r for r in required if r is not None),
    )


LISTS = ("organizationTrails", "accountTrails", "requiredTargets")


def _controls(config: Mapping[str, Any]) -> tuple[tuple[Control, ...], list[str]]:
    """The selected controls, or the problem with ``controls`` (a value of another type: the schema's)."""
    value = config.get("controls", DEFAULT_CONTROL_IDS)
    if not isinstance(value, str | list | tuple) or not all(isinstance(c, str) for c in value):
        return (), []
    try:
        return tuple(CONTROLS[c] for c in select_controls(value)), []
    except ValueError as error:
        return (), [f"controls: {error}"]


def _under(error: ValidationError, key: str) -> bool:
    return tuple(error.absolute_path)[:1] == (key,)


def _good_entries(config: Mapping[str, Any], key: str, bad: set[tuple[Any, ...]]) -> list[Any]:
    """The list under ``key``, a malformed entry as None (all None if the list itself is malformed)."""
    value = config.get(key, [])
    if not isinstance(value, list) or (key,) in bad:
        return []
    return [None if (key, i) in bad else entry for i, entry in enumerate(value)]


# ---------------------------------------------------------------- the schema's verdicts, in words


def _by_path(problem: str) -> list[Any]:
    """Problems in key order (``[2]`` before ``[10]``), so those of one entry stand together."""
    path = problem.split(": ", 1)[0]
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def _path(parts: Iterable[object]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the config)"


def _say(error: ValidationError) -> str:
    path, schema, value = _path(error.absolute_path), error.schema, error.instance
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in value)
        what = schema.get("properties", {}).get(missing, {}).get("description", "")
        return f"{_path([*error.absolute_path, missing])}: missing; write {what or 'it'}"
    if error.validator == "additionalProperties":
        unknown = sorted(set(value) - set(schema.get("properties", {})))
        known = ", ".join(sorted(schema.get("properties", {})))
        return f"{_path([*error.absolute_path, unknown[0]])}: unknown key (the keys here are {known})"
    if error.validator in ("pattern", "anyOf", "enum") and "description" in schema:
        return f"{path}: {value!r} is not {schema['description']}"
    return f"{path}: {error.message}"


# ---------------------------------------------------------------- the rules between entries


def _report_path_problems(value: object) -> Iterable[str]:
    # The Pulumi CLI starts the pack in the pack's own directory (pulumi/pulumi,
    # sdk/go/common/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer: pwd := policyPackPath), so a
    # relative path would write into the pack, not the project.
    if (
        isinstance(value, str)
        and value
        and not PurePath(value).is_absolute()
        and not PureWindowsPath(value).is_absolute()
    ):
        yield (
            f"reportPath: {value!r} is relative; the Pulumi CLI starts the pack in the pack's own directory, "
            "so give an absolute directory (e.g. $RUNNER_TEMP/cis-guard, written into the config by the CI job)"
        )


def _region_problems(entries: Mapping[str, list[Any]]) -> Iterable[str]:
    for key in ("organizationTrails", "accountTrails"):
        for i, entry in enumerate(entries[key]):
            if entry is not None and not is_known_region(entry["homeRegion"]):
                yield f"{key}[{i}].homeRegion: {entry['homeRegion']!r} is not an AWS Region"
    for i, entry in enumerate(entries["requiredTargets"]):
        if entry is not None and entry["region"] != ALL_REGIONS and not is_known_region(entry["region"]):
            yield f'requiredTargets[{i}].region: {entry["region"]!r} is not an AWS Region (nor "*")'


def _trail_problems(config: Mapping[str, Any], trails: list[DeclaredTrail]) -> Iterable[str]:
    for key in ("organizationTrails", "accountTrails"):
        listed = config.get(key)
        for i, entry in enumerate(listed if isinstance(listed, list) else ()):
            if isinstance(entry, dict) and "logGroup" in entry and "logGroupPrefix" in entry:
                yield (
                    f"{key}[{i}]: set at most one of logGroup (the group's full name) and logGroupPrefix "
                    "(the start of its name, for Control Tower's aws-controltower/CloudTrailLogs-<suffix>)"
                )
    owners: dict[str, str] = {}
    for trail in (t for t in trails if not t.organization):
        if trail.owner in owners:
            yield (
                f"{trail.path}.accountId: account {trail.owner} is declared twice (also {owners[trail.owner]}); "
                "an account's one multi-Region trail delivers to one log group"
            )
        owners.setdefault(trail.owner, trail.path)
    yield from _members_problems([t for t in trails if t.organization])


def _members_problems(organization: list[DeclaredTrail]) -> Iterable[str]:
    """An account is recorded by at most one declared organization trail (which chain would count?)."""
    every = [t for t in organization if t.members is None]
    for trail in every[1:]:
        yield (
            f'{trail.path}.members: "all", but {every[0].path} already records every account; declare one '
            "organization trail per account (list the members of each)"
        )
    claimed: dict[str, str] = {}
    for trail in organization:
        for index, member in enumerate(trail.members or ()):
            earlier = claimed.get(member) or next((t.path for t in every if t is not trail), None)
            if earlier:
                yield (
                    f"{trail.path}.members[{index}]: account {member} is already a member of {earlier}; an "
                    "account is covered by at most one organization trail"
                )
            claimed.setdefault(member, trail.path)


def _required_problems(
    required: list[tuple[str, str] | None], trails: list[DeclaredTrail], trails_complete: bool
) -> Iterable[str]:
    seen: dict[tuple[str, str], int] = {}
    for index, pair in enumerate(required):
        if pair is None:
            continue
        account, region = pair
        if pair in seen:
            yield (
                f"requiredTargets[{index}]: account {account} region {region} is listed twice "
                f"(also requiredTargets[{seen[(account, region)]}])"
            )
        seen.setdefault((account, region), index)
        # With a malformed trail entry, this would only echo that entry's own problem.
        if region == ALL_REGIONS and trails_complete and not any(t.records(account) for t in trails):
            yield (
                f'requiredTargets[{index}].region: "*" (every Region) needs a multi-Region trail that records '
                f"account {account}: declare it in accountTrails (its home Region), or list the account in "
                "the members of an organizationTrails entry"
            )
