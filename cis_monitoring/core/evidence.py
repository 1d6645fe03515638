"""What a verdict rests on: the AWS calls made, and the response fields read (for auditors).

Every link the audit judges names its basis, so a reader of the JSON can tell which API answers
(and which of their fields) a PASS or a FAIL comes from, and repeat the calls. A link whose
basis was not read is never PASS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AwsRead:
    """One AWS call a verdict rests on, and the response fields it reads (evidence for auditors)."""

    service: str
    """The IAM service prefix: ``logs``, ``cloudwatch``, ``sns``, ``cloudtrail`` ..."""
    operation: str
    """The API operation as AWS names it: ``DescribeMetricFilters``."""
    fields: tuple[str, ...]

    @property
    def action(self) -> str:
        """The IAM action that authorizes the call (``logs:DescribeMetricFilters``)."""
        return f"{self.service}:{self.operation}"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "fields": list(self.fields)}
