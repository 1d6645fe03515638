"""Rewrite only some keys of a stack file's ``config:`` map, keeping every other byte (comments too).

Each key's block is replaced in the text. The result is checked by loading both versions:
every other key, its value and the key order must be unchanged. If an edit cannot be made
or checked, the document is loaded, the keys set, and dumped again (losing YAML comments).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from cis_monitoring.rollout.discover.render import dump, quoted, render_block


@dataclass(frozen=True)
class Block:
    """The new value of one config key (None: remove the key) and its comments (see ``render_block``)."""

    key: str
    value: Any
    comments: Mapping[str, str] = field(default_factory=dict)


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


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


def replace_key_text(
    text: str, key: str, render: Callable[[int], str], after: str | None = None
) -> str | None:
    """``text`` with ``config.<key>`` replaced by ``render(indent)`` ("" removes it), comments elsewhere intact.

    A missing key is added after key ``after`` when there is one, else at the end of ``config:``.
    Returns None when the file's layout is not one this can edit safely.
    """
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if root is None:
        block = render(2)
        return "config:\n" + block if block else text
    if not isinstance(root, yaml.MappingNode):
        return None
    config = next(((k, v) for k, v in root.value if k.value == "config"), None)
    if config is None:
        block = render(2)
        separator = "" if not text or text.endswith("\n") else "\n"
        return text + separator + "config:\n" + block if block else text
    config_key, config_value = config
    if not isinstance(config_value, yaml.MappingNode) or config_value.flow_style or not config_value.value:
        return None
    indent = config_value.value[0][0].start_mark.column
    found = next(((k, v) for k, v in config_value.value if k.value == key), None)
    if found is None:
        block = render(indent)
        if not block:
            return text
        previous = next(
            ((k, v) for k, v in config_value.value if after is not None and k.value == after), None
        )
        if (
            previous is not None
            and isinstance(previous[1], yaml.CollectionNode)
            and not previous[1].flow_style
        ):
            end = _trim_trailing(text, previous[0].start_mark.index, previous[1].end_mark.index, indent)
        elif previous is not None:
            end = previous[1].end_mark.index
            end = end if text[end - 1] == "\n" else _line_end(text, end)
        else:
            end = _trim_trailing(text, config_key.start_mark.index, config_value.end_mark.index, indent)
        head = text[:end] if text[:end].endswith("\n") else text[:end] + "\n"
        return head + block + text[end:]
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


def rewrite_stack_file(text: str, blocks: list[Block]) -> tuple[str, bool]:
    """The new file text, and whether comments were preserved."""
    before = yaml.safe_load(text) if text.strip() else {}
    before = before if isinstance(before, dict) else {}
    new: str | None = text
    previous: str | None = None
    for block in blocks:
        if new is None:
            break
        new = replace_key_text(
            new, block.key, lambda indent, b=block: render_block(b.key, b.value, b.comments, indent), previous
        )
        previous = block.key
    if new is not None and _same_except(before, yaml.safe_load(new), blocks):
        return new, True
    document = dict(before)
    config = dict(document.get("config") or {})
    for block in blocks:
        if block.value is None:
            config.pop(block.key, None)
        else:
            config[block.key] = quoted(block.value)
    document["config"] = config
    header = (
        "# Rewritten by `cis-monitoring discover --write`: the previous file's layout could not be"
        " edited in place,\n# so its YAML comments were not preserved.\n"
    )
    return header + dump(document), False


def _plain(value: Any) -> Any:
    return yaml.safe_load(dump(value)) if value is not None else None


def _same_except(before: dict[str, Any], after: Any, blocks: list[Block]) -> bool:
    """True if ``after`` is ``before`` with only the blocks' keys changed to their values (order kept)."""
    if not isinstance(after, dict):
        return False
    if list(after) != (list(before) if "config" in before else [*before, "config"]):
        return False
    if {k: v for k, v in before.items() if k != "config"} != {
        k: v for k, v in after.items() if k != "config"
    }:
        return False
    old_config, new_config = before.get("config") or {}, after.get("config") or {}
    if not isinstance(new_config, dict):
        return False
    keys = {b.key for b in blocks}
    for block in blocks:
        if block.value is None and block.key in new_config:
            return False
        if block.value is not None and new_config.get(block.key) != _plain(block.value):
            return False
    old_order = [k for k in old_config if k not in keys]
    return old_order == [k for k in new_config if k not in keys] and all(
        old_config[k] == new_config[k] for k in old_order
    )
