"""The full kind registry and the one way to open the governance ledger for real use.

The composition root is the only place that knows every package: `ledger` declares the core,
access and lineage kinds, `policies` the policy kinds, `reports` the report kind. A ledger
opened with a registry that lacks a kind refuses to append it, so everything that writes (the
CLI, the service, the demo, the benchmarks, the tests) opens the ledger through here.
"""

from __future__ import annotations

from ledger.api import Ledger
from ledger.config import Settings
from ledger.kinds.registry import KindRegistry
from ledger.lineage import governance_kinds, open_governance_ledger
from ledger.storage.sequencer import CheckpointPolicy

__all__ = ["full_registry", "open_ledger"]


def full_registry() -> KindRegistry:
    """Every kind govledger writes, each declared once by the package that owns it."""
    from policies.kinds import POLICY_KINDS
    from reports.entry_kinds import REPORT_KINDS

    return KindRegistry((*governance_kinds(), *POLICY_KINDS, *REPORT_KINDS))


def open_ledger(settings: Settings, *, policy: CheckpointPolicy | None = None, migrate: bool = True) -> Ledger:
    """The governance ledger of `settings`, appending every kind of `full_registry()`."""
    return open_governance_ledger(settings, registry=full_registry(), policy=policy, migrate=migrate)
