"""The core log's own kinds: entry 0, key rotations (both written by govledger itself) and notes."""

from __future__ import annotations

from ledger.kinds.registry import KindRegistry
from ledger.kinds.spec import CALLER_SUBJECT, NO_PROJECTION, NOT_IN_TRACES, SYSTEM_ONLY, KindSpec
from ledger.log.kinds import KeyRotated, LogCreated, NoteRecorded

__all__ = ["CORE_KINDS", "core_registry"]

CORE_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        kind="log.created",
        payload=LogCreated,
        writers=SYSTEM_ONLY,
        subject=CALLER_SUBJECT,
        checks=(),
        projection=NO_PROJECTION,  # the key ring is read from the log itself
        trace_role=NOT_IN_TRACES,
    ),
    KindSpec(
        kind="key.rotated",
        payload=KeyRotated,
        writers=SYSTEM_ONLY,
        subject=CALLER_SUBJECT,
        checks=(),
        projection=NO_PROJECTION,
        trace_role=NOT_IN_TRACES,
    ),
    KindSpec(
        kind="note.recorded",
        payload=NoteRecorded,
        writers=frozenset(),  # admin, or a local operator
        subject=CALLER_SUBJECT,
        checks=(),
        projection=NO_PROJECTION,
        trace_role=NOT_IN_TRACES,
    ),
)


def core_registry() -> KindRegistry:
    """A registry of the core kinds alone: a bare log, without the governance layers."""
    return KindRegistry(CORE_KINDS)
