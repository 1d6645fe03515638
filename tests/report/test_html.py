"""The HTML report, read back structurally: every finding once, the picture, the counts, escaping, offline."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import replace

import pytest

from cis_monitoring.core.findings import STATED, Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions, renderer
from cis_monitoring.report.verdicts import STATUS_ORDER
from local.sample_findings import organization
from tests.report.findings_builder import (
    HOSTILE,
    HOSTILE_DETAIL,
    HOSTILE_OU,
    small_organization,
    with_stated,
)
from tests.report.html_tree import Element, parse

html = renderer("html")


def render(document: Findings, options: RenderOptions | None = None) -> Element:
    return parse(html.render(document, options or RenderOptions()))


def expected_cell(statuses: list[Status]) -> Status:
    """The most telling status of a pair, written out independently of the renderer's table."""
    for wanted in ("FAIL", "ERROR", "NOT_AVAILABLE", "SKIPPED", "PASS", "NOT_APPLICABLE"):
        if wanted in statuses:
            return Status(wanted)
    raise AssertionError(statuses)


@pytest.mark.parametrize("build", [small_organization, lambda: organization(23)], ids=["small", "synthetic"])
def test_every_finding_is_there_once_with_its_evidence(build) -> None:
    document = build()
    page = render(document)
    targets = page.find_all("details", "target")
    assert sorted(t.attrs["data-uid"] for t in targets) == sorted(f.uid for f in document.findings)
    by_uid = {t.attrs["data-uid"]: t for t in targets}
    for finding in document.findings:
        target = by_uid[finding.uid]
        assert target.attrs["data-status"] == finding.status
        text = target.text()
        for reason in finding.reasons:
            assert reason in text
    ids = [e.attrs["id"] for e in page.walk() if "id" in e.attrs]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    # Every in-page link lands somewhere.
    assert {
        e.attrs["href"][1:] for e in page.find_all("a") if e.attrs.get("href", "").startswith("#")
    } <= set(ids)


def test_the_picture_has_one_cell_per_pair_coloured_by_its_most_telling_status() -> None:
    document = organization(30)
    # A second control on some pairs: each cell must show the more telling of the two.
    second = {Status.ERROR: Status.FAIL, Status.FAIL: Status.ERROR, Status.PASS: Status.NOT_AVAILABLE}
    extra = [
        replace(f, control_id="4.6", status=second[f.status])
        for f in document.findings
        if f.region == "eu-west-1"
    ]
    assert {f.status for f in extra} == set(second.values())
    document = Findings(document.run, [*document.findings, *extra])
    page = render(document)
    pairs: dict[tuple[str, str], list[Status]] = defaultdict(list)
    for f in document.findings:
        pairs[(f.account_id, f.region)].append(f.status)
    rows = page.find_all("tr", "acct-row")
    regions = [th.text() for th in page.find_all("th", "region")]
    assert regions == sorted({f.region for f in document.findings})
    seen = {}
    for row in rows:
        account = row.find_all("span", "id")[0].text()
        cells = row.find_all("td", "c")
        assert len(cells) == len(regions)
        for region, cell in zip(regions, cells, strict=True):
            seen[(account, region)] = cell.attrs.get("data-status")
    assert seen == {pair: str(expected_cell(statuses)) for pair, statuses in pairs.items()}
    assert len(rows) == len({f.account_id for f in document.findings})


def test_accounts_are_grouped_by_ou_with_unknown_last() -> None:
    page = render(small_organization())
    headers = [th.children[0] for th in page.find_all("tr", "ou") for th in th.find_all("th")]
    assert headers == [HOSTILE_OU, "Root/Prod", "(OU not known)"]


def test_counts_by_status_and_coverage() -> None:
    document = organization(17)
    page = render(document)
    counted = Counter(f.status for f in document.findings)
    shown = {e.attrs["data-count"]: int(e.text()) for e in page.find_all("b") if "data-count" in e.attrs}
    assert shown == {str(s): counted[s] for s in (Status.PASS, Status.FAIL, Status.ERROR)}
    coverage = Counter(f.coverage.kind if f.coverage else "unknown" for f in document.findings)
    boxes = {
        e.attrs["data-coverage"]: int(e.find_all("b")[0].text())
        for e in page.find_all("div", "count")
        if "data-coverage" in e.attrs
    }
    assert boxes == dict(coverage)
    assert page.by_id("run-status").text() == str(document.status)
    assert page.by_id("shown-count").text() == str(len(document.findings))


def test_the_run_and_the_benchmarks_words_are_said() -> None:
    document = small_organization()
    text = render(document).text()
    for said in (
        "CIS Amazon Web Services Foundations Benchmark v6.0.0",
        "2026-12-07T09:00:00Z",
        "2026-12-07T09:01:00Z",
        "arn:aws:sts::999999999999:assumed-role/auditor/x",
        "cis-monitoring 9.9.9",
        "2026.12.1",
        "cis-monitoring audit --stack org",
        "5.5 Ensure CloudTrail configuration changes are monitored",
        "Whoever stops the trail acts unseen.",
        "Create the metric filter and the alarm.",
        "CloudWatch.5",
    ):
        assert said in text, said


