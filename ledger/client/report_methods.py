"""`GovledgerClient` methods for the reports: previews, issuing, and checking an issued PDF.

Why a module of its own: reports are the one part of the API that answers documents, not JSON.
Each kind (model dossier, decision trace, adverse-action notice, bias audit, ledger attestation)
has a GET that renders a preview (nothing is written; the report says it is not issued) and a
POST ``.../issue`` that appends `report.issued` with the PDF's SHA-256 (approvers). Both return
a `Report`: the exact bytes, their content type, the PDF's SHA-256 and, once issued, the entry.

The format is asked for explicitly: a ``.pdf``/``.html`` suffix on the last path segment for a
preview (so an id that itself ends in ``.pdf`` still means that id), and the ``Accept`` header
for the attestation and for issuing. Issuing is not idempotent: a retry after a lost answer
issues a second report, so `ServiceUnavailable` from an ``issue_*`` call means "look before
trying again" (`report_issued`, or the log's ``report.issued`` entries).
"""

from __future__ import annotations

from typing import Any, Literal

from ledger.client.errors import ClientError
from ledger.client.results import Report
from ledger.client.transport import ClientBase, TimeArg, query_params, segment, utc_timestamp

__all__ = ["ReportFormat", "ReportMethods"]

ReportFormat = Literal["pdf", "html"]
_MEDIA_TYPES: dict[str, str] = {"pdf": "application/pdf", "html": "text/html"}


class ReportMethods(ClientBase):
    def _report(self, method: str, path: str, format: ReportFormat, *, suffix: bool, **params: Any) -> Report:
        """One report request; `suffix` appends ``.pdf``/``.html`` to the path (previews with an id)."""
        media_type = _MEDIA_TYPES.get(format)
        if media_type is None:
            raise ValueError(f"format must be 'pdf' or 'html', not {format!r}")
        url = f"{path}.{format}" if suffix else path
        response = self._send(method, url, params=query_params(**params), accept=media_type)
        pdf_sha256 = response.headers.get("X-Govledger-Pdf-Sha256")
        if not pdf_sha256:
            raise ClientError(
                f"{method} {url}: the answer names no PDF SHA-256", status=response.status_code, code="invalid_response"
            )
        entry = response.headers.get("X-Govledger-Entry")
        return Report(
            content=response.content,
            content_type=response.headers.get("Content-Type", media_type),
            pdf_sha256=pdf_sha256,
            entry=None if entry is None else int(entry),
        )

    # -- model compliance dossier -----------------------------------------------------------

    def dossier_report(self, name: str, version: str, *, format: ReportFormat = "pdf") -> Report:
        """A preview of the compliance dossier of a model version (approvers, auditors)."""
        return self._report("GET", f"/v1/reports/dossier/{segment(name)}/{segment(version)}", format, suffix=True)

    def issue_dossier_report(self, name: str, version: str, *, format: ReportFormat = "pdf") -> Report:
        """Issue the compliance dossier of a model version (`report.issued`; approvers)."""
        path = f"/v1/reports/dossier/{segment(name)}/{segment(version)}/issue"
        return self._report("POST", path, format, suffix=False)

    # -- decision trace report --------------------------------------------------------------

    def decision_report(self, decision_id: str, *, format: ReportFormat = "pdf") -> Report:
        """A preview of the trace report of one decision (approvers, auditors)."""
        return self._report("GET", f"/v1/reports/decisions/{segment(decision_id)}", format, suffix=True)

    def issue_decision_report(self, decision_id: str, *, format: ReportFormat = "pdf") -> Report:
        """Issue the trace report of one decision (`report.issued`; approvers)."""
        return self._report("POST", f"/v1/reports/decisions/{segment(decision_id)}/issue", format, suffix=False)

    # -- adverse-action notice --------------------------------------------------------------

    def adverse_action_notice(self, decision_id: str, *, format: ReportFormat = "pdf") -> Report:
        """A preview of the adverse-action notice of an adverse decision (approvers, auditors)."""
        return self._report("GET", f"/v1/reports/adverse-action/{segment(decision_id)}", format, suffix=True)

    def issue_adverse_action_notice(self, decision_id: str, *, format: ReportFormat = "pdf") -> Report:
        """Issue the adverse-action notice of an adverse decision (`report.issued`; approvers)."""
        path = f"/v1/reports/adverse-action/{segment(decision_id)}/issue"
        return self._report("POST", path, format, suffix=False)

    # -- bias audit -------------------------------------------------------------------------

    def bias_audit_report(
        self, name: str, version: str, *, since: TimeArg, until: TimeArg, format: ReportFormat = "pdf"
    ) -> Report:
        """A preview of the NYC LL144 bias audit of a model version over the decisions recorded
        from `since` (inclusive) to `until` (exclusive) (approvers, auditors)."""
        path = f"/v1/reports/bias-audit/{segment(name)}/{segment(version)}"
        return self._report("GET", path, format, suffix=True, since=utc_timestamp(since), until=utc_timestamp(until))

    def issue_bias_audit_report(
        self, name: str, version: str, *, since: TimeArg, until: TimeArg, format: ReportFormat = "pdf"
    ) -> Report:
        """Issue the bias audit of a model version over a period (`report.issued`; approvers)."""
        path = f"/v1/reports/bias-audit/{segment(name)}/{segment(version)}/issue"
        return self._report("POST", path, format, suffix=False, since=utc_timestamp(since), until=utc_timestamp(until))

    # -- ledger integrity attestation -------------------------------------------------------

    def attestation_report(self, *, format: ReportFormat = "pdf") -> Report:
        """A preview of the ledger's integrity attestation (approvers, auditors)."""
        return self._report("GET", "/v1/reports/attestation", format, suffix=False)

    def issue_attestation_report(self, *, format: ReportFormat = "pdf") -> Report:
        """Issue the ledger's integrity attestation (`report.issued`; approvers)."""
        return self._report("POST", "/v1/reports/attestation/issue", format, suffix=False)

    # -- checking a report ------------------------------------------------------------------

    def report_issued(self, pdf_sha256: str) -> dict[str, Any]:
        """Whether the ledger issued a PDF, by its SHA-256 (``hashlib.sha256(pdf).hexdigest()``):
        ``{"issued": True, "entry", "inclusion_proof"}``; `NotFoundError` when it did not."""
        return self._get_object(f"/v1/reports/issued/{segment(pdf_sha256.lower())}")
