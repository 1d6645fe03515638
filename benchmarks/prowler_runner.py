"""Prowler's CIS 4.5 check, in-process, one account after another: run by Prowler's own Python, not ours.

``<prowler venv>/bin/python benchmarks/prowler_runner.py < request.json > result.json``

Prowler's pins conflict with the project's, so it lives in a venv of its own and this file imports only
the standard library and Prowler (never the project). The request names the accounts, the role to
assume in each, and the Regions; AWS_ENDPOINT_URL and the keys come from the environment (the parent
points them at the emulator).

What one account costs here is what a Prowler scan of that check costs without the interpreter's
start-up: the provider (STS AssumeRole, GetCallerIdentity), the three services the check reads, built
as Prowler's scan builds them (``Cloudtrail``, ``Logs``, ``CloudWatch``: each loads its whole
inventory in every audited Region, as ``prowler/providers/aws/services/*/*_service.py`` do), then the
check's ``execute``. The imports (Prowler's start-up) are timed apart. The check module imports its
service clients, which Prowler builds at import time from the global provider; stand-ins are put in
their place before the import, and each account's services are given to the check module (what
Prowler's own tests do with ``mock.patch``).

API calls are counted with a wrapper of botocore's ``BaseClient._make_api_call`` (one per call and
page, retries not counted).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import types
from collections import Counter
from typing import Any

CHECK = "cloudwatch_log_metric_filter_and_alarm_for_cloudtrail_configuration_changes_enabled"
SERVICES = "prowler.providers.aws.services"
CLIENT_MODULES = {
    "cloudtrail_client": f"{SERVICES}.cloudtrail.cloudtrail_client",
    "cloudwatch_client": f"{SERVICES}.cloudwatch.cloudwatch_client",
    "logs_client": f"{SERVICES}.cloudwatch.logs_client",
}


class CallCounter:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self) -> None:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation_name: str, api_params: Any) -> Any:
            service = client.meta.service_model.service_name
            with counter._lock:
                counter.counts[f"{service}:{operation_name}"] += 1
            return original(client, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def take(self) -> dict[str, int]:
        with self._lock:
            taken = dict(self.counts.most_common())
            self.counts.clear()
        return taken


def main() -> int:
    request = json.load(sys.stdin)
    started = time.perf_counter()
    counter = CallCounter()
    counter.install()
    from prowler.lib.check.models import Check_Report_AWS  # noqa: F401  (the models load the metadata)
    from prowler.providers.aws.aws_provider import AwsProvider
    from prowler.providers.aws.services.cloudtrail.cloudtrail_service import Cloudtrail
    from prowler.providers.aws.services.cloudwatch.cloudwatch_service import CloudWatch, Logs
    from prowler.providers.common.models import Audit_Metadata
    from prowler.providers.common.provider import Provider

    for name, module in CLIENT_MODULES.items():
        stand_in = types.ModuleType(module)
        setattr(stand_in, name, None)
        sys.modules[module] = stand_in
    check_module = __import__(f"{SERVICES}.cloudwatch.{CHECK}.{CHECK}", fromlist=[CHECK])
    check_class = getattr(check_module, CHECK)
    startup = time.perf_counter() - started
    regions = set(request["regions"])
    results = []
    for account in request["accounts"]:
        began = time.perf_counter()
        provider = AwsProvider(role_arn=account["role_arn"], regions=regions)
        Provider.set_global_provider(provider)
        provider.audit_metadata = Audit_Metadata(
            services_scanned=0, expected_checks=[CHECK], completed_checks=0, audit_progress=0
        )
        check_module.cloudtrail_client = Cloudtrail(provider)
        check_module.logs_client = Logs(provider)
        check_module.cloudwatch_client = CloudWatch(provider)
        findings = check_class().execute()
        seconds = time.perf_counter() - began
        results.append(
            {
                "account_id": account["account_id"],
                "seconds": seconds,
                "calls": counter.take(),
                "findings": [
                    {
                        "status": f.status,
                        "region": f.region,
                        "account_id": f.account_uid if hasattr(f, "account_uid") else None,
                        "resource_id": f.resource_id,
                        "status_extended": f.status_extended,
                    }
                    for f in findings
                ],
            }
        )
    json.dump({"startup_seconds": startup, "accounts": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
