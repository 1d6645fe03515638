"""Resource options that carry a resource from its logical name in an earlier release to today's.

Earlier releases built logical names from the account's name (see naming.py). An alias to the
resource's URN in those releases makes Pulumi match the resource already in the stack's state
instead of deleting it and creating a new one.

The alias is the old URN as a plain string, formed as the engine forms URNs
(``urn:pulumi:<stack>::<project>::<qualified type>::<name>``, where a child's type is qualified by its
parent's: ``<component type>$<type>``; the earlier releases' components were top-level, as today's
are). An ``Alias(name=..., parent=...)`` names the same URN, but the SDK turns every such spec into
a chain of outputs the moment the resource is constructed (``collapse_alias_to_urn``, and
``pulumi.create_urn`` for the old parent): ~22 outputs per aliased resource, 40% of all the outputs
of a 4.5-only stack (BENCHMARKS.md). A string costs about four.
"""

from __future__ import annotations

from typing import Any

import pulumi


def legacy_urn(type_: str, name: str, parent_type: str | None = None) -> str:
    """The URN the engine gave a resource of this stack named ``name`` (child of a top-level
    component of ``parent_type``, if given)."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{qualified}::{name}"


def own_options(
    opts: pulumi.ResourceOptions | None, type_: str, legacy_name: str | None
) -> pulumi.ResourceOptions:
    """``opts`` plus an alias to ``legacy_name`` (a top-level resource: its parent is the stack)."""
    if not legacy_name:
        return opts or pulumi.ResourceOptions()
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(aliases=[legacy_urn(type_, legacy_name)])
    )


def child_options(
    parent: pulumi.Resource,
    parent_type: str,
    child_type: str,
    legacy_parent: str | None,
    legacy_child: str | None,
    **options: Any,
) -> pulumi.ResourceOptions:
    """Options of a child of ``parent``, aliased to ``legacy_child`` under the legacy parent."""
    aliases = None
    if legacy_parent and legacy_child:
        aliases = [legacy_urn(child_type, legacy_child, parent_type)]
    return pulumi.ResourceOptions(parent=parent, aliases=aliases, **options)
