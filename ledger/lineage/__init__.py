"""The model-governance lineage: entry kinds for datasets, training runs, models, approvals,
promotions and decisions; referential rules checked at append time; and the projections
(current-state tables) maintained in the same transaction and rebuildable from the log.
"""

from __future__ import annotations

from ledger.access.api_keys import ACCESS_KINDS
from ledger.api import Ledger
from ledger.config import Settings
from ledger.lineage.policy_schemas import POLICY_KINDS
from ledger.lineage.projector import project_batch, subject_for
from ledger.lineage.rebuild import RebuildReport, rebuild
from ledger.lineage.schemas import register_lineage_kinds
from ledger.log.kinds import KindRegistry, core_kinds
from ledger.storage.sequencer import CheckpointPolicy

__all__ = ["governance_registry", "open_governance_ledger", "rebuild_projections"]


def governance_registry() -> KindRegistry:
    """The core kinds plus every lineage and access kind."""
    registry = register_lineage_kinds(core_kinds())
    for kind, schema in {**ACCESS_KINDS, **POLICY_KINDS}.items():
        registry.register(kind, schema)
    return registry


def open_governance_ledger(
    settings: Settings, *, policy: CheckpointPolicy | None = None, migrate: bool = True
) -> Ledger:
    """A Ledger that checks referential rules and keeps the lineage projections in step."""
    return Ledger.from_settings(
        settings,
        migrate=migrate,
        policy=policy,
        registry=governance_registry(),
        hooks=[project_batch],
        subject_rule=subject_for,
    )


class _RollBackSignalError(Exception):
    """Raised to leave a check's transaction without committing anything."""


def rebuild_projections(ledger: Ledger, *, check: bool) -> RebuildReport:
    """Replay the log into the projections under the sequencer lock; with `check`, roll back and
    only report whether the current tables match what the log implies."""
    report = RebuildReport()
    try:
        with ledger.write_transaction() as conn:
            report = rebuild(conn)
            if check:
                raise _RollBackSignalError
    except _RollBackSignalError:
        pass
    return report
