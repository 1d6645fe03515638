"""Command line of the CIS audit: ``cis-monitoring audit --stack prod`` (see ``--help``).

Per (account, Region): do its CloudTrail events reach a log group whose alarm chain is intact,
for every control the stack lists? Each chain is checked once (``cis_monitoring.audit.coverage_audit``), and
AWS judges what it can (``cis_monitoring.audit.proof_run``; the drill is opt-in).

Exit codes: 0 every pair PASS; 1 any pair FAIL or ERROR; 2 usage or config error, an
unreachable ``--endpoint-url``, or an opt-in call AWS denied (TestMetricFilter, the drill's
SetAlarmState): message on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import boto3

from cis_monitoring.audit import report as audit_report
from cis_monitoring.audit.aws_session import Identity, SessionFactory
from cis_monitoring.audit.coverage_audit import audit_coverage
from cis_monitoring.audit.drills import DrillPlan
from cis_monitoring.audit.locations import FlagError
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.proofs import DEFAULT_DAYS, MAX_DAYS, DrillSettings, usage_problems
from cis_monitoring.audit.scope import AccountFlags, AuditScope, flag_scope, owner_identity, stack_scope
from cis_monitoring.core.catalog import CONTROLS, Control, default_control_ids
from cis_monitoring.spec import EmulatorConfig
from cis_monitoring.spec.load import StackFileError, read_stack_file

EXIT_PASS, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
PROGRESS_ABOVE = 20
"""Print progress lines to stderr for audits of more (account, Region) pairs than this."""
EMULATOR_KEY = "testing"
EMULATOR_ATTEMPTS = 2
"""An emulator answers operations it lacks with HTTP 500, which botocore would retry for ~20 s."""
DEFAULT_DRILL_TIMEOUT = 120.0
N = TypeVar("N", int, float)


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
            "Read-only audit of CIS AWS Foundations v3.0.0 section 4 monitoring controls, per account and"
            " Region: do the CloudTrail events reach a log group whose chain is intact (trail -> event"
            " selectors -> metric filter -> alarm -> topic policy -> SNS subscription)? Covered directly,"
            " by an organization trail, or not covered."
        ),
        epilog=(
            "Exit codes: 0 all PASS; 1 any FAIL or ERROR; 2 usage/config error, unreachable endpoint, or an"
            " opt-in call (TestMetricFilter, --drill's SetAlarmState) denied."
        ),
    )
    source = parser.add_argument_group("targets (give --stack, or --account with --region)")
    source.add_argument("--stack", metavar="NAME", help="audit every account and Region of Pulumi.NAME.yaml")
    source.add_argument(
        "--repo-root", type=Path, default=None, help="where Pulumi.NAME.yaml is (default: cwd)"
    )
    source.add_argument(
        "--role-name",
        metavar="ROLE",
        help="with --stack: assume arn:aws:iam::<account>:role/ROLE in every account instead of its roleArn"
        " (e.g. a read-only role with iam/auditor-policy.json)",
    )
    source.add_argument("--account", metavar="ID", help="a single account id (12 digits)")
    source.add_argument(
        "--region",
        action="append",
        default=[],
        help="Region to audit (repeatable); with --stack: the Regions that stand for 'all Regions'"
        " (default: every Region the stack names)",
    )
    source.add_argument(
        "--log-group", metavar="G", help="with --account: the log group the events must reach (optional)"
    )
    source.add_argument("--role-arn", metavar="ARN", help="role to assume in --account")
    source.add_argument("--external-id", metavar="X", help="external id for --role-arn")
    source.add_argument("--session-name", metavar="S", default=None, help="role session name")
    source.add_argument("--account-name", metavar="N", help="label for --account (default: the id)")
    source.add_argument(
        "--owner-role-arn",
        metavar="ARN",
        help="role in the account that owns the log group the events reach (an organization trail's"
        " owner), to read that chain; default: the stack's organizationTrail.roleArn, or --role-name",
    )
    source.add_argument(
        "--members-from-organization",
        action="store_true",
        help="judge member accounts without a role in each: list the ACTIVE accounts with"
        " organizations:ListAccounts in the organization trail's owner account and judge each from"
        " that trail (with --account: the owner account)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document instead of tables")
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every AWS call here (an emulator); default: the stack's emulator.endpoint, if any",
    )
    parser.add_argument("--max-workers", type=_positive, default=8, metavar="N", help="parallel reads (8)")
    parser.add_argument(
        "--control",
        action="append",
        default=[],
        choices=list(CONTROLS),
        help="catalog control to audit (repeatable); default: the stack's controls, or the catalog's"
        " default controls",
    )
    proofs = parser.add_argument_group("proofs (AWS as the judge)")
    proofs.add_argument(
        "--no-test-metric-filter",
        action="store_true",
        help="do not ask AWS's matcher (logs:TestMetricFilter); the core engine's verdict still counts",
    )
    proofs.add_argument(
        "--history-days",
        metavar="N",
        default=str(DEFAULT_DAYS),
        help=f"look for failed alarm actions in the last N days, 1 to {MAX_DAYS} ({DEFAULT_DAYS})",
    )
    proofs.add_argument(
        "--drill",
        action="store_true",
        help="fire drill: set each passing chain's alarm to ALARM so its subscribers get a real"
        " notification, and wait for the action's result (needs iam/drill-policy.json)",
    )
    proofs.add_argument(
        "--drill-timeout",
        metavar="S",
        default=str(DEFAULT_DRILL_TIMEOUT),
        help=f"seconds to wait for each drill's result ({DEFAULT_DRILL_TIMEOUT:g})",
    )
    return parser


def _number(flag: str, text: str, convert: Callable[[str], N], valid: Callable[[N], bool], wants: str) -> N:
    """``text`` as a number that ``valid`` accepts, else a UsageError: ``<flag>: <wants>``."""
    try:
        value = convert(text)
    except ValueError:
        raise UsageError([f"{flag}: {wants}"]) from None
    if not valid(value):
        raise UsageError([f"{flag}: {wants}"])
    return value


def _history_days(text: str) -> int:
    wants = f"must be 1 to {MAX_DAYS} (CloudWatch keeps {MAX_DAYS} days of alarm history)"
    return _number("--history-days", text, int, lambda days: 1 <= days <= MAX_DAYS, wants)


def _drill_timeout(text: str) -> float:
    wants = f"must be a positive number of seconds, not {text!r}"
    return _number("--drill-timeout", text, float, lambda seconds: 0 < seconds < float("inf"), wants)


SINGLE_FLAG = {"--role-name", "--owner-role-arn", "--members-from-organization"}
"""Flags whose problem is one line; the location flags' problems are listed together."""


