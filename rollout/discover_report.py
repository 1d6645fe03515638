"""Pure parts of discovery: results model, account names, stack-config entries, YAML output.

Nothing here calls AWS, so the naming, merging and file-rewriting rules are unit
tested without an emulator. ``discover.py`` fills ``AccountResult`` objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

ACCOUNTS_KEY = "cis-monitoring:accounts"
NAME_MAX = 40

# Skip kinds. The first group are facts about the account; ERROR_KINDS mean "could not look".
NO_TRAIL = "no-trail"
SINGLE_REGION_ONLY = "single-region-only"
NO_CLOUDWATCH_LOGS = "no-cloudwatch-logs"
LOG_GROUP_ELSEWHERE = "log-group-in-other-account"
LOG_GROUP_MISSING = "log-group-missing"
ACCESS_DENIED = "access-denied"
ERROR = "error"
ERROR_KINDS = frozenset({ACCESS_DENIED, ERROR})


@dataclass(frozen=True)
class OrgAccount:
    id: str
    name: str
    """The account's name in AWS Organizations, as is."""
    ou: str
    """OU path from the root, e.g. ``Root/Workloads/Prod``."""


@dataclass(frozen=True)
class Trail:
    name: str
    home_region: str
    multi_region: bool
    log_group_arn: str | None

    @property
    def log_group(self) -> LogGroupRef | None:
        return parse_log_group_arn(self.log_group_arn) if self.log_group_arn else None


@dataclass(frozen=True)
class LogGroupRef:
    region: str
    account: str
    name: str


@dataclass(frozen=True)
class Skip:
    kind: str
    reason: str
    region: str | None = None
    """Set when only this region of an otherwise discovered account was left out."""


@dataclass(frozen=True)
class RegionChoice:
    region: str
    log_group: str
    trail: str


@dataclass
class AccountResult:
    account: OrgAccount
    trails: list[Trail] = field(default_factory=list)
    regions: list[RegionChoice] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    """Account-level skip (no regions) or region-level skips (some regions)."""

    @property
    def discovered(self) -> bool:
        return bool(self.regions)


def parse_log_group_arn(arn: str) -> LogGroupRef | None:
    """``arn:aws:logs:<region>:<account>:log-group:<name>[:*]`` -> its parts; None if not that shape."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "logs" or parts[5] != "log-group" or not parts[6]:
        return None
    return LogGroupRef(region=parts[3], account=parts[4], name=parts[6])


def usable_trails(account_id: str, trails: Iterable[Trail]) -> list[Trail]:
    """Multi-region trails delivering to a log group in the account itself, by name."""
    found = []
    for trail in trails:
        group = trail.log_group
        if trail.multi_region and group is not None and group.account == account_id:
            found.append(trail)
    return sorted(found, key=lambda t: t.name)


def why_unusable(account_id: str, trails: Sequence[Trail]) -> Skip:
    """The reason an account without a usable trail is skipped."""
    if not trails:
        return Skip(NO_TRAIL, "no CloudTrail trail")
    multi = [t for t in trails if t.multi_region]
    if not multi:
        names = ", ".join(sorted(t.name for t in trails))
        return Skip(SINGLE_REGION_ONLY, f"only single-region trails ({names})")
    elsewhere = [t for t in multi if t.log_group is not None and t.log_group.account != account_id]
    if elsewhere:
        trail = elsewhere[0]
        assert trail.log_group is not None
        return Skip(
            LOG_GROUP_ELSEWHERE,
            f"multi-region trail {trail.name} delivers to log group {trail.log_group.name} in account"
            f" {trail.log_group.account} (an organization trail?); monitor it in that account",
        )
    names = ", ".join(sorted(t.name for t in multi))
    return Skip(NO_CLOUDWATCH_LOGS, f"multi-region trail(s) {names} do not deliver to CloudWatch Logs")


def candidates_for(region: str, trails: Sequence[Trail]) -> list[Trail]:
    """Usable trails to take a region's log group from: one whose log group is in that region first."""
    return sorted(trails, key=lambda t: (t.log_group is None or t.log_group.region != region, t.name))


def default_regions(trails: Sequence[Trail]) -> list[str]:
    """Without --regions: the home region of each usable trail's log group."""
    return sorted({t.log_group.region for t in trails if t.log_group is not None})


# ---- account names ----

_NON_NAME = re.compile(r"[^a-z0-9-]+")


def slug(name: str, account_id: str) -> str:
    """A config account name: lowercase, other characters -> '-', at most 40, alphanumeric at both ends."""
    text = re.sub(r"-{2,}", "-", _NON_NAME.sub("-", name.lower()))[:NAME_MAX].strip("-")
    return text or f"account-{account_id}"


