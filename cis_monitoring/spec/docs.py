"""The config reference, generated from the models: a JSON Schema, and the README's reference tables.

The models are the one source: each key's ``Field(description=...)`` becomes its schema
``description`` and its row in the README, each model's docstring the text above its table.
So a key cannot be documented differently in two places, and a test (tests/spec/test_docs.py)
fails when README.md or docs/stack-config.schema.json drift from the models.

- ``config_schema``: the JSON Schema of the ``cis-monitoring:`` keys of ``Pulumi.<stack>.yaml``
  (camelCase, without the namespace), for editors and CI;
- ``config_reference``: one Markdown table per object (key, type, required or default, description);
- ``codes_reference``: one row per code of ``cis_monitoring.core.problems.CODES``;
- ``controls_reference`` (``controls_table``): one row per catalog control.

``python -m cis_monitoring.spec.docs --write`` (``make docs``) rewrites both files; ``--check``
exits 1 naming what drifted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from cis_monitoring.core.catalog import EXTRA_CONTROLS_ENV
from cis_monitoring.core.problems import CODES
from cis_monitoring.core.project import PROJECT

from .accounts import AccountConfig, OrganizationTrailConfig, RegionConfig, TrailConfig
from .controls_table import controls_reference
from .inventory import OrganizationConfig, SelectorConfig, ShardConfig
from .model import EmulatorConfig, StackConfig
from .notifications import NotificationConfig, SubscriptionConfig
from .realtime import CentralBusConfig, HighRiskConfig, RealTimeConfig, real_time_option

SCHEMA_PATH = Path("docs/stack-config.schema.json")
README_PATH = Path("README.md")
CONFIG_BLOCK = "config reference"
CODES_BLOCK = "problem codes"
CONTROLS_BLOCK = "supported controls"

PARTS: tuple[type[BaseModel], ...] = (
    AccountConfig,
    TrailConfig,
    RegionConfig,
    OrganizationTrailConfig,
    NotificationConfig,
    SubscriptionConfig,
    OrganizationConfig,
    SelectorConfig,
    ShardConfig,
    RealTimeConfig,
    HighRiskConfig,
    CentralBusConfig,
    EmulatorConfig,
)
"""Every object below the top-level keys, in the order the README shows their tables."""

_SECRET_KEY = {
    "description": "A config key that some subscription's `endpointSecretKey` names: Pulumi stores it as a"
    " secret, `{secure: <ciphertext>}` (`pulumi config set --secret <key> <endpoint>`). Any other key is"
    " a typo.",
    "type": "object",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


class _Schema(GenerateJsonSchema):
    """pydantic's JSON Schema, with what a user writes: defaults from factories and model defaults as the
    keys they hold (``{}``), and no titles made from field names ("Rolearn")."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return schema.get("default", NoDefault)

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, BaseModel):
            return dft.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return super().encode_default(dft)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def config_schema(model: type[BaseModel] = StackConfig) -> dict[str, Any]:
    """The JSON Schema of the project's keys (without the ``cis-monitoring:`` namespace)."""
    schema = model.model_json_schema(by_alias=True, schema_generator=_Schema)
    for definition in schema.get("$defs", {}).values():  # docstrings, as the README shows them
        definition["description"] = _plain(definition.get("description", ""))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{PROJECT} stack config",
        "description": f"The `{PROJECT}:` keys of a `Pulumi.<stack>.yaml` file, without the namespace (README,"
        " Configuration). Generated from cis_monitoring/spec by `make docs`. It checks each key's shape;"
        " the cross-checks (duplicates, coverage, endpoints in the right account) are the program's.",
        **{k: v for k, v in schema.items() if k not in ("title", "description", "additionalProperties")},
        "additionalProperties": _SECRET_KEY,
    }


