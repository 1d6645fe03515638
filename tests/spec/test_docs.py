"""The config reference is generated from the models: README.md and the JSON Schema may not drift from them.

Also: every key of the stack config is described, a default a description states is the real
one, and the shipped ``Pulumi.<stack>.yaml`` files are valid against the generated schema.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel, Field

from cis_monitoring.core.problems import CODES
from cis_monitoring.core.project import PROJECT
from cis_monitoring.spec import StackConfig, docs
from cis_monitoring.spec.problems import model_in

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = REPO_ROOT / "cis_monitoring" / "spec"
STACK_FILES = sorted(REPO_ROOT.glob("Pulumi.*.yaml"))


class _ChangedDescription(StackConfig):
    __doc__ = StackConfig.__doc__
    name_prefix: str = Field(default="cis", description="A description someone changed in the model.")


def _models(root: type[BaseModel] = StackConfig) -> list[type[BaseModel]]:
    found = [root]
    for field in root.model_fields.values():
        nested = model_in(field.annotation)
        if nested is not None and nested not in found:
            found += [m for m in _models(nested) if m not in found]
    return found


def _copy_of_the_docs(tmp_path: Path) -> Path:
    """README.md and the schema in ``tmp_path``, as the models generate them."""
    for relative in (docs.README_PATH, docs.SCHEMA_PATH):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / relative, tmp_path / relative)
    docs.write(tmp_path)  # current, whatever the repository's copy is: these tests are about the checker
    return tmp_path


# ---------------------------------------------------------------- drift


def test_readme_and_schema_are_what_the_models_generate() -> None:
    assert docs.drift(REPO_ROOT) == [], "run `make docs`"


def test_a_changed_description_is_detected_in_the_readme_and_the_schema(tmp_path: Path) -> None:
    root = _copy_of_the_docs(tmp_path)
    assert docs.drift(root, _ChangedDescription) == [
        f"{docs.SCHEMA_PATH} differs from the models",
        f"{docs.README_PATH}: the 'config reference' block differs from the models",
    ]
    before = (root / docs.README_PATH).read_text().splitlines()
    assert docs.write(root, _ChangedDescription) == [str(docs.SCHEMA_PATH), str(docs.README_PATH)]
    after = (root / docs.README_PATH).read_text().splitlines()
    changed = [line for old, line in zip(before, after, strict=True) if old != line]
    assert changed == ["| `namePrefix` | string | `cis` | A description someone changed in the model. |"]
    assert docs.drift(root, _ChangedDescription) == []


def test_a_hand_edit_inside_a_generated_block_is_detected(tmp_path: Path) -> None:
    root = _copy_of_the_docs(tmp_path)
    readme = root / docs.README_PATH
    meaning = CODES[next(iter(CODES))]
    readme.write_text(readme.read_text().replace(meaning, "Edited by hand."))
    assert docs.drift(root) == [f"{docs.README_PATH}: the 'problem codes' block differs from the models"]


def test_a_readme_without_the_markers_is_refused(tmp_path: Path) -> None:
    root = _copy_of_the_docs(tmp_path)
    readme = root / docs.README_PATH
    readme.write_text(readme.read_text().replace("<!-- END GENERATED: config reference -->\n", ""))
    assert docs.drift(root) == [
        f"{docs.README_PATH} needs one '<!-- BEGIN GENERATED: config reference -->' line and one"
        " '<!-- END GENERATED: config reference -->' line after it"
    ]
    assert docs.main(["--write", "--root", str(root)]) == 2


def test_check_exits_1_naming_what_drifted_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_of_the_docs(tmp_path)
    (root / docs.SCHEMA_PATH).write_text("{}\n")
    assert docs.main(["--check", "--root", str(root)]) == 1
    assert f"out of date: {docs.SCHEMA_PATH} differs from the models" in capsys.readouterr().err
    assert docs.main(["--write", "--root", str(root)]) == 0
    assert docs.main(["--check", "--root", str(root)]) == 0


def test_every_object_of_the_config_has_a_table() -> None:
    reference = docs.config_reference()
    for model in _models():
        for name in model.model_fields:
            alias = model.model_fields[name].alias
            assert f"| `{alias}` |" in reference, f"{model.__name__}.{name} has no row"
    assert reference.count("\n### ") == len(_models())


def test_every_code_has_a_row() -> None:
    rows = [line for line in docs.codes_reference().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [str(code) for code in CODES]


# ---------------------------------------------------------------- descriptions


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_key_and_object_is_described(model: type[BaseModel]) -> None:
    assert (model.__doc__ or "").strip(), f"{model.__name__} has no docstring (the text above its table)"
    for name, field in model.model_fields.items():
        description = (field.description or "").strip()
        assert len(description) > 20 and description.endswith("."), (
            f"{model.__name__}.{name}: {description!r}"
        )


def test_no_key_is_described_by_an_attribute_docstring() -> None:
    """A string under a field is invisible to the schema and the README: it belongs in its description."""
    found = []
    for path in sorted(SPEC_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            body = node.body
            for first, second in itertools.pairwise(body):
                is_string = isinstance(second, ast.Expr) and isinstance(second.value, ast.Constant)
                if isinstance(first, ast.AnnAssign) and is_string and _is_model_class(node):
                    found.append(f"{path.name}:{second.lineno} ({node.name})")
    assert not found, found


def _is_model_class(node: ast.ClassDef) -> bool:
    return any(
        isinstance(base, ast.Name) and base.id.endswith(("Model", "Config", "Role")) for base in node.bases
    )


def test_a_default_a_description_states_is_the_real_one() -> None:
    schema = docs.config_schema()
    objects = [schema, *schema["$defs"].values()]
    stated = 0
    for node in objects:
        for key, prop in node["properties"].items():
            for claimed in re.findall(r"Default `([^`]*)`", prop.get("description", "")):
                assert "default" in prop, f"{key} states a default but has none"
                assert claimed == docs.show_default(prop["default"]), key
                stated += 1
    assert stated > 10  # the check really looks at descriptions


# ---------------------------------------------------------------- the JSON Schema


def _project_keys(path: Path) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text())["config"]
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)}


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads((REPO_ROOT / docs.SCHEMA_PATH).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_the_shipped_stacks_are_found() -> None:
    assert {p.name for p in STACK_FILES} >= {"Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.local.yaml"}


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_shipped_stack_files_are_valid_against_the_schema(
    path: Path, validator: jsonschema.protocols.Validator
) -> None:
    keys = _project_keys(path)
    assert keys, f"{path.name} has no {PROJECT}: keys"
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(keys)]
    assert not errors, errors


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c.update(tag={"Owner": "x"}), ""),  # a typo of a key: only a secret may be extra
        (lambda c: c["accounts"][0].update(id=111111111111), "accounts.0.id"),  # a YAML number
        (lambda c: c["accounts"][0]["trail"].update(logGroupPrefx="x"), "accounts.0.trail"),
        (lambda c: c["notifications"]["subscriptions"][0].update(protocol="http"), "protocol"),
        (lambda c: c["accounts"][0].update(coveredRegions="us-east-1"), "coveredRegions"),
        (lambda c: c.update(namePrefix="Way-too-long-for-a-name-prefix"), "namePrefix"),
    ],
    ids=["typo", "number-id", "nested-typo", "http", "regions-as-word", "prefix"],
)
def test_the_schema_refuses_a_wrong_shape(
    change: Any, where: str, validator: jsonschema.protocols.Validator
) -> None:
    keys = _project_keys(REPO_ROOT / "Pulumi.dev.yaml")
    change(keys)
    errors = list(validator.iter_errors(keys))
    assert errors
    assert any(where in path for path in _error_paths(errors)), _error_paths(errors)


def _error_paths(errors: list[jsonschema.ValidationError]) -> list[str]:
    """Where each error is, also those inside an ``anyOf`` (an optional key's errors are there)."""
    paths = []
    for error in errors:
        paths.append(".".join(map(str, error.absolute_path)))
        paths += _error_paths(list(error.context or []))
    return paths


def test_a_secret_endpoint_key_is_the_one_extra_key_the_schema_takes(
    validator: jsonschema.protocols.Validator,
) -> None:
    keys = _project_keys(REPO_ROOT / "Pulumi.prod.yaml")
    keys["pagerEndpoint"] = {"secure": "v1:abc"}
    assert list(validator.iter_errors(keys)) == []
    keys["pagerEndpoint"] = "https://events.pagerduty.com/plain"
    assert list(validator.iter_errors(keys))
