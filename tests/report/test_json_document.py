"""``--format json`` is the findings model, and ``docs/findings.schema.json`` describes exactly it.

The schema forbids unknown keys and requires every key it lists, so a key that ``to_dict`` adds,
drops or retypes fails here until the schema says the same. Validated with ``jsonschema`` on the
audit's own findings (PASS, FAIL, ERROR from moto) and on a synthetic set with every status.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cis_monitoring.core.findings import FINDINGS_SCHEMA_VERSION, Findings, from_dict
from cis_monitoring.report import RenderOptions, json_document
from tests.report.conftest import synthetic

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "findings.schema.json"


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every sub-schema that lists ``properties``."""
    found = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append(node)
        for value in node.values():
            found += _objects(value)
    elif isinstance(node, list):
        for value in node:
            found += _objects(value)
    return found


def test_the_schema_is_a_valid_schema_that_forbids_unknown_keys_and_requires_every_listed_one() -> None:
    document = schema()
    jsonschema.Draft202012Validator.check_schema(document)
    for node in _objects(document):
        assert node["additionalProperties"] is False, node.get("description")
        assert sorted(node["required"]) == sorted(node["properties"]), node.get("description")


def test_every_rendered_document_is_valid_against_the_schema(samples: list[Findings]) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    for findings in samples:
        document = json.loads(json_document.render(findings, RenderOptions()))
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)
        ]
        assert not errors, errors
        assert document["schemaVersion"] == FINDINGS_SCHEMA_VERSION


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["findings"][0].update(newKey=1), "findings/0"),
        (lambda d: d["findings"][0].pop("requirementId"), "findings/0"),
        (lambda d: d["run"].update(benchmark=5), "run/benchmark"),
        (lambda d: d["findings"][0]["links"][0].update(status="MAYBE"), "findings/0/links/0/status"),
    ],
    ids=["a key the schema does not know", "a key missing", "a wrong type", "an unknown status"],
)
def test_the_schema_catches_a_document_that_drifted(change: Any, where: str) -> None:
    document = json.loads(json_document.render(synthetic(), RenderOptions()))
    change(document)
    errors = list(jsonschema.Draft202012Validator(schema()).iter_errors(document))
    assert errors and any("/".join(map(str, e.absolute_path)).startswith(where) for e in errors), errors


def test_the_document_reads_back_to_the_same_findings(samples: list[Findings]) -> None:
    for findings in samples:
        text = json_document.render(findings, RenderOptions())
        again = from_dict(json.loads(text))
        assert json_document.render(again, RenderOptions()) == text
