"""``cis-monitoring discover``: the organization's accounts, trails and log groups, as stack config.

Read-only. From the management (or a delegated-admin) account it lists the ACTIVE accounts,
their OU paths and tags, assumes a role into each, reads the trails each one sees (an
organization trail shows in every member as a shadow trail naming its owner) and prints the
``accounts`` and ``organizationTrail`` config in the shape of issue 10, or writes those two
keys into a stack's file (``--stack NAME --write``). ``--inventory FILE`` also writes the
organization as an account inventory (schema version 1), the document ``shards --inventory``,
the program's ``organization`` key and the rollup read. What it leaves out is listed with the
reason. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

import boto3
import botocore.exceptions
import yaml

from cis_monitoring.cli import epilog, outcome
from cis_monitoring.core.errors import InputError
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status
from cis_monitoring.flags import ALL_ENABLED, REGION_FLAG, one_error, region_problems
from cis_monitoring.rollout.command import (
    STACK_FLAG,
    Stack,
    add_stack_arguments,
    stack_file_problem,
    stacks_from,
    write_atomically,
)
from cis_monitoring.rollout.discover import entries as config
from cis_monitoring.rollout.discover.aws import DEFAULT_REGION, Aws, Options
from cis_monitoring.rollout.discover.inventory import inventory_document
from cis_monitoring.rollout.discover.model import Discovery
from cis_monitoring.rollout.discover.names import unique_names
from cis_monitoring.rollout.discover.organization import list_org_accounts
from cis_monitoring.rollout.discover.plan import plan
from cis_monitoring.rollout.discover.reader import inspect_all
from cis_monitoring.rollout.discover.render import render_block, render_skipped
from cis_monitoring.rollout.discover.rewrite import Block, rewrite_stack_file

JSON_SCHEMA_VERSION = 3
"""Of ``--json``'s document. 3: ``inventory`` is the account inventory (schema version 1) with config
names, ``awsName`` and tags; skipped rows say ``awsName`` (was ``accountName``)."""
INVENTORY_FLAG, WRITE_FLAG = "--inventory", "--write"
_ROLE_NAME_RE = re.compile(r"^[\w+=,.@/-]{1,512}$")
NOT_READ = "some accounts could not be read (a refused role, an AWS error): each is listed as skipped"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROJECT} discover",
        description="List the organization's accounts, their CloudTrail trails (organization trails"
        " included, seen from the owner or as a member's shadow) and log groups as cis-monitoring"
        " stack config: `accounts` and `organizationTrail` (read-only).",
        epilog=epilog(
            "never: discover states what it finds, it judges nothing (what it leaves out is listed with the reason)",
            f"{NOT_READ}; what was known of them is kept",
        ),
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
        REGION_FLAG,
        action="append",
        default=[],
        metavar="REGION",
        help="Region to read trails in (repeatable; the first also serves STS and Organizations), or"
        f" {ALL_ENABLED!r}: every Region enabled for each account (ec2:DescribeRegions). Multi-Region and"
        " organization trails show in every Region; more Regions find single-Region trails homed there,"
        f" to list them as skipped (default: the profile's Region, else {DEFAULT_REGION})",
    )
    parser.add_argument("--endpoint-url", help="AWS API endpoint, e.g. an emulator at http://127.0.0.1:5000")
    parser.add_argument("--max-workers", type=int, default=8, help="accounts read at once (default: 8)")
    add_stack_arguments(
        parser, help="the stack whose file --write updates (and whose account names are kept)"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json", action="store_true", help="print JSON: accounts, organizationTrail, skipped, inventory"
    )
    output.add_argument(
        WRITE_FLAG,
        action="store_true",
        help=f"update {STACK_FLAG}'s file: its cis-monitoring:accounts and cis-monitoring:organizationTrail only",
    )
    parser.add_argument(
        INVENTORY_FLAG,
        metavar="FILE",
        type=Path,
        help="also write the organization as an account inventory (schema version 1, JSON) there",
    )
    # Earlier releases took `--write Pulumi.<stack>.yaml`: catch the file to say what to write now.
    parser.add_argument("stray", nargs="*", help=argparse.SUPPRESS)
    return parser


def _problems(args: argparse.Namespace) -> tuple[Stack | None, list[str]]:
    """The stack (if any), and every problem of the command line that needs no AWS call."""
    problems = []
    if args.max_workers < 1 or args.max_workers > 64:
        problems.append("--max-workers must be between 1 and 64")
    problems += region_problems(args.region)
    for name, value in (("--role-name", args.role_name), ("--deployer-role-name", args.deployer_role_name)):
        if not _ROLE_NAME_RE.match(value) or value.startswith("arn:"):
            problems.append(f"{name} takes a role name (optionally with a path), not {value!r}")
    endpoint = urlparse(args.endpoint_url or "http://unset")
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        problems.append(
            f"--endpoint-url takes an http(s) URL such as http://127.0.0.1:5000, not {args.endpoint_url!r}"
        )
    for stray in args.stray:
        stem = Path(stray).name.removeprefix("Pulumi.").removesuffix(".yaml")
        problems.append(
            f"{stray}: unexpected; to update a stack's file, give {STACK_FLAG} {stem} {WRITE_FLAG}"
        )
    stacks, stack_problems = stacks_from([args.stack] if args.stack else [], args.repo_root)
    problems += stack_problems
    stack = stacks[0] if stacks else None
    if args.write and args.stack is None and not args.stray:
        problems.append(
            f"{WRITE_FLAG} needs {STACK_FLAG} NAME, the stack whose Pulumi.<stack>.yaml to update"
        )
    if stack is not None and not args.write and not stack_problems:
        problems += [p for p in [stack_file_problem(stack)] if p]  # only --write may create the file
    if args.inventory is not None and not args.inventory.parent.is_dir():
        problems.append(
            f"{INVENTORY_FLAG} {args.inventory}: no directory {args.inventory.parent} to write it in"
        )
    return stack, problems


def _options(args: argparse.Namespace, profile_region: str | None) -> Options:
    named = [r for r in args.region if r != ALL_ENABLED]
    return Options(
        role_name=args.role_name,
        external_id=args.external_id,
        regions=tuple(args.region),
        region=(named[0] if named else None) or profile_region or DEFAULT_REGION,
        endpoint_url=args.endpoint_url,
        max_workers=args.max_workers,
    )


DISABLE_DEFAULT_PROVIDERS_KEY = "pulumi:disable-default-providers"
DISABLE_DEFAULT_PROVIDERS_NOTE = (
    "every resource has its chain site's explicit provider; one that forgot it fails instead of"
    " using the CLI's default credentials"
)


class StackText:
    """A stack file's text (empty if new) and the entries of the keys discover owns; read before discovery."""

    def __init__(self, path: Path) -> None:
        try:
            self.text = path.read_text(encoding="utf-8") if path.exists() else ""
            document = yaml.safe_load(self.text) if self.text.strip() else {}
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: cannot be read: {error}") from None
        except yaml.YAMLError as error:
            raise InputError(f"{path}: not valid YAML: {error}") from None
        if not isinstance(document, dict):
            raise InputError(f"{path}: not a Pulumi stack file (its top level is not a mapping)")
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
    err: TextIO,
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
        raise InputError(
            f"{STACK_FLAG}: no account to write: {path} would have an empty {config.ACCOUNTS_KEY}"
        )
    kept = {
        p.account.id: "kept unchanged, not read this run"
        for p in discovery.accounts
        if not p.inspected and any(str(e.get("id")) == p.account.id for e in stack.accounts)
    }
    blocks = [
        Block(config.ACCOUNTS_KEY, merged, {**config.entry_comments(discovery), **kept}),
        Block(config.ORGANIZATION_TRAIL_KEY, trail, {"": config.organization_comment(discovery)}),
    ]
    if not stack.text.strip():
        # A new stack file starts safe: a resource that forgot its explicit provider fails instead
        # of landing in whatever account the CLI's credentials reach. An existing file is not
        # touched beyond the two keys discover owns.
        blocks.insert(0, Block(DISABLE_DEFAULT_PROVIDERS_KEY, ["aws"], {"": DISABLE_DEFAULT_PROVIDERS_NOTE}))
    new_text, kept_comments = rewrite_stack_file(stack.text, blocks)
    if not kept_comments:
        print(f"note: {path}: rewrote the whole file; its YAML comments were not preserved", file=err)
    write_atomically(path, new_text, STACK_FLAG)
    where = f" and {config.ORGANIZATION_TRAIL_KEY}" if trail else ""
    print(f"wrote {len(merged)} account(s) to {config.ACCOUNTS_KEY}{where} in {path}", file=err)


