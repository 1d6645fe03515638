"""Baseline pack for ``benchmarks/pack_bench.py``: one stack policy that looks at nothing.

Started the way the Pulumi CLI starts a pack, like the real one in ``policy/``, so an
AnalyzeStack request costs here only what pulumi-policy itself and gRPC cost (decoding the
request, building the SDK's resource objects, the response).
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """No-op: the baseline measures the SDK's own cost of a stack policy."""


PolicyPack(
    name="noop-baseline",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name="noop",
            description="Does nothing; the baseline for the policy pack benchmark.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=validate,
        )
    ],
)