def unique_names(
    accounts: Sequence[tuple[str, str]], reserved: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Account id -> unique name; ``reserved`` (id -> name) keeps names already in a stack file.

    A clash gets ``-<last 4 digits of the id>`` (then the whole id): stable whatever the order.
    """
    reserved = dict(reserved or {})
    taken = set(reserved.values())
    result: dict[str, str] = {}
    for account_id, name in sorted(accounts):
        if account_id in reserved:
            result[account_id] = reserved[account_id]
            continue
        base = slug(name, account_id)
        chosen = base
        for suffix in (account_id[-4:], account_id):
            if chosen not in taken:
                break
            chosen = f"{base[: NAME_MAX - len(suffix) - 1].rstrip('-')}-{suffix}"
        taken.add(chosen)
        result[account_id] = chosen
    return result


# ---- stack config entries ----


def config_entries(
    results: Sequence[AccountResult],
    names: Mapping[str, str],
    role_arn: str,
) -> list[dict[str, Any]]:
    """``accounts`` entries as components/config.py accepts them; ``role_arn`` has an ``{id}`` slot."""
    entries = []
    for result in sorted((r for r in results if r.discovered), key=lambda r: r.account.id):
        account_id = result.account.id
        entries.append(
            {
                "id": account_id,
                "name": names[account_id],
                "roleArn": role_arn.format(id=account_id),
                "regions": [{"region": c.region, "logGroup": c.log_group} for c in result.regions],
            }
        )
    return entries


def merge_entries(
    existing: Sequence[Mapping[str, Any]],
    discovered: Sequence[dict[str, Any]],
    unknown_ids: Iterable[str],
) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``accounts`` list to write over ``existing``, and one note per non-obvious decision.

    Discovery decides which accounts are listed and their regions. For an account
    already in the file, the hand-set fields (name, roleArn, externalId, sessionName,
    notifications, tags) are kept: a new name would rename, so replace, every resource
    of that account. Accounts discovery could not look into (``unknown_ids``:
    AccessDenied, API errors) are kept as they are; the others not discovered are dropped.
    """
    by_id = {str(e.get("id")): e for e in existing if isinstance(e, Mapping)}
    unknown = set(unknown_ids)
    merged: dict[str, dict[str, Any]] = {}
    notes = []
    for entry in discovered:
        old = by_id.get(entry["id"])
        merged[entry["id"]] = {**old, "regions": entry["regions"]} if old else entry
    for account_id, old in by_id.items():
        if account_id in merged:
            continue
        if account_id in unknown:
            merged[account_id] = dict(old)
            notes.append(f"kept {account_id} ({old.get('name')}): could not be inspected this run")
        else:
            notes.append(
                f"removed {account_id} ({old.get('name')}): no usable trail found or not an active"
                " account; `pulumi up` will delete its monitoring"
            )
    return [merged[k] for k in sorted(merged)], notes


# ---- YAML rendering ----


class _QuotedId(str):
    """An account id: always written double-quoted (a YAML number would lose leading zeros)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key, like the stack files


_Dumper.add_representer(_QuotedId, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))


def _with_quoted_ids(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _QuotedId(v) if k == "id" and isinstance(v, str) else v for k, v in entry.items()}


def dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def render_block(
    key: str, entries: Sequence[Mapping[str, Any]], comments: Mapping[str, str], indent: int = 0
) -> str:
    """``key:`` and its list, one entry at a time so each can carry a ``# comment`` line above it."""
    pad = " " * indent
    if not entries:
        return f"{pad}{key}: []\n"
    lines = [f"{pad}{key}:"]
    for entry in entries:
        note = comments.get(str(entry.get("id")))
        if note:
            lines.append(f"{pad}  # {note}")
        item = dump([_with_quoted_ids(entry)]).rstrip("\n")
        lines.extend(f"{pad}  {line}" for line in item.splitlines())
    return "\n".join(lines) + "\n"


def entry_comments(results: Sequence[AccountResult]) -> dict[str, str]:
    """Per discovered account: its organization name, OU and trail(s), for the reader of the YAML."""
    comments = {}
    for r in results:
        if not r.discovered:
            continue
        trails = ", ".join(sorted({f"{c.trail} ({c.region})" for c in r.regions}))
        comments[r.account.id] = f"{r.account.name}, OU {r.account.ou}, trail {trails}"
    return comments


def kept_comments(results: Sequence[AccountResult]) -> dict[str, str]:
    """Per account that could not be inspected: why its existing entry was kept unchanged."""
    return {
        r.account.id: "kept unchanged, not inspected this run: " + "; ".join(s.reason for s in r.skips)[:200]
        for r in results
        if any(s.kind in ERROR_KINDS for s in r.skips)
    }


def skipped_rows(results: Sequence[AccountResult], names: Mapping[str, str]) -> list[dict[str, Any]]:
    rows = []
    for r in sorted(results, key=lambda r: r.account.id):
        for skip in r.skips:
            row = {
                "id": r.account.id,
                "name": names.get(r.account.id, slug(r.account.name, r.account.id)),
                "accountName": r.account.name,
                "ou": r.account.ou,
                "kind": skip.kind,
                "reason": skip.reason,
            }
            if skip.region:
                row["region"] = skip.region
            rows.append(row)
    return rows


def render_skipped(rows: Sequence[Mapping[str, Any]]) -> str:
    """The skipped accounts as a YAML comment block (stdout stays loadable YAML)."""
    if not rows:
        return "# No account was skipped.\n"
    width = max(len(f"{r['id']} {r['name']}") for r in rows)
    lines = [
        "#",
        f"# ==== SKIPPED: {len(rows)} account(s)/region(s) without usable CloudTrail -> CloudWatch Logs ====",
    ]
    for r in rows:
        where = f" [{r['region']}]" if r.get("region") else ""
        lines.append(f"#   {r['id'] + ' ' + r['name']:<{width}}  {r['ou']}{where}: {r['reason']}")
    return "\n".join(lines) + "\n"


# ---- rewriting one key of a stack file ----


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _trim_trailing(text: str, start: int, end: int, indent: int) -> int:
    """Move ``end`` back over blank lines and comments at ``indent`` or less (they belong to what follows)."""
    end = _line_start(text, end) if text[_line_start(text, end) : end].strip() == "" else end
    while end > start:
        prev = _line_start(text, end - 1)
        line = text[prev:end]
        stripped = line.strip()
        if stripped and not (stripped.startswith("#") and len(line) - len(line.lstrip()) <= indent):
            break
        end = prev
    return end


def _line_end(text: str, index: int) -> int:
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def replace_key_text(text: str, key: str, render: Any) -> str | None:
    """``text`` with ``config.<key>`` replaced by ``render(indent)``, comments elsewhere intact.

    Returns None when the file's layout is not one this can edit safely (the caller
    then rewrites the whole document). ``render(indent)`` returns the key's block.
    """
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if root is None:
        return "config:\n" + render(2)
    if not isinstance(root, yaml.MappingNode):
        return None
    config = next(((k, v) for k, v in root.value if k.value == "config"), None)
    if config is None:
        separator = "" if not text or text.endswith("\n") else "\n"
        return text + separator + "config:\n" + render(2)
    config_key, config_value = config
    if not isinstance(config_value, yaml.MappingNode) or config_value.flow_style or not config_value.value:
        return None
    indent = config_value.value[0][0].start_mark.column
    found = next(((k, v) for k, v in config_value.value if k.value == key), None)
    if found is None:
        end = _trim_trailing(text, config_key.start_mark.index, config_value.end_mark.index, indent)
        head = text[:end] if text[:end].endswith("\n") else text[:end] + "\n"
        return head + render(indent) + text[end:]
    key_node, value_node = found
    start = key_node.start_mark.index
    if text[_line_start(text, start) : start].strip():
        return None  # something else precedes the key on its line
    start = _line_start(text, start)
    end = value_node.end_mark.index
    if isinstance(value_node, yaml.CollectionNode) and not value_node.flow_style:
        end = _trim_trailing(text, start, end, indent)
    else:
        # A scalar or flow value: replace through the end of its line (unless its end already is one).
        end = end if end == 0 or text[end - 1] == "\n" else _line_end(text, end)
    return text[:start] + render(indent) + text[end:]


def rewrite_stack_file(
    text: str, key: str, entries: Sequence[Mapping[str, Any]], comments: Mapping[str, str]
) -> tuple[str, bool]:
    """The new file text and whether comments were preserved.

    The text edit is checked by loading both versions: every other key, its value and
    the key order must be unchanged. If the edit cannot be made or checked, the document
    is loaded, the one key replaced, and dumped again in order (losing YAML comments).
    """
    before = yaml.safe_load(text) if text.strip() else {}
    before = before if isinstance(before, dict) else {}
    new = replace_key_text(text, key, lambda indent: render_block(key, entries, comments, indent))
    if new is not None and _same_except(before, yaml.safe_load(new), key, entries):
        return new, True
    document = dict(before)
    config = dict(document.get("config") or {})
    config[key] = [dict(e) for e in entries]
    document["config"] = config
    header = (
        "# Rewritten by `cis-monitoring discover --write`: the previous file's layout could not be"
        " edited in place,\n# so its YAML comments were not preserved.\n"
    )
    return header + dump(_quote_ids_in(document, key)), False


def _quote_ids_in(document: dict[str, Any], key: str) -> dict[str, Any]:
    config = dict(document["config"])
    config[key] = [_with_quoted_ids(e) for e in config[key]]
    return {**document, "config": config}


def _same_except(before: dict[str, Any], after: Any, key: str, entries: Sequence[Mapping[str, Any]]) -> bool:
    """True if ``after`` is ``before`` with only ``config.<key>`` set to ``entries`` (order kept)."""
    if not isinstance(after, dict):
        return False
    if list(after) != (list(before) if "config" in before else [*before, "config"]):
        return False
    if {k: v for k, v in before.items() if k != "config"} != {
        k: v for k, v in after.items() if k != "config"
    }:
        return False
    old_config, new_config = before.get("config") or {}, after.get("config") or {}
    if not isinstance(new_config, dict) or new_config.get(key) != [dict(e) for e in entries]:
        return False
    old_order = [k for k in old_config if k != key]
    return old_order == [k for k in new_config if k != key] and all(
        old_config[k] == new_config[k] for k in old_order
    )
