"""`KindSpec`: everything govledger knows about one entry kind, declared in one place.

A kind's payload model, who may write it, how its subject is formed, the checks its entries must
pass at append time, how it is projected into the current-state tables, and how its entries
appear in decision traces. Every part is required: a kind that has no projection, appears in no
trace, or is written only by govledger itself says so with a marker (`NO_PROJECTION`,
`NOT_IN_TRACES`, `SYSTEM_ONLY`, `CALLER_SUBJECT`), so that nothing is left out by forgetting it.

Why: the rules of a kind used to be spread over seven tables (schemas, writer roles, subject
rules, two projector dispatch tables, trace roles); adding a kind meant editing all of them and
hoping none was missed. Now `ledger.kinds.registry.KindRegistry` answers every one of those
questions from the declarations it holds.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection

from ledger.access.roles import Role
from ledger.log.entry import KIND_PATTERN, SealedEntry
from ledger.log.kinds import Payload

__all__ = [
    "BUILTIN_TRACE_MEMBERS",
    "CALLER_SUBJECT",
    "NOT_IN_TRACES",
    "NO_PROJECTION",
    "SYSTEM_ONLY",
    "AppendCheck",
    "BulkProjection",
    "CallerSubject",
    "KindSpec",
    "NoProjection",
    "NotInTraces",
    "Projection",
    "SubjectRule",
    "SystemOnly",
    "TraceCollector",
    "TraceItem",
    "TraceRole",
]


class NoProjection(enum.Enum):
    """The kind changes no current-state table (its entries are only in the log)."""

    NO_PROJECTION = "no projection"


class NotInTraces(enum.Enum):
    """Entries of the kind never appear in a decision trace."""

    NOT_IN_TRACES = "not in traces"


class SystemOnly(enum.Enum):
    """Only govledger itself writes the kind (no role, not even admin, may append it)."""

    SYSTEM_ONLY = "system only"


class CallerSubject(enum.Enum):
    """The kind derives no subject: the entry carries whatever subject the caller gives, or none."""

    CALLER_SUBJECT = "caller's subject"


NO_PROJECTION = NoProjection.NO_PROJECTION
NOT_IN_TRACES = NotInTraces.NOT_IN_TRACES
SYSTEM_ONLY = SystemOnly.SYSTEM_ONLY
CALLER_SUBJECT = CallerSubject.CALLER_SUBJECT

# How an entry's subject is formed from its validated payload (the model `payload` parses into).
SubjectRule = Callable[[Any], str]
# An append check: runs in the append's transaction before the entry is projected, with the
# validated payload model; refuses by raising a GovledgerError (the whole batch rolls back).
AppendCheck = Callable[[Connection, SealedEntry, Any], None]
# A projection: refuses what would make the current-state tables inconsistent with the log, and
# writes the entry's effect on them. Runs at append time and again when projections are rebuilt.
Projection = Callable[[Connection, SealedEntry], None]
# The same for a run of consecutive entries of the kind at once (for kinds written in bulk).
BulkProjection = Callable[[Connection, Sequence[SealedEntry]], None]


@dataclass(frozen=True)
class TraceItem:
    """One entry a trace collector found for a decision's trace (its node id is `<node>:<seq>`)."""

    seq: int
    ts: str
    attributes: dict[str, Any] = field(default_factory=dict)


# Finds the entries of a kind that belong to one decision's trace: (conn, decision_id, decision_seq).
TraceCollector = Callable[[Connection, str, int], list[TraceItem]]

# The members of a trace that the trace builder (`ledger.lineage.trace`) fills itself.
BUILTIN_TRACE_MEMBERS = frozenset(
    {"lineage", "evaluations", "policies", "approvals", "stage_changes", "reviews", "appeals", "erasure"}
)


