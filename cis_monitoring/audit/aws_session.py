"""AWS clients per target: assume the target's role once, verify the account, then build clients.

One ``SessionFactory`` serves every worker thread of an audit. Credentials are
resolved once per (account, role, external id, session name), refreshed shortly
before they expire, and checked with ``sts:GetCallerIdentity`` so that a wrong
profile or role can never report one account's state as another's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import boto3
from botocore.config import Config

from cis_monitoring.audit.locations import AuditLocation
from cis_monitoring.core.project import PROJECT

# Re-assume a role this long before its credentials expire (a long audit may outlive them).
_REFRESH_MARGIN = timedelta(minutes=5)


class Identity(NamedTuple):
    """Whose credentials a client uses: the account and how to get into it."""

    account_id: str
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = PROJECT


class AccountMismatchError(Exception):
    """The credentials resolve to another account than the target's."""

    code = "AccountMismatch"

    def __init__(self, expected: str, actual: str, arn: str, via: str) -> None:
        self.expected, self.actual, self.arn = expected, actual, arn
        super().__init__(
            f"the credentials ({via}) are for account {actual} ({arn}), not for the target's account {expected}"
        )


@dataclass(frozen=True)
class _Credentials:
    access_key: str
    secret_key: str
    token: str | None
    expires: datetime | None

    def fresh(self) -> bool:
        return self.expires is None or self.expires - datetime.now(UTC) > _REFRESH_MARGIN


def as_identity(who: AuditLocation | Identity | tuple[Any, ...]) -> Identity:
    if isinstance(who, Identity):
        return who
    if isinstance(who, tuple):
        return Identity(*who)
    return Identity(who.account_id, who.role_arn, who.external_id, who.session_name)


class SessionFactory:
    """Builds boto3 clients for targets; thread-safe.

    ``base`` holds the caller's credentials (default: boto3's default chain). With
    ``endpoint_url`` every client, STS included, talks to that endpoint (an emulator).
    ``max_attempts`` goes to botocore's standard retry mode, where it counts the
    retries after the first attempt (throttling and transient errors back off).
    """

    def __init__(
        self, base: boto3.Session | None = None, endpoint_url: str | None = None, max_attempts: int = 10
    ) -> None:
        self.base = base or boto3.Session()
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            user_agent_extra="cis-monitoring-audit",
        )
        # boto3 Sessions are not thread-safe; clients are. So creation is serialized.
        self._create_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._identity_locks: dict[Identity, threading.Lock] = {}
        self._credentials: dict[Identity, _Credentials | None] = {}

    def client(self, who: AuditLocation | Identity | tuple[Any, ...], service: str, region: str) -> Any:
        """A ``service`` client in ``region`` with credentials that are verified to be ``who``'s account."""
        credentials = self._credentials_for(as_identity(who), region)
        return self._make_client(service, region, credentials)

    def _make_client(self, service: str, region: str, credentials: _Credentials | None) -> Any:
        keys: dict[str, Any] = {}
        if credentials is not None:
            keys = {
                "aws_access_key_id": credentials.access_key,
                "aws_secret_access_key": credentials.secret_key,
                "aws_session_token": credentials.token,
            }
        with self._create_lock:
            return self.base.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=self.config, **keys
            )

    def _credentials_for(self, identity: Identity, region: str) -> _Credentials | None:
        with self._cache_lock:
            lock = self._identity_locks.setdefault(identity, threading.Lock())
        # One lock per identity: the first thread assumes the role, the others wait and reuse it.
        with lock:
            if identity in self._credentials:
                cached = self._credentials[identity]
                if cached is None or cached.fresh():
                    return cached
            credentials = self._assume(identity, region) if identity.role_arn else None
            self._verify_account(identity, region, credentials)
            self._credentials[identity] = credentials
            return credentials

    def _assume(self, identity: Identity, region: str) -> _Credentials:
        assert identity.role_arn is not None
        sts = self._make_client("sts", region, None)
        args: dict[str, Any] = {"RoleArn": identity.role_arn, "RoleSessionName": identity.session_name}
        if identity.external_id:
            args["ExternalId"] = identity.external_id
        found = sts.assume_role(**args)["Credentials"]
        expires = found.get("Expiration")
        return _Credentials(
            found["AccessKeyId"],
            found["SecretAccessKey"],
            found.get("SessionToken"),
            expires if isinstance(expires, datetime) else None,
        )

    def _verify_account(self, identity: Identity, region: str, credentials: _Credentials | None) -> None:
        caller = self._make_client("sts", region, credentials).get_caller_identity()
        if caller["Account"] != identity.account_id:
            via = f"role {identity.role_arn}" if identity.role_arn else "the caller's own credentials"
            raise AccountMismatchError(identity.account_id, caller["Account"], caller.get("Arn", "?"), via)