def test_each_link_says_status_detail_codes_basis_judge_and_values() -> None:
    document = small_organization()
    page = render(document)
    failing = next(f for f in document.findings if f.status == Status.FAIL)
    target = next(t for t in page.find_all("details", "target") if t.attrs["data-uid"] == failing.uid)
    rows = {row.find_all("td")[0].text(): row for row in target.find_all("tr") if row.find_all("td")}
    assert set(rows) >= {"trail", "filter", "aws matcher"}
    filter_row = rows["filter"].text()
    assert (
        "FAIL" in filter_row and "filter.pattern.not_covering" in filter_row and HOSTILE_DETAIL in filter_row
    )
    assert "logs:DescribeMetricFilters" in filter_row
    assert json.loads(rows["filter"].find_all("pre")[0].text()) == {
        "filterPattern": "{ ($.eventName = CreateTrail) }"
    }
    assert "AWS itself" in rows["aws matcher"].text()
    basis = page.by_id("basis").text()
    assert "DescribeMetricFilters" in basis and "filterPattern" in basis and "TrailARN, Name" in basis


def test_a_chains_shared_evidence_is_shown_once_and_pointed_at() -> None:
    document = small_organization()
    page = render(document)
    shared = page.find_all("details", "shared")
    assert len(shared) == 1 and "999999999999/us-east-1/aws-controltower/CloudTrailLogs" in shared[0].text()
    members = [
        t for t in page.find_all("details", "target") if t.attrs["data-uid"].startswith("4.5/111111111111/")
    ]
    anchor = shared[0].attrs["id"]
    for member in members:
        assert any(a.attrs.get("href") == f"#{anchor}" for a in member.find_all("a"))
        assert not member.find_all("pre"), "the shared values are in the chain's block, not repeated"
    assert len(shared[0].find_all("pre")) == 1


def test_hostile_names_are_text_never_markup() -> None:
    document = small_organization()
    output = html.render(document, RenderOptions())
    assert HOSTILE not in output and HOSTILE_OU not in output and HOSTILE_DETAIL not in output
    page = parse(output)
    assert len(page.find_all("script")) == 1, "only the report's own script"
    assert not page.find_all("img")
    assert not [e for e in page.walk() if any(k.startswith("on") for k in e.attrs)]
    text = page.text()
    assert HOSTILE in text and HOSTILE_DETAIL in text and "listing failed & <stopped>" in text
    assert "a note <b>with markup</b>" in text
    # Attributes hold the name as text too (tooltips, search keys).
    assert any(HOSTILE in (e.attrs.get("title") or "") for e in page.find_all("td", "c"))


def test_the_file_loads_nothing_from_the_network() -> None:
    output = html.render(organization(5), RenderOptions())
    page = parse(output)
    assert not [e for e in page.walk() if "src" in e.attrs]
    assert not page.find_all("link")
    assert not [e for e in page.find_all("a") if not e.attrs.get("href", "").startswith("#")]
    assert not re.search(r"https?://", output)
    assert not re.search(r"@import|url\(", output)
    csp = [e for e in page.find_all("meta") if e.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0].attrs["content"] or "")


def test_stated_findings_are_said_to_be_stated() -> None:
    document = with_stated(small_organization())
    page = render(document)
    stated = [f for f in document.findings if f.source == STATED]
    assert len(stated) == 1
    banner = page.by_id("stated-banner").text()
    assert f"1 of {len(document.findings)} findings are stated" in banner
    target = next(t for t in page.find_all("details", "target") if t.attrs["data-source"] == STATED)
    assert target.attrs["data-uid"] == stated[0].uid and "STATED" in target.text()
    cells = [c for c in page.find_all("td", "c") if "stated" in c.classes]
    assert len(cells) == 1 and "stated, not audited" in cells[0].attrs["title"]
    audited_only = render(small_organization())
    assert not [e for e in audited_only.walk() if e.attrs.get("id") == "stated-banner"]


def test_status_options_preselect_the_filter_but_keep_every_finding() -> None:
    document = small_organization()
    page = render(document, RenderOptions(statuses=(Status.FAIL, Status.ERROR)))
    boxes = {
        b.attrs["value"]: "checked" in b.attrs
        for b in page.find_all("input")
        if "data-filter-status" in b.attrs
    }
    assert boxes == {"FAIL": True, "ERROR": True, "PASS": False}
    assert len(page.find_all("details", "target")) == len(document.findings)


def test_the_emulator_is_named_when_the_run_did_not_talk_to_aws() -> None:
    document = small_organization()
    document = Findings(replace(document.run, endpoint="http://127.0.0.1:5000"), document.findings)
    assert "an emulator" in render(document).by_id("emulator-banner").text()


def test_status_order_names_every_status() -> None:
    assert set(STATUS_ORDER) == set(Status)
