"""``judge``: covers / too broad / canonical, with the near misses each catalog entry defines."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cis_monitoring.core.catalog import CIS_4_5, EXTRA_CONTROLS_ENV, Control, registry
from cis_monitoring.core.judge.pattern import judge_pattern, probe_records

ROOT_USAGE_DIR = Path(__file__).resolve().parents[2] / "data" / "root_usage_control"
ROOT_PATTERN = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'


@pytest.fixture(scope="module")
def root_usage() -> Control:
    """The test-only 4.3-style entry, loaded beside the catalog without changing the process's catalog."""
    return registry.load({EXTRA_CONTROLS_ENV: str(ROOT_USAGE_DIR)}).controls["4.3-test"]


def test_the_benchmark_text_covers_4_5_and_is_canonical() -> None:
    verdict = judge_pattern(CIS_4_5.filter_pattern, CIS_4_5)
    assert (verdict.covers, verdict.canonical, verdict.too_broad, verdict.error) == (True, True, False, None)
    assert verdict.explain() == "it covers the control"


def test_a_harmless_respelling_covers_but_is_not_canonical() -> None:
    compact = CIS_4_5.filter_pattern.replace(" = ", "=")
    verdict = judge_pattern(compact, CIS_4_5)
    assert (verdict.covers, verdict.canonical, verdict.too_broad) == (True, False, False)
    assert verdict.explain() == "it covers the control (text differs from the benchmark's)"


def test_a_missing_event_is_named_with_its_records() -> None:
    weak = CIS_4_5.filter_pattern.replace(" || ($.eventName = StopLogging)", "")
    verdict = judge_pattern(weak, CIS_4_5)
    assert not verdict.covers and verdict.missed_events == ("StopLogging",)
    assert len(verdict.missed) == sum(s.event_name == "StopLogging" for s in CIS_4_5.target_samples())
    assert verdict.explain().startswith("it misses StopLogging (3 of the control's sample records: ")


def test_a_wildcard_is_too_broad_through_the_entrys_event_name_probes() -> None:
    verdict = judge_pattern(CIS_4_5.filter_pattern.replace("= CreateTrail", "= CreateTrail*"), CIS_4_5)
    assert verdict.covers and verdict.too_broad
    assert verdict.wrongly_matched == ("probe: hypothetical event 'CreateTrailX'",)


def test_an_invalid_pattern_is_an_error_verdict() -> None:
    verdict = judge_pattern("{ $.eventName = ", CIS_4_5)
    assert verdict.error and not verdict.covers
    assert verdict.missed_events == CIS_4_5.event_names
    assert verdict.explain().startswith("the pattern is not valid filter-pattern syntax")


def test_probes_come_from_the_entry_not_from_cloudtrail_names() -> None:
    assert probe_records(CIS_4_5) == CIS_4_5.probe_samples()
    own = CIS_4_5.probe_samples()[:1]  # the file's near miss: a record without eventName
    assert len(probe_records(CIS_4_5)) == len(own) + 4 * len(CIS_4_5.event_names)
    # The same records without event names: no invented eventName variants at all.
    nameless = dataclasses.replace(CIS_4_5, event_names=())
    assert probe_records(nameless) == own
    assert (
        judge_pattern(CIS_4_5.filter_pattern.replace("= CreateTrail", "= CreateTrail*"), nameless).too_broad
        is False
    )


def test_a_control_without_event_names_is_judged_by_its_own_records(root_usage: Control) -> None:
    assert root_usage.event_names == () and root_usage.event_source is None
    assert [p.label for p in probe_records(root_usage)] == [
        "probe: a root record with eventType AwsServiceEvent (otherwise a target)",
        "probe: hypothetical userIdentity.type 'RootUser' (what 'Root*' would also catch)",
        "probe: userIdentity.type 'root' in lower case",
    ]
    good = judge_pattern(ROOT_PATTERN, root_usage)
    assert (good.covers, good.canonical, good.too_broad) == (True, True, False), good.explain()

    no_invoked_by = judge_pattern(
        ROOT_PATTERN.replace(" && $.userIdentity.invokedBy NOT EXISTS", ""), root_usage
    )
    assert no_invoked_by.covers and no_invoked_by.too_broad
    assert all("invokedBy" in label for label in no_invoked_by.wrongly_matched), no_invoked_by.wrongly_matched

    wildcard = judge_pattern(ROOT_PATTERN.replace('"Root"', '"Root*"'), root_usage)
    assert wildcard.covers and wildcard.wrongly_matched == (
        "probe: hypothetical userIdentity.type 'RootUser' (what 'Root*' would also catch)",
    )

    lower = judge_pattern(ROOT_PATTERN.replace('"Root"', '"root"'), root_usage)
    assert not lower.covers and len(lower.missed) == len(root_usage.target_samples())
    assert lower.explain().startswith("it misses ConsoleLogin, CreateAccessKey, StopLogging, RunInstances")
