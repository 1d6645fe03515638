"""Resource options that carry a resource from its logical name in an earlier release to today's.

Earlier releases built logical names from the account's name (see naming.py). An
``Alias`` with the old name (and, for a child, the old parent's URN) makes Pulumi match
the resource already in the stack's state instead of deleting it and creating a new one.
"""

from __future__ import annotations

from typing import Any

import pulumi


def own_options(opts: pulumi.ResourceOptions | None, legacy_name: str | None) -> pulumi.ResourceOptions:
    """``opts`` plus an alias to ``legacy_name`` (a top-level resource: its parent is the stack)."""
    aliases = [pulumi.Alias(name=legacy_name)] if legacy_name else None
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases))


def child_options(
    parent: pulumi.Resource,
    parent_type: str,
    legacy_parent: str | None,
    legacy_child: str | None,
    **options: Any,
) -> pulumi.ResourceOptions:
    """Options of a child of ``parent``, aliased to ``legacy_child`` under the legacy parent."""
    aliases = None
    if legacy_parent and legacy_child:
        old_parent = pulumi.create_urn(legacy_parent, parent_type)
        aliases = [pulumi.Alias(name=legacy_child, parent=old_parent)]
    return pulumi.ResourceOptions(parent=parent, aliases=aliases, **options)
