"""The API-key kinds: creating and revoking a key (admin only), projected into `api_keys`."""

from __future__ import annotations

from ledger.access.api_keys import AccessKeyCreated, AccessKeyRevoked, project_key_created, project_key_revoked
from ledger.kinds.spec import NOT_IN_TRACES, KindSpec

__all__ = ["ACCESS_KINDS"]


def _key_subject(payload: AccessKeyCreated | AccessKeyRevoked) -> str:
    return f"api_key:{payload.key_id}"


ACCESS_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        kind="access.key_created",
        payload=AccessKeyCreated,
        writers=frozenset(),  # admin only
        subject=_key_subject,
        checks=(),
        projection=project_key_created,
        trace_role=NOT_IN_TRACES,
    ),
    KindSpec(
        kind="access.key_revoked",
        payload=AccessKeyRevoked,
        writers=frozenset(),
        subject=_key_subject,
        checks=(),
        projection=project_key_revoked,
        trace_role=NOT_IN_TRACES,
    ),
)
