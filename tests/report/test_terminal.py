"""The terminal's table: one line per pair, each reason once, 80 columns, colour only when wanted."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from rich.cells import cell_len

from cis_monitoring.core.errors import UsageError
from cis_monitoring.core.findings import STATED, Findings
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions
from cis_monitoring.report.terminal import (
    ACCOUNT_PLACEHOLDER,
    ELLIPSIS,
    color_wanted,
    parse_statuses,
    render,
    shorten_middle,
)
from local.sample_findings import organization
from tests.report.findings_builder import RUN, broken_organization_trail, finding, small_organization

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PAIR_LINE = re.compile(
    r"^(\d{12})\s+(.+?)\s+([a-z]{2}(?:-[a-z]+)+-\d)\s+(PASS|FAIL|ERROR|n/a|skip|-)\s+(\S+)\s*(.*)$"
)


def pair_lines(text: str) -> list[tuple[str, str, str, str]]:
    """(account, region, status, why) of every pair line."""
    found = []
    for line in ANSI.sub("", text).splitlines():
        match = PAIR_LINE.match(line)
        if match:
            found.append((match[1], match[3], match[4], match[6]))
    return found


def test_one_reason_per_chain_for_an_organization_trail_of_5_accounts_in_8_regions() -> None:
    document = broken_organization_trail(accounts=5, regions=8)
    text = render(document, RenderOptions(width=80))
    lines = text.splitlines()
    pairs = pair_lines(text)
    assert len(pairs) == 40 == len(document.findings)
    assert {(a, r) for a, r, _s, _w in pairs} == {(f.account_id, f.region) for f in document.findings}
    assert all(line.split()[-1] == "1" for line in lines if PAIR_LINE.match(line))
    # The chain's reason, once (the issue counted 216 lines, the reason wrapped under every pair).
    flat = " ".join(text.split())
    assert flat.count("its actions are disabled") == 1
    assert flat.count("but the chain there is broken") == 1
    assert "chain 999999999999/us-east-1/aws-controltower/CloudTrailLogs-itl-aad (40 pairs)" in flat
    assert len(lines) < 60, len(lines)


def test_every_line_fits_80_columns_and_long_names_are_cut_in_the_middle() -> None:
    group = "aws-controltower/" + "CloudTrailLogs-" * 8 + "itl-aad"
    long_name = "payments-production-eu-" + "x" * 30 + "-tail"
    document = small_organization()
    for i in (2, 3):  # both Regions of account 222222222222
        document.findings[i] = replace(
            document.findings[i],
            account_name=long_name,
            reasons=(f"the chain on log group '{group}' in account 222222222222 is broken",),
        )
    text = render(document, RenderOptions(width=80))
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    cut = [word for word in text.split() if ELLIPSIS in word and "CloudTrailLogs" in word]
    assert cut and cut[0].startswith("'aws-controltower/CloudTrailLogs") and cut[0].endswith("itl-aad'")
    assert group not in text  # the whole name is in JSON and HTML, not here
    names = [line.split()[1] for line in text.splitlines() if line.startswith("222222222222")]
    assert names and all(ELLIPSIS in n and n.startswith("payments") and n.endswith("tail") for n in names)


@pytest.mark.parametrize("width", [60, 80, 100, 132])
def test_a_synthetic_organization_fits_each_width(width: int) -> None:
    text = render(organization(40), RenderOptions(width=width))
    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert len(pair_lines(text)) == 40 * 17


def test_shorten_middle_keeps_both_ends() -> None:
    assert shorten_middle("abcdefghij", 5) == "ab" + ELLIPSIS + "ij"
    assert shorten_middle("abc", 5) == "abc"
    assert cell_len(shorten_middle("x" * 100, 7)) == 7


def test_colour_only_when_asked() -> None:
    document = small_organization()
    plain = render(document, RenderOptions(color=False))
    coloured = render(document, RenderOptions(color=True))
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured
    assert ANSI.sub("", coloured) == plain


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "flag", "environ", "wanted"),
    [
        (Tty(), False, {}, True),
        (io.StringIO(), False, {}, False),  # a pipe or a file
        (Tty(), True, {}, False),  # --no-color
        (Tty(), False, {"NO_COLOR": "1"}, False),
        (Tty(), False, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
    ],
)
def test_color_wanted_on_a_tty_without_no_color(
    stream: io.StringIO, flag: bool, environ: dict, wanted: bool
) -> None:
    assert color_wanted(stream, flag, environ) is wanted


def test_the_status_filter_keeps_those_pairs_and_still_counts_all() -> None:
    document = organization(40)
    text = render(document, RenderOptions(statuses=(Status.FAIL, Status.ERROR)))
    pairs = pair_lines(text)
    wanted = {(f.account_id, f.region) for f in document.findings if f.status in (Status.FAIL, Status.ERROR)}
    assert {(a, r) for a, r, _s, _w in pairs} == wanted
    assert {s for _a, _r, s, _w in pairs} == {"FAIL", "ERROR"}
    flat = " ".join(text.split())
    assert f"showing FAIL,ERROR only: {len(wanted)} of {len(document.findings)} pairs" in flat
    passed = sum(f.status == Status.PASS for f in document.findings)
    assert f"{len(document.findings)} account-Region pair(s): {passed} PASS" in flat


def test_parse_statuses() -> None:
    assert parse_statuses("fail,ERROR") == (Status.FAIL, Status.ERROR)
    assert parse_statuses("FAIL, FAIL") == (Status.FAIL,)
    with pytest.raises(UsageError, match=r"--status: 'BROKEN' is not a status"):
        parse_statuses("FAIL,BROKEN")
    with pytest.raises(UsageError, match="--status: nothing"):
        parse_statuses(",")


def test_a_reason_naming_each_pairs_account_is_one_entry_with_a_placeholder() -> None:
    accounts = ["111111111111", "222222222222", "333333333333"]
    found = [
        finding(
            a, r, Status.FAIL, reasons=(f"no multi-Region trail records account {a}'s events in eu-west-1",)
        )
        for a in accounts
        for r in ("eu-west-1",)
    ]
    text = render(Findings(RUN, found))
    flat = " ".join(text.split())
    assert flat.count("no multi-Region trail records") == 1
    assert f"account {ACCOUNT_PLACEHOLDER}'s events" in flat
    assert {w for _a, _r, _s, w in pair_lines(text)} == {"1"}
    alone = " ".join(render(Findings(RUN, found[:1])).split())
    assert "account 111111111111's events" in alone and ACCOUNT_PLACEHOLDER not in alone


def test_several_controls_one_line_per_pair_with_the_most_telling_status() -> None:
    document = small_organization()
    second = [
        replace(f, control_id="4.6", requirement_id="5.6", status=Status.FAIL) for f in document.findings
    ]
    text = render(Findings(RUN, [*document.findings, *second]))
    pairs = pair_lines(text)
    assert len(pairs) == len({(f.account_id, f.region) for f in document.findings})
    assert {s for _a, _r, s, _w in pairs} == {"FAIL"}
    assert "CIS 5.6: FAIL for" in " ".join(text.split())


def test_stated_pairs_are_marked() -> None:
    document = small_organization()
    document.findings.append(finding("444444444444", "us-east-1", Status.NOT_AVAILABLE, source=STATED))
    text = render(document)
    line = next(line for line in text.splitlines() if line.startswith("444444444444"))
    assert "n/a" in line and "org*" in line
    assert "*: stated by a stack (the rollup), not audited" in " ".join(text.split())


def test_notes_and_errors_of_the_run_are_said() -> None:
    flat = " ".join(render(small_organization()).split())
    assert "note: a note <b>with markup</b>" in flat and "error: listing failed & <stopped>" in flat
