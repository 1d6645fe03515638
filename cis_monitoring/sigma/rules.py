"""One catalog control as a whole Sigma rule document, or the reason it has none.

Every field comes from the catalog entry or from this module's stated constants:

- ``id``: a UUIDv5 of the control id in ``RULE_ID_NAMESPACE``, so the same control keeps the same
  rule id in every release and a SIEM updates the rule instead of adding a second one;
- ``status: test``: Sigma's "test" is a rule that passed its tests and awaits production use
  ("stable" asks for a long period without false-positive reports, which no generator can claim);
- ``level``: the control's ``severity`` (the catalog's words are Sigma's five levels);
- ``references``: the CIS ids in every benchmark version of the entry's ``frameworks``, and the
  Security Hub control;
- ``tags``: MITRE ATT&CK only where the technique names these very events (``ATTACK``);
- ``logsource``: ``product: aws``, ``service: cloudtrail`` (SigmaHQ's taxonomy for CloudTrail);
- ``detection``: ``cis_monitoring.sigma.translate`` of the entry's ``filterPattern``, written only if
  ``cis_monitoring.sigma.check`` finds it selects what the filter selects on every sample record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cis_monitoring.core.catalog import CATALOG_VERSION, Control
from cis_monitoring.core.catalog.benchmarks import BY_KEY
from cis_monitoring.core.filter_pattern import FilterPatternError, parse

from .check import SampleCheck, check_detection
from .translate import Detection, Untranslatable, translate

RULE_ID_NAMESPACE = uuid.UUID("5f0b2c62-8c4e-5b52-9a57-0c1d3e7a4b19")
"""Chosen once at random and fixed forever: rule ids are ``uuid5(RULE_ID_NAMESPACE, "cis-monitoring/sigma/<control id>")``."""
STATUS = "test"
LOGSOURCE = {"product": "aws", "service": "cloudtrail"}
AUTHOR = "cis-monitoring (generated from the control catalog)"
CASE_NOTE = (
    "Sigma compares values case-insensitively and the CloudWatch filter case-sensitively, so this rule"
    " also matches a value that differs from the filter's only in letter case (an eventName in another"
    " case, say; CloudTrail writes eventName as the API's action name: CloudTrail record contents,"
    " docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)."
)
FALSE_POSITIVES = (
    "Legitimate activity the CIS control still asks to see (approved changes, expected sign-ins, automation"
    " with missing permissions): triage each event against your change records",
)


@dataclass(frozen=True)
class Technique:
    tags: tuple[str, ...]
    source: str


ATTACK: dict[str, Technique] = {
    "4.5": Technique(
        ("attack.defense-evasion", "attack.t1562.008"),
        # ATT&CK T1562.008 "Impair Defenses: Disable or Modify Cloud Logs" (tactic Defense Evasion):
        # its detection says "In AWS, monitor for: StopLogging and DeleteTrail", and it cites UpdateTrail
        # for tampering with a trail. SigmaHQ's rule for the same events (aws_cloudtrail_disable_logging.yml,
        # 4db60cc0-36fb-42b7-9b58-a5b53019fb74) tags the broader T1562.001.
        "https://attack.mitre.org/techniques/T1562/008/",
    ),
}
"""Control id -> ATT&CK tags, only where the technique itself names the control's events."""


@dataclass(frozen=True)
class RuleResult:
    """A control's rule (``document``) and the check it passed, or why it has none (``problem``)."""

    control: Control
    document: dict[str, object] | None
    check: SampleCheck | None
    problem: str | None = None

    @property
    def file_name(self) -> str:
        return f"cis_{self.control.control_id.replace('.', '_')}_{self.control.slug.replace('-', '_')}.yml"


def rule_id(control_id: str) -> str:
    return str(uuid.uuid5(RULE_ID_NAMESPACE, f"cis-monitoring/sigma/{control_id}"))


def build_rule(control: Control) -> RuleResult:
    """The control's rule, checked on its samples; ``problem`` says why there is none."""
    try:
        pattern = parse(control.filter_pattern)
        detection = translate(pattern)
    except (Untranslatable, FilterPatternError) as error:
        return RuleResult(control, None, None, f"its filter pattern cannot be a Sigma detection: {error}")
    check = check_detection(control, pattern, detection)
    problem = check.problem()
    if problem:
        return RuleResult(control, None, check, problem)
    return RuleResult(control, _document(control, detection), check)


def _document(control: Control, detection: Detection) -> dict[str, object]:
    technique = ATTACK.get(control.control_id)
    document: dict[str, object] = {
        "title": f"CIS AWS Foundations {control.control_id}: {control.title}",
        "id": rule_id(control.control_id),
        "status": STATUS,
        "description": (
            f"CloudTrail records the CIS {control.control_id} metric filter selects: "
            f"{control.filter_pattern} {CASE_NOTE} Generated from catalog {CATALOG_VERSION}."
        ),
        "references": _references(control, technique),
        "author": AUTHOR,
    }
    if technique:
        document["tags"] = list(technique.tags)
    document.update(
        {
            "logsource": dict(LOGSOURCE),
            "detection": detection.as_yaml_data(),
            "falsepositives": list(FALSE_POSITIVES),
            "level": control.severity,
        }
    )
    return document


def _references(control: Control, technique: Technique | None) -> list[str]:
    references: list[str] = []
    for requirement in control.frameworks:
        benchmark = BY_KEY.get(requirement.benchmark)
        name = benchmark.name if benchmark else requirement.benchmark
        line = f"{name}, {requirement.id}: {requirement.title}"
        if line not in references:
            references.append(line)
    if not references:  # an extension entry may map no benchmark versions
        references.append(f"{control.benchmark}, {control.control_id}: {control.title}")
    if control.security_hub_id:
        references.append(f"AWS Security Hub control {control.security_hub_id}")
    if technique:
        references.append(technique.source)
    return references
