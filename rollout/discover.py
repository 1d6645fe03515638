"""Discover an AWS organization's accounts and their CloudTrail log groups, as stack config.

Read-only. From the management (or delegated-admin) account it lists the ACTIVE
accounts and their OU paths, assumes a role into each, finds the multi-region trails
that deliver to CloudWatch Logs, and prints the ``cis-monitoring:accounts`` entries
(or writes them into a stack file). Accounts without a usable trail are listed apart.

    cis-monitoring discover [--profile P] [--role-name R] [--regions us-east-1 eu-west-1]
                                 [--json] [--write Pulumi.<stack>.yaml]

Exit status: 0 when discovery ran (even with skipped accounts); 1 when AWS refused the
organization listing or the stack file cannot be written; 2 on usage errors, missing
credentials or an unreachable endpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.exceptions
from botocore.config import Config

from cis_core.aws.regions import is_known_region
from rollout import discover_report as report
from rollout.discover_report import AccountResult, OrgAccount, RegionChoice, Skip, Trail

RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})
# The first call fails fast, so a wrong endpoint or missing credentials is said at once.
PROBE = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=15)
SESSION_NAME = "cis-monitoring-discover"
DEFAULT_REGION = "us-east-1"
_ROLE_NAME_RE = re.compile(r"^[\w+=,.@/-]{1,512}$")


class UsageError(Exception):
    """Exit 2: the command line, the credentials or the endpoint."""


class FatalError(Exception):
    """Exit 1: AWS refused the organization listing, or the stack file cannot be written."""


@dataclass(frozen=True)
class Options:
    role_name: str
    external_id: str | None
    regions: tuple[str, ...]
    region: str
    endpoint_url: str | None
    max_workers: int


# ---- AWS access ----


class Aws:
    """Clients for the caller and for each member account (through an assumed role)."""

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
            raise UsageError("no AWS credentials found; use --profile or set AWS credentials") from None
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
        ) as error:
            raise UsageError(f"cannot reach {where}: {error}") from None
        except botocore.exceptions.ClientError as error:
            raise UsageError(f"the credentials were refused by {where}: {error}") from None
        except botocore.exceptions.BotoCoreError as error:
            raise UsageError(f"cannot call {where}: {error}") from None

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


# ---- the organization ----


def list_org_accounts(aws: Aws) -> list[OrgAccount]:
    """The organization's ACTIVE accounts with their OU paths, by id."""
    org = aws.organizations()
    try:
        raw = [a for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
        roots = {r["Id"]: r["Name"] for r in org.list_roots()["Roots"]}
        paths = _OuPaths(org, roots)
        accounts = [
            OrgAccount(id=a["Id"], name=a.get("Name", a["Id"]), ou=paths.of(a["Id"]))
            for a in raw
            if (a.get("State") or a.get("Status")) == "ACTIVE"
        ]
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise FatalError(
            f"cannot list the organization's accounts ({code}): {error}. Run from the management"
            " account or a delegated administrator, with organizations:List*/Describe* permissions."
        ) from None
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as error:
        raise UsageError(f"cannot reach AWS Organizations: {error}") from None
    return sorted(accounts, key=lambda a: a.id)


class _OuPaths:
    """OU paths by walking ``list_parents`` up to the root, each OU looked up once."""

    def __init__(self, org: Any, roots: dict[str, str]) -> None:
        self.org = org
        self.names: dict[str, str] = dict(roots)
        self.parent: dict[str, str | None] = dict.fromkeys(roots)

    def _parent_of(self, child: str) -> str | None:
        if child not in self.parent:
            parents = self.org.list_parents(ChildId=child)["Parents"]
            self.parent[child] = parents[0]["Id"] if parents else None
        return self.parent[child]

    def _name_of(self, ou: str) -> str:
        if ou not in self.names:
            unit = self.org.describe_organizational_unit(OrganizationalUnitId=ou)["OrganizationalUnit"]
            self.names[ou] = unit["Name"]
        return self.names[ou]

    def of(self, account_id: str) -> str:
        parts = []
        node = self._parent_of(account_id)
        while node is not None:
            parts.append(self._name_of(node))
            node = self._parent_of(node)
        return "/".join(reversed(parts))


# ---- one account ----


def inspect_account(aws: Aws, account: OrgAccount) -> AccountResult:
    """The account's trails and the (region, log group) pairs to monitor; never raises for AWS errors."""
    result = AccountResult(account)
    step = "assuming role " + aws.role_arn(account.id)
    try:
        session = aws.session_for(account.id)
        step = "reading trails"
        trails = describe_trails(aws.client(session, "cloudtrail", aws.options.region))
        result.trails = trails
        usable = report.usable_trails(account.id, trails)
        if not usable:
            result.skips.append(report.why_unusable(account.id, trails))
            return result
        step = "checking log groups"
        regions = list(aws.options.regions) or report.default_regions(usable)
        for region in regions:
            choice, skip = _choose(aws, session, region, usable)
            if choice:
                result.regions.append(choice)
            elif skip:
                result.skips.append(skip)
        if not result.regions:  # every region skipped: one account-level reason
            result.skips = [Skip(report.LOG_GROUP_MISSING, "; ".join(s.reason for s in result.skips))]
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Error")
        message = error.response.get("Error", {}).get("Message", str(error))
        kind = report.ACCESS_DENIED if "AccessDenied" in code else report.ERROR
        result.regions = []
        result.skips = [Skip(kind, f"{code} {step}: {message}")]
    except botocore.exceptions.BotoCoreError as error:
        result.regions = []
        result.skips = [Skip(report.ERROR, f"{step}: {error}")]
    return result


def describe_trails(cloudtrail: Any) -> list[Trail]:
    """Every trail the account sees, shadow copies of multi-region trails included."""
    trails = {}
    for t in cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]:
        trails[t.get("TrailARN", t["Name"])] = Trail(
            name=t["Name"],
            home_region=t.get("HomeRegion", ""),
            multi_region=bool(t.get("IsMultiRegionTrail")),
            log_group_arn=t.get("CloudWatchLogsLogGroupArn"),
        )
    return sorted(trails.values(), key=lambda t: t.name)


