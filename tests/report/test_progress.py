"""Progress on stderr: a bar on a terminal (transient), plain lines in logs and pipes."""

from __future__ import annotations

import io
import re

from cis_monitoring.report.progress import ProgressDisplay

COLOUR = re.compile(r"\x1b\[(?:\d+;)*3\dm")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def steps(display: ProgressDisplay) -> None:
    with display:
        for done in range(1, 4):
            display.step("trails", done, 3, f"[{done}/3] trails of 11111111111{done}/us-east-1: 1 trail(s)")
        display.step("chains", 1, 1, "[1/1] chain 111111111111/us-east-1/g: PASS")


def test_plain_lines_where_there_is_no_terminal() -> None:
    stream = io.StringIO()
    steps(ProgressDisplay(stream, bar=False, color=False))
    assert stream.getvalue().splitlines() == [
        "[1/3] trails of 111111111111/us-east-1: 1 trail(s)",
        "[2/3] trails of 111111111112/us-east-1: 1 trail(s)",
        "[3/3] trails of 111111111113/us-east-1: 1 trail(s)",
        "[1/1] chain 111111111111/us-east-1/g: PASS",
    ]


def test_a_bar_per_phase_on_a_terminal_erased_at_the_end() -> None:
    stream = Tty()
    steps(ProgressDisplay(stream, bar=True, color=False))
    shown = stream.getvalue()
    assert "reading trails" in shown and "3/3" in shown and "checking chains" in shown and "1/1" in shown
    assert "[1/3] trails of" not in shown  # no plain lines under a bar
    assert shown.endswith("\x1b[1A\x1b[2K")  # transient: the bar's lines are cleared when the run ends
    assert not COLOUR.search(shown)
    coloured = Tty()
    steps(ProgressDisplay(coloured, bar=True, color=True))
    assert COLOUR.search(coloured.getvalue())
