"""``cis-monitoring discover``: the organization's accounts, trails and log groups, as stack config.

Read-only. From the management (or a delegated-admin) account it lists the ACTIVE accounts
and their OU paths, assumes a role into each, reads the trails each one sees (an
organization trail shows in every member as a shadow trail naming its owner) and prints the
``accounts`` and ``organizationTrail`` config in the shape of issue 10, or writes those two
keys into a stack file. What it leaves out is listed with the reason. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.exceptions

from cis_monitoring.core.aws.regions import is_known_region
from cis_monitoring.rollout.discover import entries as config
from cis_monitoring.rollout.discover.aws import DEFAULT_REGION, Aws, FatalError, Options, UsageError
from cis_monitoring.rollout.discover.model import Discovery, OrgAccount
from cis_monitoring.rollout.discover.names import unique_names
from cis_monitoring.rollout.discover.organization import list_org_accounts
from cis_monitoring.rollout.discover.plan import plan
from cis_monitoring.rollout.discover.reader import inspect_all
from cis_monitoring.rollout.discover.render import render_block, render_skipped
from cis_monitoring.rollout.discover.rewrite import Block, rewrite_stack_file

JSON_SCHEMA_VERSION = 2
_ROLE_NAME_RE = re.compile(r"^[\w+=,.@/-]{1,512}$")
EXIT_CODES = """\
exit status:
  0  discovery ran (even when accounts or trails were skipped: they are listed with the reason)
  1  AWS refused the organization listing, or the stack file cannot be read or written
  2  usage errors, missing credentials or an unreachable endpoint
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cis-monitoring discover",
        description="List the organization's accounts, their CloudTrail trails (organization trails"
        " included, seen from the owner or as a member's shadow) and log groups as cis-monitoring"
        " stack config: `accounts` and `organizationTrail` (read-only).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        help="role `pulumi up` assumes; written as roleArn where a chain is deployed (default: %(default)s)",
    )
    parser.add_argument(
        "--regions",
        nargs="+",
        metavar="REGION",
        default=[],
        help="also read trails in these Regions (multi-Region and organization trails show in every"
        " Region; this finds single-Region trails homed elsewhere, to list them as skipped)",
    )
    parser.add_argument(
        "--region",
        help=f"Region for STS, Organizations and CloudTrail calls (default: profile's or {DEFAULT_REGION})",
    )
    parser.add_argument("--endpoint-url", help="AWS API endpoint, e.g. an emulator at http://127.0.0.1:5000")
    parser.add_argument("--max-workers", type=int, default=8, help="accounts read at once (default: 8)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json", action="store_true", help="print JSON: accounts, organizationTrail, skipped, inventory"
    )
    output.add_argument(
        "--write",
        metavar="Pulumi.<stack>.yaml",
        type=Path,
        help="update that stack file's cis-monitoring:accounts and cis-monitoring:organizationTrail only",
    )
    return parser


def _options(args: argparse.Namespace, profile_region: str | None) -> Options:
    problems = []
    if args.max_workers < 1 or args.max_workers > 64:
        problems.append("--max-workers must be between 1 and 64")
    region = args.region or profile_region or DEFAULT_REGION
    bad = [r for r in [*args.regions, region] if not is_known_region(r)]
    if bad:
        problems.append(f"not a region name: {', '.join(bad)}")
    for name, value in (("--role-name", args.role_name), ("--deployer-role-name", args.deployer_role_name)):
        if not _ROLE_NAME_RE.match(value) or value.startswith("arn:"):
            problems.append(f"{name} takes a role name (optionally with a path), not {value!r}")
    endpoint = urlparse(args.endpoint_url or "http://unset")
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        problems.append(
            f"--endpoint-url takes an http(s) URL such as http://127.0.0.1:5000, not {args.endpoint_url!r}"
        )
    if args.write is not None and not re.fullmatch(r"Pulumi\.[\w.-]+\.yaml", args.write.name):
        problems.append(f"--write takes a stack file named Pulumi.<stack>.yaml, not {args.write.name!r}")
    if problems:
        raise UsageError("\n".join(problems))
    return Options(
        role_name=args.role_name,
        external_id=args.external_id,
        regions=tuple(dict.fromkeys(args.regions)),
        region=region,
        endpoint_url=args.endpoint_url,
        max_workers=args.max_workers,
    )


def _session(profile: str | None) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound as error:
        raise UsageError(str(error)) from None