def _choose(
    aws: Aws, session: boto3.Session, region: str, usable: Sequence[Trail]
) -> tuple[RegionChoice | None, Skip | None]:
    """The log group to monitor in ``region``: a usable trail's group that exists there."""
    logs = aws.client(session, "logs", region)
    missing = []
    for trail in report.candidates_for(region, usable):
        assert trail.log_group is not None
        name = trail.log_group.name
        if log_group_exists(logs, name) is not False:
            return RegionChoice(region=region, log_group=name, trail=trail.name), None
        missing.append(name)
    return None, Skip(
        report.LOG_GROUP_MISSING,
        f"log group {' / '.join(sorted(set(missing)))} not found in {region}",
        region=region,
    )


def log_group_exists(logs: Any, name: str) -> bool | None:
    """True/False, or None when the role may not look (the program checks again at preview)."""
    try:
        pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        return any(g["logGroupName"] == name for page in pages for g in page["logGroups"])
    except botocore.exceptions.ClientError as error:
        if "AccessDenied" in error.response.get("Error", {}).get("Code", ""):
            return None
        raise


def discover(
    aws: Aws, accounts: Sequence[OrgAccount], names: dict[str, str], progress: Callable[[str], None]
) -> list[AccountResult]:
    """Inspect every account, ``max_workers`` at a time; one progress line per account as it finishes."""
    results: list[AccountResult] = []
    with ThreadPoolExecutor(max_workers=aws.options.max_workers) as pool:
        futures = {pool.submit(inspect_account, aws, account): account for account in accounts}
        for done, future in enumerate(as_completed(futures), start=1):
            account = futures[future]
            try:
                result = future.result()
            except Exception as error:  # a bug or an odd response must not stop the other accounts
                result = AccountResult(
                    account, skips=[Skip(report.ERROR, f"{type(error).__name__}: {error}")]
                )
            results.append(result)
            progress(f"[{done}/{len(accounts)}] {account.id} {names[account.id]}: {_status(result)}")
    return sorted(results, key=lambda r: r.account.id)


def _status(result: AccountResult) -> str:
    if result.discovered:
        usable = {c.trail for c in result.regions}
        regions = ", ".join(c.region for c in result.regions)
        return f"{len(usable)} trail{'s' if len(usable) != 1 else ''} -> {regions}"
    return "skipped: " + "; ".join(s.reason for s in result.skips)


# ---- command line ----


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cis-monitoring discover",
        description="List the organization's accounts and their multi-region CloudTrail log groups"
        " as cis-monitoring stack config (read-only).",
    )
    parser.add_argument("--profile", help="AWS profile of the management or delegated-admin account")
    parser.add_argument(
        "--role-name",
        default="OrganizationAccountAccessRole",
        help="role (name, may include a path) to assume in each account for reading (default: %(default)s)",
    )
    parser.add_argument("--external-id", help="external id for assuming --role-name")
    parser.add_argument(
        "--deployer-role-name",
        default="cis-monitoring-deployer",
        help="role `pulumi up` assumes; written as each entry's roleArn (default: %(default)s)",
    )
    parser.add_argument(
        "--regions",
        nargs="+",
        metavar="REGION",
        default=[],
        help="regions to emit per account (default: the home region of each usable trail)",
    )
    parser.add_argument(
        "--region",
        help=f"region for STS, Organizations and CloudTrail calls (default: profile's or {DEFAULT_REGION})",
    )
    parser.add_argument("--endpoint-url", help="AWS API endpoint, e.g. an emulator at http://127.0.0.1:5000")
    parser.add_argument("--max-workers", type=int, default=8, help="accounts inspected at once (default: 8)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON: accounts, skipped, inventory")
    output.add_argument("--write", metavar="Pulumi.<stack>.yaml", type=Path, help="update that stack file")
    return parser


