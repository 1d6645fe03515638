"""Progress of a long run on stderr: a bar on a terminal, one plain line per step otherwise.

On a terminal (``stream.isatty()``) each phase (the trails read, the chains checked) is one
``rich.progress`` bar that disappears when the run ends, so the report that follows is not pushed
off the screen. Anywhere else (CI logs, a pipe, a file) every step is one line, as the audit always
printed them (``[3/40] trails of 111111111111/eu-west-1: 2 trail(s)``), which a log keeps and grep
finds. Colour follows the same rule as the report (``terminal.color_wanted``).
"""

from __future__ import annotations

from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

PHASES = {"trails": "reading trails", "chains": "checking chains"}
"""A phase's name -> what its bar says."""


class ProgressDisplay:
    """``step(phase, done, total, line)`` for each step; use it as a context manager (the bar's lifetime)."""

    def __init__(self, stream: TextIO, *, bar: bool, color: bool) -> None:
        self.stream = stream
        self.bar = bar
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        if bar:
            console = Console(
                file=stream,
                force_terminal=True,
                no_color=not color,
                color_system="standard" if color else None,
                highlight=False,
            )
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )

    def __enter__(self) -> ProgressDisplay:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def step(self, phase: str, done: int, total: int, line: str) -> None:
        if self._progress is None:
            print(line, file=self.stream, flush=True)
            return
        task = self._tasks.get(phase)
        if task is None:
            task = self._tasks[phase] = self._progress.add_task(PHASES.get(phase, phase), total=total)
        self._progress.update(task, completed=done, total=total)
