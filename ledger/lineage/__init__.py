"""The model-governance lineage: entry kinds for datasets, training runs, models, approvals,
promotions and decisions; referential rules checked at append time; and the projections
(current-state tables) maintained in the same transaction and rebuildable from the log.

`open_governance_ledger` opens a ledger with the registry it is given: the composition root
(`govledger.registry`) passes the full one, with the policy and report kinds declared above
`ledger`. `governance_kinds` are the kinds `ledger` itself declares (core, access, lineage).
"""

from __future__ import annotations

from ledger.access.kinds import ACCESS_KINDS
from ledger.api import Ledger
from ledger.config import Settings
from ledger.kinds.core import CORE_KINDS
from ledger.kinds.registry import KindRegistry
from ledger.kinds.spec import KindSpec
from ledger.lineage.kinds import LINEAGE_KINDS
from ledger.lineage.rebuild import RebuildReport, rebuild
from ledger.storage.sequencer import CheckpointPolicy

__all__ = ["governance_kinds", "open_governance_ledger", "rebuild_projections"]


def governance_kinds() -> tuple[KindSpec, ...]:
    """The kinds `ledger` declares: the core log's, the API keys' and the lineage's."""
    return (*CORE_KINDS, *ACCESS_KINDS, *LINEAGE_KINDS)


def open_governance_ledger(
    settings: Settings, *, registry: KindRegistry, policy: CheckpointPolicy | None = None, migrate: bool = True
) -> Ledger:
    """A Ledger that appends the kinds of `registry` only, runs their checks and keeps their
    projections in step (`KindRegistry.project_batch`)."""
    return Ledger.from_settings(settings, migrate=migrate, policy=policy, registry=registry)


class _RollBackSignalError(Exception):
    """Raised to leave a check's transaction without committing anything."""


def rebuild_projections(ledger: Ledger, *, check: bool) -> RebuildReport:
    """Replay the log into the projections under the sequencer lock; with `check`, roll back and
    only report whether the current tables match what the log implies."""
    report = RebuildReport()
    try:
        with ledger.write_transaction() as conn:
            report = rebuild(conn, ledger.registry)
            if check:
                raise _RollBackSignalError
    except _RollBackSignalError:
        pass
    return report
