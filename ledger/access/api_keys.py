"""API keys: how a bearer token becomes an actor, and the projection of the key entries.

A token is ``glk_<key id>_<secret>`` with a 256-bit random secret. Only SHA-256(secret) is kept
(a slow KDF adds nothing for a uniformly random 256-bit secret), compared in constant time.
Creating or revoking a key is itself a ledger entry (`access.key_created`, `access.key_revoked`),
so the `api_keys` table is a projection like the lineage tables: rebuildable from the log, and
every write the key later makes names it as the actor (`key:<key id>`, its name). A key may also
carry the display name and organisation of the person who holds it (optional, added after the
first keys were issued: older `access.key_created` entries without them stay valid and project
as NULL); reports print them on their covers (prepared, reviewed, approved by). Which roles
may append which kind is declared with each kind (`ledger.kinds.spec.KindSpec.writers`); the key
kinds themselves are declared in `ledger.access.kinds`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field
from sqlalchemy import Connection, bindparam, insert, select, update

from ledger.access.roles import Role
from ledger.access.tables import api_keys
from ledger.errors import ConflictError, NotFoundError
from ledger.log.entry import Actor, SealedEntry
from ledger.log.kinds import Payload

if TYPE_CHECKING:
    from ledger.api import Ledger
    from ledger.storage.sequencer import Receipt

__all__ = [
    "AccessKeyCreated",
    "AccessKeyRevoked",
    "KeyProfile",
    "Principal",
    "Role",
    "StoredKey",
    "authenticate",
    "create_api_key",
    "create_key_actor",
    "key_profile",
    "load_key",
    "new_token",
    "project_key_created",
    "project_key_revoked",
    "split_token",
]


KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


_Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


class AccessKeyCreated(Payload):
    key_id: KeyId
    name: _Text
    role: Literal["admin", "producer", "ci", "approver", "auditor"]
    secret_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    display_name: _Text | None = None  # the person holding the key, as printed on a report's cover
    organisation: _Text | None = None


class AccessKeyRevoked(Payload):
    key_id: KeyId
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


_TOKEN = re.compile(r"^glk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    role: Role

    @property
    def actor(self) -> Actor:
        return Actor(f"key:{self.key_id}", self.name)


def new_token() -> tuple[str, str, str]:
    """(token shown once, key id, SHA-256 of the secret in hex)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"glk_{key_id}_{secret}", key_id, hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    ledger: Ledger,
    *,
    name: str,
    role: Role | str,
    actor: Actor,
    display_name: str | None = None,
    organisation: str | None = None,
) -> tuple[str, Receipt]:
    """Append `access.key_created` for a fresh key; returns (the token, shown once; the receipt).
    The profile members are written only when given, so a key without them has the old payload."""
    token, key_id, secret_sha256 = new_token()
    payload = {"key_id": key_id, "name": name, "role": Role(role).value, "secret_sha256": secret_sha256}
    profile = {"display_name": display_name, "organisation": organisation}
    payload.update({k: v for k, v in profile.items() if v is not None})
    receipt = ledger.append("access.key_created", payload, actor=actor)
    return token, receipt


def create_key_actor(
    ledger: Ledger,
    *,
    name: str,
    role: Role | str,
    actor: Actor,
    display_name: str | None = None,
    organisation: str | None = None,
) -> Actor:
    """Create an API key and return the actor its writes are recorded as, for in-process writers
    (the demo, benchmarks, tests) acting as that key without going through HTTP."""
    token, _ = create_api_key(
        ledger, name=name, role=role, actor=actor, display_name=display_name, organisation=organisation
    )
    key_id, _secret = split_token(token) or ("", "")
    return Principal(key_id, name, Role(role)).actor


def split_token(token: str) -> tuple[str, str] | None:
    match = _TOKEN.match(token)
    return None if match is None else (match.group(1), match.group(2))


@dataclass(frozen=True)
class StoredKey:
    """An API key's row: who it is, the hash its secret must match, whether it was revoked."""

    principal: Principal
    secret_sha256: bytes
    revoked_at: str | None

    def admits(self, secret: str) -> bool:
        """True for the right secret of an unrevoked key (constant-time comparison)."""
        digest = hashlib.sha256(secret.encode()).digest()
        return self.revoked_at is None and hmac.compare_digest(self.secret_sha256, digest)


def load_key(conn: Connection, key_id: str) -> StoredKey | None:
    """The stored key with this id, or None."""
    row = conn.execute(_KEY_BY_ID, {"key_id": key_id}).first()
    if row is None:
        return None
    return StoredKey(Principal(key_id, row.name, Role(row.role)), bytes(row.secret_sha256), row.revoked_at)


_KEY_BY_ID = select(api_keys.c.name, api_keys.c.role, api_keys.c.secret_sha256, api_keys.c.revoked_at).where(
    api_keys.c.key_id == bindparam("key_id")
)


@dataclass(frozen=True)
class KeyProfile:
    """Who holds a key, as a report's cover prints them: the person's name (the display name, else
    the key's name), their role, their organisation if recorded, and whether the key is revoked."""

    key_id: str
    name: str
    role: Role
    organisation: str | None
    revoked_at: str | None


def key_profile(conn: Connection, key_id: str) -> KeyProfile | None:
    """The profile of the key with this id, or None for an unknown key."""
    row = conn.execute(_PROFILE_BY_ID, {"key_id": key_id}).first()
    if row is None:
        return None
    return KeyProfile(key_id, row.display_name or row.name, Role(row.role), row.organisation, row.revoked_at)


_PROFILE_BY_ID = select(
    api_keys.c.name, api_keys.c.display_name, api_keys.c.organisation, api_keys.c.role, api_keys.c.revoked_at
).where(api_keys.c.key_id == bindparam("key_id"))


def authenticate(conn: Connection, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None otherwise (the caller answers 401)."""
    parts = split_token(token)
    if parts is None:
        return None
    key_id, secret = parts
    stored = load_key(conn, key_id)
    return stored.principal if stored is not None and stored.admits(secret) else None


def project_key_created(conn: Connection, entry: SealedEntry) -> None:
    data = entry.data
    if conn.execute(select(api_keys.c.key_id).where(api_keys.c.name == data["name"])).first() is not None:
        raise ConflictError(f"an API key named {data['name']!r} already exists")
    conn.execute(
        insert(api_keys).values(
            key_id=data["key_id"],
            name=data["name"],
            role=data["role"],
            secret_sha256=bytes.fromhex(data["secret_sha256"]),
            display_name=data.get("display_name"),
            organisation=data.get("organisation"),
            created_at=entry.ts,
            revoked_at=None,
        )
    )


def project_key_revoked(conn: Connection, entry: SealedEntry) -> None:
    key_id = entry.data["key_id"]
    row = conn.execute(select(api_keys.c.revoked_at).where(api_keys.c.key_id == key_id)).first()
    if row is None:
        raise NotFoundError(f"API key {key_id} does not exist")
    if row.revoked_at is not None:
        raise ConflictError(f"API key {key_id} was already revoked at {row.revoked_at}")
    conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(revoked_at=entry.ts))
