"""Judgements: facts in, structured problems (stable codes plus a message) out.

``facts`` (what an adapter observed) -> ``coverage`` (pattern), ``metric_filter``,
``alarm``, ``notification`` and ``topic_policy`` (one link each) -> ``chain`` (the whole
chain, walked through the adapter's look-ups) -> ``problems`` (codes and messages).
``selectors`` judges a trail's event selectors. Both the policy pack and the audit
call these; neither judges by itself.
"""
