"""What a reader sees on a rendered report's pages, for tests of every kind: the page count, the
share of pages that are the evidence appendix, and any printed hash that is cut or split.

Text comes from `pdftotext -layout` (poppler-utils), which keeps each printed line on one line,
so a hash that wrapped or ran off the edge shows up as a fragment. Use it from any report test:

    pages = pdf_pages(rendered.pdf)
    assert pages.count <= 6 and pages.appendix_share <= 0.25 and not pages.cut_hashes()
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["APPENDIX_HEADING", "PdfPages", "pdf_pages"]

APPENDIX_HEADING = "Appendix: evidence and how to verify"  # as base.html.j2 prints it
# A run of 8-hex groups separated by single spaces (the `hash` filter's form), and any long hex run.
_GROUPS = re.compile(r"(?<![0-9a-f])[0-9a-f]{8}(?: [0-9a-f]{8})+(?![0-9a-f])")
# Identifiers that embed hex (ev-4aa0…, a prefix:hex) are not hashes: the run must stand alone.
_HEX_RUN = re.compile(r"(?<![0-9A-Za-z_:.-])[0-9a-f]{17,}(?![0-9A-Za-z_…-])")
_WHOLE = (64, 32)  # a SHA-256; a W3C trace id (128 bits) is printed whole as 32


@dataclass(frozen=True)
class PdfPages:
    pages: tuple[str, ...]  # the text of each page, in order

    @property
    def count(self) -> int:
        return len(self.pages)

    @property
    def appendix_first_page(self) -> int | None:
        """1-based number of the page where the evidence appendix starts (None: it has none)."""
        # The last page naming it: the contents page names it too.
        found = [i + 1 for i, page in enumerate(self.pages) if APPENDIX_HEADING in _flat(page)]
        return found[-1] if found else None

    @property
    def appendix_pages(self) -> float:
        """How many pages the appendix fills: the part of its first page from its heading down
        (in lines of a full page: the fullest page of the document), and every page after it."""
        first = self.appendix_first_page
        if first is None:
            return 0.0
        full = max(len(page.splitlines()) for page in self.pages)
        lines = self.pages[first - 1].splitlines()
        start = max(i for i, line in enumerate(lines) if APPENDIX_HEADING in " ".join(line.split()))
        return (len(lines) - start) / full + (self.count - first)

    @property
    def appendix_share(self) -> float:
        return self.appendix_pages / self.count

    def cut_hashes(self) -> list[str]:
        """Printed hashes that are not whole on one line: a run of 8-hex groups that is not eight
        groups long, or a contiguous hex run (17+ characters, standing alone, not shortened with
        "…") that is not 64 characters long (or 32, a trace id). Empty for a document whose every
        printed hash can be read off."""
        cut = []
        for page in self.pages:
            for line in page.splitlines():
                cut += [run for run in _GROUPS.findall(line) if len(run.split(" ")) != 8]
                cut += [run for run in _HEX_RUN.findall(line) if len(run) not in _WHOLE]
        return cut

    def hashes(self) -> list[str]:
        """Every whole hash printed in groups, as 64 hex characters."""
        found = []
        for page in self.pages:
            for line in page.splitlines():
                found += [run.replace(" ", "") for run in _GROUPS.findall(line) if len(run.split(" ")) == 8]
        return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def pdf_pages(pdf: bytes) -> PdfPages:
    """The pages of a PDF as `pdftotext -layout` reads them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return PdfPages(tuple(pages))
