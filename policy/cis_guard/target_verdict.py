"""The core's verdict for one target (an account and Region) and control, told as the pack reports it.

One type for every detector kind: the metric-filter chain (``chain.evaluate_chain``) and the real-time
rules (``real_time.evaluate_rules``) both return it; the rules' messages lead with what they are, as
they are not part of the CIS verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from cis_monitoring.core.judge.chain import ChainVerdict

from .stack_model import Target


@dataclass(frozen=True)
class TargetVerdict:
    target: Target
    verdict: ChainVerdict
    lead: str = ""
    """What the verdict is about, before its summary (empty for the CIS chain itself)."""

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def codes(self) -> tuple[str, ...]:
        return self.verdict.codes

    @property
    def urn(self) -> str | None:
        return self.verdict.ref

    @property
    def message(self) -> str:
        """What is broken and what to do, then the problem codes (for tools: ``[codes: a, b]``)."""
        if self.verdict.ok:
            return ""
        return f"{self.target.label()}: {self.lead}{self.verdict.summary()} [codes: {', '.join(self.codes)}]"
