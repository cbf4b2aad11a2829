"""The people a report's cover names, read from the ledger's actors, never typed by hand.

Why one module: every report kind prints "Prepared by / Reviewed by / Approved by" and a sign-off
block, and the same actor must read the same way on all of them (the key's display name, its
role, its organisation). A builder may supply its own list (context key `cover_people`); when it
does not, the defaults are derived here:

- Prepared by: the actor issuing the report (unknown in a preview, which says so).
- Approved by: when the report is about one model version (`Content.model`, or a context
  `model` mapping with `name` and `version`), every `approval.recorded` entry on it, with the
  approver's decision and the entry's time; the entries are cited in the evidence.
- Reviewed by: nothing by default (a builder that knows the reviewer supplies it).

An actor `key:<id>` is looked up among the API keys (display name, role, organisation); any other
actor (a local operating-system user, the system) is printed by its recorded name with no role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.access.api_keys import key_profile
from ledger.api import Ledger
from ledger.lineage import registry_reads
from ledger.log.entry import Actor
from reports.evidence import Evidence

__all__ = ["CoverPerson", "actor_person", "default_people", "subject_model"]


@dataclass(frozen=True)
class CoverPerson:
    """One line of the cover's people table and one box of the sign-off block.

    `capacity` is what they did for this document ("Prepared by", "Approved by"); `role` is their
    role in the organisation as the ledger knows it; `date` and `ref` name the entry that records
    their act (empty when there is none yet, e.g. the preparer of a preview)."""

    capacity: str
    name: str
    role: str = ""
    organisation: str = ""
    date: str = ""
    ref: str = ""
    note: str = ""


_ROLE_TITLES = {
    "admin": "administrator",
    "producer": "producer (model development)",
    "ci": "CI pipeline",
    "approver": "approver (risk management)",
    "auditor": "auditor",
}


def actor_person(ledger: Ledger, actor: Mapping[str, Any] | Actor, capacity: str, **extra: str) -> CoverPerson:
    """The cover line for an actor as recorded in an entry (`{"id": ..., "name": ...}`)."""
    actor_id, name = (actor.id, actor.name) if isinstance(actor, Actor) else (actor["id"], actor["name"])
    if actor_id.startswith("key:"):
        with ledger.engine.connect() as conn:
            profile = key_profile(conn, actor_id.removeprefix("key:"))
        if profile is not None:
            role = _ROLE_TITLES.get(profile.role.value, profile.role.value)
            return CoverPerson(capacity, profile.name, role, profile.organisation or "", **extra)
    return CoverPerson(capacity, name, "local user" if actor_id.startswith("local:") else "", **extra)


def subject_model(model: tuple[str, str] | None, context: Mapping[str, Any]) -> tuple[str, str] | None:
    """The model version a report is about: `Content.model`, else the context's `model` mapping."""
    if model is not None:
        return model
    candidate = context.get("model")
    if isinstance(candidate, Mapping) and isinstance(candidate.get("name"), str) and candidate.get("version"):
        return candidate["name"], str(candidate["version"])
    return None


def default_people(
    ledger: Ledger, evidence: Evidence, model: tuple[str, str] | None, issuer: Actor | None
) -> list[CoverPerson]:
    """The cover's people when the builder names none (see the module docstring)."""
    if issuer is not None:
        people = [actor_person(ledger, issuer, "Prepared by", note="issued this document")]
    else:
        people = [CoverPerson("Prepared by", "", note="named when issued (a preview has no preparer)")]
    if model is None:
        return people
    name, version = model
    with ledger.engine.connect() as conn:
        seqs = registry_reads.approval_seqs(conn, name, version, as_of=evidence.size)
    for seq in seqs:
        entry = ledger.get(seq)
        ref = evidence.cite(seq, f"approval decision on {name}@{version}")
        decision = str(entry.data.get("decision", ""))
        capacity = "Approved by" if decision == "approve" else f"Approval decision: {decision}"
        people.append(actor_person(ledger, entry.actor.as_json(), capacity, date=entry.ts[:10], ref=ref))
    return people
