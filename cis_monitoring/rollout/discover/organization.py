"""The organization's ACTIVE accounts, their OU paths and tags (from the management or delegated-admin account)."""

from __future__ import annotations

from typing import Any

import botocore.exceptions

from cis_monitoring.core.errors import CannotLookError
from cis_monitoring.rollout.discover.aws import Aws
from cis_monitoring.rollout.discover.model import OrgAccount


def list_org_accounts(aws: Aws) -> list[OrgAccount]:
    """The organization's ACTIVE accounts with their OU paths and tags, by id.

    AWS refusing the listing is a ``CannotLookError``: without the accounts nothing can be discovered.
    """
    org = aws.organizations()
    try:
        raw = [a for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
        roots = {r["Id"]: r["Name"] for r in org.list_roots()["Roots"]}
        paths = OuPaths(org, roots)
        accounts = [
            OrgAccount(
                id=a["Id"], name=a.get("Name", a["Id"]), ou=paths.of(a["Id"]), tags=_tags(org, a["Id"])
            )
            for a in raw
            if (a.get("State") or a.get("Status")) == "ACTIVE"
        ]
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise CannotLookError(
            f"cannot list the organization's accounts ({code}): {error}. Run from the management"
            " account or a delegated administrator, with organizations:List*/Describe* permissions."
        ) from None
    except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as error:
        raise CannotLookError(f"cannot reach AWS Organizations: {error}") from None
    return sorted(accounts, key=lambda a: a.id)


def _tags(org: Any, account_id: str) -> dict[str, str]:
    """The account's own tags (stacks select inventory accounts by them)."""
    pages = org.get_paginator("list_tags_for_resource").paginate(ResourceId=account_id)
    return {tag["Key"]: tag["Value"] for page in pages for tag in page.get("Tags", [])}


class OuPaths:
    """OU paths by walking ``list_parents`` up to the root, each OU looked up once."""

    def __init__(self, org: Any, roots: dict[str, str]) -> None:
        self.org = org
        self.names: dict[str, str] = dict(roots)
        self.parent: dict[str, str | None] = dict.fromkeys(roots)

    def _parent_of(self, child: str) -> str | None:
        if child not in self.parent:
            parents = self.org.list_parents(ChildId=child)["Parents"]
            self.parent[child] = parents[0]["Id"] if parents else None
        return self.parent[child]

    def _name_of(self, ou: str) -> str:
        if ou not in self.names:
            unit = self.org.describe_organizational_unit(OrganizationalUnitId=ou)["OrganizationalUnit"]
            self.names[ou] = unit["Name"]
        return self.names[ou]

    def of(self, account_id: str) -> str:
        parts = []
        node = self._parent_of(account_id)
        while node is not None:
            parts.append(self._name_of(node))
            node = self._parent_of(node)
        return "/".join(reversed(parts))
