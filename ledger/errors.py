"""Domain exceptions. One base class; the CLI and the HTTP service each map them in one place.

An exception means the request was wrong or our own stored data is unusable. A verification
that finds tampering is *not* an exception: it is a `VerifyReport` with problems (verdicts are data).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConflictError",
    "CorruptLedgerError",
    "ForbiddenError",
    "GovledgerError",
    "InvalidInputError",
    "NotFoundError",
    "NotInitializedError",
    "PayloadTooLargeError",
    "PrivacyError",
    "PromotionBlockedError",
    "SigningKeyError",
    "StaleSigningKeyError",
]


class GovledgerError(Exception):
    """Base class of every error govledger raises on purpose."""

    code = "govledger_error"


class InvalidInputError(GovledgerError):
    """The caller's input is malformed or fails its schema; nothing was written."""

    code = "invalid_input"

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class PayloadTooLargeError(InvalidInputError):
    code = "payload_too_large"


class ForbiddenError(GovledgerError):
    """The actor may not do this (its role, or separation of duties); nothing was written."""

    code = "forbidden"


class NotFoundError(GovledgerError):
    code = "not_found"


class ConflictError(GovledgerError):
    """The request is well formed but conflicts with the ledger's state (e.g. already initialised)."""

    code = "conflict"


class PromotionBlockedError(ConflictError):
    """A promotion the active policy does not allow; `errors` lists each failing rule or missing approval.

    `refusal` is the payload of the `promotion.refused` entry that puts the refusal on the record
    (the gate builds it, knowing the policy, the evaluation and the approvals it read); the append
    path appends it in a transaction of its own once the promotion's has rolled back, and sets
    `recorded_seq` to its sequence number (`ledger.api.Ledger.append_many`)."""

    code = "promotion_blocked"
    record_kind = "promotion.refused"  # declared in ledger.lineage.kinds

    def __init__(self, message: str, errors: list[dict[str, Any]], *, refusal: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors
        self.refusal = refusal
        self.recorded_seq: int | None = None


class NotInitializedError(ConflictError):
    code = "not_initialized"


class SigningKeyError(GovledgerError):
    """The signing key is missing, malformed, or not the ledger's current key."""

    code = "signing_key"


class StaleSigningKeyError(SigningKeyError):
    """Another writer rotated the signing key; this writer must load the new one (nothing was written)."""

    code = "stale_signing_key"


class CorruptLedgerError(GovledgerError):
    """Stored data cannot be read as a ledger (a missing node, an undecodable row); run `verify`."""

    code = "corrupt_ledger"


class PrivacyError(CorruptLedgerError):
    """A sealed (encrypted) decision input cannot be opened: the ciphertext, nonce, commitment,
    decision id or subject key does not match; nothing is returned."""

    code = "sealed_input_invalid"
