"""Stack configuration: the one place that validates configuration (the public API only).

``load_config`` takes the project's config keys (without the ``cis-monitoring:``
namespace) as plain data, validates everything, and returns a ``StackConfig`` or
raises ``ConfigError`` listing every problem, one line each, with its key path.
``targets`` turns a valid config into one ``DeployTarget`` per chain site (a monitored log
group), and ``coverage_plan`` into the sites and the coverage claims (``cis_monitoring.core.plan``).

Modules, one job each: ``fields`` (checks of single values, shared with the audit's
flags), ``base`` (the models' common settings), ``trails`` (trail and per-Region trail
models), ``schema`` (the other pydantic models), ``errors`` (Problem, ConfigError,
pydantic's errors as key paths), ``endpoints`` (subscription endpoints), ``checks``
(cross-field checks), ``coverage`` (cross-checks of the trail keys), ``sites`` (chain sites
and the settings that apply there), ``resolve`` (effective settings, secrets, deploy
targets), ``load`` (the entry).
"""

from cis_monitoring.core.project import PROJECT

from .checks import BASE_TAGS, CONTROL_TAG
from .endpoints import check_endpoint
from .errors import ConfigError, Problem, problems_from
from .load import load_config, validate_organization
from .resolve import DeployTarget, NotificationSettings, Subscription, targets
from .schema import (
    ALLOWED_PROTOCOLS,
    DEFAULT_NAME_PREFIX,
    DEFAULT_SESSION_NAME,
    KNOWN_KEYS,
    QUEUE_POLICY_MODES,
    AccountConfig,
    EmulatorConfig,
    NotificationConfig,
    OrganizationConfig,
    OrganizationTrailConfig,
    RegionConfig,
    SelectorConfig,
    ShardConfig,
    StackConfig,
    SubscriptionConfig,
)
from .sites import coverage_plan
from .trails import TrailConfig

__all__ = [
    "ALLOWED_PROTOCOLS",
    "BASE_TAGS",
    "CONTROL_TAG",
    "DEFAULT_NAME_PREFIX",
    "DEFAULT_SESSION_NAME",
    "KNOWN_KEYS",
    "PROJECT",
    "QUEUE_POLICY_MODES",
    "AccountConfig",
    "ConfigError",
    "DeployTarget",
    "EmulatorConfig",
    "NotificationConfig",
    "NotificationSettings",
    "OrganizationConfig",
    "OrganizationTrailConfig",
    "Problem",
    "RegionConfig",
    "SelectorConfig",
    "ShardConfig",
    "StackConfig",
    "Subscription",
    "SubscriptionConfig",
    "TrailConfig",
    "check_endpoint",
    "coverage_plan",
    "load_config",
    "problems_from",
    "targets",
    "validate_organization",
]
