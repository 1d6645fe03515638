"""Whether an SNS subscription's filter policy lets a message through, judged as SNS documents it.

A subscription with a filter policy receives only the messages the policy accepts; the
subscriber stays confirmed and hears nothing else. Amazon SNS developer guide:

- "Amazon SNS subscription filter policies" (sns-subscription-filter-policies.html): with
  scope ``MessageAttributes`` (the default, sns-message-filtering-scope.html) "each property
  name in the filter policy matches a message attribute name"; with ``MessageBody`` each
  matches a message body property; for each, "at least one property value matches";
- "Key matching" (attribute-key-matching.html): ``"exists": true`` needs "a non-null and
  non-empty value"; ``"exists": false`` "only matches if at least one attribute is present.
  An empty set of attributes results in the filter not matching";
- "String value matching" (string-value-matching.html): exact, ``prefix``, ``suffix``,
  ``equals-ignore-case``, ``anything-but`` (also with ``prefix``/``suffix``), which "can be
  combined with ``"exists": false``" (alone it needs the property); "Numeric value matching"
  (exact, ``anything-but``, ``numeric`` ranges); "IP address matching" (``cidr``); "AND/OR
  logic" (keys are ANDed, the values of one key ORed, ``$or`` ORs whole sub-policies).

Everything else (``wildcard``, ``null`` or boolean values, a nested operator such as
``{"prefix": {"equals-ignore-case": ...}}``) is not judged: the verdict is CANNOT, never MATCH.
So is a value that CloudWatch sets per notification (``Varies``) when the policy tests more
than its presence, and a case the guide words two ways (``anything-but`` on an array).
A preview value (``UNKNOWN``) makes the verdict PENDING: the pack does not count it.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cis_monitoring.core.unknown import is_unknown

MESSAGE_ATTRIBUTES = "MessageAttributes"
MESSAGE_BODY = "MessageBody"
SCOPES = (MESSAGE_ATTRIBUTES, MESSAGE_BODY)
"""``FilterPolicyScope``'s values; unset means ``MessageAttributes`` (sns-message-filtering-scope.html)."""


class Outcome(StrEnum):
    MATCH = "match"
    """SNS delivers the message to the subscriber."""
    NO_MATCH = "no_match"
    """SNS drops it for this subscriber."""
    CANNOT = "cannot_judge"
    """The policy uses what this evaluator does not implement, or a value known only per message."""
    PENDING = "pending"
    """It depends on a value not known until the update runs (a preview)."""


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    why: str = ""
    """For NO_MATCH, the property that does not match; for CANNOT, what cannot be judged."""


@dataclass(frozen=True)
class Varies:
    """A message value the sender sets per message (a time, a reason): known only in kind."""

    name: str
    choices: tuple[Any, ...] = ()
    """The values it can take; empty: any non-empty text."""
    present: bool = True
    """Whether the message always has it (False: not even its presence is known)."""


MATCH = Verdict(Outcome.MATCH)
_MISSING = object()
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def parse_policy(policy: Any) -> dict[str, Any] | Verdict | None:
    """The policy as a JSON object; None when there is none; a Verdict when it cannot be read."""
    if is_unknown(policy):
        return Verdict(Outcome.PENDING, "the filter policy is not known yet")
    if policy is None or policy == "":
        return None
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return Verdict(Outcome.CANNOT, "the filter policy is not valid JSON")
    if not isinstance(policy, dict):
        return Verdict(Outcome.CANNOT, "the filter policy is not a JSON object")
    # An empty policy is how a filter policy is removed (the subscriber then receives every message).
    return policy or None


def judge_message(
    policy: Any, scope: Any, *, attributes: Mapping[str, Any], body: Mapping[str, Any]
) -> Verdict:
    """Whether a message with ``attributes`` (name -> value) and JSON ``body`` passes ``policy``.

    ``body`` may hold ``Varies`` values: the verdict holds for every message of that kind (a
    ``Varies`` with choices is tried with each; a policy that drops any of them is NO_MATCH).
    """
    parsed = parse_policy(policy)
    if isinstance(parsed, Verdict):
        return parsed
    if parsed is None:
        return MATCH
    if is_unknown(scope):
        return Verdict(Outcome.PENDING, "the filter policy scope is not known yet")
    scope = scope or MESSAGE_ATTRIBUTES
    if scope not in SCOPES:
        return Verdict(Outcome.CANNOT, f"filter policy scope {scope!r} is none of {', '.join(SCOPES)}")
    if scope == MESSAGE_ATTRIBUTES:
        if not attributes:
            return Verdict(
                Outcome.NO_MATCH,
                "it filters on message attributes (FilterPolicyScope MessageAttributes, the default) and the"
                ' message has none; SNS matches no policy, not even one of only "exists": false, against an'
                " empty set of attributes",
            )
        return _match_object(parsed, attributes, nested=False)
    verdicts = [(case, _match_object(parsed, message, nested=True)) for case, message in _cases(body)]
    dropped = [(case, v) for case, v in verdicts if v.outcome == Outcome.NO_MATCH]
    if dropped:
        case, verdict = dropped[0]
        return Verdict(
            Outcome.NO_MATCH, verdict.why + (f" (when {case})" if case and len(verdicts) > 1 else "")
        )
    return _all(v for _case, v in verdicts)


