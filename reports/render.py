"""HTML from Jinja2 templates, PDF from WeasyPrint, both byte-for-byte deterministic.

The same ledger state renders the same bytes: templates see only ledger data (no clock, no
randomness), the PDF's creation and modification dates are the report's as-of time taken from
the ledger (so are the attached file's dates: WeasyPrint would otherwise stamp them with the
clock), and charts are SVG with fixed ids and no date (see `reports.charts`).

Sections and contents. A template marks each numbered section of the document as
`<h2 class="section" id="SLUG">Title</h2>` (no number in the title: CSS counters number the
headings, so removing or adding a conditional section renumbers the rest), and may mark
subsections `<h3>` as it likes. After Jinja2 has rendered the page, one pass over the HTML
(`_contents`) collects those headings in document order and replaces the `<!--contents-->`
marker that base.html.j2 places on the contents page with a numbered list whose page numbers
WeasyPrint fills in (`target-counter(attr(href), page)`). Headings are read from the rendered
HTML rather than declared beside the template, so a section that a template leaves out under a
condition is never listed.

Hashes. `{{ value | hash }}` prints a 64-hex hash whole, in eight groups of eight characters in
monospace, on one line (`.hash` is `white-space: nowrap`): a reader compares it group by group,
and it is never cut at the page edge or split across lines (tests/reports/test_document_form.py
checks the text of every rendered kind).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

__all__ = ["CONTENTS_MARKER", "TEMPLATE_VERSION", "Attached", "Rendered", "group_hash", "render_html", "render_pdf"]

TEMPLATE_VERSION = "reports-2"  # reports-2: cover, summary, contents, compact appendix, attached proof pack
CONTENTS_MARKER = "<!--contents-->"
_SECTION = re.compile(r'<h2 class="section" id="([^"]+)">(.*?)</h2>', re.S)
_TAG = re.compile(r"<[^>]+>")


def group_hash(value: object) -> Markup:
    """A hash as eight groups of eight hex characters that stay together on one line."""
    text = str(value)
    groups = " ".join(text[i : i + 8] for i in range(0, len(text), 8))
    return Markup('<span class="hash">{}</span>').format(groups)


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
_env.filters["hash"] = group_hash
# An identifier (ev-13ab0d10…, a run or approval id) stays on one line: broken at its hyphen it
# reads as two words, and its hex tail as a cut hash (tests/reports/pdf_pages.py).
_env.filters["ident"] = lambda value: Markup('<span class="ident">{}</span>').format(value)


@dataclass(frozen=True)
class Attached:
    """A file embedded in the PDF (PDF/A-3 style associated file), dated by the ledger."""

    name: str
    data: bytes
    description: str
    relationship: str = "Data"


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
    """The template rendered, then its contents list filled in from its section headings."""
    page = _env.get_template(template).render(**context, template_version=TEMPLATE_VERSION)
    return page.replace(CONTENTS_MARKER, _contents(page), 1) if CONTENTS_MARKER in page else page


def _contents(page: str) -> str:
    """The contents list: one line per `<h2 class="section">`, numbered in document order."""
    lines = []
    body = page[page.find("<body") :]  # never the stylesheet, which may mention the markup
    for number, (anchor, title) in enumerate(_SECTION.findall(body), start=1):
        text = html_lib.escape(html_lib.unescape(_TAG.sub("", title)).strip())
        lines.append(f'<li><a href="#{anchor}"><span class="toc-n">{number}</span>{text}</a></li>')
    return '<ol class="toc">' + "".join(lines) + "</ol>" if lines else ""


def render_pdf(html: str, *, attachments: tuple[Attached, ...] = (), dated: str | None = None) -> bytes:
    """PDF of the HTML; dates come from the HTML's dcterms meta tags (and `dated`, an RFC 3339
    ledger time, for the attachments), so the bytes are stable."""
    from weasyprint import HTML, Attachment

    when = datetime.fromisoformat(dated.replace("Z", "+00:00")) if dated else datetime(1970, 1, 1)
    files = [
        Attachment(
            string=a.data.decode("utf-8"),
            name=a.name,
            description=a.description,
            relationship=a.relationship,
            created=when,
            modified=when,
        )
        for a in attachments
    ]
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(attachments=files)
    return pdf
