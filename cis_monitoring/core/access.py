"""How to get into an account: the one type for it, used by the program's providers and the audit."""

from __future__ import annotations

from typing import NamedTuple

from cis_monitoring.core.project import PROJECT

DEFAULT_SESSION_NAME = PROJECT


class Access(NamedTuple):
    """An account, and the role (with its external id and session name) to assume there.

    ``role_arn`` None: the caller's own credentials, which must be that account's (the
    program's provider checks it with ``allowed_account_ids``, the audit with GetCallerIdentity).
    """

    account_id: str
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