def _cases(body: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The body once per combination of the choices of its ``Varies`` values (with what was chosen)."""
    slots = list(dict.fromkeys(_choice_slots(body)))
    if not slots:
        return [("", body)]
    cases = []
    for picked in itertools.product(*(v.choices for v in slots)):
        chosen = dict(zip(slots, picked, strict=True))
        what = ", ".join(f"{v.name} is {value!r}" for v, value in chosen.items())
        cases.append((what, _substitute(body, chosen)))
    return cases


def _choice_slots(value: Any) -> Iterable[Varies]:
    if isinstance(value, Varies) and value.choices:
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _choice_slots(item)


def _substitute(value: Any, chosen: Mapping[Varies, Any]) -> Any:
    if isinstance(value, Varies) and value in chosen:
        return chosen[value]
    if isinstance(value, Mapping):
        return {key: _substitute(item, chosen) for key, item in value.items()}
    return value


# ---------------------------------------------------------------- three-valued logic (and a fourth)


def _all(verdicts: Iterable[Verdict]) -> Verdict:
    """AND: one NO_MATCH decides; else CANNOT before PENDING before MATCH."""
    verdicts = list(verdicts)
    for outcome in (Outcome.NO_MATCH, Outcome.CANNOT, Outcome.PENDING):
        found = next((v for v in verdicts if v.outcome == outcome), None)
        if found is not None:
            return found
    return MATCH


def _any(verdicts: Iterable[Verdict]) -> Verdict:
    """OR: one MATCH decides; else CANNOT before PENDING; else NO_MATCH (the first reason)."""
    verdicts = list(verdicts)
    for outcome in (Outcome.MATCH, Outcome.CANNOT, Outcome.PENDING):
        found = next((v for v in verdicts if v.outcome == outcome), None)
        if found is not None:
            return found
    return verdicts[0] if verdicts else Verdict(Outcome.NO_MATCH, "an empty list matches nothing")


def _cannot(why: str) -> Verdict:
    return Verdict(Outcome.CANNOT, why)


# ---------------------------------------------------------------- the policy against a message


def _match_object(policy: Mapping[str, Any], message: Mapping[str, Any], *, nested: bool) -> Verdict:
    verdicts = []
    for key, wanted in policy.items():
        if key == "$or":
            if not isinstance(wanted, list) or not all(isinstance(p, dict) for p in wanted):
                return _cannot("its $or is not a list of policies")
            verdicts.append(_any(_match_object(p, message, nested=nested) for p in wanted))
            continue
        value = message.get(key, _MISSING) if isinstance(message, Mapping) else _MISSING
        if isinstance(wanted, dict):
            if not nested:
                return _cannot(f"property {key!r} is a nested object, which only MessageBody scope takes")
            if value is _MISSING:
                value = {}
            if is_unknown(value):
                verdicts.append(Verdict(Outcome.PENDING, f"{key} is not known yet"))
            elif not isinstance(value, Mapping):
                verdicts.append(
                    _cannot(f"property {key!r} is an object in the policy and not in the message")
                )
            else:
                verdicts.append(_match_object(wanted, value, nested=True))
        elif isinstance(wanted, list):
            verdicts.append(_match_leaf(key, wanted, value))
        else:
            return _cannot(f"property {key!r} is neither a list of conditions nor an object")
    return _all(verdicts)


def _match_leaf(key: str, conditions: list[Any], value: Any) -> Verdict:
    if is_unknown(value):
        return Verdict(Outcome.PENDING, f"{key} is not known yet")
    if isinstance(value, Varies):
        presence = [c for c in conditions if isinstance(c, dict) and set(c) == {"exists"}]
        if value.present and len(presence) == len(conditions):
            # CloudWatch always sets it, non-empty: only presence can be judged.
            return _any(
                MATCH if c["exists"] is True else Verdict(Outcome.NO_MATCH, f"{key} is always present")
                for c in presence
            )
        return _cannot(f"it tests {key}, whose value {value.name} sets anew in each notification")
    verdicts = [_condition(key, c, value) for c in conditions]
    if not verdicts:
        return Verdict(Outcome.NO_MATCH, f"{key} has no condition")
    found = _any(verdicts)
    if found.outcome == Outcome.NO_MATCH:
        shown = "absent" if value is _MISSING else json.dumps(value, default=str)
        return Verdict(Outcome.NO_MATCH, f"{key} is {shown}, which {json.dumps(conditions)} does not match")
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalars(value: Any) -> list[Any] | Verdict:
    """The values a condition is tried on: the value, or an array's elements (any may match)."""
    if isinstance(value, list | tuple):
        if any(isinstance(v, Mapping | list | tuple) for v in value):
            return _cannot("an array of objects or arrays is not judged")
        return list(value)
    if isinstance(value, Mapping):
        return _cannot("a condition on an object value is not judged")
    return [value]


def _condition(key: str, condition: Any, value: Any) -> Verdict:
    no = Verdict(Outcome.NO_MATCH)
    if isinstance(condition, dict):
        if len(condition) != 1:
            return _cannot(f"condition {json.dumps(condition)} on {key} has more than one operator")
        [(op, argument)] = condition.items()
        if op == "exists":
            return _exists(key, argument, value)
        if value is _MISSING:
            return no  # every other operator needs the property
        if op == "anything-but":
            return _anything_but(key, argument, value)
        scalars = _scalars(value)
        if isinstance(scalars, Verdict):
            return scalars
        test = _operator(op, argument)
        if isinstance(test, Verdict):
            return test
        return _any_of(scalars, test)
    if value is _MISSING:
        return no
    if isinstance(condition, str) or _is_number(condition):
        scalars = _scalars(value)
        if isinstance(scalars, Verdict):
            return scalars
        return _any_of(scalars, lambda v: _equal(condition, v))
    return _cannot(f"condition {json.dumps(condition)} on {key} is not judged (null and booleans are not)")


def _any_of(scalars: list[Any], test: Callable[[Any], bool | None]) -> Verdict:
    results = [test(v) for v in scalars]
    if any(r is True for r in results):
        return MATCH
    if any(r is None for r in results):
        return _cannot("a value of a type the condition does not judge (null, boolean)")
    return Verdict(Outcome.NO_MATCH)


def _equal(wanted: Any, value: Any) -> bool | None:
    if isinstance(wanted, str):
        return isinstance(value, str) and value == wanted
    if _is_number(value):
        return float(value) == float(wanted)
    return False if isinstance(value, str) else None


def _operator(op: str, argument: Any) -> Callable[[Any], bool | None] | Verdict:
    if op in ("prefix", "suffix", "equals-ignore-case") and isinstance(argument, str):
        if op == "prefix":
            return lambda v: isinstance(v, str) and v.startswith(argument)
        if op == "suffix":
            return lambda v: isinstance(v, str) and v.endswith(argument)
        return lambda v: isinstance(v, str) and v.lower() == argument.lower()
    if op == "numeric":
        return _numeric(argument)
    if op == "cidr" and isinstance(argument, str):
        try:
            network = ipaddress.ip_network(argument, strict=False)
        except ValueError:
            return _cannot(f"cidr {argument!r} is not an IP range")
        return lambda v: isinstance(v, str) and _in_network(v, network)
    return _cannot(f"operator {json.dumps({op: argument})} is not judged")


def _in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(value) in network
    except ValueError:
        return False


def _numeric(argument: Any) -> Callable[[Any], bool | None] | Verdict:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        return _cannot(f"numeric {json.dumps(argument)} is not [op, n] or [op, n, op, n]")
    pairs = list(zip(argument[::2], argument[1::2], strict=True))
    if not all(op in _COMPARE and _is_number(n) for op, n in pairs):
        return _cannot(f"numeric {json.dumps(argument)} is not judged")
    return lambda v: _is_number(v) and all(_COMPARE[op](float(v), float(n)) for op, n in pairs)


def _exists(key: str, wanted: Any, value: Any) -> Verdict:
    if not isinstance(wanted, bool):
        return _cannot(f"exists on {key} takes true or false")
    if value is None or value == "" or value == [] or value == ():
        # The guide says "exists": true needs "a non-null and non-empty value"; what false does
        # with null or an empty array it does not say.
        return Verdict(Outcome.NO_MATCH) if wanted else _cannot(f'"exists": false on a null or empty {key}')
    present = value is not _MISSING
    return MATCH if present == wanted else Verdict(Outcome.NO_MATCH)


def _anything_but(key: str, argument: Any, value: Any) -> Verdict:
    if isinstance(argument, dict):
        if len(argument) != 1 or next(iter(argument)) not in ("prefix", "suffix"):
            return _cannot(f"anything-but {json.dumps(argument)} on {key} is not judged")
        test = _operator(*next(iter(argument.items())))
        if isinstance(test, Verdict):
            return test
        excluded: Callable[[Any], bool | None] = test
    else:
        listed = argument if isinstance(argument, list) else [argument]
        if not all(isinstance(a, str) or _is_number(a) for a in listed):
            return _cannot(f"anything-but {json.dumps(argument)} on {key} is not judged")

        def excluded(v: Any) -> bool | None:
            results = [_equal(a, v) for a in listed]
            return True if any(r is True for r in results) else (None if None in results else False)

    scalars = _scalars(value)
    if isinstance(scalars, Verdict):
        return scalars
    results = [excluded(v) for v in scalars]
    if None in results:
        return _cannot(f"anything-but on {key}: a value of a type it does not judge")
    if not isinstance(value, list | tuple):
        return Verdict(Outcome.NO_MATCH) if results[0] else MATCH
    # The guide has said both "matches if none of the array elements are listed" and "matches ...
    # because it contains a value that isn't" listed: judge an array only where both readings agree.
    none_listed, some_unlisted = not any(results), not all(results)
    if none_listed == some_unlisted:
        return MATCH if none_listed else Verdict(Outcome.NO_MATCH)
    return _cannot(f"anything-but on the array {key}: SNS's guide words this case two ways")
