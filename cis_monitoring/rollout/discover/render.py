"""YAML for people: config blocks with a ``# comment`` above each entry, and the skipped list as comments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

ID_KEYS = ("id", "accountId")


class _QuotedId(str):
    """An account id: always written double-quoted (a YAML number would lose leading zeros)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key, like the stack files


_Dumper.add_representer(_QuotedId, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))


def with_quoted_ids(entry: Any) -> Any:
    """A mapping with its account ids quoted when dumped (anything else as it is)."""
    if not isinstance(entry, Mapping):
        return entry
    return {k: _QuotedId(v) if k in ID_KEYS and isinstance(v, str) else v for k, v in entry.items()}


def quoted(value: Any) -> Any:
    """``value`` (an entry, a list of entries, or None) with its account ids quoted when dumped."""
    if isinstance(value, Mapping):
        return with_quoted_ids(value)
    if isinstance(value, list):
        return [with_quoted_ids(e) if isinstance(e, Mapping) else e for e in value]
    return value


def dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def render_block(key: str, value: Any, comments: Mapping[str, str], indent: int = 0) -> str:
    """``key:`` and its value; list entries each with their ``# comment`` (by id), a mapping with ``comments[""]``.

    ``value`` None renders nothing (the key is removed).
    """
    pad = " " * indent
    if value is None:
        return ""
    if isinstance(value, Mapping):
        lines = [f"{pad}{key}:"]
        if comments.get(""):
            lines.append(f"{pad}  # {comments['']}")
        lines += [f"{pad}  {line}" for line in dump(with_quoted_ids(value)).rstrip("\n").splitlines()]
        return "\n".join(lines) + "\n"
    if not value:
        return f"{pad}{key}: []\n"
    lines = [f"{pad}{key}:"]
    if comments.get(""):
        lines.append(f"{pad}  # {comments['']}")
    for entry in value:
        note = comments.get(str(entry.get("id"))) if isinstance(entry, Mapping) else None
        if note:
            lines.append(f"{pad}  # {note}")
        item = dump([with_quoted_ids(entry)]).rstrip("\n")
        lines.extend(f"{pad}  {line}" for line in item.splitlines())
    return "\n".join(lines) + "\n"


def render_skipped(rows: Sequence[Mapping[str, Any]]) -> str:
    """What was left out, as a YAML comment block (stdout stays loadable YAML)."""
    if not rows:
        return "# Nothing was skipped.\n"
    width = max(len(f"{r['id']} {r['name']}") for r in rows)
    accounts = sum(1 for r in rows if not r["listed"])
    lines = [
        "#",
        f"# ==== SKIPPED: {accounts} account(s) left out, {len(rows) - accounts} trail(s) or check(s) of"
        " listed accounts ====",
    ]
    for r in rows:
        what = f" trail {r['trail']} ({r.get('region', '?')})" if r.get("trail") else ""
        listed = "" if r["listed"] else " [account left out]"
        lines.append(f"#   {r['id'] + ' ' + r['name']:<{width}}  {r['ou']}{what}{listed}: {r['reason']}")
    return "\n".join(lines) + "\n"