class StackText:
    """A stack file's text (empty if new) and the entries of the keys discover owns; read before discovery."""

    def __init__(self, path: Path) -> None:
        import yaml

        try:
            self.text = path.read_text() if path.exists() else ""
            document = yaml.safe_load(self.text) if self.text.strip() else {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise FatalError(f"cannot read {path}: {error}") from None
        if not isinstance(document, dict):
            raise FatalError(f"{path} is not a Pulumi stack file (its top level is not a mapping)")
        found = document.get("config") or {}
        found = found if isinstance(found, dict) else {}
        accounts = found.get(config.ACCOUNTS_KEY)
        self.accounts = [e for e in accounts if isinstance(e, dict)] if isinstance(accounts, list) else []
        organization = found.get(config.ORGANIZATION_TRAIL_KEY)
        self.organization_trail = organization if isinstance(organization, dict) else None


def _write(
    path: Path,
    stack: StackText,
    discovery: Discovery,
    accounts: list[dict[str, Any]],
    organization: dict[str, Any] | None,
    err: Any,
) -> None:
    """Replace the two keys of ``path``, merged with its current entries; atomically."""
    unread = {p.account.id for p in discovery.accounts if not p.inspected}
    merged, notes = config.merge_accounts(stack.accounts, accounts, unread)
    trail, trail_notes = config.merge_organization_trail(
        stack.organization_trail, organization, discovery.organization_trail_known
    )
    for note in [*notes, *trail_notes]:
        print(f"note: {note}", file=err)
    if not merged:
        raise FatalError(f"no account to write: {path} would have an empty {config.ACCOUNTS_KEY}")
    kept = {
        p.account.id: "kept unchanged, not read this run"
        for p in discovery.accounts
        if not p.inspected and any(str(e.get("id")) == p.account.id for e in stack.accounts)
    }
    blocks = [
        Block(config.ACCOUNTS_KEY, merged, {**config.entry_comments(discovery), **kept}),
        Block(config.ORGANIZATION_TRAIL_KEY, trail, {"": config.organization_comment(discovery)}),
    ]
    new_text, kept_comments = rewrite_stack_file(stack.text, blocks)
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
    where = f" and {config.ORGANIZATION_TRAIL_KEY}" if trail else ""
    print(f"wrote {len(merged)} account(s) to {config.ACCOUNTS_KEY}{where} in {path}", file=err)


def run(argv: Sequence[str] | None = None, out: Any = None, err: Any = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse printed the usage error
        return 0 if exit_.code == 0 else 2
    try:
        session = _session(args.profile)
        options = _options(args, session.region_name)
        stack = StackText(args.write) if args.write is not None else None
        aws = Aws(session, options)
        accounts = list_org_accounts(aws)
        print(f"{len(accounts)} active account(s) in the organization; caller {aws.caller_account}", file=err)
        # Names already in the stack file stay: a new name would replace that account's resources.
        reserved = {
            str(e.get("id")): str(e.get("name")) for e in (stack.accounts if stack else []) if e.get("name")
        }
        names = unique_names([(a.id, a.name) for a in accounts], reserved)
        results = inspect_all(aws, accounts, names, lambda line: print(line, file=err, flush=True))
        discovery = plan(results, aws.caller_account)
        role_arn = f"arn:{aws.partition}:iam::{{id}}:role/{args.deployer_role_name}"
        entries = config.account_entries(discovery, names, role_arn)
        organization = config.organization_trail_entry(discovery, role_arn)
        skipped = config.skipped_rows(discovery, names)
        if stack is not None:
            _write(args.write, stack, discovery, entries, organization, err)
            err.write(render_skipped(skipped))
        elif args.json:
            json.dump(_json_document(entries, organization, skipped, accounts), out, indent=2)
            out.write("\n")
        else:
            out.write("# cis-monitoring stack config, from cis-monitoring discover (review before use)\n")
            out.write(render_block("accounts", entries, config.entry_comments(discovery)))
            if organization is not None:
                out.write(
                    render_block(
                        "organizationTrail", organization, {"": config.organization_comment(discovery)}
                    )
                )
            out.write(render_skipped(skipped))
        print(_summary(entries, organization, skipped), file=err)
        return 0
    except UsageError as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=err)
        return 2
    except FatalError as error:
        print(f"error: {error}", file=err)
        return 1


def _summary(
    entries: list[dict[str, Any]], organization: dict[str, Any] | None, skipped: list[dict[str, Any]]
) -> str:
    own = sum(1 for e in entries if "trail" in e)
    trail = (
        f"organization trail {organization['name']} of account {organization['accountId']}"
        if organization
        else "no organization trail"
    )
    left_out = sum(1 for r in skipped if not r["listed"])
    return (
        f"discovered {len(entries)} account(s) ({own} with a trail of their own), {trail};"
        f" left out {left_out} account(s), skipped {len(skipped) - left_out} trail(s)"
    )


def _json_document(
    entries: list[dict[str, Any]],
    organization: dict[str, Any] | None,
    skipped: list[dict[str, Any]],
    accounts: Sequence[OrgAccount],
) -> dict[str, Any]:
    return {
        "schemaVersion": JSON_SCHEMA_VERSION,
        "accounts": entries,
        "organizationTrail": organization,
        "skipped": skipped,
        # The organization as an inventory (the rollup's and the inventory stack's shape).
        "inventory": {
            "schemaVersion": 1,
            "accounts": [{"id": a.id, "name": a.name, "ou": a.ou} for a in accounts],
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv)
