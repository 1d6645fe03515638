"""Test support: Pulumi mocks that create every resource of the program in the moto emulator.

Not product code, and no substitute for ``pulumi up``: it runs the real ``__main__.py``
under the harness's mocks, and for each registered resource calls the AWS API the
provider would, from exactly the inputs the program gave pulumi-aws, in the account and
region of the resource's own provider. The emulator's ids and ARNs come back as outputs.

The core is ``local.emulator_deploy.EmulatorDeployMocks`` (shared with ``make demo``,
which must not import from ``tests/``); this class mixes it into the harness's
``AwsMocks`` so ``run_program`` records every registration as in the unit tests.
"""

from __future__ import annotations

from local.emulator_deploy import Created, EmulatorDeployError, EmulatorDeployMocks, ProviderTarget
from local.program_harness import AwsMocks

__all__ = ["Created", "EmulatorAdapter", "EmulatorDeployError", "ProviderTarget"]


class EmulatorAdapter(EmulatorDeployMocks, AwsMocks):
    """``AwsMocks`` whose ``new_resource`` and ``call`` go to the emulator at ``endpoint``.

    Unknown resource types, invokes and inputs raise ``EmulatorDeployError``.
    """

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
