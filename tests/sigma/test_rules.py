"""Every catalog control's Sigma rule: pySigma loads and validates it, two backends convert it, and
it selects exactly the control's sample records (up to the stated letter-case difference).

The controls are those of ``CONTROLS`` when the tests are collected, so entries merged later
(4.1-4.15) are covered without a change here; the root-usage extension entry of
``tests/data/root_usage_control`` adds ``!=`` and ``NOT EXISTS``.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sigma.backends.elasticsearch import LuceneBackend
from sigma.backends.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.validation import SigmaValidator
from sigma.validators.core import validators

import cis_monitoring.core.catalog as catalog
from cis_monitoring.core.catalog import CONTROLS, EXTRA_CONTROLS_ENV, Control
from cis_monitoring.core.catalog.benchmarks import BY_KEY
from cis_monitoring.core.filter_pattern import matches, parse
from cis_monitoring.sigma.command import render
from cis_monitoring.sigma.rules import ATTACK, RULE_ID_NAMESPACE, RuleResult, build_rule, rule_id
from tests.sigma.pysigma_eval import pysigma_selects

ROOT_USAGE = Path(__file__).resolve().parents[1] / "data" / "root_usage_control"
NEEDS_MITRE_DOWNLOAD = {"attacktag", "d3_fendtag"}
"""pySigma >= 1.0 downloads the ATT&CK and D3FEND STIX bundles from GitHub for these two; this
machine and CI reach package registries only. The ATT&CK tags are checked by tag_format and
namespace_tag here, and by their cited source in ``cis_monitoring.sigma.rules.ATTACK``."""
BACKENDS = {"splunk": SplunkBackend, "elasticsearch-lucene": LuceneBackend}


@pytest.fixture(scope="module")
def root_usage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Control]:
    directory = tmp_path_factory.mktemp("root-usage")
    for path in ROOT_USAGE.iterdir():
        shutil.copy(path, directory / path.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(EXTRA_CONTROLS_ENV, str(directory))
        catalog.reload()
        try:
            yield catalog.get_control("4.3-test")
        finally:
            patch.delenv(EXTRA_CONTROLS_ENV)
            catalog.reload()


def _results(control_ids: list[str]) -> list[RuleResult]:
    return [build_rule(CONTROLS[c]) for c in control_ids]


def _checked(result: RuleResult) -> None:
    """Everything asked of a written rule."""
    assert result.document is not None, result.problem
    text = render(result)
    collection = SigmaCollection.from_yaml(text)
    assert not collection.errors, collection.errors
    (rule,) = collection.rules
    # Every core validator of pySigma but the two that download MITRE's data.
    chosen = [cls for name, cls in validators.items() if name not in NEEDS_MITRE_DOWNLOAD]
    assert len(chosen) == len(validators) - len(NEEDS_MITRE_DOWNLOAD)
    issues = SigmaValidator(chosen).validate_rules(iter([rule]))
    assert not issues, issues
    for name, backend in BACKENDS.items():
        queries = backend().convert(collection)
        assert len(queries) == 1 and queries[0], (name, queries)

    control = result.control
    pattern = parse(control.filter_pattern)
    samples = [
        *(("target", s) for s in control.target_samples()),
        *(("unrelated", s) for s in control.unrelated_samples()),
        *(("probe", s) for s in control.probe_samples()),
    ]
    check = result.check
    assert check is not None and len(check.verdicts) == len(samples)
    for (group, sample), verdict in zip(samples, check.verdicts, strict=True):
        by_pysigma = pysigma_selects(rule, sample.record)
        assert by_pysigma == verdict.sigma == verdict.folded, (group, sample.label)
        # The core's own verdict, case-sensitive as CloudWatch: equal, except the stated difference.
        core = matches(pattern, sample.record)
        assert core == (group == "target"), (group, sample.label)
        if by_pysigma != core:
            assert verdict in check.case_only, (group, sample.label)
    assert all(v.sigma for v in check.verdicts[: len(control.target_samples())]), "every target is selected"


@pytest.mark.parametrize("control_id", list(CONTROLS))
def test_every_catalog_control_has_a_rule_that_passes_pysigma_and_its_samples(control_id: str) -> None:
    (result,) = _results([control_id])
    if result.document is None:
        # Said, never written: the command prints this and exits 3 (test_command).
        assert result.problem and result.problem.startswith("its filter pattern cannot be a Sigma detection")
        pytest.fail(f"{control_id} has no Sigma rule: {result.problem}")
    _checked(result)


def test_control_4_5_selects_its_targets_and_only_case_variants_beyond() -> None:
    (result,) = _results(["4.5"])
    _checked(result)
    assert result.check is not None
    case_only = {v.label for v in result.check.case_only}
    # The derived probes that re-case a target name: 5 events, lower and upper case.
    assert len(case_only) == 10
    assert all(label.startswith("probe: hypothetical event") for label in case_only)
    assert {label.split("'")[1] for label in case_only} == {
        variant for name in CONTROLS["4.5"].event_names for variant in (name.lower(), name.upper())
    }


def test_a_control_with_not_equals_and_not_exists_gets_an_exact_rule(root_usage: Control) -> None:
    result = build_rule(root_usage)
    _checked(result)
    assert result.document is not None and result.check is not None
    assert result.document["detection"] == {
        "selection": {
            "userIdentity.type": "Root",
            "userIdentity.invokedBy|exists": False,
            "eventType|exists": True,
        },
        "filter": {"eventType": "AwsServiceEvent"},
        "condition": "selection and not filter",
    }
    # Its one case-only record is the file's own probe; the rest agree with the case-sensitive filter.
    assert {v.label for v in result.check.case_only} == {"probe: userIdentity.type 'root' in lower case"}
    assert result.check.agreeing == len(result.check.verdicts) - 1


def test_the_rule_states_its_control() -> None:
    control = CONTROLS["4.5"]
    (result,) = _results(["4.5"])
    document = result.document
    assert document is not None
    assert document["level"] == control.severity
    assert document["status"] == "test"
    assert document["logsource"] == {"product": "aws", "service": "cloudtrail"}
    references = document["references"]
    assert isinstance(references, list)
    for requirement in control.frameworks:
        assert any(f"{BY_KEY[requirement.benchmark].version}, {requirement.id}:" in r for r in references)
    assert f"AWS Security Hub control {control.security_hub_id}" in references
    assert document["tags"] == ["attack.defense-evasion", "attack.t1562.008"]
    assert control.filter_pattern in str(document["description"])
    assert "case-insensitively" in str(document["description"])


def test_attack_tags_only_where_the_mapping_is_cited() -> None:
    for control_id in CONTROLS:
        (result,) = _results([control_id])
        if result.document is not None:
            assert ("tags" in result.document) == (control_id in ATTACK)
    for technique in ATTACK.values():
        assert technique.source.startswith("https://attack.mitre.org/techniques/")


def test_rule_ids_are_uuid5_of_the_control_id_and_never_change() -> None:
    ids = {c: rule_id(c) for c in CONTROLS}
    assert len(set(ids.values())) == len(ids)
    for control_id, value in ids.items():
        parsed = uuid.UUID(value)
        assert parsed.version == 5 and parsed == uuid.uuid5(
            RULE_ID_NAMESPACE, f"cis-monitoring/sigma/{control_id}"
        )
    # A published rule keeps its id: SIEMs update a rule by id. This literal is the promise.
    assert rule_id("4.5") == "a436ea1c-f76a-5f91-bb3d-8dcb48f468a0"


def test_a_pattern_sigma_cannot_state_gets_no_rule_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = json.loads((ROOT_USAGE / "cis_4_3_test.json").read_text())
    entry.update(
        controlId="4.3-regex",
        slug="root-usage-regex",
        metric={**entry["metric"], "name": "RootAccountUsageRegex"},
        filterPattern='{ $.userIdentity.type = %^Root$% && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
        samples="cis_4_3_regex.samples.json",
    )
    samples = json.loads((ROOT_USAGE / "cis_4_3_test.samples.json").read_text())
    samples["control"] = "4.3-regex"
    (tmp_path / "cis_4_3_regex.json").write_text(json.dumps(entry))
    (tmp_path / "cis_4_3_regex.samples.json").write_text(json.dumps(samples))
    monkeypatch.setenv(EXTRA_CONTROLS_ENV, str(tmp_path))
    catalog.reload()
    try:
        result = build_rule(catalog.get_control("4.3-regex"))
    finally:
        monkeypatch.delenv(EXTRA_CONTROLS_ENV)
        catalog.reload()
    assert result.document is None
    assert result.problem is not None and "regular expression %^Root$%" in result.problem