def _flag_error(error: FlagError) -> UsageError:
    if all(problem.path in SINGLE_FLAG for problem in error.problems):
        return UsageError([str(problem) for problem in error.problems])
    lines = [f"{len(error.problems)} problem(s) in the command line:"]
    return UsageError(lines + [f"  - {problem}" for problem in error.problems])


def _owner(args: argparse.Namespace) -> Identity | None:
    return owner_identity(args.owner_role_arn, args.session_name) if args.owner_role_arn else None


def _resolve(args: argparse.Namespace) -> tuple[AuditScope, list[Control], EmulatorConfig | None]:
    manual = {
        "--log-group": args.log_group,
        "--role-arn": args.role_arn,
        "--external-id": args.external_id,
        "--account-name": args.account_name,
        "--session-name": args.session_name,
    }
    if args.stack and args.account:
        raise UsageError(["give either --stack or --account, not both"])
    try:
        if args.stack:
            given = [flag for flag, value in manual.items() if value]
            if given:
                raise UsageError([f"{', '.join(given)} go(es) with --account, not --stack"])
            try:
                stack = read_stack_file(args.stack, args.repo_root)
            except StackFileError as error:
                raise UsageError(error.lines) from None
            scope = stack_scope(
                stack.config,
                role_name=args.role_name,
                owner=_owner(args),
                regions=args.region,
                members_from_organization=args.members_from_organization,
            )
            ids = args.control or list(stack.config.controls)
            return scope, [CONTROLS[c] for c in dict.fromkeys(ids)], stack.config.emulator
        if args.account:
            if not args.region:
                raise UsageError(["--account needs --region (repeatable)"])
            if args.role_name:
                raise UsageError(["--role-name goes with --stack; use --role-arn with --account"])
            flags = AccountFlags(
                args.account,
                args.region,
                args.log_group,
                args.role_arn,
                args.external_id,
                args.session_name,
                args.account_name,
            )
            scope = flag_scope(
                flags, owner=_owner(args), members_from_organization=args.members_from_organization
            )
            ids = args.control or list(default_control_ids())
            return scope, [CONTROLS[c] for c in dict.fromkeys(ids)], None
    except FlagError as error:
        raise _flag_error(error) from None
    raise UsageError(["give --stack NAME, or --account ID --region R"])


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
    if endpoint is None:
        return SessionFactory(boto3.Session())
    base = boto3.Session()
    if emulator is not None:
        base = boto3.Session(aws_access_key_id=emulator.access_key, aws_secret_access_key=emulator.secret_key)
    elif base.get_credentials() is None:
        # Emulators accept any key; do not make people export fake credentials.
        base = boto3.Session(aws_access_key_id=EMULATOR_KEY, aws_secret_access_key=EMULATOR_KEY)
    return SessionFactory(base, endpoint_url=endpoint, max_attempts=EMULATOR_ATTEMPTS)


def drill_run_id(now: datetime | None = None) -> str:
    """One id per invocation, named in every drilled alarm's state reason."""
    return f"drill-{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _drill_plan(args: argparse.Namespace) -> DrillPlan | None:
    if not args.drill:
        return None
    settings = DrillSettings(drill_run_id(), timeout_seconds=_drill_timeout(args.drill_timeout))

    def announce(alarms: Sequence[str]) -> None:
        if not alarms:
            print(f"drill {settings.run_id}: no chain passed, so no alarm is drilled", file=sys.stderr)
            return
        print(
            f"drill {settings.run_id}: {len(alarms)} alarm(s) will notify their subscribers:"
            f" {', '.join(alarms)}",
            file=sys.stderr,
            flush=True,
        )

    return DrillPlan(settings, announce)


def _usage(lines: Sequence[str]) -> int:
    print("\n".join(f"error: {line}" if i == 0 else line for i, line in enumerate(lines)), file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2, argparse printed it)
        return int(exit_.code) if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        scope, controls, emulator = _resolve(args)
        proofs = ProofSettings(not args.no_test_metric_filter, _history_days(args.history_days))
        drill = _drill_plan(args)
        endpoint = args.endpoint_url or (emulator.endpoint if emulator else None)
        if endpoint:
            _check_reachable(endpoint)
    except UsageError as error:
        return _usage(error.lines)

    pairs = sum(len(a.regions) for a in scope.accounts)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = audit_coverage(
        scope,
        _sessions(endpoint, emulator),
        controls,
        proofs=proofs,
        drill=drill,
        max_workers=args.max_workers,
        progress=progress if pairs > PROGRESS_ABOVE else None,
    )
    if args.json:
        print(audit_report.render_json(report))
    else:
        sys.stdout.write(audit_report.render_text(report))
    denied = usage_problems(report.proofs())
    if denied:
        for line in denied:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_PASS if report.ok else EXIT_FINDINGS


if __name__ == "__main__":
    raise SystemExit(main())
