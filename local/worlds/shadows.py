"""Shadow trails as AWS shows them, shaped in moto's CloudTrail backends (in this process).

What AWS does (CloudTrail API reference, DescribeTrails ``includeShadowTrails``): "A shadow
trail is the replication in a Region of a trail that was created in a different Region, or in
the case of an organization trail, the replication of an organization trail in member
accounts." So:

- an organization trail, created in the management or a delegated administrator account, is
  listed by DescribeTrails in every account of the organization, with the OWNER's TrailARN and
  HomeRegion, IsOrganizationTrail true, and the owner's CloudWatch Logs group ARN (a member has no
  group of its own to watch). A member reads it by ARN (GetTrail, GetTrailStatus,
  GetEventSelectors) and cannot change it;
- a multi-Region trail is listed in every Region of its account, with its HomeRegion.

What moto 5 does: one CloudTrail backend per (account, Region), and no API to replicate a trail
into another account, so an organization trail is visible only to its owner. For multi-Region
trails it already lists them in every Region with their HomeRegion (kept as is) and finds them for
GetTrailStatus, but not for GetTrail / GetEventSelectors / GetInsightSelectors outside the home
Region.

``install`` wraps moto's ``CloudTrailBackend`` methods (the moto server runs in this process, see
``local.emulator.Emulator``) so that:

- DescribeTrails / ListTrails (with shadow trails, AWS's default) in any account of an
  organization also return the organization trails of the other accounts of that organization
  (moto's organizations backend says who belongs to which organization; a closed account belongs
  to none), in every Region for a multi-Region trail, only in its home Region otherwise;
- GetTrail, GetTrailStatus, GetEventSelectors and GetInsightSelectors accept the ARN of such a
  shadow (another Region of the same account, or another account's organization trail); a member
  must use the ARN, as in AWS, not the name;
- writes (StartLogging, StopLogging, UpdateTrail, PutEventSelectors, PutInsightSelectors) still act
  only on the caller's own trails in the Region they were created in, exactly as moto did before.

The view is derived on every call from the owner's live trail, so StopLogging or DeleteTrail in
the owner shows in every member at once, and a moto reset leaves nothing behind.

GetTrailStatus also answers with the CloudWatch Logs fields moto never gives
(``LatestCloudWatchLogsDeliveryTime``, ``LatestCloudWatchLogsDeliveryError``; botocore's
cloudtrail 2013-11-01 ``GetTrailStatusResponse``), derived the way CloudTrail delivers: a logging
trail with a CloudWatch Logs group delivers continuously (as moto already says of S3 with
``LatestDeliveryTime``), by assuming the role in ``CloudWatchLogsRoleArn``; while that role or
the group does not exist, the delivery fails, the error is set and the delivery time stops at
the last delivery that worked (none, if none did). The error's text is this emulator's (AWS's
wording is not documented); the audit reads only whether one is set.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudtrail import models as cloudtrail_models
from moto.cloudtrail.exceptions import TrailNotFoundException
from moto.cloudtrail.models import CloudTrailBackend, Trail
from moto.organizations.models import organizations_backends
from moto.utilities.utils import get_partition

_MARK = "_cis_shadow_trails_installed"
_LOCK = threading.Lock()
_ORIGINAL: dict[str, Callable[..., Any]] = {}

WRITES = {
    "start_logging": "name",
    "stop_logging": "name",
    "update_trail": "name",
    "put_event_selectors": "trail_name",
    "put_insight_selectors": "trail_name",
}
"""moto's write methods and the parameter naming the trail: they keep acting on own trails only."""


def organization_of(account_id: str) -> set[str]:
    """The ACTIVE accounts of ``account_id``'s organization (itself included); empty if it has none."""
    master = account_id
    if account_id in organizations_backends.master_accounts:
        master = organizations_backends.master_accounts[account_id][0]
    # dict.get, not [...]: looking must not create backends for accounts nobody used.
    partitions = dict.get(organizations_backends, master)
    backend = dict.get(partitions, "aws") if partitions else None
    if backend is None or backend.org is None or backend.org.master_account_id != master:
        return set()
    members = {account.id for account in backend.accounts if account.status == "ACTIVE"}
    return members if account_id in members else set()


def _organization_trails_seen_by(backend: CloudTrailBackend) -> list[Trail]:
    """The other accounts' organization trails that ``backend``'s account sees in its Region."""
    found = []
    for other in sorted(organization_of(backend.account_id) - {backend.account_id}):
        regions = dict.get(cloudtrail_models.cloudtrail_backends, other)
        for region_backend in list(regions.values()) if regions else []:
            for trail in list(region_backend.trails.values()):
                if trail.is_org_trail and (trail.is_multi_region or trail.region_name == backend.region_name):
                    found.append(trail)
    return found


def _own_trails_everywhere(backend: CloudTrailBackend) -> Iterable[Trail]:
    return _ORIGINAL["describe_trails"](backend, True)


