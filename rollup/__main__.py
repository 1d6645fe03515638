"""cis-monitoring-rollup: one organization-wide view over every cis-monitoring stack.

Wiring only: config -> one stack reference per stack (and the inventory) -> the view
computed by rollup_view.py (and its findings, rollup_findings.py) -> stack outputs. Creates no
cloud resources.
"""

import pulumi
import rollup_findings
import rollup_view as view

config = pulumi.Config()
try:
    settings = view.parse_settings(
        config.require_object("stacks"),
        config.get_object("inventory"),
        config.get_bool("failOnDuplicates") or False,
    )
except view.RollupError as error:
    raise pulumi.RunError(str(error)) from None

references: dict[str, pulumi.StackReference] = {}


def reference(stack: str) -> pulumi.StackReference:
    # One reference per stack name: the inventory stack may also be listed in `stacks`.
    if stack not in references:
        references[stack] = pulumi.StackReference(stack)
    return references[stack]


def stack_results(stack: str) -> pulumi.Output[view.StackResults]:
    ref = reference(stack)
    outputs = [ref.get_output(name) for name in ("resultsSchemaVersion", "chains", "coverage", "summary")]
    return pulumi.Output.all(*outputs).apply(lambda values: view.StackResults(stack, *values))


inventory_raw: pulumi.Output[object] = pulumi.Output.from_input(None)
if settings.inventory is not None:
    inventory_raw = reference(settings.inventory.stack).get_output(settings.inventory.output)


def compute(args: list) -> dict:
    results, raw = args
    try:
        inventory = None
        if settings.inventory is not None:
            source = f"stack {settings.inventory.stack} output {settings.inventory.output!r}"
            inventory = view.parse_inventory(raw, source)
        result = view.build_view(results, inventory)
    except view.RollupError as error:
        raise pulumi.RunError(str(error)) from None
    # The same coverage in cis-monitoring's findings model (every finding stated, never PASS), for
    # `cis-monitoring rollup-report` to render as one HTML report of the organization.
    result["findings"] = rollup_findings.findings_document(result, rollup_findings.chains_of(results))
    message = view.duplicates_message(result)
    if message and settings.fail_on_duplicates:
        raise pulumi.RunError(message)
    if message:
        pulumi.log.warn(message)
    return result


rollup = pulumi.Output.all(pulumi.Output.all(*[stack_results(s) for s in settings.stacks]), inventory_raw)
result = rollup.apply(compute)
for key in (
    "schemaVersion",
    "coverage",
    "organizationWide",
    "byStack",
    "totals",
    "totalsByOu",
    "uncoveredAccounts",
    "outsideInventory",
    "duplicates",
    "findings",
):
    pulumi.export(key, result.apply(lambda r, key=key: r[key]))
