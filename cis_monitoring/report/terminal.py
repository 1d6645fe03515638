"""The terminal's table: one line per (account, Region), each reason once, in 80 columns.

    ACCOUNT       NAME          REGION          STATUS  COVER  WHY
    111111111111  log-archive   eu-west-1       FAIL    none   1
    ...
    Why (each reason once; a line's WHY numbers point here):
     1  chain 999999999999/us-east-1/aws-controltower/CloudTrailLogs-itl-aad (38 pairs)
        - not covered: organization trail 'aws-controltower-BaselineCloudTrail' ...

- A pair's line shows the most telling status of its findings (one per control) and its coverage
  (``direct``, ``org``, ``none``, ``?`` when the trails could not be read).
- Reasons are listed once and numbered: pairs whose findings give the same reasons (the members of an
  organization trail whose chain is broken) point at one entry, labelled with the chain when they
  share one. A reason that names the pair's own account is shown with ``ACCOUNT_PLACEHOLDER`` in its place
  when several accounts share it, so one entry serves all of them.
- ``RenderOptions.statuses`` (``--status FAIL,ERROR``) keeps only those findings; the closing line
  still counts every finding.
- Nothing is wider than ``RenderOptions.width``: a word longer than a line (a log group name, an ARN)
  is cut in its middle with an ellipsis, never broken across lines (the JSON and HTML reports keep
  the whole text). Colour only with ``RenderOptions.color`` (``color_wanted`` decides it: a TTY,
  no ``--no-color``, no ``NO_COLOR``).
"""

from __future__ import annotations

import io
import os
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from cis_monitoring.core.catalog.benchmarks import BY_KEY
from cis_monitoring.core.errors import UsageError
from cis_monitoring.core.findings import STATED, Finding, Findings, by_status
from cis_monitoring.core.status import Status
from cis_monitoring.report import RenderOptions
from cis_monitoring.report.verdicts import UNKNOWN, coverage_kind, most_telling, region_label

EXTENSION = ".txt"
ELLIPSIS = "\u2026"
ACCOUNT_PLACEHOLDER = "\u2039account\u203a"
"""Stands for each pair's own account id in a reason several accounts share."""
MIN_WIDTH = 60
NAME_WIDTHS = (8, 20)
"""The NAME column: at least, at most (a longer name is cut in its middle)."""
REGION_WIDTH = 14
"""The longest commercial Region names (ap-southeast-2, ap-northeast-3)."""
GAP = "  "
STATUS_LABEL = {
    Status.PASS: "PASS",
    Status.FAIL: "FAIL",
    Status.ERROR: "ERROR",
    Status.NOT_AVAILABLE: "n/a",
    Status.SKIPPED: "skip",
    Status.NOT_APPLICABLE: "-",
}
STATUS_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.ERROR: "yellow",
    Status.NOT_AVAILABLE: "blue",
    Status.SKIPPED: "dim",
    Status.NOT_APPLICABLE: "dim",
}
COVERAGE_LABEL = {"direct": "direct", "organization": "org", "none": "none", UNKNOWN: "?"}
HEADERS = ("ACCOUNT", "NAME", "REGION", "STATUS", "COVER", "WHY")
NO_COLOR_ENV = "NO_COLOR"


