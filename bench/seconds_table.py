"""A table of timings, each beside a baseline measured in the same run, printed for people (rich)
and as Markdown for docs/performance.md. Shared by the gate and report benchmarks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table

__all__ = ["Result", "fmt_s", "markdown_table", "rich_table"]


@dataclass(frozen=True)
class Result:
    measure: str
    value: float  # seconds
    baseline: str
    baseline_value: float  # seconds
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else math.nan


def fmt_s(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else (f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s")


def _headers(value_header: str) -> list[str]:
    return ["Measure", value_header, "Baseline", "Baseline figure", "Ratio", "Target", "Met"]


def _right(value_header: str) -> tuple[str, ...]:
    return (value_header, "Baseline figure", "Ratio")


def _columns(r: Result) -> list[str]:
    met = {None: "", True: "MET", False: "NOT MET"}[r.met]
    ratio = "n/a" if math.isnan(r.ratio) else f"{r.ratio:.3g}×"
    return [r.measure, fmt_s(r.value), r.baseline, fmt_s(r.baseline_value), ratio, r.target, met]


def rich_table(results: Sequence[Result], *, title: str, value_header: str) -> Table:
    table = Table(title=title)
    for header in _headers(value_header):
        table.add_column(header, justify="right" if header in _right(value_header) else "left")
    for r in results:
        table.add_row(*_columns(r))
    return table


def markdown_table(results: Sequence[Result], *, value_header: str) -> str:
    headers = _headers(value_header)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if h in _right(value_header) else "---" for h in headers) + "|",
    ]
    return "\n".join(lines + ["| " + " | ".join(_columns(r)) + " |" for r in results])
