"""cis-monitoring: CIS AWS Foundations v3.0.0 control 4.5 on every log group a CloudTrail trail delivers to.

Wiring only: validated config (and the stacks it references) -> one chain site per
monitored log group (an account's own multi-Region trail, the organization trail in its
owner's account, or a per-Region trail) -> per site one provider, the log group looked up
by name or prefix, one alarm topic and one ControlMonitor per control -> stack outputs
(``chains``, and ``coverage`` per account and Region: cis_monitoring/program/outputs.py).

Logical names come from account id, Region and control id only; the ``legacy_name``s
alias each resource to its name in releases that used the account's name (naming.py), unless
the stack says ``legacyAliases: false``.
"""

import pulumi

from cis_monitoring.core.catalog import get_control
from cis_monitoring.program import collector, naming, sdk_cycles
from cis_monitoring.program.log_groups import find_log_groups
from cis_monitoring.program.outputs import (
    RESULTS_SCHEMA_VERSION,
    chain_key,
    chain_result,
    coverage_result,
    keyed,
    summary,
)
from cis_monitoring.program.providers import aws_provider
from cis_monitoring.program.real_time import central_bus_at, kinds, publishers
from cis_monitoring.program.stack import load_stack
from cis_monitoring.spec import member_forwardings
from components import MONITORS, MonitorArgs
from components.notification import AlarmNotification, AlarmNotificationArgs
from components.real_time import forward_members

# After the imports, before any resource: the SDK's objects live until the program ends, and CPython's
# collector spent over half of a large stack's evaluation walking them. The SDK's one source of cyclic
# garbage replaced (sdk_cycles.py), then the collector off with a memory guard (collector.py says why
# and what bounds memory instead).
sdk_cycles.apply()
collector.apply_policy()


async def main() -> dict:
    config, targets, plan = await load_stack()
    controls = [get_control(control_id) for control_id in config.controls]
    prefix = config.name_prefix
    # Aliases to the names of releases before stable ids only where such a name can still be in the state.
    legacy = config.legacy_aliases

    providers = {
        target.key: aws_provider(
            naming.provider_name(target),
            target,
            config.tags,
            config.emulator,
            legacy_name=naming.legacy_provider_name(prefix, target) if legacy else None,
        )
        for target in targets
    }
    # No chain anywhere while some site's log group is missing (and one error names them all).
    log_groups = await find_log_groups(targets, providers)

    chains = []
    chain_keys = {}
    for target in targets:
        collector.check_memory()  # this loop never yields to the event loop, where the guard's timer runs
        in_target = pulumi.ResourceOptions(providers=[providers[target.key]])
        log_group = log_groups[target.key]
        settings = target.notifications
        to_topic, to_high_risk = publishers(prefix, target, controls)
        notification = AlarmNotification(
            naming.notification_name(target),
            AlarmNotificationArgs(
                account_id=target.account_id,
                region=target.region,
                topic_name=naming.topic_name(prefix, target),
                key_alias=naming.key_alias(prefix, target),
                subscriptions=settings.subscriptions,
                existing_topic_arn=target.topic_arn(),
                kms_key_id=settings.kms_key_id,
                tags=target.tags,
                event_rule_arns=to_topic,
                central_bus=central_bus_at(target),
            ),
            in_target,
            legacy_name=naming.legacy_notification_name(prefix, target) if legacy else None,
        )
        high_risk = target.real_time.high_risk if target.real_time is not None else None
        high_risk_topic = high_risk.topic_arn if high_risk is not None else None
        if high_risk is not None and high_risk.topic_arn is None and to_high_risk:
            high_risk_topic = AlarmNotification(
                naming.high_risk_notification_name(target),
                AlarmNotificationArgs(
                    account_id=target.account_id,
                    region=target.region,
                    topic_name=naming.high_risk_topic_name(prefix, target),
                    key_alias=naming.high_risk_key_alias(prefix, target),
                    subscriptions=high_risk.subscriptions,
                    tags=target.tags,
                    event_rule_arns=to_high_risk,
                ),
                in_target,
            ).topic_arn
        ok_actions = [target.fill(arn) for arn in settings.ok_actions]
        if settings.notify_on_ok:
            ok_actions.append(notification.topic_arn)
        monitors, real_time = {}, {}
        for control in controls:
            for kind in kinds(target, control):
                own = kind == control.detector
                monitor = MONITORS[kind](
                    naming.monitor_name(target, control, kind),
                    MonitorArgs(
                        control=control,
                        target=target,
                        log_group_name=log_group,
                        name_prefix=prefix,
                        alarm_actions=[notification.topic_arn],
                        ok_actions=ok_actions,
                        insufficient_data_actions=[
                            target.fill(a) for a in settings.insufficient_data_actions
                        ],
                        high_risk_topic_arn=high_risk_topic,
                    ),
                    in_target,
                    legacy_name=naming.legacy_monitor_name(prefix, target, control)
                    if own and legacy
                    else None,
                )
                (monitors if own else real_time)[control.control_id] = monitor.result()
        key = chain_keys[target.key] = chain_key(target, log_group)
        chains.append((key, chain_result(target, log_group, notification, monitors, real_time)))

    # Members covered only by the organization trail: their own buses get their events, so their rules
    # forward to the delivery bus (README "Real-time alerts (opt-in)", members).
    members = member_forwardings(config)
    sites = {(t.account_id, t.region): providers[t.key] for t in targets}
    member_results = forward_members(
        members,
        controls,
        prefix,
        lambda member: aws_provider(
            naming.member_base(member.account_id), member, config.tags, config.emulator
        ),
        lambda account_id, region: sites.get((account_id, region)),
    )
    return {
        "resultsSchemaVersion": RESULTS_SCHEMA_VERSION,
        "chains": keyed(chains),
        "coverage": coverage_result(config, plan, targets, chain_keys),
        "summary": summary(config, plan, targets, controls),
        **({"realTimeMembers": member_results} if member_results else {}),
    }


pulumi.run(main)
