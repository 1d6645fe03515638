"""``--format junit``: JUnit XML that junitparser reads, with the counts CI systems show.

A suite per control, a case per account and Region: FAIL a ``<failure>``, ERROR an ``<error>``,
NOT_APPLICABLE a ``<skipped>``, PASS nothing. (No JUnit XSD is available offline on this machine,
so the structure is checked through junitparser and the counts below.)
"""

from __future__ import annotations

from collections import Counter

from junitparser import Error, Failure, JUnitXml, Skipped

from cis_monitoring.core.findings import Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions, junit
from tests.report.conftest import synthetic

OUTCOME = {Status.FAIL: Failure, Status.ERROR: Error, Status.NOT_APPLICABLE: Skipped}


def parsed(findings: Findings) -> JUnitXml:
    return JUnitXml.fromstring(junit.render(findings, RenderOptions()))


def test_counts_and_outcomes_match_the_findings(samples: list[Findings]) -> None:
    for findings in samples:
        xml = parsed(findings)
        counts = Counter(f.status for f in findings.findings)
        assert xml.tests == len(findings.findings)
        assert (xml.failures, xml.errors, xml.skipped) == (
            counts[Status.FAIL],
            counts[Status.ERROR],
            counts[Status.NOT_APPLICABLE],
        )
        cases = [case for suite in xml for case in suite]
        assert len(cases) == len(findings.findings)
        for case, finding in zip(cases, findings.findings, strict=True):
            kinds = [type(r) for r in case.result]
            expected = OUTCOME.get(finding.status)
            assert kinds == ([expected] if expected else []), (finding.status, kinds)
            assert finding.account_id in case.name and finding.region in case.name


def test_one_suite_per_control_named_by_the_benchmark_versions_id() -> None:
    xml = parsed(synthetic())
    suites = list(xml)
    assert [s.name for s in suites] == ["5.5 Ensure CloudTrail configuration changes are monitored"]
    assert (
        suites[0].tests == 4 and suites[0].failures == 1 and suites[0].errors == 1 and suites[0].skipped == 1
    )


def test_the_failure_says_what_to_fix_and_awkward_text_survives(audited: list[Findings]) -> None:
    (suite,) = list(parsed(audited[1]))
    (case,) = list(suite)
    (failure,) = case.result
    assert isinstance(failure, Failure) and failure.type == "FAIL"
    assert "filter: FAIL:" in failure.text
    text = junit.render(synthetic(), RenderOptions())
    assert "&lt;b&gt;&amp;amp;" in text  # escaped, and the document still parses
