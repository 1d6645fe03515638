"""``cis-monitoring audit --stack prod`` (see ``--help``): the audit's command line.

Per (account, Region): do its CloudTrail events reach a log group whose alarm chain is intact, for
every control the stack lists? Each chain is checked once (``cis_monitoring.audit.run``), and AWS
judges what it can (``cis_monitoring.audit.proof_run``; the drill is opt-in).

``main(argv)`` returns the run's worst ``Status``; ``cis_monitoring.cli`` maps it to the exit code
(0 every pair PASS, 1 a FAIL, 3 no FAIL but an ERROR). Before anything is audited, every flag is
checked (``UsageError``, a stack file problem ``InputError``: exit 2), then that the caller has
credentials and the first STS call connects (``CannotLookError``: exit 2, one line, instead of an
ERROR row per pair). An opt-in call AWS denied (TestMetricFilter, the drill's SetAlarmState) is a
``CannotLookError`` too, raised after the report is printed. Ctrl-C: exit 130; during ``--drill``,
with the alarms it left in ALARM (``cis_monitoring.core.errors.Interrupted``).
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ProfileNotFound

from cis_monitoring import __version__
from cis_monitoring.audit import report as audit_report
from cis_monitoring.audit import security_hub
from cis_monitoring.audit.aws import SessionFactory, can_look, enabled_regions
from cis_monitoring.audit.drill import DrillPlan, DrillSettings
from cis_monitoring.audit.findings import benchmark_help, benchmark_of, findings_of
from cis_monitoring.audit.proof_run import ProofSettings
from cis_monitoring.audit.proofs import DEFAULT_DAYS, MAX_DAYS, usage_problems
from cis_monitoring.audit.run import Progress, audit_coverage
from cis_monitoring.audit.scope import (
    EVERY_ENABLED_REGION,
    AccountFlags,
    AuditScope,
    flag_scope,
    owner_access,
    stack_scope,
)
from cis_monitoring.cli import epilog
from cis_monitoring.core.access import Access
from cis_monitoring.core.aws.regions import is_known_region
from cis_monitoring.core.catalog import (
    ALL_CONTROLS,
    CATALOG_VERSION,
    CONTROLS,
    Control,
    default_control_ids,
    select_controls,
)
from cis_monitoring.core.errors import CannotLookError, InputError, UsageError
from cis_monitoring.core.findings import Caller, Findings, Run
from cis_monitoring.core.project import PROJECT
from cis_monitoring.core.status import Status, worst
from cis_monitoring.core.topology import DEFAULT_DELIVERY_WINDOW
from cis_monitoring.report import RenderOptions, terminal
from cis_monitoring.report.asff import security_findings
from cis_monitoring.report.output import OutputRequest, add_output_arguments, announce, output_request
from cis_monitoring.report.progress import ProgressDisplay
from cis_monitoring.report.terminal import color_wanted, parse_statuses
from cis_monitoring.spec import EmulatorConfig, StackFileError, read_stack_file

PROGRESS_ABOVE = 20
"""Print progress lines to stderr for audits of more (account, Region) pairs than this."""
EMULATOR_KEY = "testing"
EMULATOR_ATTEMPTS = 2
"""An emulator answers operations it lacks with HTTP 500, which botocore would retry for ~20 s."""
DEFAULT_DRILL_TIMEOUT = 120.0
FALLBACK_REGION = "us-east-1"
"""Where STS and EC2 are asked when no Region is named anywhere (``--account X --region all``)."""
N = TypeVar("N", int, float)


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
        epilog=epilog(
            "a pair's events do not reach a log group whose chain is intact (not covered, or its chain broken)",
            "a pair or chain could not be read (a role that cannot be assumed, an AWS error after the retries)",
        ),
    )
    source = parser.add_argument_group("what to audit (give --stack, or --account with --region)")
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
        help="Region to audit (repeatable; checked against the partition's Regions); with --stack: the"
        " Regions that stand for 'all Regions' (default: every Region the stack names); 'all': every"
        " Region enabled for your account (ec2:DescribeRegions)",
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
    parser.add_argument(
        "--delivery-window",
        metavar="HOURS",
        default=f"{DEFAULT_DELIVERY_WINDOW.total_seconds() / 3600:g}",
        help="FAIL a trail whose last delivery to CloudWatch Logs (GetTrailStatus) is older than this"
        f" ({DEFAULT_DELIVERY_WINDOW.total_seconds() / 3600:g}, CIS's 'recent (~one day old)'); widen it for"
        " accounts that stay idle longer",
    )
    parser.add_argument(
        "--profile", metavar="NAME", help="AWS profile for your own credentials (default: boto3's chain)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document instead of tables")
    parser.add_argument(
        "--status",
        metavar="S[,S]",
        help="show only the pairs with these statuses on the terminal, e.g. FAIL,ERROR (default: every"
        " status; the closing line still counts every pair)",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="no colour on the terminal (NO_COLOR does the same); colour is used only when the output is a"
        " terminal",
    )
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
        choices=[*CONTROLS, ALL_CONTROLS],
        help=f"catalog control to audit (repeatable), or {ALL_CONTROLS} for every one; default: the stack's"
        " controls, or the catalog's default controls",
    )
    parser.add_argument("--benchmark", metavar="cis-aws-X.Y", help=benchmark_help())
    add_output_arguments(parser)
    parser.add_argument(
        "--security-hub",
        action="store_true",
        help="after the reports are written, import the findings (ASFF) into your own account's Security Hub"
        " (its default custom-findings product, in the Region STS was asked in; needs"
        f" {security_hub.POLICY})",
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
        raise UsageError(f"{flag}: {wants}") from None
    if not valid(value):
        raise UsageError(f"{flag}: {wants}")
    return value


def _history_days(text: str) -> int:
    wants = f"must be 1 to {MAX_DAYS} (CloudWatch keeps {MAX_DAYS} days of alarm history)"
    return _number("--history-days", text, int, lambda days: 1 <= days <= MAX_DAYS, wants)


def _delivery_window(text: str) -> timedelta:
    wants = f"must be a positive number of hours, not {text!r}"
    hours = _number("--delivery-window", text, float, lambda h: 0 < h < float("inf"), wants)
    return timedelta(hours=hours)


def _drill_timeout(text: str) -> float:
    wants = f"must be a positive number of seconds, not {text!r}"
    return _number("--drill-timeout", text, float, lambda seconds: 0 < seconds < float("inf"), wants)


@dataclass(frozen=True)
class Request:
    """What the command line asks for, every flag checked before any AWS call."""

    scope_in: Callable[[Sequence[str]], AuditScope]
    """The scope in these Regions (none with ``--stack``: the stack's own)."""
    regions: tuple[str, ...]
    every_enabled: bool
    """``--region all``: the Regions come from ``ec2:DescribeRegions``."""
    home: str | None
    """A Region to ask STS (and EC2) in: the first named on the command line or in the stack."""
    controls: list[Control]
    emulator: EmulatorConfig | None = None


def _controls(ids: Sequence[str]) -> list[Control]:
    if ALL_CONTROLS in ids and len(set(ids)) > 1:
        raise UsageError(
            f"--control: {ALL_CONTROLS!r} stands for every control; give it alone, or name the controls"
        )
    selected = select_controls(ALL_CONTROLS if ALL_CONTROLS in ids else list(dict.fromkeys(ids)))
    return [CONTROLS[c] for c in selected]


def _resolve(args: argparse.Namespace) -> Request:
    if args.stack and args.account:
        raise UsageError("give either --stack or --account, not both")
    if not args.stack and not args.account:
        raise UsageError("give --stack NAME, or --account ID --region R")
    every = EVERY_ENABLED_REGION in args.region
    if every and len(args.region) > 1:
        raise UsageError(
            f"--region: {EVERY_ENABLED_REGION!r} stands for every Region enabled for your account; give it"
            " alone, or name the Regions"
        )
    regions = () if every else tuple(args.region)
    owner = owner_access(args.owner_role_arn, args.session_name) if args.owner_role_arn else None
    if args.stack:
        manual = ("--log-group", "--role-arn", "--external-id", "--account-name", "--session-name")
        given = [flag for flag in manual if getattr(args, flag[2:].replace("-", "_"))]
        if given:
            raise UsageError(f"{', '.join(given)} go(es) with --account, not --stack")
        try:
            # A read-only audit needs no subscriber in the stack file: the one discover wrote, before
            # anyone added one, is the baseline every user audits before a change.
            stack = read_stack_file(args.stack, args.repo_root, require_subscribers=False)
        except StackFileError as error:
            raise InputError(error.lines) from None
        scope_in = partial(
            stack_scope,
            stack.config,
            role_name=args.role_name,
            owner=owner,
            members_from_organization=args.members_from_organization,
        )
        stated = scope_in(regions=regions).regions  # every flag checked here, before any AWS call
        controls = _controls(args.control or list(stack.config.controls))
        home = (regions or stated or (None,))[0]
        return Request(lambda r: scope_in(regions=r), regions, every, home, controls, stack.config.emulator)
    if not args.region:
        raise UsageError("--account needs --region (repeatable, or all)")
    if args.role_name:
        raise UsageError("--role-name goes with --stack; use --role-arn with --account")

    def account_scope(in_regions: Sequence[str]) -> AuditScope:
        flags = AccountFlags(
            args.account,
            in_regions,
            args.log_group,
            args.role_arn,
            args.external_id,
            args.session_name,
            args.account_name,
        )
        return flag_scope(flags, owner=owner, members_from_organization=args.members_from_organization)

    account_scope(regions)
    home = regions[0] if regions else None
    return Request(
        account_scope, regions, every, home, _controls(args.control or list(default_control_ids()))
    )


def _check_url(endpoint: str) -> None:
    url = urlparse(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise UsageError(f"--endpoint-url: {endpoint!r} is not an http(s) URL")


def _caller_session(profile: str | None) -> boto3.Session:
    """The caller's own credentials: ``--profile``, else boto3's default chain."""
    try:
        return boto3.Session(profile_name=profile)
    except ProfileNotFound:
        known = ", ".join(boto3.Session().available_profiles) or "none"
        raise UsageError(f"--profile: no profile {profile!r} in your AWS config (known: {known})") from None


def _sessions(
    endpoint: str | None, emulator: EmulatorConfig | None, profile: str | None = None
) -> SessionFactory:
    base = _caller_session(profile)
    if endpoint is None:
        return SessionFactory(base)
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


def _scope(request: Request, sessions: SessionFactory, caller: str, home: str) -> AuditScope:
    """The scope in the Regions asked for; ``--region all`` asks EC2 which are enabled for the caller."""
    if not request.every_enabled:
        return request.scope_in(request.regions)
    enabled, unknown = enabled_regions(sessions, caller, home)
    scope = request.scope_in(enabled)
    if not unknown:
        return scope
    note = (
        f"--region all: {', '.join(unknown)} enabled for account {caller} but unknown to this release of"
        f" {PROJECT}: not audited (upgrade, or name them once they are known)"
    )
    return replace(scope, notes=(*scope.notes, note))


def _progress(display: ProgressDisplay) -> Progress:
    return lambda step: display.step(step.phase, step.done, step.total, step.line)


def main(argv: Sequence[str] | None = None) -> Status:
    """The audit; returns the worst status of its pairs (see the module docstring for what it raises)."""
    args = build_parser().parse_args(argv)  # --help and bad syntax: SystemExit, which cis_monitoring.cli maps
    request = _resolve(args)
    benchmark = benchmark_of(args.benchmark, request.controls)
    outputs = output_request(args.format, args.output_dir)
    shown_statuses = parse_statuses(args.status) if args.status is not None else ()
    proofs = ProofSettings(not args.no_test_metric_filter, _history_days(args.history_days))
    delivery_window = _delivery_window(args.delivery_window)
    drill = _drill_plan(args)
    endpoint = args.endpoint_url or (request.emulator.endpoint if request.emulator else None)
    if endpoint:
        _check_url(endpoint)
    outputs.prepare()  # an output directory that cannot be written is found before any AWS call
    sessions = _sessions(endpoint, request.emulator, args.profile)
    configured = sessions.base.region_name
    home = request.home or (configured if configured and is_known_region(configured) else FALLBACK_REGION)
    caller = can_look(sessions, home)
    scope = _scope(request, sessions, caller, home)
    if scope.pairs == 0 and scope.organization is None:
        # Nothing checked is no PASS: a run that looked at nothing must not exit 0.
        raise InputError("nothing to audit: the stack and flags name no (account, Region) pair")
    started = _utc_now()
    # Big audits show progress: a bar on a terminal (gone when the run ends), plain lines in logs and pipes.
    big = scope.pairs > PROGRESS_ABOVE
    color = color_wanted(sys.stderr, args.no_color)
    display = ProgressDisplay(sys.stderr, bar=big and sys.stderr.isatty(), color=color)
    with display:
        report = audit_coverage(
            scope,
            sessions,
            request.controls,
            proofs=proofs,
            drill=drill,
            max_workers=args.max_workers,
            progress=_progress(display) if big else None,
            delivery_window=delivery_window,
        )
    run = Run(
        started=started,
        finished=_utc_now(),
        tool_version=__version__,
        catalog_version=CATALOG_VERSION,
        benchmark=benchmark,
        caller=_caller(sessions, home),
        endpoint=endpoint,
        command=_command(argv),
        home_region=home,
    )
    findings = findings_of(report, request.controls, run)
    if args.json:
        print(audit_report.render_json(report))
    else:
        # One line per (account, Region), each reason once (an organization trail's members point at it).
        table = RenderOptions(
            statuses=shown_statuses,
            color=color_wanted(sys.stdout, args.no_color),
            width=shutil.get_terminal_size().columns,
        )
        sys.stdout.write(audit_report.render_chains(report, table.width, shown_statuses))
        sys.stdout.write(terminal.render(findings, table))
    problems = _publish(findings, outputs, sessions if args.security_hub else None)
    denied = usage_problems(report.proofs())
    if denied:
        heading = [] if len(denied) == 1 else [f"{len(denied)} opt-in calls were denied:"]
        problems += heading + [line if not heading else f"  - {line}" for line in denied]
    if problems:
        raise CannotLookError(problems)
    # The exit code is the audit's verdict: a control the chosen benchmark version lacks is
    # NOT_APPLICABLE in the reports, but a FAIL of a control the user asked for still fails the run.
    return worst([report.status, findings.status])


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _caller(sessions: SessionFactory, home: str) -> Caller:
    """Who ran the audit (the GetCallerIdentity ``can_look`` asked: cached, not asked again)."""
    identity = sessions.caller(home)
    return Caller(str(identity["Account"]), str(identity.get("Arn", "")))


SECRET_FLAGS = ("--external-id",)
"""Flags whose value the findings' ``run.command`` does not repeat."""


def _command(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The command line as the findings record it, with ``SECRET_FLAGS``' values left out."""
    words = list(sys.argv[1:] if argv is None else argv)
    shown: list[str] = []
    for word in words:
        if shown and shown[-1] in SECRET_FLAGS:
            word = "<not recorded>"
        elif word.startswith(tuple(f"{flag}=" for flag in SECRET_FLAGS)):
            word = word.split("=", 1)[0] + "=<not recorded>"
        shown.append(word)
    return (PROJECT, "audit", *shown)


def _publish(findings: Findings, outputs: OutputRequest, sessions: SessionFactory | None) -> list[str]:
    """Write the reports asked for, then (``--security-hub``) import the findings; the problems, in words.

    The local reports come first: a refused import never loses them.
    """
    if outputs.wanted:
        try:
            written = outputs.write(findings)
        except CannotLookError as failed:
            return failed.lines  # nothing goes to Security Hub that is not on disk too
        announce(findings, written)
    if sessions is None:
        return []
    caller, region = findings.run.caller, findings.run.home_region
    assert caller is not None and region is not None
    client = sessions.client(Access(caller.account_id), "securityhub", region)
    where = f"account {caller.account_id} in {region}"
    try:
        done = security_hub.import_findings(client, security_findings(findings), where)
    except CannotLookError as refused:
        return refused.lines
    print(f"imported {done.imported} finding(s) into Security Hub in {where}", file=sys.stderr)
    return []
