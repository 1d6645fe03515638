"""How the audit talks to AWS: verified clients per account, AWS errors in words, a bounded pool.

- ``SessionFactory`` builds clients for an ``Access`` (the core's "how to get into an account"):
  it assumes the role once per (account, role, external id, session name), refreshes the
  credentials shortly before they expire, and checks that they are the account's, so a wrong
  profile or role can never report one account's state as another's: for a role, from the
  session ARN AssumeRole returns with them; for the caller's own credentials, with
  ``sts:GetCallerIdentity`` (once per run).
- ``can_look`` is the check before anything is audited: the caller has credentials, and the first
  STS call connects. Otherwise nothing could be audited (``CannotLookError``, exit 2) instead of
  one ERROR row per pair. ``enabled_regions`` is ``--region all`` (``ec2:DescribeRegions``).
- ``AwsError`` is what a row says about an AWS error (code, message, operation), read the same
  for the checks and the proofs; ``Clients`` and ``Memo`` let the checks of every control of one
  chain share clients and answers; ``in_pool`` runs the reads on a bounded thread pool.
- ``FewerCollections``: the run's garbage collector scans young objects less often (clients are
  large graphs of small objects; the scans were a third of the audit's CPU).
- ``EmulatorGaps``: against an emulator endpoint only, an operation the emulator answered as not
  implemented is not sent again in the same run (its later callers get the same answer at once).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ContextDecorator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.exceptions import ConnectionError as BotoConnectionError

from cis_monitoring.core.access import Access
from cis_monitoring.core.aws.arns import parse_assumed_role_arn
from cis_monitoring.core.aws.regions import is_known_region, partition_of
from cis_monitoring.core.errors import CannotLookError

T = TypeVar("T")
U = TypeVar("U")

# Re-assume a role this long before its credentials expire (a long audit may outlive them).
_REFRESH_MARGIN = timedelta(minutes=5)
PROBE_ATTEMPTS = 2
"""The up-front STS call is tried this often: an endpoint that refuses it is not worth a minute of retries."""
PROBE_CONNECT_SECONDS = 10
THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
}
USER_AGENT = "cis-monitoring-audit"
"""Added to every request's user agent, so CloudTrail shows which calls were the audit's."""
NOT_OPTED_IN = "not-opted-in"
"""DescribeRegions' ``OptInStatus`` of a Region the account has not enabled (moto lists those too)."""


# ---------------------------------------------------------------- AWS errors in words


@dataclass(frozen=True)
class AwsError:
    code: str
    message: str
    operation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "operation": self.operation}


class AccountMismatchError(Exception):
    """The credentials resolve to another account than the one to audit."""

    code = "AccountMismatch"

    def __init__(self, expected: str, actual: str, arn: str, via: str) -> None:
        self.expected, self.actual, self.arn = expected, actual, arn
        super().__init__(
            f"the credentials ({via}) are for account {actual} ({arn}), not for the audited account {expected}"
        )


AWS_ERRORS = (ClientError, BotoCoreError, AccountMismatchError)
"""What an AWS call can raise that makes a row ERROR (anything else is a bug, still an ERROR row)."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def unexpected(error: BaseException) -> AwsError:
    """An error no AWS call gives (an odd answer, or a bug), named by its type."""
    return AwsError(f"Unexpected{type(error).__name__}", str(error))


def read_error(error: ClientError | BotoCoreError) -> AwsError:
    """AWS's code and message (botocore's error name for a client-side failure), and the operation."""
    if isinstance(error, BotoCoreError):
        return AwsError(type(error).__name__.removesuffix("Error") or "BotoCore", str(error))
    code = error_code(error) or "Unknown"
    message = str(error.response.get("Error", {}).get("Message") or error)
    retries = error.response.get("ResponseMetadata", {}).get("RetryAttempts")
    if code in THROTTLING and retries:
        message += f" (still failing after {retries} retries)"
    return AwsError(code, message, error.operation_name)


def aws_error(error: Exception) -> AwsError:
    """A row's error: AWS's code and message and the failed operation, or what else went wrong."""
    if isinstance(error, ClientError | BotoCoreError):
        return read_error(error)
    if isinstance(error, AccountMismatchError):
        return AwsError(error.code, str(error))
    return unexpected(error)


# ---------------------------------------------------------------- the garbage collector

YOUNG_COLLECTION_THRESHOLD = 20_000
"""Allocations (less deallocations) between two collections of the youngest generation during a run.

