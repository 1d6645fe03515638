"""cis_monitoring.core: the single source of truth of cis-monitoring, in pure standard-library Python.

The program (``components``), the policy pack (``policy``, which vendors this package
at build time), the audit (``cis_monitoring.audit``) and the roll-out tools (``cis_monitoring.rollout``) all judge
with these functions; none of them re-derives a verdict. Nothing here imports pulumi,
pulumi-policy, boto3 or any other third-party package (a test walks the imports).
"""
