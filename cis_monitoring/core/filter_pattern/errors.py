"""The one exception type the parser raises for any unacceptable pattern text."""

from __future__ import annotations

_WINDOW = 30
"""Characters of context shown on each side of the error position."""


def _printable(text: str) -> str:
    # Newlines and tabs would break the caret alignment, so show them as spaces.
    return "".join(ch if ch.isprintable() else " " for ch in text)


class FilterPatternError(ValueError):
    """A pattern CloudWatch Logs would reject.

    ``position`` is a 0-based character offset into ``pattern``; ``str(err)`` is the
    message, the position and an excerpt of the pattern with a caret under it.
    """

    def __init__(self, message: str, position: int, pattern: str) -> None:
        self.message = message
        self.position = max(0, min(position, len(pattern)))
        self.pattern = pattern
        super().__init__(self._render())

    def __reduce__(self) -> tuple[type[FilterPatternError], tuple[str, int, str]]:
        # The default reduce would call __init__ with the rendered text only.
        return (type(self), (self.message, self.position, self.pattern))

    def _render(self) -> str:
        start = max(0, self.position - _WINDOW)
        end = min(len(self.pattern), self.position + _WINDOW)
        before = _printable(("..." if start > 0 else "") + self.pattern[start : self.position])
        after = _printable(self.pattern[self.position : end] + ("..." if end < len(self.pattern) else ""))
        head = f"{self.message} at position {self.position}: "
        return f"{head}{before}{after}\n{' ' * (len(head) + len(before))}^"
