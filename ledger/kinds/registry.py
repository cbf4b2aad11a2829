"""`KindRegistry`: the kinds a ledger accepts, and every question asked about a kind.

Payload validation, the subject an entry gets, who may append it, the append hook (checks, then
projection, in the append's transaction), the replay that rebuilds projections, and the trace
roles all read the `KindSpec` declarations held here. A kind is declared once: registering it
twice is refused. A ledger whose registry lacks a kind refuses to append it (fail closed) and
refuses to rebuild projections over a log that holds it; reading such entries still works.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from ledger.access.roles import Role
from ledger.errors import InvalidInputError
from ledger.kinds.spec import BUILTIN_TRACE_MEMBERS, NO_PROJECTION, NOT_IN_TRACES, SYSTEM_ONLY, KindSpec, TraceRole
from ledger.log.entry import SealedEntry
from ledger.log.kinds import Payload

__all__ = ["KindRegistry", "UnknownKindError"]

_KIND = attrgetter("kind")


class UnknownKindError(InvalidInputError):
    """An entry of a kind the registry does not declare (appending it is refused, 422 / exit 2)."""


class KindRegistry:
    """The declared kinds, by name (see the module doc)."""

    def __init__(self, specs: Iterable[KindSpec] = ()) -> None:
        self._specs: dict[str, KindSpec] = {}
        self.extend(specs)

    def register(self, spec: KindSpec) -> None:
        if not isinstance(spec, KindSpec):
            raise TypeError(f"a kind is declared with a KindSpec, not {type(spec).__name__}")
        if spec.kind in self._specs:
            raise ValueError(f"kind {spec.kind!r} is declared twice")
        if isinstance(spec.trace_role, TraceRole):
            self._check_trace_member(spec.kind, spec.trace_role)
        self._specs[spec.kind] = spec

    def extend(self, specs: Iterable[KindSpec]) -> KindRegistry:
        for spec in specs:
            self.register(spec)
        return self

    def _check_trace_member(self, kind: str, role: TraceRole) -> None:
        """A member the trace builder does not fill holds one node kind (checked offline by it)."""
        if role.member in BUILTIN_TRACE_MEMBERS:
            return
        for other in self._specs.values():
            theirs = other.trace_role
            if isinstance(theirs, TraceRole) and theirs.member == role.member and theirs.node != role.node:
                raise ValueError(f"kind {kind!r}: trace member {role.member!r} holds {theirs.node!r} nodes")

    def __contains__(self, kind: object) -> bool:
        return kind in self._specs

    def __iter__(self) -> Iterator[KindSpec]:
        return iter(sorted(self._specs.values(), key=_KIND))

    @property
    def kinds(self) -> list[str]:
        return sorted(self._specs)

    def spec(self, kind: str) -> KindSpec:
        try:
            return self._specs[kind]
        except (KeyError, TypeError):
            raise UnknownKindError(
                f"unknown kind {kind!r}",
                [{"loc": ["kind"], "msg": f"unknown kind; known: {', '.join(self.kinds)}", "type": "unknown_kind"}],
            ) from None

    def schema(self, kind: str) -> type[Payload]:
        return self.spec(kind).payload

    def validate(self, kind: str, data: Any) -> Payload:
        """Return the parsed payload, or raise InvalidInputError with field-level errors."""
        schema = self.spec(kind).payload
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            errors = [
                {"loc": ["data", *map(str, err["loc"])], "msg": err["msg"], "type": err["type"]}
                for err in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
            first = errors[0]
            where = ".".join(first["loc"])
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise InvalidInputError(
                f"invalid payload for kind {kind!r}: {where}: {first['msg']}{more}", errors
            ) from None

    # -- writers -------------------------------------------------------------------------
    def is_system_kind(self, kind: str) -> bool:
        """Written by govledger itself only (e.g. `log.created`)."""
        return self.spec(kind).writers is SYSTEM_ONLY

    def may_append(self, role: Role, kind: str) -> bool:
        """Whether a key with `role` may append `kind`; False for kinds this registry lacks."""
        spec = self._specs.get(kind)
        return spec is not None and spec.may_be_appended_by(role)

    def writer_roles(self, kind: str) -> frozenset[Role]:
        """The roles that may append `kind`, admin included (empty for system kinds)."""
        spec = self.spec(kind)
        return frozenset(role for role in Role if spec.may_be_appended_by(role))

    # -- the append hook and the replay --------------------------------------------------
    def project_batch(self, conn: Connection, batch: Sequence[SealedEntry]) -> None:
        """The append hook: for each entry, in order, its kind's checks, then its projection.
        Runs of consecutive entries of a kind with a bulk projection are checked, then projected
        at once."""
        specs = self._specs
        for kind, run in groupby(batch, key=_KIND):
            spec = specs[kind]  # drafts were validated against this registry
            checks, projection, bulk = spec.checks, spec.projection, spec.bulk_projection
            if bulk is not None:
                group = list(run)
                for check in checks:
                    for entry in group:
                        check(conn, entry, entry.payload)
                bulk(conn, group)
                continue
            for entry in run:
                for check in checks:
                    check(conn, entry, entry.payload)
                if projection is not NO_PROJECTION:
                    projection(conn, entry)

    def replay_batch(self, conn: Connection, batch: Sequence[SealedEntry]) -> None:
        """Apply entries read back from the log to the projections (checks are for appends
        only). An entry of an undeclared kind stops the replay: skipping it would leave the
        projections silently short of what the log says."""
        specs = self._specs
        for kind, run in groupby(batch, key=_KIND):
            group = list(run)
            spec = specs.get(kind)
            if spec is None:
                raise UnknownKindError(
                    f"entry {group[0].seq} is of kind {kind!r}, which this ledger's registry does not declare: "
                    "open the ledger with the registry of the software that wrote it (rebuild skips nothing)",
                    [{"loc": ["kind"], "msg": "unknown kind in the log", "type": "unknown_kind"}],
                )
            if spec.bulk_projection is not None:
                spec.bulk_projection(conn, group)
            elif spec.projection is not NO_PROJECTION:
                for entry in group:
                    spec.projection(conn, entry)

    # -- traces --------------------------------------------------------------------------
    def trace_roles(self) -> dict[str, TraceRole]:
        """kind -> its trace role, for the kinds that appear in traces."""
        return {
            spec.kind: spec.trace_role
            for spec in self._specs.values()
            if spec.trace_role is not NOT_IN_TRACES and isinstance(spec.trace_role, TraceRole)
        }

    def node_entry_kinds(self) -> dict[str, tuple[str, ...]]:
        """node kind -> the entry kinds a node of that kind can stand for."""
        found: dict[str, list[str]] = {}
        for kind, role in sorted(self.trace_roles().items()):
            found.setdefault(role.node, []).append(kind)
        return {node: tuple(kinds) for node, kinds in found.items()}

    def trace_members(self) -> dict[str, frozenset[str]]:
        """trace member -> the node kinds it holds."""
        found: dict[str, set[str]] = {}
        for role in self.trace_roles().values():
            found.setdefault(role.member, set()).add(role.node)
        return {member: frozenset(nodes) for member, nodes in found.items()}