def color_wanted(stream: TextIO, no_color_flag: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Colour on a terminal, unless ``--no-color`` or ``NO_COLOR`` (any non-empty value, no-color.org)."""
    environ = os.environ if environ is None else environ
    if no_color_flag or environ.get(NO_COLOR_ENV):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def parse_statuses(text: str, flag: str = "--status") -> tuple[Status, ...]:
    """``FAIL,ERROR`` as statuses (any case, comma-separated); a ``UsageError`` naming ``flag`` otherwise."""
    words = [word.strip() for word in text.split(",") if word.strip()]
    known = {str(s).lower(): s for s in Status}
    unknown = [word for word in words if word.lower() not in known]
    if unknown or not words:
        raise UsageError(
            f"{flag}: {', '.join(repr(w) for w in unknown) or 'nothing'} is not a status; give one or more of"
            f" {','.join(str(s) for s in Status)}, separated by commas"
        )
    return tuple(dict.fromkeys(known[word.lower()] for word in words))


def shorten_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its middle replaced by an ellipsis (both ends tell most)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    keep = width - 1
    head = (keep + 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head) :]


def wrap(text: str, width: int, indent: str = "", hang: str = "") -> list[str]:
    """Words onto lines of ``width``; a word longer than a line is cut in its middle, never broken."""
    room = max(width - max(len(indent), len(hang)), 1)
    words = [shorten_middle(word, room) for word in text.split()]
    return textwrap.wrap(
        " ".join(words),
        width=width,
        initial_indent=indent,
        subsequent_indent=hang,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


@dataclass
class _Why:
    number: int
    texts: tuple[str, ...]
    """The first finding's texts, as it says them."""
    template: tuple[str, ...]
    """The same with that finding's account id as ``ACCOUNT_PLACEHOLDER``."""
    templated: bool = False
    """Another account's differently worded texts joined it: show the template."""
    pairs: set[tuple[str, str]] = field(default_factory=set)
    chains: set[str | None] = field(default_factory=set)

    @property
    def shown(self) -> tuple[str, ...]:
        return self.template if self.templated else self.texts


@dataclass
class _Pair:
    account_id: str
    name: str
    region: str
    findings: list[Finding] = field(default_factory=list)
    why: list[int] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return most_telling(f.status for f in self.findings)

    @property
    def coverage(self) -> str:
        kinds = sorted({coverage_kind(f) for f in self.findings})
        label = "/".join(COVERAGE_LABEL.get(k, k) for k in kinds)
        return label + ("*" if any(f.source == STATED for f in self.findings) else "")


def _texts(finding: Finding, several_controls: bool) -> tuple[str, ...]:
    """What a finding says that a reader must see: its reasons unless it passed, and its notes."""
    said = [] if finding.status == Status.PASS else list(finding.reasons)
    said += [f"note: {note}" for note in finding.notes]
    if several_controls:
        said = [f"CIS {finding.requirement_id}: {text}" for text in said]
    return tuple(said)


def _group(pairs: Sequence[_Pair], several_controls: bool) -> list[_Why]:
    """The distinct reasons, numbered in order of first use; each pair's line points at its own.

    Texts said word for word alike are one entry (an organization trail's chain, for its owner and
    every member). Texts that differ only in the pair's own account id are one entry too, shown
    with ``ACCOUNT_PLACEHOLDER``: the line says whose account it is.
    """
    whys: list[_Why] = []
    exact: dict[tuple[str, ...], _Why] = {}
    templates: dict[tuple[str, ...], _Why] = {}
    for pair in pairs:
        for finding in pair.findings:
            texts = _texts(finding, several_controls)
            if not texts:
                continue
            template = tuple(t.replace(finding.account_id, ACCOUNT_PLACEHOLDER) for t in texts)
            why = exact.get(texts)
            if why is None and template != texts:
                why = templates.get(template)
                if why is not None:
                    why.templated = True
            if why is None:
                why = _Why(len(whys) + 1, texts, template)
                whys.append(why)
                templates.setdefault(template, why)
            exact.setdefault(texts, why)
            why.pairs.add((pair.account_id, pair.region))
            why.chains.add(finding.chain)
            if why.number not in pair.why:
                pair.why.append(why.number)
    return whys


def _pairs(findings: Sequence[Finding]) -> list[_Pair]:
    pairs: dict[tuple[str, str], _Pair] = {}
    for f in findings:
        pair = pairs.get((f.account_id, f.region))
        if pair is None:
            pair = pairs[(f.account_id, f.region)] = _Pair(f.account_id, f.account_name, f.region)
        pair.findings.append(f)
    return list(pairs.values())


class _Layout:
    """Column widths that fit ``width``: the NAME column gives way first, then WHY."""

    def __init__(self, pairs: Sequence[_Pair], width: int) -> None:
        self.width = max(width, MIN_WIDTH)
        self.account = max([len(HEADERS[0]), *(len(p.account_id) for p in pairs)])
        self.region = max([len(HEADERS[2]), *(len(region_label(p.region)) for p in pairs)])
        self.region = min(self.region, REGION_WIDTH)
        self.status = max(len(HEADERS[3]), *(len(label) for label in STATUS_LABEL.values()))
        self.coverage = max([len(HEADERS[4]), *(len(p.coverage) for p in pairs)])
        fixed = self.account + self.region + self.status + self.coverage + 5 * len(GAP) + len(HEADERS[5])
        longest = max([len(HEADERS[1]), *(cell_len(p.name) for p in pairs)])
        self.name = max(NAME_WIDTHS[0], min(longest, NAME_WIDTHS[1], self.width - fixed))
        self.why = self.width - (fixed - len(HEADERS[5])) - self.name

    def line(self, cells: Sequence[str], status: Status | None, color: bool) -> Text:
        widths = (self.account, self.name, self.region, self.status, self.coverage)
        text = Text()
        for i, (cell, width) in enumerate(zip(cells, widths, strict=False)):
            shown = shorten_middle(cell, width)
            style = STATUS_STYLE[status] if (i == 3 and status is not None and color) else ""
            text.append(shown, style=style)
            text.append(" " * (width - cell_len(shown)) + GAP)
        why = cells[5]
        if cell_len(why) > self.why:
            why = why[: max(self.why - 1, 0)] + ELLIPSIS
        text.append(why, style="cyan" if (color and status is not None) else "")
        text.rstrip()
        return text


def _headline(findings: Findings, width: int) -> list[str]:
    benchmark = BY_KEY.get(findings.run.benchmark)
    controls = dict.fromkeys(f"CIS {f.requirement_id} {f.title}" for f in findings.findings)
    words = "; ".join(controls) or "no findings"
    version = f" ({benchmark.name})" if benchmark else f" ({findings.run.benchmark})"
    return wrap(words + version + ":", width)


def _why_lines(whys: Sequence[_Why], width: int, color: bool) -> list[Text]:
    lines = [Text("Why (each reason once; the WHY numbers above point here):", style="bold" if color else "")]
    for why in whys:
        chains = {c for c in why.chains if c}
        label = f"chain {next(iter(chains))}" if len(chains) == 1 and None not in why.chains else ""
        count = f"{len(why.pairs)} pair{'s' if len(why.pairs) != 1 else ''}"
        head = f"{label} ({count})" if label else f"({count})"
        for i, line in enumerate(wrap(head, width, indent=f"{why.number:>3}  ", hang="     ")):
            lines.append(Text(line, style="bold" if (color and i == 0) else ""))
        for text in why.shown:
            lines.extend(Text(line) for line in wrap(text, width, indent="     - ", hang="       "))
    return lines


def _closing(
    findings: Findings, shown: int, total_pairs: int, options: RenderOptions, width: int
) -> list[str]:
    everything = _pairs(findings.findings)
    statuses = Counter(p.status for p in everything)
    coverage = Counter(coverage_kind(f) for f in findings.findings)
    chains = len({f.chain for f in findings.findings if f.chain})
    counted = ", ".join(
        f"{statuses[s]} {STATUS_LABEL[s]}"
        for s in STATUS_LABEL
        if statuses[s] or s in (Status.PASS, Status.FAIL, Status.ERROR)
    )
    lines: list[str] = []
    lines += [line for note in findings.notes for line in wrap(f"note: {note}", width, hang="  ")]
    lines += [line for error in findings.errors for line in wrap(f"error: {error}", width, hang="  ")]
    if any(f.source == STATED for f in findings.findings):
        lines += wrap(
            "*: stated by a stack (the rollup), not audited: no AWS call checked it", width, hang="  "
        )
    if options.statuses:
        wanted = ",".join(str(s) for s in options.statuses)
        lines += wrap(f"showing {wanted} only: {shown} of {total_pairs} pairs", width, hang="  ")
    lines += wrap(
        f"{total_pairs} account-Region pair(s): {counted}; covered {coverage['direct']} directly,"
        f" {coverage['organization']} by organization trail, {coverage['none']} not; {chains} chain(s)"
        + (f"; {coverage[UNKNOWN]} unknown" if coverage[UNKNOWN] else ""),
        width,
        hang="  ",
    )
    return lines


def render(findings: Findings, options: RenderOptions | None = None) -> str:
    """The table, the reasons and the closing counts, as text (ANSI colour only with ``options.color``)."""
    options = options or RenderOptions()
    width = max(options.width, MIN_WIDTH)
    chosen = by_status(findings.findings, options.statuses) if options.statuses else list(findings.findings)
    several_controls = len({f.control_id for f in findings.findings}) > 1
    pairs = _pairs(chosen)
    whys = _group(pairs, several_controls)
    layout = _Layout(pairs, width)
    lines: list[Text] = [
        Text(line, style="bold" if options.color else "") for line in _headline(findings, width)
    ]
    lines.append(layout.line(HEADERS, None, options.color))
    for pair in pairs:
        cells = (
            pair.account_id,
            pair.name,
            region_label(pair.region),
            STATUS_LABEL[pair.status],
            pair.coverage,
            " ".join(str(n) for n in pair.why),
        )
        lines.append(layout.line(cells, pair.status, options.color))
    if whys:
        lines.append(Text(""))
        lines += _why_lines(whys, width, options.color)
    lines.append(Text(""))
    total_pairs = len({(f.account_id, f.region) for f in findings.findings})
    lines += [Text(line) for line in _closing(findings, len(pairs), total_pairs, options, width)]
    return _print(lines, width, options.color)


def _print(lines: Sequence[Text], width: int, color: bool) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )
    for line in lines:
        console.print(line)
    return buffer.getvalue()
