"""Build an organization in the emulator the way AWS would have it: accounts, OUs, trails, log groups.

Every call goes through the emulator's API (boto3, in the account concerned), except three
things moto's API cannot do, which are shaped in this process (the server runs here):

- member accounts get the ids the world names (moto draws random ones): moto's id generator
  is replaced while each account is created;
- the management account gets a real name (moto calls it ``master``), and CloudTrail may have
  a delegated administrator (moto's organizations backend knows no CloudTrail principal);
- members see organization trails as shadow trails: ``local.worlds.shadows``.

moto checks that a trail's S3 bucket exists in the trail owner's account, so each bucket is
created there (AWS Control Tower puts it in the Log Archive account; nothing here reads it).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

from moto.organizations import utils as organizations_utils
from moto.organizations.models import FakeDelegatedAdministrator, organizations_backends

from cis_monitoring.core.topology import LogGroupRef, TrailFacts
from local.emulator import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    EmulatorSessions,
    bucket_policy,
    cloudtrail_logs_role,
)
from local.worlds import shadows
from local.worlds.model import World, WorldAccount, WorldTrail

_ID_LOCK = threading.Lock()
CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"
_NON_NAME = re.compile(r"[^a-z0-9-]+")


def config_name(name: str) -> str:
    """The name discover derives from an organization account name (``Log Archive`` -> ``log-archive``)."""
    return re.sub(r"-{2,}", "-", _NON_NAME.sub("-", name.lower())).strip("-")[:40]


@contextlib.contextmanager
def _account_id(account_id: str) -> Iterator[None]:
    with _ID_LOCK, mock.patch.object(organizations_utils, "make_random_account_id", lambda: account_id):
        yield


class WorldBuilder:
    """Creates one world's resources; ``build`` returns its description."""

    def __init__(self, endpoint: str, name: str, management_name: str = "Management") -> None:
        shadows.install()
        self.endpoint = endpoint
        self.name = name
        self.sessions = EmulatorSessions(endpoint)
        self.accounts: dict[str, WorldAccount] = {}
        self.ous: dict[str, str] = {}
        self.trails: list[WorldTrail] = []
        self.org = self.sessions.client("organizations", DEFAULT_REGION)
        self.org.create_organization(FeatureSet="ALL")
        self.ous["Root"] = self.org.list_roots()["Roots"][0]["Id"]
        self._name_management(management_name)
        self.accounts[DEFAULT_ACCOUNT] = WorldAccount(
            DEFAULT_ACCOUNT, management_name, "Root", config_name(management_name)
        )

    def _name_management(self, name: str) -> None:
        backend = dict.get(organizations_backends, DEFAULT_ACCOUNT)["aws"]  # type: ignore[index]
        next(a for a in backend.accounts if a.id == DEFAULT_ACCOUNT).name = name

    def client(self, service: str, account_id: str, region: str) -> Any:
        return self.sessions.for_account(service, account_id, region)

    # ---- the organization ----

    def ou(self, path: str) -> str:
        """The id of the OU at ``path`` (``Root/Workloads/Prod``), creating what is missing."""
        if path in self.ous:
            return self.ous[path]
        parent_path, _, name = path.rpartition("/")
        parent = self.ou(parent_path)
        unit = self.org.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]
        self.ous[path] = unit["Id"]
        return unit["Id"]

    def account(self, account_id: str, name: str, ou: str = "Root") -> WorldAccount:
        # A stale entry (moto's reset keeps this map) would make the new account look closed.
        organizations_backends.master_accounts.pop(account_id, None)
        email = f"{config_name(name)}@example.com"
        with _account_id(account_id):
            created = self.org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
        assert created["AccountId"] == account_id, created
        if ou != "Root":
            self.org.move_account(
                AccountId=account_id, SourceParentId=self.ous["Root"], DestinationParentId=self.ou(ou)
            )
        self.accounts[account_id] = WorldAccount(account_id, name, ou, config_name(name))
        return self.accounts[account_id]

    def delegate_cloudtrail(self, account_id: str) -> None:
        """Make the account CloudTrail's delegated administrator (it may then own an organization trail)."""
        # moto's list of services that take a delegated administrator lacks CloudTrail's.
        if CLOUDTRAIL_PRINCIPAL not in FakeDelegatedAdministrator.SUPPORTED_SERVICES:
            FakeDelegatedAdministrator.SUPPORTED_SERVICES.append(CLOUDTRAIL_PRINCIPAL)
        self.org.register_delegated_administrator(AccountId=account_id, ServicePrincipal=CLOUDTRAIL_PRINCIPAL)

    # ---- trails and log groups ----

    def log_group(self, account_id: str, region: str, name: str) -> tuple[LogGroupRef, str]:
        """Create the group; its reference and its ARN as DescribeLogGroups gives it (``...:*``)."""
        logs = self.client("logs", account_id, region)
        logs.create_log_group(logGroupName=name)
        groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        arn = next(g["arn"] for g in groups if g["logGroupName"] == name)
        return LogGroupRef(account_id, region, name), arn

    def trail(
        self,
        account_id: str,
        name: str,
        home_region: str,
        *,
        log_group: str | None = None,
        multi_region: bool = True,
        organization: bool = False,
        bucket: str | None = None,
    ) -> WorldTrail:
        """A trail, logging all management events; delivering to a new log group when one is named."""
        bucket = bucket or _bucket_name(name, account_id, home_region)
        s3 = self.client("s3", account_id, home_region)
        where = {} if home_region == "us-east-1" else {"LocationConstraint": home_region}
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {}))
        s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(bucket, account_id))
        params: dict[str, Any] = {
            "Name": name,
            "S3BucketName": bucket,
            "IsMultiRegionTrail": multi_region,
            "IncludeGlobalServiceEvents": True,
            "EnableLogFileValidation": True,
            "IsOrganizationTrail": organization,
        }
        group: LogGroupRef | None = None
        group_arn: str | None = None
        if log_group is not None:
            group, group_arn = self.log_group(account_id, home_region, log_group)
            params["CloudWatchLogsLogGroupArn"] = group_arn
            params["CloudWatchLogsRoleArn"] = cloudtrail_logs_role(
                self.client("iam", account_id, home_region), account_id, home_region, log_group
            )
        cloudtrail = self.client("cloudtrail", account_id, home_region)
        arn = cloudtrail.create_trail(**params)["TrailARN"]
        cloudtrail.start_logging(Name=name)
        cloudtrail.put_event_selectors(
            TrailName=name, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
        )
        facts = TrailFacts(
            name=name,
            owner_account=account_id,
            home_region=home_region,
            multi_region=multi_region,
            organization=organization,
            log_group=group,
            logging=True,
            all_management_events=True,
            arn=arn,
        )
        self.trails.append(WorldTrail(facts, bucket, group_arn))
        return self.trails[-1]

    def build(self, expected_config: dict[str, Any]) -> World:
        return World(
            name=self.name,
            endpoint=self.endpoint,
            management_account=DEFAULT_ACCOUNT,
            accounts=tuple(sorted(self.accounts.values(), key=lambda a: a.id)),
            ous=dict(self.ous),
            trails=tuple(self.trails),
            expected_config=expected_config,
        )


def _bucket_name(trail: str, account_id: str, region: str) -> str:
    stem = re.sub(r"[^a-z0-9-]+", "-", trail.lower()).strip("-")
    return f"{stem[: 63 - len(account_id) - len(region) - 2]}-{account_id}-{region}"
