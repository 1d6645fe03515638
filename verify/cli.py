"""Command line of the CIS audit: ``cis-monitoring audit --stack prod`` (see ``--help``).

Exit codes: 0 every target PASS; 1 any target FAIL or ERROR; 2 usage or config
error, or the ``--endpoint-url`` is unreachable (message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import boto3

from cis_core.catalog import CONTROLS
from components.config import EmulatorConfig
from rollout.stack_file import StackFileError, read_stack_file
from verify import report as audit_report
from verify.audit import TargetResult, audit_all
from verify.aws_session import SessionFactory
from verify.locations import AuditLocation, FlagError, flag_locations, locations_of, with_role

EXIT_PASS, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PROGRESS_ABOVE = 5
"""Print progress lines to stderr for audits of more targets than this."""
EMULATOR_KEY = "testing"


class UsageError(Exception):
    """Bad arguments or config; ``lines`` go to stderr and the exit code is 2."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cis-monitoring audit",
        description=(
            "Read-only audit of CIS AWS Foundations v3.0.0 control 4.5 in deployed accounts: trail -> event "
            "selectors -> metric filter -> alarm -> topic policy -> SNS subscription, per account and region."
        ),
        epilog="Exit codes: 0 all PASS; 1 any FAIL or ERROR; 2 usage/config error or unreachable endpoint.",
    )
    source = parser.add_argument_group("targets (give --stack, or --account with --region and --log-group)")
    source.add_argument("--stack", metavar="NAME", help="audit every target of Pulumi.NAME.yaml")
    source.add_argument(
        "--repo-root", type=Path, default=None, help="where Pulumi.NAME.yaml is (default: cwd)"
    )
    source.add_argument(
        "--role-name",
        metavar="ROLE",
        help="with --stack: assume arn:aws:iam::<account>:role/ROLE instead of each account's roleArn"
        " (e.g. a read-only role with iam/auditor-policy.json)",
    )
    source.add_argument("--account", metavar="ID", help="a single account id (12 digits)")
    source.add_argument("--region", action="append", default=[], help="region to audit (repeatable)")
    source.add_argument("--log-group", metavar="G", help="the multi-region trail's log group name")
    source.add_argument("--role-arn", metavar="ARN", help="role to assume in --account")
    source.add_argument("--external-id", metavar="X", help="external id for --role-arn")
    source.add_argument("--session-name", metavar="S", default=None, help="role session name")
    source.add_argument("--account-name", metavar="N", help="label for --account (default: the id)")
    parser.add_argument("--json", action="store_true", help="print a JSON document instead of a table")
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every AWS call here (an emulator); default: the stack's emulator.endpoint, if any",
    )
    parser.add_argument("--max-workers", type=_positive, default=8, metavar="N", help="parallel targets (8)")
    parser.add_argument("--control", choices=sorted(CONTROLS), default="4.5", help="catalog control (4.5)")
    return parser


def _flag_locations(args: argparse.Namespace) -> list[AuditLocation]:
    try:
        return flag_locations(
            account=args.account,
            regions=args.region,
            log_group=args.log_group,
            role_arn=args.role_arn,
            external_id=args.external_id,
            session_name=args.session_name,
            account_name=args.account_name,
        )
    except FlagError as error:
        lines = [f"{len(error.problems)} problem(s) in the command line:"]
        raise UsageError(lines + [f"  - {problem}" for problem in error.problems]) from None


def _resolve(args: argparse.Namespace) -> tuple[list[AuditLocation], EmulatorConfig | None]:
    manual = [
        args.region,
        args.log_group,
        args.role_arn,
        args.external_id,
        args.account_name,
        args.session_name,
    ]
    if args.stack and args.account:
        raise UsageError(["give either --stack or --account, not both"])
    if args.stack:
        if any(manual):
            raise UsageError(
                [
                    "--region, --log-group, --role-arn, --external-id, --account-name and --session-name go with --account, not --stack"
                ]
            )
        try:
            stack = read_stack_file(args.stack, args.repo_root)
        except StackFileError as error:
            raise UsageError(error.lines) from None
        found = locations_of(stack.config)
        if args.role_name:
            try:
                found = [with_role(location, args.role_name) for location in found]
            except FlagError as error:
                raise UsageError([str(problem) for problem in error.problems]) from None
        return found, stack.config.emulator
    if args.account:
        missing = [
            flag for flag, value in (("--region", args.region), ("--log-group", args.log_group)) if not value
        ]
        if missing:
            raise UsageError([f"--account needs {' and '.join(missing)}"])
        if args.role_name:
            raise UsageError(["--role-name goes with --stack; use --role-arn with --account"])
        return _flag_locations(args), None
    raise UsageError(["give --stack NAME, or --account ID --region R --log-group G"])


def _check_reachable(endpoint: str) -> None:
    url = urlparse(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise UsageError([f"--endpoint-url {endpoint!r} is not an http(s) URL"])
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=5):
            pass
    except OSError as error:
        raise UsageError([f"endpoint {endpoint} is unreachable: {error}"]) from None


def _sessions(endpoint: str | None, emulator: EmulatorConfig | None) -> SessionFactory:
    base = boto3.Session()
    if endpoint is not None and emulator is not None:
        base = boto3.Session(aws_access_key_id=emulator.access_key, aws_secret_access_key=emulator.secret_key)
    elif endpoint is not None and base.get_credentials() is None:
        # Emulators accept any key; do not make people export fake credentials.
        base = boto3.Session(aws_access_key_id=EMULATOR_KEY, aws_secret_access_key=EMULATOR_KEY)
    return SessionFactory(base, endpoint_url=endpoint)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, argparse printed it)
        return int(exit_.code) if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        found, emulator = _resolve(args)
        endpoint = args.endpoint_url or (emulator.endpoint if emulator else None)
        if endpoint:
            _check_reachable(endpoint)
    except UsageError as error:
        print(
            "\n".join(f"error: {line}" if i == 0 else line for i, line in enumerate(error.lines)),
            file=sys.stderr,
        )
        return EXIT_USAGE

    def progress(done: int, total: int, result: TargetResult) -> None:
        print(audit_report.progress_line(done, total, result), file=sys.stderr, flush=True)

    results = audit_all(
        found,
        _sessions(endpoint, emulator),
        max_workers=args.max_workers,
        progress=progress if len(found) > PROGRESS_ABOVE else None,
        control=CONTROLS[args.control],
    )
    if args.json:
        print(audit_report.render_json(results, args.control))
    else:
        sys.stdout.write(audit_report.render_text(results, args.control))
    return EXIT_PASS if all(r.status == "PASS" for r in results) else EXIT_FINDINGS


if __name__ == "__main__":
    raise SystemExit(main())
