"""One stack, decoded once and judged once, for every stack policy of one ``AnalyzeStack`` call.

The chain policy (mandatory) and the coverage notes (advisory) are two policies because a policy
reports at one enforcement level, but they are one judgement: the notes are what the chain's
judgement found covered elsewhere. pulumi-policy gives every stack policy its own decoding of the
whole stack and its own config only, so the notes used to reach the notes policy through a
thread-local hand-off that relied on the SDK running the policies in order on one thread, and
the stack was decoded once per stack policy (the pack's time doubled with the notes policy).

Now the pack's servicer (``servicer``) makes one ``StackAnalysis`` per call: the request decoded
once (``decode``), every enabled policy's config, and a memo, so the chain's judgement is made
once whichever policy asks first. A ``SharedStackPolicy`` gets it through ``SharedStackArgs``; the
hand-off is this object, which belongs to one call, so no order, thread or earlier call matters.

Where pulumi-policy runs a policy itself (its servicer could not be replaced: see
``recording.RECORDER_UNAVAILABLE``), the policy gets the SDK's own args, and builds a standalone
analysis of the stack with its own config only; ``config_of`` says when another policy's config
is not there to read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

from pulumi_policy import StackValidationArgs, StackValidationPolicy

from .chain import StackIndex
from .stack_model import Resource

__all__ = ["SharedStackArgs", "SharedStackPolicy", "StackAnalysis", "shared_analysis"]

T = TypeVar("T")


class StackAnalysis:
    """One call's stack as plain ``Resource`` objects, the enabled policies' configs, and a memo."""

    def __init__(
        self, resources: Sequence[Resource], configs: Mapping[str, Mapping[str, Any]], *, standalone: bool
    ) -> None:
        self.resources = resources
        self._configs = configs
        self.standalone = standalone
        """True when pulumi-policy ran the policy itself: only that policy's config is here."""
        self._memo: dict[Hashable, Any] = {}

    def config_of(self, policy: str) -> Mapping[str, Any] | None:
        """``policy``'s config as the CLI sent it; None when that policy is disabled or not given here."""
        return self._configs.get(policy)

    @cached_property
    def index(self) -> StackIndex:
        return StackIndex.build(self.resources)

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, made at most once per call for ``key`` whichever policy asks first."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]


class SharedStackArgs(StackValidationArgs):
    """The SDK's stack validation args (``get_config``, ``not_applicable``, ``stack_tags``) over the
    call's one analysis: ``resources`` are its plain ``Resource`` objects, not the SDK's proxies."""

    def __init__(
        self, analysis: StackAnalysis, config: Mapping[str, Any] | None, stack_tags: Mapping[str, str]
    ) -> None:
        super().__init__(list(analysis.resources), config, stack_tags)  # type: ignore[arg-type]
        self.analysis = analysis


class SharedStackPolicy(StackValidationPolicy):
    """A stack policy of this pack that reads the call's one ``StackAnalysis`` (``shared_analysis``).

    The SDK sees a ``StackValidationPolicy`` (its type, config schema and level are declared as
    usual); the pack's servicer hands it ``SharedStackArgs`` instead of decoding the stack again.
    """


def shared_analysis(args: Any) -> StackAnalysis | None:
    """The call's analysis when the pack's servicer runs the policy, else None (the SDK's own args)."""
    return args.analysis if isinstance(args, SharedStackArgs) else None
