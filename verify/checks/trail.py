"""The checks before the alarm chain: the log group exists, a logging multi-region trail delivers to it,
and its event selectors record the control's management events."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cis_core.aws.arns import parse_log_group_arn
from cis_core.catalog import Control
from cis_core.judge.selectors import management_coverage
from verify.checks.outcome import Clients, Memo, Outcome
from verify.locations import AuditLocation


class TrailChecks:
    def __init__(
        self, aws: Clients, target: AuditLocation, control: Control, memo: Memo | None = None
    ) -> None:
        self.aws, self.target, self.control = aws, target, control
        self.memo = memo or Memo()

    def log_group(self, _: Any) -> Outcome:
        name = self.target.log_group
        logs = self.aws("logs")
        groups = self.memo.paginate(logs, "describe_log_groups", "logGroups", logGroupNamePrefix=name)
        if not any(g.get("logGroupName") == name for g in groups):
            # No AWS error says so (describe calls return empty lists): report it as the API would.
            raise ClientError(
                {
                    "Error": {
                        "Code": "ResourceNotFoundException",
                        "Message": f"log group {name!r} does not exist in account {self.target.account_id} region {self.target.region}",
                    }
                },
                "DescribeLogGroups",
            )
        return Outcome(True, f"log group {name!r} exists")

    def trail(self, _: Any) -> Outcome:
        target = self.target
        cloudtrail = self.aws("cloudtrail")
        trails = cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", [])
        multi = [t for t in trails if t.get("IsMultiRegionTrail")]
        if not multi:
            others = f" (single-region trail(s): {', '.join(t['Name'] for t in trails)})" if trails else ""
            return Outcome(False, f"no multi-region trail is visible in {target.region}{others}")
        wanted = (target.region, target.account_id, target.log_group)
        delivering = [t for t in multi if parse_log_group_arn(t.get("CloudWatchLogsLogGroupArn")) == wanted]
        if not delivering:
            elsewhere = "; ".join(f"trail {t['Name']!r} {_destination(t)}" for t in multi)
            return Outcome(
                False, f"no multi-region trail delivers to log group {target.log_group!r}: {elsewhere}"
            )
        stopped = []
        for trail in delivering:
            status = cloudtrail.get_trail_status(Name=trail["TrailARN"])
            if status.get("IsLogging"):
                return Outcome(
                    True,
                    f"multi-region trail {trail['Name']!r} (home {trail.get('HomeRegion', '?')}) delivers to"
                    f" {target.log_group!r} and is logging",
                    [trail],
                )
            stopped.append(trail["Name"])
        return Outcome(
            False,
            f"trail {', '.join(map(repr, stopped))} delivers to {target.log_group!r} but is not logging"
            " (StopLogging was called); start logging again",
        )

    def selectors(self, trails: list[dict[str, Any]]) -> Outcome:
        failures = []
        for trail in trails:
            response = self.aws("cloudtrail").get_event_selectors(TrailName=trail["TrailARN"])
            covered, notes = management_coverage(response, self.control)
            kind = "advanced" if response.get("AdvancedEventSelectors") else "classic"
            if covered == {"read", "write"}:
                return Outcome(True, f"trail {trail['Name']!r} logs all management events ({kind} selectors)")
            if not response.get("EventSelectors") and not response.get("AdvancedEventSelectors"):
                what = "reports no event selectors, so it records no management events"
            elif covered == {"write"}:
                what = "logs write-only management events (read events are dropped)"
            elif covered == {"read"}:
                what = "logs read-only management events (write events such as StopLogging are dropped)"
            else:
                source = self.control.event_source or "any service"
                what = f"logs no management events from {source}"
            extra = f" ({'; '.join(notes)})" if notes else ""
            failures.append(f"trail {trail['Name']!r} {what}{extra}")
        return Outcome(
            False,
            "; ".join(failures)
            + "; CIS wants all management events (ReadWriteType All, management events on)",
        )


def _destination(trail: dict[str, Any]) -> str:
    parsed = parse_log_group_arn(trail.get("CloudWatchLogsLogGroupArn"))
    if parsed is None:
        return "delivers to no CloudWatch Logs group"
    return f"delivers to log group {parsed.name!r} in account {parsed.account} region {parsed.region}"
