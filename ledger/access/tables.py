"""Tables that live beside the log, not in it: API keys (hashed) and per-subject encryption keys.

Neither is a projection: a subject key must be destroyable (crypto-shredding), and an API key's
secret must never be in the log. What happens to them is still recorded: key creation,
revocation and subject erasure are ledger entries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, String, Table

from ledger.storage.tables import metadata

__all__ = ["api_keys", "console_sessions", "subject_keys"]

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),  # the public part of the token
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("secret_sha256", LargeBinary(32), nullable=False),  # SHA-256 of the 256-bit random secret
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("display_name", String(200), nullable=True),  # the person holding the key (optional)
    Column("organisation", String(200), nullable=True),
)

subject_keys = Table(
    "subject_keys",
    metadata,
    Column("subject_ref", String(200), primary_key=True),
    Column("key", LargeBinary(32), nullable=True),  # NULL once erased
    Column("created_at", String(32), nullable=False),
    Column("erased_at", String(32), nullable=True),
)

# Browser sessions of the web console: an API key exchanged once for a random session token, so
# the key itself never reaches the browser. Only the token's SHA-256 is stored; a row ends at its
# expiry or at sign-out (deleted). Not a ledger entry: a session writes nothing to the log, and
# what a signed-in person does is recorded under their key, as over the API.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_sha256", LargeBinary(32), primary_key=True),
    Column("key_id", String(32), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),  # Unix seconds (wall clock: sessions are not evidence)
    Column("expires_at", BigInteger, nullable=False),
)
