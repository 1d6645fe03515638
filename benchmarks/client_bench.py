"""CPU per botocore client, the way the audit creates them (issue 18, lever 2): one per account's
credentials, for the services it reads (cloudtrail, logs, cloudwatch, sns, kms, sts).

Each variant creates ``accounts`` x 6 clients, each with credentials of its own (never shared: a
client bound to another account's credentials could read the wrong account), rounds interleaved, and
reports the median CPU (``time.process_time``) per client. No request is sent. ``--profile`` prints
where a client's CPU goes (cProfile, cumulative, boto3's ``Session.client``).

    .venv/bin/python -m benchmarks.client_bench --accounts 34 --rounds 5 [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

SERVICES = ("cloudtrail", "logs", "cloudwatch", "sns", "kms", "sts")
ENDPOINT = "http://127.0.0.1:1"  # never contacted: creating a client sends nothing
Make = Callable[[int, str], Any]


def _config(**extra: Any) -> Config:
    return Config(retries={"mode": "standard", "max_attempts": 2}, user_agent_extra="bench", **extra)


def variants() -> dict[str, Make]:
    """How a client can be created; each keeps its own credentials."""
    session = boto3.Session(aws_access_key_id="caller", aws_secret_access_key="caller")
    core = session._session  # boto3's own botocore session (what Session.client calls)
    audit, no_proxies = _config(), _config(proxies={})

    def keys(account: int) -> dict[str, str]:
        return {
            "aws_access_key_id": f"AKIA{account:016d}",
            "aws_secret_access_key": "secret",
            "aws_session_token": "token",
        }

    def boto3_client(account: int, service: str) -> Any:  # the audit's way (SessionFactory)
        return session.client(
            service, region_name="us-east-1", endpoint_url=ENDPOINT, config=audit, **keys(account)
        )

    def botocore_client(account: int, service: str) -> Any:
        return core.create_client(
            service, region_name="us-east-1", endpoint_url=ENDPOINT, config=audit, **keys(account)
        )

    def botocore_no_env_proxies(account: int, service: str) -> Any:
        return core.create_client(
            service, region_name="us-east-1", endpoint_url=ENDPOINT, config=no_proxies, **keys(account)
        )

    return {
        "boto3 Session.client": boto3_client,
        "botocore create_client": botocore_client,
        "botocore, proxies={}": botocore_no_env_proxies,
    }


def _create(make: Make, accounts: int) -> None:
    for account in range(accounts):
        for service in SERVICES:
            make(account, service)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CPU per botocore client, as the audit creates them")
    parser.add_argument("--accounts", type=int, default=34)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    made = variants()
    for make in made.values():
        _create(make, 1)  # load the service models once: the audit's session has them warm too
    per_client: dict[str, list[float]] = {name: [] for name in made}
    for round_ in range(args.rounds):
        order = list(made.items()) if round_ % 2 == 0 else list(made.items())[::-1]
        for name, make in order:
            started = time.process_time()
            _create(make, args.accounts)
            per_client[name].append((time.process_time() - started) * 1000 / (args.accounts * len(SERVICES)))
    for name, values in per_client.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:24} median {statistics.median(values):.2f} ms CPU per client ({shown})")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        _create(made["boto3 Session.client"], args.accounts)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
