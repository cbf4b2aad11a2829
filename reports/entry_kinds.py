"""The report kind, declared by the report package: `report.issued` (risk officers issue reports).

(`reports.kinds` holds the report *types* and their builders; this is the ledger entry kind.)
The payload model and the projection, which accepts a report only at the sequence number its PDF
names, are `ledger`'s (`ledger.lineage.policy_schemas`, `ledger.lineage.policy_projector`).
"""

from __future__ import annotations

from ledger.access.roles import Role
from ledger.kinds.spec import NOT_IN_TRACES, KindSpec
from ledger.lineage.policy_projector import project_report
from ledger.lineage.policy_schemas import ReportIssued

__all__ = ["REPORT_KINDS"]


def _report_subject(payload: ReportIssued) -> str:
    return f"report:{payload.report_kind}:{payload.subject}"


REPORT_KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        kind="report.issued",
        payload=ReportIssued,
        writers=frozenset({Role.APPROVER}),
        subject=_report_subject,
        checks=(),
        projection=project_report,
        trace_role=NOT_IN_TRACES,
    ),
)
