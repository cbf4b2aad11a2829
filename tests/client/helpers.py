"""Payloads for the client tests (decision requests as a scoring service sends them)."""

from __future__ import annotations

from typing import Any

from tests.lineage.factories import dataset, model, run

__all__ = ["dataset", "decision_request", "model", "run"]


def decision_request(
    decision_id: str, *, subject: str = "applicant-1", version: str = "1", adverse: bool = True
) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "ts_start": "2026-11-23T10:00:00Z",
        "ts_end": "2026-11-23T10:00:00.2Z",
        "model": {"name": "credit", "version": version},
        "subject_ref": subject,
        "input": {"income": 54321, "postcode": "EC1A 1BB"},
        "input_schema_version": "applicant-v3",
        "output": {"decision": "deny" if adverse else "approve", "score": 0.31, "adverse": adverse},
        "not_applicable": {
            item: "not recorded in this test"
            for item in (
                "request_id",
                "trace_id",
                "deployment",
                "reference_database_id",
                "explanation",
                "notice",
                "retention",
            )
        },
    }
