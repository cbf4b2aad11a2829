"""HTML from Jinja2 templates, PDF from WeasyPrint, both byte-for-byte deterministic.

The same ledger state renders the same bytes: templates see only ledger data (no clock, no
randomness), the PDF's creation and modification dates are the report's as-of time taken from
the ledger, and charts are SVG with fixed ids and no date (see `reports.charts`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["TEMPLATE_VERSION", "Rendered", "render_html", "render_pdf"]

TEMPLATE_VERSION = "reports-1"
TEMPLATES = Path(__file__).parent / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["short"] = lambda value, n=12: (str(value)[:n] + "…") if value and len(str(value)) > n else (value or "")
_env.filters["pct"] = lambda value, digits=1: "n/a" if value is None else f"{100 * float(value):.{digits}f}%"
_env.filters["num"] = lambda value, digits=3: "n/a" if value is None else f"{float(value):.{digits}f}"
_env.filters["thousands"] = lambda value: "n/a" if value is None else f"{int(value):,}"


@dataclass(frozen=True)
class Rendered:
    html: str
    pdf: bytes

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()

    @property
    def html_sha256(self) -> str:
        return hashlib.sha256(self.html.encode("utf-8")).hexdigest()


def render_html(template: str, context: dict[str, Any]) -> str:
    return _env.get_template(template).render(**context, template_version=TEMPLATE_VERSION)


def render_pdf(html: str) -> bytes:
    """PDF of the HTML; dates come from the HTML's dcterms meta tags, so the bytes are stable."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf
