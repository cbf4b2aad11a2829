"""The report kinds: each name, its builder, and the parameters it takes."""

from __future__ import annotations

from reports.adverse_action import build_adverse_action
from reports.attestation import build_attestation
from reports.bias_audit import build_bias_audit
from reports.decision import build_decision
from reports.document import Builder
from reports.dossier import build_dossier

__all__ = ["BUILDERS"]

BUILDERS: dict[str, Builder] = {
    "dossier": build_dossier,  # name, version
    "decision": build_decision,  # decision_id
    "adverse-action": build_adverse_action,  # decision_id
    "bias-audit": build_bias_audit,  # name, version, since, until
    "attestation": build_attestation,
}
