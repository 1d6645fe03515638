"""AWS access for discovery: the caller's session, and a role assumed into each account (read-only).

Errors are the core's: credentials that are missing or refused, or an endpoint that does not
answer, are a ``CannotLookError``. The Regions were checked before (one partition: the first one
named is where STS is asked, so credentials of another partition are refused there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from cis_monitoring.core.errors import CannotLookError
from cis_monitoring.flags import ALL_ENABLED

RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})
# The first call fails fast, so a wrong endpoint or missing credentials is said at once.
PROBE = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=15)
SESSION_NAME = "cis-monitoring-discover"
DEFAULT_REGION = "us-east-1"
OPTED_IN = frozenset({"opt-in-not-required", "opted-in"})
"""``DescribeRegions`` opt-in statuses of the Regions an account can use."""


@dataclass(frozen=True)
class Options:
    role_name: str
    external_id: str | None
    regions: tuple[str, ...]
    """Regions to read trails in (``--region``), or ``(ALL_ENABLED,)``: each account's enabled Regions.
    Multi-Region and organization trails show in every Region; more Regions find single-Region
    trails homed there (to list them as skipped)."""
    region: str
    """Where STS and Organizations are called: the first named Region, else the profile's, else us-east-1."""
    endpoint_url: str | None
    max_workers: int

    @property
    def every_enabled_region(self) -> bool:
        return ALL_ENABLED in self.regions


class Aws:
    """Clients for the caller and for each account (through an assumed role)."""

    def __init__(self, session: boto3.Session, options: Options) -> None:
        self.options = options
        self.session = session
        self.sts = self._client(self.session, "sts", options.region)
        identity = self._probe()
        self.caller_account: str = identity["Account"]
        self.partition: str = identity["Arn"].split(":")[1]
        frozen = self.session.get_credentials()
        assert frozen is not None  # _probe succeeded
        self._own = frozen.get_frozen_credentials()

    def _client(self, session: boto3.Session, service: str, region: str, config: Config = RETRIES) -> Any:
        return session.client(
            service, region_name=region, endpoint_url=self.options.endpoint_url, config=config
        )

    def _probe(self) -> dict[str, Any]:
        where = self.options.endpoint_url or "AWS"
        try:
            return self._client(self.session, "sts", self.options.region, PROBE).get_caller_identity()
        except botocore.exceptions.NoCredentialsError:
            raise CannotLookError("no AWS credentials found; use --profile or set AWS credentials") from None
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
        ) as error:
            raise CannotLookError(f"cannot reach {where}: {error}") from None
        except botocore.exceptions.ClientError as error:
            raise CannotLookError(f"the credentials were refused by {where}: {error}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise CannotLookError(f"cannot call {where}: {error}") from None

    def organizations(self) -> Any:
        return self._client(self.session, "organizations", self.options.region)

    def role_arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{self.options.role_name}"

    def session_for(self, account_id: str) -> boto3.Session:
        """A session acting in ``account_id``: the caller's own, or the assumed role's."""
        if account_id == self.caller_account:
            creds = self._own
            return boto3.Session(creds.access_key, creds.secret_key, creds.token)
        params: dict[str, Any] = {
            "RoleArn": self.role_arn(account_id),
            "RoleSessionName": SESSION_NAME,
            "DurationSeconds": 900,
        }
        if self.options.external_id:
            params["ExternalId"] = self.options.external_id
        creds = self.sts.assume_role(**params)["Credentials"]
        return boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def client(self, session: boto3.Session, service: str, region: str) -> Any:
        return self._client(session, service, region)

    def trail_regions(self, session: boto3.Session) -> tuple[str, ...]:
        """Where to read an account's trails: the named Regions, or every Region enabled for it."""
        if not self.options.every_enabled_region:
            return self.options.regions or (self.options.region,)
        described = self.client(session, "ec2", self.options.region).describe_regions()["Regions"]
        # The Region for the other calls first: ListTrails is asked there.
        enabled = sorted(r["RegionName"] for r in described if r.get("OptInStatus", "opted-in") in OPTED_IN)
        return tuple(dict.fromkeys((self.options.region, *enabled)))
