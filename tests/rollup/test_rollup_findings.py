"""The rollup's findings: the organization's coverage as the stacks state it, in the findings model.

Run through rollup/__main__.py under Pulumi mocks with the outputs the real program exports for the
dev and prod stacks, and read back with ``cis_monitoring.core.findings`` (the model every renderer
reads): every finding stated, none PASS.
"""

from __future__ import annotations

import ast
import importlib
import json
import sys
from typing import Any

import pytest

from cis_monitoring.core.catalog import CONTROLS
from cis_monitoring.core.findings import FINDINGS_SCHEMA_VERSION, STATED, from_dict
from cis_monitoring.core.status import Status
from tests.rollup.rollup_harness import ROLLUP_DIR
from tests.rollup.test_rollup import DEV, ORG_CHAIN, ORG_CONFIG, PROD, chain, claim, results, run_ok, view

rollup_findings = importlib.import_module("rollup_findings")


@pytest.fixture(scope="module")
def exported(stack_outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from tests.rollup.test_rollup import INVENTORY, INVENTORY_ACCOUNTS, INVENTORY_SCHEMA_VERSION

    inventory = {"schemaVersion": INVENTORY_SCHEMA_VERSION, "accounts": INVENTORY_ACCOUNTS}
    run, _ = run_ok(ORG_CONFIG, {**stack_outputs, INVENTORY: {"accounts": inventory}})
    return run.outputs


@pytest.fixture(scope="module")
def stack_outputs() -> dict[str, dict[str, Any]]:
    from tests.conftest import PAGER_URL
    from tests.rollup.test_rollup import program_outputs, stack_config

    dev, prod = stack_config("dev")[0], stack_config("prod")[0]
    prod["pagerEndpoint"] = PAGER_URL
    return {
        DEV: program_outputs(dev, "dev"),
        PROD: program_outputs(prod, "prod", secret_keys=["pagerEndpoint"]),
    }


def test_the_rollup_exports_its_coverage_as_stated_findings(exported: dict[str, Any]) -> None:
    document = exported["findings"]
    findings = from_dict(json.loads(json.dumps(document)), "rollup findings")
    coverage = exported["coverage"]
    controls = {c for counts in exported["byStack"].values() for c in counts["controls"]}
    assert controls == set(CONTROLS)  # dev selects 4.5, prod every control
    # Every control a stack selects is stated for every pair it claims; 4.5 (both stacks') for every pair.
    assert {f.uid for f in findings.findings if f.control_id == "4.5"} == {f"4.5/{key}" for key in coverage}
    assert {f.uid.split("/", 1)[1] for f in findings.findings} == set(coverage)
    assert {f.control_id for f in findings.findings} == controls
    assert {f.source for f in findings.findings} == {STATED}
    for finding in findings.findings:
        entry = coverage[f"{finding.account_id}/{finding.region}"]
        wanted = Status.FAIL if entry["coverage"] == "none" else Status.NOT_AVAILABLE
        assert finding.status == wanted, finding.uid
        assert finding.coverage is not None and finding.coverage.kind == entry["coverage"]
        assert finding.coverage.description == entry["description"]
        assert finding.ou == entry["ou"] and finding.chain == entry.get("chain")
        assert not finding.links, "nothing was checked"
    member = next(f for f in findings.findings if f.account_id == "444444444444")
    assert member.chain == ORG_CHAIN and member.reasons[0].startswith(f"stated by stack {PROD}, not audited:")
    assert Status.PASS not in {f.status for f in findings.findings}
    assert document["status"] == "FAIL"  # the inventory has accounts nothing covers


def test_its_shape_is_the_findings_models(exported: dict[str, Any]) -> None:
    document = exported["findings"]
    assert document["schemaVersion"].split(".")[0] == FINDINGS_SCHEMA_VERSION.split(".")[0]
    read = from_dict(document, "rollup findings")
    core = read.to_dict()
    assert set(document) <= set(core) and set(document["run"]) <= set(core["run"])
    for raw, again in zip(document["findings"], core["findings"], strict=True):
        assert set(raw) <= set(again)
        assert {k: again[k] for k in raw} == raw


def test_claims_name_every_other_stack_that_states_the_pair() -> None:
    key, entry = chain("111111111111", "us-east-1")
    a = results("o/p/a", [(key, entry)], [claim("111111111111", key)])
    b = results("o/p/b", [(key, entry)], [claim("111111111111", key, kind="organization")])
    built = view.build_view([a, b])
    document = rollup_findings.findings_document(built, rollup_findings.chains_of([a, b]))
    (only,) = document["findings"]
    assert only["notes"] == ["also stated by stack o/p/b (organization)"]
    assert only["status"] == "NOT_AVAILABLE" and document["status"] == "NOT_AVAILABLE"


def test_the_rollup_findings_module_imports_only_the_standard_library() -> None:
    """The rollup may run from a venv of its own: the findings model's keys are written out, not imported."""
    tree = ast.parse((ROLLUP_DIR / "rollup_findings.py").read_text(encoding="utf-8"))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