CPython's default is 700 (``gc.get_threshold()``). A botocore client is some 1,400 container objects
(its own copy of the session's event handlers, its class, its endpoint), and most survive until the
account is done, so with the default each client set off two young collections and, every tenth,
one of the middle generation that rescans every client still alive: the audit bench (100 pairs, 8
workers) spent 0.9 s of 3.0 s of CPU in the collector, and 0.3 s with 20,000 (BENCHMARKS.md). Only
the collector's timing changes: the same objects are freed, a little later; a few MB more live."""


class FewerCollections(ContextDecorator):
    """Raise the youngest generation's threshold to ``YOUNG_COLLECTION_THRESHOLD`` while a run lasts.

    The collector's thresholds are the process's, so runs that overlap (threads) share one change:
    the first to start raises it, the last to end puts back what it found. A higher threshold the
    process set is kept, and so is 0 (which turns collection off).
    """

    _lock = threading.Lock()
    _runs = 0
    _found: tuple[int, int, int] | None = None

    def __enter__(self) -> FewerCollections:
        cls = type(self)
        with cls._lock:
            if cls._runs == 0:
                cls._found = gc.get_threshold()
                young, middle, old = cls._found
                if young:
                    gc.set_threshold(max(young, YOUNG_COLLECTION_THRESHOLD), middle, old)
            cls._runs += 1
        return self

    def __exit__(self, *_: object) -> None:
        cls = type(self)
        with cls._lock:
            cls._runs -= 1
            if cls._runs == 0 and cls._found is not None:
                gc.set_threshold(*cls._found)
                cls._found = None


# ---------------------------------------------------------------- operations an emulator lacks


def emulator_lacks(status: int, code: str) -> bool:
    """Whether an answer is an emulator's "not implemented": LocalStack's HTTP 501, or moto's HTTP 500
    with an HTML page (botocore then uses the HTTP status as the error code). Real AWS always answers
    with an AWS error body (a code such as ``InternalFailure``) and never 501."""
    return status == 501 or (status == 500 and code == "500")


LEARNABLE_GAPS = frozenset(
    {
        ("logs", "TestMetricFilter"),
        ("cloudwatch", "DescribeAlarmHistory"),
        ("cloudwatch", "ListAlarmMuteRules"),
        ("cloudwatch", "GetAlarmMuteRule"),
    }
)
"""The operations ``EmulatorGaps`` may learn: only proofs call them (no check's basis names them:
tests/audit/test_emulator_gaps.py), and a proof an emulator cannot give is "not available", never
PASS. An operation a check also calls is always sent: one odd 500 must not turn later chains' reads
into errors."""


class EmulatorGaps:
    """The operations an emulator endpoint answered as not implemented, learned once per run.

    moto lacks TestMetricFilter, DescribeAlarmHistory and ListAlarmMuteRules: it answers HTTP 500 and
    botocore retries each, for every chain (the audit bench: 3 of 11 requests per pair, and most of
    the back-off). Once such an operation's final answer (after botocore's retries) was "not
    implemented", later calls of it in this run get that same answer without a request: the proofs
    turn it into "not available in this emulator" either way, which is never PASS. Only
    ``LEARNABLE_GAPS`` are learned, and only clients of a factory with an ``endpoint_url`` are
    watched; against AWS every call is sent.
    """

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._lacking: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @property
    def lacking(self) -> frozenset[tuple[str, str]]:
        with self._lock:
            return frozenset(self._lacking)

    def watch(self, client: Any) -> None:
        client.meta.events.register("before-call", self._answer_known_gap)
        client.meta.events.register("after-call", self._learn)

    def _learn(self, http_response: Any, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        operation = (model.service_model.service_name, model.name)
        code = str((parsed or {}).get("Error", {}).get("Code") or "")
        if operation in LEARNABLE_GAPS and emulator_lacks(int(http_response.status_code), code):
            with self._lock:
                self._lacking.add(operation)

    def _answer_known_gap(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        with self._lock:
            known = (model.service_model.service_name, model.name) in self._lacking
        if not known:
            return None  # botocore sends the request
        # The shape moto's own answer had (HTTP 500, the status as the code), so it reads the same.
        message = f"not implemented by the emulator at {self.endpoint} (learned earlier in this run)"
        parsed = {"Error": {"Code": "500", "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 500}}
        return AWSResponse(self.endpoint, 500, {}, None), parsed


# ---------------------------------------------------------------- verified clients


@dataclass(frozen=True)
class _Credentials:
    access_key: str
    secret_key: str
    token: str | None
    expires: datetime | None
    session_arn: str | None = None
    """AssumeRole's ``AssumedRoleUser.Arn``: whose credentials AWS issued (None: not in the answer)."""

    def fresh(self) -> bool:
        return self.expires is None or self.expires - datetime.now(UTC) > _REFRESH_MARGIN


class SessionFactory:
    """Builds boto3 clients for an ``Access``; thread-safe.

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
            user_agent_extra=USER_AGENT,
        )
        # boto3 Sessions are not thread-safe; clients are. So creation is serialized.
        self._create_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._access_locks: dict[Access, threading.Lock] = {}
        self._credentials: dict[Access, _Credentials | None] = {}
        self._caller_lock = threading.Lock()
        self._caller: Mapping[str, Any] | None = None
        self.gaps = EmulatorGaps(endpoint_url) if endpoint_url else None
        # The caller's own STS client per Region, shared by every AssumeRole: creating a client costs
        # more CPU than the call it makes (the audit bench's profile: creation was the largest cost).
        self._callers_sts: dict[str, Any] = {}

    def client(self, who: Access, service: str, region: str) -> Any:
        """A ``service`` client in ``region`` with credentials that are verified to be ``who``'s account."""
        credentials = self._credentials_for(who, region)
        return self._make_client(service, region, credentials)

    def caller(self, region: str, config: Config | None = None) -> Mapping[str, Any]:
        """GetCallerIdentity of the caller's own credentials (asked once per run)."""
        with self._caller_lock:
            if self._caller is None:
                self._caller = self._make_client("sts", region, None, config).get_caller_identity()
            return self._caller

    def _make_client(
        self, service: str, region: str, credentials: _Credentials | None, config: Config | None = None
    ) -> Any:
        keys: dict[str, Any] = {}
        if credentials is not None:
            keys = {
                "aws_access_key_id": credentials.access_key,
                "aws_secret_access_key": credentials.secret_key,
                "aws_session_token": credentials.token,
            }
        with self._create_lock:
            client = self.base.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=config or self.config,
                **keys,
            )
        if self.gaps is not None:
            self.gaps.watch(client)
        return client

    def _credentials_for(self, who: Access, region: str) -> _Credentials | None:
        with self._cache_lock:
            lock = self._access_locks.setdefault(who, threading.Lock())
        # One lock per access: the first thread assumes the role, the others wait and reuse it.
        with lock:
            if who in self._credentials:
                cached = self._credentials[who]
                if cached is None or cached.fresh():
                    return cached
            credentials = self._assume(who, region) if who.role_arn else None
            self._verify_account(who, region, credentials)
            self._credentials[who] = credentials
            return credentials

    def _assume(self, who: Access, region: str) -> _Credentials:
        assert who.role_arn is not None
        with self._cache_lock:
            if region not in self._callers_sts:
                self._callers_sts[region] = self._make_client("sts", region, None)
            sts = self._callers_sts[region]
        args: dict[str, Any] = {"RoleArn": who.role_arn, "RoleSessionName": who.session_name}
        if who.external_id:
            args["ExternalId"] = who.external_id
        answer = sts.assume_role(**args)
        found = answer["Credentials"]
        expires = found.get("Expiration")
        return _Credentials(
            found["AccessKeyId"],
            found["SecretAccessKey"],
            found.get("SessionToken"),
            expires if isinstance(expires, datetime) else None,
            (answer.get("AssumedRoleUser") or {}).get("Arn"),
        )

    def _verify_account(self, who: Access, region: str, credentials: _Credentials | None) -> None:
        """AccountMismatchError unless the credentials are ``who``'s account's.

        A role's credentials are judged by AWS's own answer to AssumeRole: its ``AssumedRoleUser.Arn``
        is the ARN of the credentials it returns (STS API reference, AssumedRoleUser:
        https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumedRoleUser.html; botocore's sts
        2011-06-15 model, ``AssumeRoleResponse.AssumedRoleUser``), ``arn:aws:sts::<account>:
        assumed-role/<role>/<session>``, and STS issues credentials of the role's own account only. So
        the account is read from it, with no client and call of its own (creating a client costs more
        CPU than its call: BENCHMARKS.md). The model does not mark ``AssumedRoleUser`` required in the
        response, so when it is missing or is no assumed-role ARN (an emulator or proxy that answers
        otherwise), the credentials are asked with GetCallerIdentity as before: the check is made
        either way, never skipped.
        """
        session = parse_assumed_role_arn(credentials.session_arn) if credentials else None
        if credentials is None:
            caller = self.caller(region)  # the caller's own credentials: the answer is the run's one
            account, arn = caller["Account"], caller.get("Arn", "?")
        elif session is not None:
            account, arn = session.account, str(session)
        else:
            caller = self._make_client("sts", region, credentials).get_caller_identity()
            account, arn = caller["Account"], caller.get("Arn", "?")
        if account != who.account_id:
            via = f"role {who.role_arn}" if who.role_arn else "the caller's own credentials"
            raise AccountMismatchError(who.account_id, account, arn, via)


def can_look(sessions: SessionFactory, region: str) -> str:
    """The caller's account, or ``CannotLookError``: no credentials, or STS cannot be reached or refuses them."""
    where = sessions.endpoint_url or f"AWS STS in {region}"
    if sessions.base.get_credentials() is None:
        raise CannotLookError(
            "no AWS credentials: set AWS_PROFILE or pass --profile, export AWS_ACCESS_KEY_ID and"
            " AWS_SECRET_ACCESS_KEY, or run where an instance or SSO role provides them"
        )
    probe = Config(
        retries={"mode": "standard", "max_attempts": PROBE_ATTEMPTS},
        connect_timeout=PROBE_CONNECT_SECONDS,
        user_agent_extra=USER_AGENT,
    )
    try:
        return str(sessions.caller(region, probe)["Account"])
    except BotoConnectionError as error:
        raise CannotLookError(f"{where} is unreachable: {error}") from None
    except NoCredentialsError:
        raise CannotLookError("no AWS credentials (the credential provider gave none)") from None
    except (ClientError, BotoCoreError) as error:
        found = read_error(error)
        raise CannotLookError(
            f"sts:GetCallerIdentity at {where} refused the caller's credentials: {found.code}: {found.message}"
        ) from None


def enabled_regions(sessions: SessionFactory, caller: str, region: str) -> tuple[list[str], list[str]]:
    """``--region all``: the Regions enabled for the caller's account, and those this release does not know.

    ``ec2:DescribeRegions`` without ``AllRegions`` lists the enabled Regions; a Region whose
    ``OptInStatus`` is ``not-opted-in``, or of another partition than ``region``'s (an account lives
    in one partition), is left out all the same: an emulator lists those too.
    """
    ec2 = sessions.client(Access(caller), "ec2", region)
    try:
        listed = ec2.describe_regions().get("Regions", [])
    except (ClientError, BotoCoreError) as error:
        found = read_error(error)
        raise CannotLookError(
            f"--region all: ec2:DescribeRegions failed: {found.code}: {found.message}; grant"
            " ec2:DescribeRegions (iam/auditor-policy.json has it), or name the Regions with --region"
        ) from None
    enabled = sorted(str(r["RegionName"]) for r in listed if r.get("OptInStatus") != NOT_OPTED_IN)
    partition = partition_of(region)
    known = [r for r in enabled if partition_of(r) == partition]
    if not known:  # nothing to audit is no PASS
        raise CannotLookError(
            f"--region all: ec2:DescribeRegions in {region} listed no enabled Region of partition"
            f" {partition or '(unknown)'}; name the Regions with --region"
        )
    return known, [r for r in enabled if not is_known_region(r)]


class Clients:
    """The clients of one account, created on first use (one per service and Region).

    It has the shape of ``cis_monitoring.audit.proofs.ClientFor``, so the proofs share its cache.
    """

    def __init__(self, sessions: SessionFactory, who: Access, region: str) -> None:
        self._sessions, self._who, self.region = sessions, who, region
        self._clients: dict[tuple[str, str], Any] = {}

    @property
    def emulator(self) -> str | None:
        """The endpoint every call goes to when the audit runs against an emulator (None: AWS)."""
        return self._sessions.endpoint_url

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self._sessions.client(self._who, service, key[1])
        return self._clients[key]


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])]


class Memo:
    """Answers of read calls for one chain, shared by the checks of every control (each call made once)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[Any, ...], Any] = {}

    def paginate(self, client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        wanted = (id(client), operation, key, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if wanted not in self._answers:
            self._answers[wanted] = paginate(client, operation, key, **kwargs)
        return list(self._answers[wanted])

    def call(self, client: Any, operation: str, **kwargs: Any) -> Any:
        """One call's answer (an error is not remembered: the next caller asks again)."""
        wanted = (id(client), operation, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if wanted not in self._answers:
            self._answers[wanted] = getattr(client, operation)(**kwargs)
        return self._answers[wanted]


# ---------------------------------------------------------------- a bounded pool


def in_pool(
    items: Sequence[T],
    work: Callable[[T], U],
    max_workers: int,
    done: Callable[[int, int, U], None] | None = None,
) -> list[U]:
    """``work`` on every item, results in input order; ``done(count, total, result)`` as each ends.

    On Ctrl-C (or any error that escapes ``work``) the items not started are cancelled, so the
    run stops after the calls under way instead of working through the whole queue.
    """
    if not items:
        return []
    results: dict[int, U] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items))))
    try:
        futures = {pool.submit(work, item): i for i, item in enumerate(items)}
        for count, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if done is not None:
                done(count, len(items), results[futures[future]])
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in range(len(items))]
