"""IAM resource policy documents: parse them, and decide one request against them.

A request is "may this service principal call this action on this resource, with this
context?". The decision follows IAM's rules for one policy: an explicit Deny wins, then
an Allow, else the action is implicitly denied. Each statement matches three-valued
(see ``policy_conditions``): when a statement's conditions cannot be evaluated, the
decision says "undecided" and names them, instead of guessing.

What is matched: ``Effect``; ``Action``/``NotAction`` (case-insensitive, ``*`` and ``?``);
``Resource``/``NotResource`` (case-sensitive; a statement with neither applies to the
resource the policy is attached to); ``Principal``/``NotPrincipal`` in the forms ``"*"``,
``{"AWS": "*"}`` (everyone, services included) and ``{"Service": ...}``. An ``AWS``
account or role principal never matches a service principal: a key policy's
``arn:aws:iam::<account>:root`` statement delegates to IAM policies, which services
acting as themselves do not have.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .policy_conditions import ConditionResult, Context, evaluate_conditions, glob_match

Outcome = Literal["allowed", "denied", "not allowed", "undecided"]
_KNOWN_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}


class PolicyDocumentError(ValueError):
    """The text is not an IAM policy document; ``problems`` name each key path."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, eq=False)  # identity equality: it holds the raw (unhashable) JSON
class Statement:
    index: int
    sid: str | None
    effect: str
    principal: Any
    not_principal: Any
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    condition: Mapping[str, Any] | None
    raw: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1} (no Sid)"


@dataclass(frozen=True)
class Request:
    service_principal: str
    """E.g. ``cloudwatch.amazonaws.com``."""
    action: str
    resource: str
    context: Context


@dataclass(frozen=True)
class Decision:
    action: str
    outcome: Outcome
    allowed_by: tuple[Statement, ...] = ()
    denied_by: tuple[Statement, ...] = ()
    undecided_by: tuple[tuple[Statement, tuple[str, ...]], ...] = ()
    """Statements whose conditions could not be evaluated, with those conditions."""


def _strings(value: Any, path: str, problems: list[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        problems.append(f"{path}: must be a string or a non-empty list of strings")
        return None
    return tuple(items)


def _statement(index: int, raw: Any, problems: list[str]) -> Statement | None:
    path = f"Statement[{index}]"
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: must be an object")
        return None
    before = len(problems)
    for key in sorted(set(raw) - _KNOWN_KEYS):
        problems.append(f"{path}.{key}: unknown key")
    if raw.get("Effect") not in ("Allow", "Deny"):
        problems.append(f"{path}.Effect: must be 'Allow' or 'Deny', not {raw.get('Effect')!r}")
    for one, other in (("Action", "NotAction"), ("Principal", "NotPrincipal")):
        if (one in raw) == (other in raw):
            problems.append(f"{path}: needs exactly one of {one} and {other}")
    if "Resource" in raw and "NotResource" in raw:
        problems.append(f"{path}: has both Resource and NotResource")
    if "Condition" in raw and not isinstance(raw["Condition"], Mapping):
        problems.append(f"{path}.Condition: must be an object")
    sid = raw.get("Sid")
    statement = Statement(
        index=index,
        sid=sid if isinstance(sid, str) and sid else None,
        effect=str(raw.get("Effect")),
        principal=raw.get("Principal"),
        not_principal=raw.get("NotPrincipal"),
        actions=_strings(raw.get("Action"), f"{path}.Action", problems),
        not_actions=_strings(raw.get("NotAction"), f"{path}.NotAction", problems),
        resources=_strings(raw.get("Resource"), f"{path}.Resource", problems),
        not_resources=_strings(raw.get("NotResource"), f"{path}.NotResource", problems),
        condition=raw.get("Condition"),
        raw=raw,
    )
    return statement if len(problems) == before else None


def parse_policy(document: str | Mapping[str, Any]) -> tuple[Statement, ...]:
    """The statements of a policy document (JSON text or parsed); all problems in one error."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise PolicyDocumentError([f"the policy is not valid JSON ({error})"]) from None
    if not isinstance(document, Mapping):
        raise PolicyDocumentError(["the policy must be a JSON object"])
    raw = document.get("Statement")
    if raw is None:
        raise PolicyDocumentError(["Statement: missing"])
    items = raw if isinstance(raw, list) else [raw]
    problems: list[str] = []
    statements = [_statement(i, item, problems) for i, item in enumerate(items)]
    if problems:
        raise PolicyDocumentError(problems)
    return tuple(s for s in statements if s is not None)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def names_service(principal: Any, service: str) -> bool:
    """Whether a Principal element includes the service principal ``service``."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in _listed(principal.get("AWS", [])):
        return True
    return service.lower() in {str(s).lower() for s in _listed(principal.get("Service", []))}


def _matches_principal(statement: Statement, service: str) -> bool:
    if statement.not_principal is not None:
        return not names_service(statement.not_principal, service)
    return names_service(statement.principal, service)


def _matches_action(statement: Statement, action: str) -> bool:
    if statement.not_actions is not None:
        return not any(glob_match(p, action, ignore_case=True) for p in statement.not_actions)
    return any(glob_match(p, action, ignore_case=True) for p in statement.actions or ())


def _matches_resource(statement: Statement, resource: str) -> bool:
    if statement.not_resources is not None:
        return not any(glob_match(p, resource) for p in statement.not_resources)
    if statement.resources is None:
        return True
    return any(glob_match(p, resource) for p in statement.resources)


def statement_applies(statement: Statement, request: Request) -> ConditionResult:
    """Whether ``statement`` covers ``request``: False on principal/action/resource, else its conditions."""
    if not (
        _matches_principal(statement, request.service_principal)
        and _matches_action(statement, request.action)
        and _matches_resource(statement, request.resource)
    ):
        return ConditionResult(False)
    return evaluate_conditions(statement.condition, request.context)


def decide(statements: Sequence[Statement], request: Request) -> Decision:
    """IAM's decision for ``request`` under one policy (explicit Deny, then Allow, else not allowed)."""
    allows, denies = [], []
    maybe_allows, maybe_denies = [], []
    for statement in statements:
        applies = statement_applies(statement, request)
        if applies.value is False:
            continue
        if statement.effect == "Deny":
            (denies if applies.value else maybe_denies).append((statement, applies.unknown))
        else:
            (allows if applies.value else maybe_allows).append((statement, applies.unknown))
    action = request.action
    if denies:
        return Decision(action, "denied", denied_by=tuple(s for s, _ in denies))
    if allows and not maybe_denies:
        return Decision(action, "allowed", allowed_by=tuple(s for s, _ in allows))
    if allows or maybe_allows:
        return Decision(
            action,
            "undecided",
            allowed_by=tuple(s for s, _ in allows),
            undecided_by=tuple(maybe_denies + ([] if allows else maybe_allows)),
        )
    return Decision(action, "not allowed")