def _shadow_by_arn(backend: CloudTrailBackend, arn: str) -> Trail | None:
    """A trail ``backend`` sees only as a shadow, looked up by ARN (AWS accepts no name for these)."""
    if not arn.startswith("arn:"):
        return None
    for trail in [*_own_trails_everywhere(backend), *_organization_trails_seen_by(backend)]:
        if trail.arn == arn:
            return trail
    return None


def _describe_trails(self: CloudTrailBackend, include_shadow_trails: bool) -> list[Trail]:
    trails = list(_ORIGINAL["describe_trails"](self, include_shadow_trails))
    if include_shadow_trails:
        trails.extend(_organization_trails_seen_by(self))
    return trails


def _get_trail(self: CloudTrailBackend, name_or_arn: str) -> Trail:
    try:
        return _ORIGINAL["get_trail"](self, name_or_arn)
    except TrailNotFoundException:
        shadow = _shadow_by_arn(self, name_or_arn)
        if shadow is None:
            raise
        return shadow


_LAST_DELIVERY = "_cis_last_cloudwatch_delivery"


def _delivery_failure(trail: Trail) -> str | None:
    """Why CloudTrail cannot write to the trail's CloudWatch Logs group now, or None."""
    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends

    role_arn, group_arn = str(trail.cw_role_arn or ""), str(trail.cw_log_group_arn)
    parts = group_arn.split(":")
    if len(parts) < 7:
        return f"(emulator) the log group ARN {group_arn!r} names no group"
    region, account, name = parts[3], parts[4], parts[6]
    iam = dict.get(dict.get(iam_backends, trail.account_id) or {}, trail.partition)
    if iam is None or not any(role.arn == role_arn for role in iam.roles.values()):
        return f"(emulator) CloudTrail cannot assume {role_arn or 'a CloudWatchLogsRoleArn'}: no such role"
    logs = dict.get(dict.get(logs_backends, account) or {}, region)
    if logs is None or name not in logs.groups:
        return f"(emulator) log group {name!r} does not exist in account {account} {region}"
    return None


class _StatusAsAws:
    """A trail's moto status, with the CloudWatch Logs delivery fields AWS gives (see the module)."""

    def __init__(self, trail: Trail) -> None:
        self.trail = trail

    def description(self) -> dict[str, Any]:
        trail, answer = self.trail, self.trail.status.description()
        if not trail.cw_log_group_arn:
            return answer
        if trail.status.is_logging:
            failure = _delivery_failure(trail)
            if failure is None:
                setattr(trail, _LAST_DELIVERY, time.time())
            else:
                answer["LatestCloudWatchLogsDeliveryError"] = failure
        delivered = getattr(trail, _LAST_DELIVERY, None)
        if delivered is not None:
            answer["LatestCloudWatchLogsDeliveryTime"] = delivered  # epoch seconds, as AWS's JSON has it
        return answer


def _get_trail_status(self: CloudTrailBackend, name: str) -> Any:
    # moto's own lookup (its own trails in every Region, by name or ARN); a name never reaches
    # another account's organization trail, as in AWS.
    own = [t for t in _own_trails_everywhere(self) if name in (t.trail_name, t.arn)]
    if own:
        return _StatusAsAws(own[0])
    shadow = _shadow_by_arn(self, name)
    if shadow is not None:
        return _StatusAsAws(shadow)
    if len(name) < 3:
        return _ORIGINAL["get_trail_status"](self, name)  # moto's error for a name that short
    # moto's error (this method names the ARN it looked for).
    arn = (
        f"arn:{get_partition(self.region_name)}:cloudtrail:{self.region_name}:{self.account_id}:trail/{name}"
    )
    raise TrailNotFoundException(account_id=self.account_id, name=arn)


def _own_only(method: str, parameter: str) -> Callable[..., Any]:
    original = _ORIGINAL[method]
    signature = inspect.signature(original)

    def write(self: CloudTrailBackend, *args: Any, **kwargs: Any) -> Any:
        name = signature.bind(self, *args, **kwargs).arguments[parameter]
        _ORIGINAL["get_trail"](self, name)  # TrailNotFound for a shadow, as moto said before
        return original(self, *args, **kwargs)

    write.__name__ = method
    return write


def install() -> None:
    """Shape moto's CloudTrail backends as described above; idempotent, for the whole process."""
    with _LOCK:
        if getattr(CloudTrailBackend, _MARK, False):
            return
        for method in ("describe_trails", "get_trail", "get_trail_status", *WRITES):
            _ORIGINAL[method] = getattr(CloudTrailBackend, method)
        CloudTrailBackend.describe_trails = _describe_trails  # type: ignore[method-assign]
        CloudTrailBackend.get_trail = _get_trail  # type: ignore[method-assign]
        CloudTrailBackend.get_trail_status = _get_trail_status  # type: ignore[method-assign]
        for method, parameter in WRITES.items():
            setattr(CloudTrailBackend, method, _own_only(method, parameter))
        setattr(CloudTrailBackend, _MARK, True)