def schema_text(model: type[BaseModel] = StackConfig) -> str:
    return json.dumps(config_schema(model), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class _Section:
    name: str
    paths: list[str]
    schema: dict[str, Any]


def _sections(schema: dict[str, Any], model: type[BaseModel]) -> list[_Section]:
    """The root and every object of ``PARTS`` with the key paths where it is used (shortest first)."""
    definitions = schema.get("$defs", {})
    found: dict[str, list[str]] = {}
    queue: list[tuple[dict[str, Any], str]] = [(schema, "")]
    while queue:  # breadth first, so the shortest path of each object comes first
        node, path = queue.pop(0)
        for key, prop in node.get("properties", {}).items():
            for name, suffix in _objects_in(prop):
                where = f"{path}.{key}{suffix}" if path else f"{key}{suffix}"
                if where not in found.setdefault(name, []):
                    found[name].append(where)
                    queue.append((definitions[name], where))
    order = [part.__name__ for part in PARTS]
    missing = sorted(set(found) - set(order))
    if missing:
        raise ValueError(f"add {', '.join(missing)} to cis_monitoring.spec.docs.PARTS, where its table goes")
    return [_Section(model.__name__, [], schema)] + [
        _Section(name, found[name], definitions[name]) for name in order if name in found
    ]


def _objects_in(prop: dict[str, Any]) -> list[tuple[str, str]]:
    """(model name, path suffix) of the objects a property holds: ``""`` for one, ``"[]"`` for a list."""
    if "$ref" in prop:
        return [(prop["$ref"].rsplit("/", 1)[-1], "")]
    if prop.get("type") == "array":
        return [(name, "[]") for name, _ in _objects_in(prop.get("items", {}))]
    return [found for option in prop.get("anyOf", []) for found in _objects_in(option)]


def _type(prop: dict[str, Any]) -> str:
    """What a user may write, in words: ``string``, ``list of strings``, ``` `all` or list of strings```."""
    return _series(_forms(prop), "or")


def _forms(prop: dict[str, Any]) -> list[str]:
    """Each form a property takes (null left out: an optional key is simply not written)."""
    if "$ref" in prop:
        return ["object"]
    if "const" in prop:
        return [f"`{prop['const']}`"]
    if "enum" in prop:
        return [f"`{value}`" for value in prop["enum"]]
    if "anyOf" in prop:
        return [form for option in prop["anyOf"] if option.get("type") != "null" for form in _forms(option)]
    kind = prop.get("type")
    if kind == "array":
        return [f"list of {_plural(_type(prop.get('items', {})))}"]
    if kind == "object":
        return [f"map of {_plural(_type(prop.get('additionalProperties', {})))}"]
    return [str(kind or "any")]


def _series(words: Sequence[str], last: str) -> str:
    """``a``, ``a or b``, ``a, b or c`` (or ``and``)."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _plural(word: str) -> str:
    return f"{word}s" if word in ("string", "object", "integer", "boolean") else word


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if prop.get("default") is None:
        return "optional"
    return f"`{show_default(prop['default'])}`"


def show_default(value: Any) -> str:
    """A default as the README writes it: a word bare (``cis``), anything else as JSON (``["4.5"]``)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _plain(text: str) -> str:
    """A docstring as one line of Markdown: reST ``x`` becomes `x`."""
    return " ".join(text.replace("``", "`").split())


def _prose(text: str) -> str:
    """A description as one Markdown table cell (pipes escaped)."""
    return _plain(text).replace("|", "\\|")


def config_reference(model: type[BaseModel] = StackConfig) -> str:
    """The README's reference tables: one per object, in the order of ``PARTS``."""
    schema = config_schema(model)
    lines = [
        f"<!-- Generated from cis_monitoring/spec by `make docs`: edit the models' descriptions, not this"
        f" text. The same reference as a JSON Schema: {SCHEMA_PATH}. -->",
    ]
    for section in _sections(schema, model):
        if section.paths:
            heading, description = f"`{section.paths[0]}`", str(section.schema.get("description", ""))
            if section.paths[1:]:
                description += f" Also at {_series([f'`{p}`' for p in section.paths[1:]], 'and')}."
        else:  # the root's schema description is the file's; the README shows the model's own
            heading, description = f"Stack-wide keys (`{PROJECT}:<key>`)", model.__doc__ or ""
        description = _prose(description)
        lines += ["", f"### {heading}", "", description, ""]
        lines += ["| key | type | required / default | description |", "|---|---|---|---|"]
        required = set(section.schema.get("required", []))
        properties = section.schema["properties"]
        # Required keys first: the reader meets what must be written before what may be.
        for key in sorted(properties, key=lambda k: k not in required):
            prop = properties[key]
            lines.append(
                f"| `{key}` | {_type(prop)} | {_default(prop, key in required)} |"
                f" {_prose(str(prop.get('description', '')))} |"
            )
    return "\n".join(lines)


def codes_reference() -> str:
    """One row per problem and coverage code: the code, the chain link it breaks, what it means."""
    lines = [
        "<!-- Generated from cis_monitoring.core.problems.CODES by `make docs`. -->",
        "",
        "### Problem and coverage codes",
        "",
        "The pack prints these after its messages (`[codes: ...]`), and the audit's JSON carries them."
        " Decide by code, never by message text. A `coverage.*` code is a verdict on an account and"
        " Region, not a broken link.",
        "",
        "| code | link | meaning |",
        "|---|---|---|",
    ]
    for code, meaning in CODES.items():
        link = code.link.label if code.link is not None else "\N{EN DASH}"
        lines.append(f"| `{code}` | {link} | {_prose(meaning)} |")
    return "\n".join(lines)


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the lines between the ``name`` markers replaced by ``body``; ValueError without them."""
    begin, end = _markers(name)
    pattern = re.compile(rf"^{re.escape(begin)}\n.*?^{re.escape(end)}$", re.DOTALL | re.MULTILINE)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"{README_PATH} needs one '{begin}' line and one '{end}' line after it")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text)


def _blocks(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """Each generated README block: its marker name and its text."""
    return (
        (CONFIG_BLOCK, config_reference(model)),
        (CODES_BLOCK, codes_reference()),
        (CONTROLS_BLOCK, controls_reference([("real-time (opt-in)", real_time_option)])),
    )


def expected_readme(readme: str, model: type[BaseModel] = StackConfig) -> str:
    for name, body in _blocks(model):
        readme = replace_block(readme, name, body)
    return readme


def drift(root: Path, model: type[BaseModel] = StackConfig) -> list[str]:
    """What in ``root`` differs from the generated docs, one line each (empty: all current)."""
    found = []
    schema_file = root / SCHEMA_PATH
    if not schema_file.is_file() or schema_file.read_text(encoding="utf-8") != schema_text(model):
        found.append(f"{SCHEMA_PATH} differs from the models")
    readme = (root / README_PATH).read_text(encoding="utf-8")
    for name, body in _blocks(model):
        try:
            current = replace_block(readme, name, body)
        except ValueError as error:
            found.append(str(error))
            continue
        if current != readme:
            found.append(f"{README_PATH}: the '{name}' block differs from the models")
    return found


def write(root: Path, model: type[BaseModel] = StackConfig) -> list[str]:
    """Rewrite the generated files under ``root``; the paths that changed."""
    changed = []
    schema_file = root / SCHEMA_PATH
    new_schema = schema_text(model)
    if not schema_file.is_file() or schema_file.read_text(encoding="utf-8") != new_schema:
        schema_file.parent.mkdir(parents=True, exist_ok=True)
        schema_file.write_text(new_schema, encoding="utf-8")
        changed.append(str(SCHEMA_PATH))
    readme_file = root / README_PATH
    readme = readme_file.read_text(encoding="utf-8")
    new_readme = expected_readme(readme, model)
    if new_readme != readme:
        readme_file.write_text(new_readme, encoding="utf-8")
        changed.append(str(README_PATH))
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cis_monitoring.spec.docs", description="The config reference, from the models."
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 if README.md or the schema drifted")
    mode.add_argument("--write", action="store_true", help="rewrite them from the models")
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parents[2],
        help="the repository (default: this one)",
    )
    args = parser.parse_args(argv)
    if not (args.root / README_PATH).is_file():
        parser.error(f"{args.root} has no {README_PATH}: name the repository with --root")
    if os.environ.get(EXTRA_CONTROLS_ENV):
        # Extension controls may change the catalog's defaults (the `controls` row): the README
        # documents the packaged catalog.
        parser.error(f"unset {EXTRA_CONTROLS_ENV}: the reference documents the packaged catalog")
    if args.check:
        problems = drift(args.root)
        for problem in problems:
            print(f"out of date: {problem}; run `make docs`", file=sys.stderr)
        return 1 if problems else 0
    try:
        changed = write(args.root)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(f"wrote {path}" for path in changed) or "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
