"""Command-line conventions every subcommand shares: how flags are checked and how their problems read.

A problem names its flag first (``--region: 'us-east-9' is not an AWS Region``), as a config
problem names its key path; several problems come together in one error, never one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from cis_monitoring.core.aws.regions import is_known_region, partition_of
from cis_monitoring.core.errors import InputError, UsageError

REGION_FLAG = "--region"
ALL_ENABLED = "all"
"""``--region all``: every Region enabled for the account(s) read (``ec2:DescribeRegions``)."""


def one_error(
    problems: Sequence[str], what: str = "in the command line", error: type[InputError] = UsageError
) -> InputError:
    """Every problem in one error: one line for one, else ``N problems <what>:`` and one line each."""
    if len(problems) == 1:
        return error(problems[0])
    return error([f"{len(problems)} problems {what}:", *(f"  - {p}" for p in problems)])


def region_problems(regions: Sequence[str], partition: str | None = None, whose: str = "") -> list[str]:
    """Why the ``--region`` values are not usable, each line naming the flag.

    Each must be a Region this release knows (or ``all`` alone), given once, and all in one AWS
    partition: ``partition`` when given (``whose`` says where it comes from), else the first's.
    """
    problems = []
    named = [r for r in regions if r != ALL_ENABLED]
    known = [r for r in named if is_known_region(r)]
    partition = partition or (partition_of(known[0]) if known else None)
    for region in dict.fromkeys(named):
        if not is_known_region(region):
            problems.append(
                f"{REGION_FLAG}: {region!r} is not an AWS Region (e.g. us-east-1), nor {ALL_ENABLED!r}"
            )
        elif partition_of(region) != partition:
            problems.append(
                f"{REGION_FLAG}: {region!r} is in partition {partition_of(region)}, not {partition}{whose};"
                " give Regions of one partition per run"
            )
    repeated = [r for i, r in enumerate(regions) if r in regions[:i]]
    problems.extend(f"{REGION_FLAG}: {r} is given twice" for r in dict.fromkeys(repeated))
    if ALL_ENABLED in regions and len(set(regions)) > 1:
        problems.append(
            f"{REGION_FLAG}: {ALL_ENABLED!r} is already every enabled Region; give it alone, or name the Regions"
        )
    return problems