@dataclass(frozen=True, kw_only=True)
class TraceRole:
    """How the entries of a kind appear in decision traces.

    `node`: the kind of node each entry becomes; `member`: the trace member holding those nodes.
    A built-in member (`BUILTIN_TRACE_MEMBERS`) is filled by the trace builder; any other member is
    filled by `collect`, and each of its nodes is joined to the decision (or, with `joins="model"`,
    to the decision's model version, for entries of the model's history) by an edge `relation`.
    """

    node: str
    member: str
    collect: TraceCollector | None = None
    relation: str | None = None
    joins: Literal["decision", "model"] = "decision"

    def __post_init__(self) -> None:
        if not self.node or not self.member:
            raise ValueError("a trace role names its node kind and its trace member")
        builtin = self.member in BUILTIN_TRACE_MEMBERS
        if builtin and (self.collect is not None or self.relation is not None):
            raise ValueError(f"trace member {self.member!r} is filled by the trace builder: no collect or relation")
        if not builtin and (self.collect is None or not self.relation):
            raise ValueError(f"trace member {self.member!r} is not built in: it needs collect and relation")
        if self.joins not in ("decision", "model") or (builtin and self.joins != "decision"):
            raise ValueError(f"trace member {self.member!r}: joins is 'decision' or, for a declared member, 'model'")


def _refuse(kind: object, what: str) -> ValueError:
    return ValueError(f"kind spec {kind!r}: {what}")


@dataclass(frozen=True, kw_only=True)
class KindSpec:
    """One entry kind, declared once (see the module doc). Every field but `bulk_projection` is
    required; the markers say "none" explicitly. Writers are the roles besides admin that may append
    the kind (an empty set: admin only), or `SYSTEM_ONLY`."""

    kind: str
    payload: type[Payload]
    writers: frozenset[Role] | SystemOnly
    subject: SubjectRule | CallerSubject
    checks: tuple[AppendCheck, ...]
    projection: Projection | NoProjection
    trace_role: TraceRole | NotInTraces
    bulk_projection: BulkProjection | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not KIND_PATTERN.match(self.kind) or len(self.kind) > 64:
            raise _refuse(self.kind, "kind must look like 'noun.verb' in lower case")
        if not (isinstance(self.payload, type) and issubclass(self.payload, Payload)):
            raise _refuse(self.kind, "payload must be a Payload model")
        if not (
            self.writers is SYSTEM_ONLY
            or (isinstance(self.writers, frozenset) and all(isinstance(r, Role) for r in self.writers))
        ):
            raise _refuse(self.kind, "writers must be a frozenset of roles, or SYSTEM_ONLY")
        if not (self.subject is CALLER_SUBJECT or callable(self.subject)):
            raise _refuse(self.kind, "subject must be a function of the payload, or CALLER_SUBJECT")
        if not (isinstance(self.checks, tuple) and all(callable(c) for c in self.checks)):
            raise _refuse(self.kind, "checks must be a tuple of functions (empty for none)")
        if not (self.projection is NO_PROJECTION or callable(self.projection)):
            raise _refuse(self.kind, "projection must be a function, or NO_PROJECTION")
        if not (self.trace_role is NOT_IN_TRACES or isinstance(self.trace_role, TraceRole)):
            raise _refuse(self.kind, "trace_role must be a TraceRole, or NOT_IN_TRACES")
        if self.bulk_projection is not None and not callable(self.bulk_projection):
            raise _refuse(self.kind, "bulk_projection must be a function, or None")
        if self.bulk_projection is not None and self.projection is NO_PROJECTION:
            raise _refuse(self.kind, "a bulk projection needs a projection of single entries too")

    def may_be_appended_by(self, role: Role) -> bool:
        """Whether a key with `role` may append the kind (admin may append every non-system kind)."""
        if self.writers is SYSTEM_ONLY:
            return False
        return role is Role.ADMIN or role in self.writers

    def subject_of(self, payload: Any) -> str | None:
        """The subject derived from the validated payload, or None when the caller's stands."""
        return None if self.subject is CALLER_SUBJECT else self.subject(payload)
