"""A local AWS emulator (moto), and boto3 clients for it in any of its accounts.

``make demo`` (``local.demo``) and the emulator tests (``tests/local``) share this
module, so the demo shows exactly the setup the tests check. Nothing here can reach AWS:
every client is built with the emulator's endpoint and the emulator's dummy keys.

moto models many accounts in one server: plain credentials act in its default account
(123456789012); credentials from ``sts:AssumeRole`` act in the account named by the role
ARN, which is how the program's providers and the audit reach member accounts.

The server runs in this process, which lets ``Emulator.start`` shape what moto's API cannot:
organization trails are shown to member accounts as shadow trails (``local.worlds.shadows``).
The worlds that look like AWS (classic, organization, mixed) are in ``local.worlds``; they use
``cloudtrail_logs_role`` and ``bucket_policy`` below for what a trail needs.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

DEFAULT_ACCOUNT = "123456789012"
"""The account moto acts in for credentials that were not obtained by assuming a role."""
EMULATOR_KEY = "testing"
DEFAULT_REGION = "us-east-1"
MEMBER_ROLE = "OrganizationAccountAccessRole"
"""The role an organization creates in each member account; used when a target names no role."""
CLOUDTRAIL_LOGS_ROLE = "CloudTrail_CloudWatchLogs_Role"

_CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _Server(ThreadedMotoServer):
    """moto's threaded server (its internals as of moto 5, which requirements pin)."""

    def _server_entry(self) -> None:
        try:
            super()._server_entry()
        finally:
            # A failed bind (the port was taken meanwhile) must not leave start() waiting forever.
            self._server_ready_event.set()


class Emulator:
    """A moto server on loopback, in a thread of this process.

    Use as a context manager, or call ``start``/``stop``. ``reset`` empties every account.
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> Emulator:
        # Each request would otherwise log a line; the demo's and the tests' output is the point.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        from local.worlds.shadows import install  # imported here: local.worlds imports this module

        install()
        for _attempt in range(3):
            port = self.port or free_port(self.host)
            server = _Server(ip_address=self.host, port=port, verbose=False)
            server.start()
            if server._server is not None:
                self._server, self.port = server, port
                break
            if self.port is not None:
                raise RuntimeError(f"cannot listen on {self.host}:{self.port}")
        else:
            raise RuntimeError(f"found no free port on {self.host} for the emulator")
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                # Any HTTP answer will do (it says 201); urlopen raises for errors and no answer.
                with urllib.request.urlopen(f"{self.url}/moto-api/config", timeout=2):
                    return
            except OSError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the emulator at {self.url} does not answer: {error}") from error
            time.sleep(0.05)

    def reset(self) -> None:
        """Forget every resource in every account and region."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"emulator reset failed: HTTP {response.status}")
        # moto's reset keeps its member -> management account map; a member created again with
        # the same id (the worlds use fixed ids) would otherwise still point at the old one.
        from moto.organizations.models import organizations_backends

        organizations_backends.master_accounts.clear()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start() if self._server is None else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# One boto3 session for every client: a session loads each service's model once, so sharing
# it makes clients cheap. Creating clients from it is not thread-safe, hence the lock.
_SHARED_SESSION: boto3.Session | None = None
_CREATE_LOCK = threading.Lock()


def _new_client(service: str, region: str, endpoint: str, credentials: Mapping[str, str | None]) -> Any:
    global _SHARED_SESSION
    with _CREATE_LOCK:
        if _SHARED_SESSION is None:
            _SHARED_SESSION = boto3.Session(region_name=DEFAULT_REGION)
        return _SHARED_SESSION.client(
            service, region_name=region, endpoint_url=endpoint, config=_CLIENT_CONFIG, **credentials
        )


class EmulatorSessions:
    """boto3 clients for the emulator, per identity (the default account, or an assumed role).

    Thread-safe: the Pulumi mocks call in from worker threads. Credentials are always
    explicit, so nothing from the environment (profiles, AWS_* variables) leaks in.
    """

    def __init__(self, endpoint: str, access_key: str = EMULATOR_KEY, secret_key: str = EMULATOR_KEY) -> None:
        self.endpoint = endpoint
        self._base = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key}
        self._lock = threading.RLock()
        self._credentials: dict[tuple[str | None, str | None, str], dict[str, str | None]] = {}
        self._clients: dict[tuple[Any, ...], Any] = {}

    def credentials(
        self, role_arn: str | None = None, external_id: str | None = None, session_name: str = "cis-emulator"
    ) -> dict[str, str | None]:
        """The base keys (the default account), or keys from assuming ``role_arn``."""
        if role_arn is None:
            return dict(self._base)
        key = (role_arn, external_id, session_name)
        with self._lock:
            if key not in self._credentials:
                request: dict[str, str] = {"RoleArn": role_arn, "RoleSessionName": session_name}
                if external_id:
                    request["ExternalId"] = external_id
                found = self.client("sts", DEFAULT_REGION).assume_role(**request)["Credentials"]
                self._credentials[key] = {
                    "aws_access_key_id": found["AccessKeyId"],
                    "aws_secret_access_key": found["SecretAccessKey"],
                    "aws_session_token": found["SessionToken"],
                }
            return self._credentials[key]

    def client(
        self,
        service: str,
        region: str,
        role_arn: str | None = None,
        external_id: str | None = None,
        session_name: str = "cis-emulator",
    ) -> Any:
        key = (service, region, role_arn, external_id, session_name)
        with self._lock:
            if key not in self._clients:
                credentials = self.credentials(role_arn, external_id, session_name)
                self._clients[key] = _new_client(service, region, self.endpoint, credentials)
            return self._clients[key]

    def for_account(self, service: str, account_id: str, region: str, role_arn: str | None = None) -> Any:
        """A client acting in ``account_id``: directly in the default account, else through a role."""
        if role_arn is None and account_id != DEFAULT_ACCOUNT:
            role_arn = f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE}"
        return self.client(service, region, role_arn)


def cloudtrail_logs_role(iam: Any, account: str, region: str, log_group: str) -> str:
    """The role CloudTrail assumes to write to the log group (one per account, a policy per group)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        arn = iam.create_role(RoleName=CLOUDTRAIL_LOGS_ROLE, AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        arn = iam.get_role(RoleName=CLOUDTRAIL_LOGS_ROLE)["Role"]["Arn"]
    write = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:*",
            }
        ],
    }
    iam.put_role_policy(
        RoleName=CLOUDTRAIL_LOGS_ROLE, PolicyName=f"write-{region}", PolicyDocument=json.dumps(write)
    )
    return str(arn)


def bucket_policy(bucket: str, account: str) -> str:
    principal = {"Service": "cloudtrail.amazonaws.com"}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
                {
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
                    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                },
            ],
        }
    )
