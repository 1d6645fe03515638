"""From a validated config to its chain sites: the coverage plan, and the account entry behind each site.

``coverage_plan`` hands the trail keys to ``cis_monitoring.core.plan`` (one site per monitored log
group, and the coverage claims). ``site_contexts`` pairs each site with the account entry
that gives it a name, a role and tags, and with the notification settings that apply
there: stack-wide, then the account's, then (for the organization trail's site)
``organizationTrail.notifications``, each key taken from the most specific layer that sets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cis_monitoring.core.aws.arns import BY_NAME, BY_PREFIX, LogGroupRef
from cis_monitoring.core.plan import (
    AccountSpec,
    ChainSite,
    CoveragePlan,
    OrganizationTrailSpec,
    account_sites,
    organization_site,
    plan_coverage,
    stated_trail,
)
from cis_monitoring.core.topology import TrailFacts

from .schema import AccountConfig, NotificationConfig, OrganizationTrailConfig, StackConfig
from .trails import ALL, TrailConfig

ORGANIZATION_TRAIL_KEY = "organizationTrail"


@dataclass(frozen=True)
class NotificationLayers:
    """The notification settings of one site, least specific first, each with its key path."""

    layers: tuple[tuple[str, NotificationConfig], ...]

    def effective(self) -> NotificationConfig:
        result = self.layers[0][1]
        for _path, layer in self.layers[1:]:
            overrides = {name: getattr(layer, name) for name in layer.model_fields_set}
            result = result.model_copy(update=overrides)
        return result

    def origin(self, field: str) -> str:
        """The key path of the notifications object that decides ``field`` here."""
        path = self.layers[0][0]
        for candidate, layer in self.layers[1:]:
            if field in layer.model_fields_set:
                path = candidate
        return path


@dataclass(frozen=True)
class SiteContext:
    """One chain site with the account entry it belongs to and the settings that apply there."""

    site: ChainSite
    account: AccountConfig
    index: int
    """The account's index in ``accounts`` (for key paths)."""
    layers: NotificationLayers
    organization: OrganizationTrailConfig | None = None
    """Set for the organization trail's site: its roleArn and externalId win over the account's."""

    @property
    def role_arn(self) -> str | None:
        if self.organization is not None and self.organization.role_arn is not None:
            return self.organization.role_arn
        return self.account.role_arn

    @property
    def external_id(self) -> str | None:
        if self.organization is not None and self.organization.external_id is not None:
            return self.organization.external_id
        return self.account.external_id


def stated(trail: TrailConfig, owner: str, *, organization: bool = False) -> TrailFacts:
    """A ``trail``/``organizationTrail`` key as the core's trail (its log group by name or by prefix)."""
    if trail.log_group is not None:
        group = LogGroupRef(owner, trail.home_region, trail.log_group, BY_NAME)
    else:
        assert trail.log_group_prefix is not None
        group = LogGroupRef(owner, trail.home_region, trail.log_group_prefix, BY_PREFIX)
    return stated_trail(owner, trail.home_region, group, trail.name, organization=organization)


def account_spec(account: AccountConfig) -> AccountSpec:
    covered = None if account.covered_regions == ALL else tuple(account.covered_regions)
    per_region = tuple(
        stated_trail(account.id, r.region, LogGroupRef(account.id, r.region, r.log_group), multi_region=False)
        for r in account.regions
    )
    return AccountSpec(
        account.id,
        stated(account.trail, account.id) if account.trail is not None else None,
        covered,
        per_region,
    )


def organization_spec(organization: OrganizationTrailConfig) -> OrganizationTrailSpec:
    trail = stated(organization, organization.account_id, organization=True)
    return OrganizationTrailSpec(trail, organization.members)


def coverage_plan(config: StackConfig) -> CoveragePlan:
    organization = config.organization_trail
    return plan_coverage(
        [account_spec(a) for a in config.accounts],
        organization_spec(organization) if organization is not None else None,
    )


def account_layers(stack: NotificationConfig, account: AccountConfig, index: int) -> NotificationLayers:
    layers = [("notifications", stack)]
    if account.notifications is not None:
        layers.append((f"accounts[{index}].notifications", account.notifications))
    return NotificationLayers(tuple(layers))


def site_contexts(
    stack: NotificationConfig,
    accounts: Sequence[tuple[int, AccountConfig]],
    organization: OrganizationTrailConfig | None,
) -> list[SiteContext]:
    """Every site of the accounts' own trails, then the organization trail's (when its owner is listed)."""
    contexts = [
        SiteContext(site, account, i, account_layers(stack, account, i))
        for i, account in accounts
        for site in account_sites(account_spec(account))
    ]
    if organization is not None:
        owner = next(((i, a) for i, a in accounts if a.id == organization.account_id), None)
        if owner is not None:
            i, account = owner
            layers = account_layers(stack, account, i).layers
            if organization.notifications is not None:
                layers += ((f"{ORGANIZATION_TRAIL_KEY}.notifications", organization.notifications),)
            contexts.append(
                SiteContext(
                    organization_site(organization_spec(organization)),
                    account,
                    i,
                    NotificationLayers(layers),
                    organization,
                )
            )
    return contexts


def site_regions(contexts: Iterable[SiteContext], account_id: str) -> list[str]:
    return [c.site.region for c in contexts if c.site.account_id == account_id]