def discover(argv: Sequence[str] | None, out: TextIO, err: TextIO) -> Status:
    """The command: ERROR when some account could not be read, else PASS; raises core.errors."""
    args = _parser().parse_args(argv)
    stack_ref, problems = _problems(args)
    session = None
    try:
        session = boto3.Session(profile_name=args.profile)
    except botocore.exceptions.ProfileNotFound as error:
        problems.append(f"--profile {args.profile}: {error}")
    if problems:
        raise one_error(problems, "in the command line")
    assert session is not None
    options = _options(args, session.region_name)
    # Read before any AWS call: a file that cannot be updated stops the run before it starts.
    stack = StackText(stack_ref.path) if stack_ref is not None else None
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
    inventory = inventory_document(accounts, names, discovery)
    if args.inventory is not None:
        write_atomically(args.inventory, json.dumps(inventory, indent=2) + "\n", INVENTORY_FLAG)
        print(f"wrote the inventory of {len(accounts)} account(s) to {args.inventory}", file=err)
    if args.write:
        assert stack is not None and stack_ref is not None
        _write(stack_ref.path, stack, discovery, entries, organization, err)
        err.write(render_skipped(skipped))
    elif args.json:
        document = {
            "schemaVersion": JSON_SCHEMA_VERSION,
            "accounts": entries,
            "organizationTrail": organization,
            "skipped": skipped,
            "inventory": inventory,
        }
        json.dump(document, out, indent=2)
        out.write("\n")
    else:
        out.write("# cis-monitoring stack config, from cis-monitoring discover (review before use)\n")
        out.write(render_block("accounts", entries, config.entry_comments(discovery)))
        if organization is not None:
            out.write(
                render_block("organizationTrail", organization, {"": config.organization_comment(discovery)})
            )
        out.write(render_skipped(skipped))
    print(_summary(entries, organization, skipped), file=err)
    unread = [p.account.id for p in discovery.accounts if not p.inspected]
    if unread:
        print(f"{Status.ERROR}: {len(unread)} account(s) could not be read: {', '.join(unread)}", file=err)
        return Status.ERROR
    return Status.PASS


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


def main(argv: Sequence[str] | None = None) -> Status:
    return discover(argv, sys.stdout, sys.stderr)


def run(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``cis-monitoring discover ARGV`` with its own streams: the exit code, errors written to ``err``."""
    return outcome("discover", lambda: discover(argv, out or sys.stdout, err or sys.stderr), err)
