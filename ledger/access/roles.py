"""The roles an API key can hold. A tiny module of its own so that kind declarations
(`ledger.kinds.spec.KindSpec.writers`) can name roles without importing the key machinery."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role"]


class Role(StrEnum):
    ADMIN = "admin"  # may append every kind a role may append at all
    PRODUCER = "producer"  # datasets, runs, models, decisions
    CI = "ci"  # evaluations
    APPROVER = "approver"  # risk officers: policies, approvals, promotions, retirements, reviews, reports
    AUDITOR = "auditor"  # read-only
