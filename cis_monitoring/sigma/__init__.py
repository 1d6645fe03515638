"""``cis-monitoring sigma``: each catalog control as a Sigma rule for SIEMs that read CloudTrail.

The rule is made from the same catalog entry the metric filter is (its filter pattern, parsed
by the core), never written by hand, and checked before it is written. Modules, by job:

- ``translate``: the filter-pattern tree as a Sigma detection, or why it cannot be one;
- ``matcher``: a small Sigma evaluator for the subset ``translate`` emits (pySigma converts rules
  to queries but matches nothing), so a rule can be run over sample records;
- ``check``: the rule against the control's sample records, verdict for verdict with the core's
  filter-pattern evaluator;
- ``rules``: the whole rule document (id, level, tags, references) for one control;
- ``command``: the subcommand, which writes one YAML file per control.

Nothing here needs pySigma at run time; the tests load and convert every rule with it.
"""
