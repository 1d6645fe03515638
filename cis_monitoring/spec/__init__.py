"""Stack configuration: the one place that validates configuration (the public API only).

``load_config`` takes the project's config keys (without the ``cis-monitoring:``
namespace) as plain data, validates everything, and returns a ``StackConfig`` or
raises ``ConfigError`` listing every problem, one line each, with its key path.
``read_stack_file`` does the same for a ``Pulumi.<stack>.yaml`` file. ``targets`` turns a
valid config into one ``DeployTarget`` per chain site (a monitored log group), and
``coverage_plan`` into the sites and the coverage claims (``cis_monitoring.core.plan``).

Modules, one concept each, in the order they build on each other:

- ``fields``: how one field is read: the models' base (camelCase keys, typos refused) and
  the checks of single values, shared with the audit's flags;
- ``problems``: ConfigProblem, ConfigError, and pydantic's errors as key paths;
- ``notifications``: who hears an alarm: ``notifications``, ``subscriptions[]``, endpoint rules;
- ``accounts``: which accounts, and how their events reach a log group: ``accounts[]``,
  ``trail``, ``regions[]``, ``organizationTrail``;
- ``inventory``: accounts from an organization stack: the ``organization`` key and its inventory;
- ``model``: ``StackConfig``, the top-level keys;
- ``resolve``: chain sites, the settings that apply at each, subscriptions resolved, deploy targets;
- ``checks``: cross-field checks (accounts, notifications per site, tags, trail coverage);
- ``load``: the entry: ``load_config``, and ``Pulumi.<stack>.yaml`` files;
- ``docs``: the config reference (JSON Schema, README tables) generated from the models.

Why this cut: the models live in four modules, by the keys a user writes, rather than in one,
so that each model sits beside the rules it follows and every module stays under the size limit
(tests/test_architecture.py) now that each key carries its description. Their common base is in
``fields`` because every model module needs it and ``model`` needs them all. The endpoint rules
are in ``notifications`` (not ``checks``): ``resolve`` checks each endpoint after filling in its
secret, and ``checks`` uses ``resolve``'s chain sites, so the imports stay one-way.
"""

from cis_monitoring.core.project import PROJECT

from .accounts import DEFAULT_SESSION_NAME, AccountConfig, OrganizationTrailConfig, RegionConfig, TrailConfig
from .inventory import OrganizationConfig, SelectorConfig, ShardConfig
from .load import (
    StackFile,
    StackFileError,
    load_config,
    load_stack_file,
    read_project_keys,
    read_stack_file,
    validate_organization,
)
from .model import BASE_TAGS, CONTROL_TAG, DEFAULT_NAME_PREFIX, KNOWN_KEYS, EmulatorConfig, StackConfig
from .notifications import (
    QUEUE_POLICY_MODES,
    SUBSCRIPTION_PROTOCOLS,
    NotificationConfig,
    SubscriptionConfig,
    check_endpoint,
)
from .problems import ConfigError, ConfigProblem, problems_from
from .realtime import MemberForwarding
from .resolve import (
    DeployTarget,
    NotificationSettings,
    Subscription,
    coverage_plan,
    member_forwardings,
    targets,
)

__all__ = [
    "BASE_TAGS",
    "CONTROL_TAG",
    "DEFAULT_NAME_PREFIX",
    "DEFAULT_SESSION_NAME",
    "KNOWN_KEYS",
    "PROJECT",
    "QUEUE_POLICY_MODES",
    "SUBSCRIPTION_PROTOCOLS",
    "AccountConfig",
    "ConfigError",
    "ConfigProblem",
    "DeployTarget",
    "EmulatorConfig",
    "MemberForwarding",
    "NotificationConfig",
    "NotificationSettings",
    "OrganizationConfig",
    "OrganizationTrailConfig",
    "RegionConfig",
    "SelectorConfig",
    "ShardConfig",
    "StackConfig",
    "StackFile",
    "StackFileError",
    "Subscription",
    "SubscriptionConfig",
    "TrailConfig",
    "check_endpoint",
    "coverage_plan",
    "load_config",
    "load_stack_file",
    "member_forwardings",
    "problems_from",
    "read_project_keys",
    "read_stack_file",
    "targets",
    "validate_organization",
]
