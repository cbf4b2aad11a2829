"""The regulatory contents list of each report (from docs/regulatory-checklists.md, which copies
the project's REGULATORY.md): every item must appear in the rendered text, or the report must
say why it does not apply. Tests check each report's rendered text against its list."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChecklistItem"]


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # short id, e.g. "identification"
    marker: str  # text the rendered report must contain (a section heading or field label)
    rule: str  # the rule behind it, e.g. "EU AI Act Annex IV 1"