def _options(args: argparse.Namespace, profile_region: str | None) -> Options:
    if args.max_workers < 1 or args.max_workers > 64:
        raise UsageError("--max-workers must be between 1 and 64")
    bad = [r for r in args.regions if not is_known_region(r)]
    if bad:
        raise UsageError(f"not a region name: {', '.join(bad)}")
    for name, value in (("--role-name", args.role_name), ("--deployer-role-name", args.deployer_role_name)):
        if not _ROLE_NAME_RE.match(value) or value.startswith("arn:"):
            raise UsageError(f"{name} takes a role name (optionally with a path), not {value!r}")
    endpoint = urlparse(args.endpoint_url or "http://unset")
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        raise UsageError(
            f"--endpoint-url takes an http(s) URL such as http://127.0.0.1:5000, not {args.endpoint_url!r}"
        )
    if args.write is not None and not re.fullmatch(r"Pulumi\.[\w.-]+\.yaml", args.write.name):
        raise UsageError(f"--write takes a stack file named Pulumi.<stack>.yaml, not {args.write.name!r}")
    return Options(
        role_name=args.role_name,
        external_id=args.external_id,
        regions=tuple(dict.fromkeys(args.regions)),
        region=args.region or profile_region or DEFAULT_REGION,
        endpoint_url=args.endpoint_url,
        max_workers=args.max_workers,
    )


def _session(profile: str | None) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound as error:
        raise UsageError(str(error)) from None


def _read_stack_file(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The stack file's text (empty if new) and its current accounts entries; checked before discovery."""
    import yaml

    try:
        text = path.read_text() if path.exists() else ""
        document = yaml.safe_load(text) if text.strip() else {}
    except (OSError, yaml.YAMLError) as error:
        raise FatalError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise FatalError(f"{path} is not a Pulumi stack file (its top level is not a mapping)")
    config = document.get("config") or {}
    existing = config.get(report.ACCOUNTS_KEY) if isinstance(config, dict) else None
    return text, [e for e in existing or [] if isinstance(e, dict)] if isinstance(existing, list) else []


def _write(
    path: Path,
    text: str,
    existing: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    results: Sequence[AccountResult],
    err: Any,
) -> None:
    """Replace the accounts key of ``path``, merged with its current entries; atomically."""
    unknown = {r.account.id for r in results if any(s.kind in report.ERROR_KINDS for s in r.skips)}
    merged, notes = report.merge_entries(existing, entries, unknown)
    for note in notes:
        print(f"note: {note}", file=err)
    if not merged:
        raise FatalError(f"no account to write: {path} would have an empty {report.ACCOUNTS_KEY}")
    comments = {**report.kept_comments(results), **report.entry_comments(results)}
    new_text, kept_comments = report.rewrite_stack_file(text, report.ACCOUNTS_KEY, merged, comments)
    if not kept_comments:
        print(f"note: {path}: rewrote the whole file; its YAML comments were not preserved", file=err)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(new_text)
        Path(tmp).replace(path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise FatalError(f"cannot write {path}: {error}") from None
    print(f"wrote {len(merged)} account(s) to {report.ACCOUNTS_KEY} in {path}", file=err)


def run(argv: Sequence[str] | None = None, out: Any = None, err: Any = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse printed the usage error
        return 0 if exit_.code == 0 else 2
    try:
        session = _session(args.profile)
        options = _options(args, session.region_name)
        text, existing = _read_stack_file(args.write) if args.write is not None else ("", [])
        aws = Aws(session, options)
        accounts = list_org_accounts(aws)
        print(f"{len(accounts)} active account(s) in the organization; caller {aws.caller_account}", file=err)
        # Names already in the stack file stay: a new name would replace that account's resources.
        reserved = {str(e.get("id")): str(e.get("name")) for e in existing if e.get("name")}
        names = report.unique_names([(a.id, a.name) for a in accounts], reserved)
        results = discover(aws, accounts, names, lambda line: print(line, file=err, flush=True))
        role_arn = f"arn:{aws.partition}:iam::{{id}}:role/{args.deployer_role_name}"
        entries = report.config_entries(results, names, role_arn)
        skipped = report.skipped_rows(results, names)
        if args.write is not None:
            _write(args.write, text, existing, entries, results, err)
            err.write(report.render_skipped(skipped))
        elif args.json:
            json.dump(_json_document(entries, skipped, accounts), out, indent=2)
            out.write("\n")
        else:
            out.write("# cis-monitoring stack config, from cis-monitoring discover (review before use)\n")
            out.write(report.render_block("accounts", entries, report.entry_comments(results)))
            out.write(report.render_skipped(skipped))
        print(f"discovered {len(entries)} account(s); skipped {len(skipped)} account(s)/region(s)", file=err)
        return 0
    except UsageError as error:
        print(f"error: {error}", file=err)
        return 2
    except FatalError as error:
        print(f"error: {error}", file=err)
        return 1


def _json_document(
    entries: list[dict[str, Any]], skipped: list[dict[str, Any]], accounts: Sequence[OrgAccount]
) -> dict[str, Any]:
    return {
        "schemaVersion": 1,
        "accounts": entries,
        "skipped": skipped,
        # The organization as an inventory (the rollup's and the inventory stack's shape).
        "inventory": {
            "schemaVersion": 1,
            "accounts": [{"id": a.id, "name": a.name, "ou": a.ou} for a in accounts],
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
