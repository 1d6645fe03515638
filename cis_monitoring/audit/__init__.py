"""``cis-monitoring audit``: a read-only audit of deployed accounts, per (account, Region).

Read it in this order (each module is one concept):

- ``cli``: the command line; flags become an ``AuditScope`` (``scope``), the report is printed.
- ``scope``: which (account, Region) pairs, and how to get into each account (``core.access.Access``).
- ``run``: the run: read each pair's trails (``trails``), audit each log group's chain once
  (``audit_chain``), drill (``drill``), then the core's verdict per pair (``audit_coverage``).
- ``chain``: one chain's checks for one control, judged by the core (``core.judge``).
- ``proof_run`` and ``proofs/``: AWS as the judge of the links the checks reached (read-only).
- ``drill``: the opt-in fire drill, the audit's only write (``--drill``).
- ``results``: what a run found (pairs, chains, per-control results); ``report``: JSON and text.
- ``aws``: verified clients, AWS errors in words, the up-front credentials check, the thread pool.
"""
