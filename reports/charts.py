"""Charts for reports: small matplotlib figures as inline SVG text, byte-for-byte deterministic.

The same inputs give the same bytes: the Agg backend, a fixed figure size and font (DejaVu Sans,
which the PDF uses too), no date in the SVG metadata, and element ids hashed from a fixed salt
instead of random ones. The XML prolog is stripped, so the text can be placed straight into the
HTML (`{{ chart | safe }}`). Text stays SVG text in DejaVu Sans (the font the PDF already
embeds) rather than glyph outlines: the SVG is a third of the size and WeasyPrint draws it about
three times faster, and the labels remain searchable in the PDF.

matplotlib is imported when a chart is drawn, not when `reports` is imported.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FIGURE_SIZE", "Panel", "Series", "bar_chart_svg", "curve_panels_svg"]

FIGURE_SIZE = (6.4, 2.9)  # inches; every chart has this size, whatever it shows
_SALT = "govledger"
_PROLOG = re.compile(r"\A\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?")
_ID = re.compile(r'\b(id="|href="#|url\(#)([^")]+)')
_STYLE = re.compile(r' style="([^"]*)"')
# SVG-only properties that matplotlib writes into style="…": as presentation attributes instead,
# the SVG renderer reads them the same way and the HTML CSS parser does not warn about each one.
_PRESENTATION = frozenset(
    {
        "clip-rule", "dominant-baseline", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-dasharray",
        "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-opacity",
        "stroke-width", "text-anchor",
    }
)  # fmt: skip
_BAR = "#4a6f94"
_LINES = ("#4a6f94", "#c2741f", "#3b8a4a", "#8a3b7a")
_MISSING = "#777777"
_MIN_SLOTS = 6


def _configure() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = _SALT
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: a third of the size, and far faster to render
    plt.rcParams["font.family"] = "DejaVu Sans"
    plt.rcParams["font.size"] = 8.0
    plt.rcParams["axes.titlesize"] = 9.0


def _attributes(match: re.Match[str]) -> str:
    declarations = [d.split(":", 1) for d in match.group(1).split(";") if ":" in d]
    moved = [f' {k.strip()}="{v.strip()}"' for k, v in declarations if k.strip() in _PRESENTATION]
    kept = [f"{k.strip()}: {v.strip()}" for k, v in declarations if k.strip() not in _PRESENTATION]
    return "".join(moved) + (f' style="{"; ".join(kept)}"' if kept else "")


def _format(value: float) -> str:
    return f"{value:.4g}"


def bar_chart_svg(
    labels: list[str],
    values: list[float | None],
    *,
    title: str,
    threshold: float | None = None,
    xlabel: str = "",
    id_prefix: str | None = None,
) -> str:
    """A horizontal bar chart (first label at the top) as inline SVG text.

    A value of None (e.g. a group excluded from a ratio) gets no bar but a "n/a" mark, so the
    category stays visible. `threshold`, if given, is drawn as a dashed vertical line and named in
    the axis label.

    Element ids (matplotlib's "text_1", "patch_2", clip paths...) are prefixed with `id_prefix`,
    so several charts can be inlined in one HTML document without clashing; by default the prefix
    is derived from the chart's content, so pass distinct prefixes if one page may show the same
    chart twice."""
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} values")
    _configure()
    import matplotlib.pyplot as plt

    finite: Sequence[float] = [v for v in values if v is not None and math.isfinite(v)]
    figure, axes = plt.subplots(figsize=FIGURE_SIZE)
    try:
        positions = list(range(len(labels)))
        heights = [v if v is not None and math.isfinite(v) else 0.0 for v in values]
        axes.barh(positions, heights, height=0.6, color=_BAR)
        axes.set_yticks(positions, labels=labels)
        pad = (max(len(labels), _MIN_SLOTS) - len(labels)) / 2  # bars as thick in small charts as in large
        axes.set_ylim(len(labels) - 0.5 + pad, -0.5 - pad)  # first label at the top
        top = max([*finite, threshold if threshold is not None else 0.0, 0.0])
        axes.set_xlim(min([*finite, 0.0]), (top or 1.0) * 1.18)
        for position, value in zip(positions, values, strict=True):
            if value is None or not math.isfinite(value):
                axes.text(0, position, " n/a", va="center", ha="left", color=_MISSING, fontstyle="italic")
            else:
                axes.text(value, position, f" {_format(value)}", va="center", ha="left")
        if threshold is not None:
            axes.axvline(threshold, color="#a40000", linestyle="--", linewidth=1.0)
            line = f"dashed line: threshold {_format(threshold)}"
            xlabel = f"{xlabel}; {line}" if xlabel else line
        axes.set_title(title)
        axes.set_xlabel(xlabel)
        axes.spines["top"].set_visible(False)
        axes.spines["right"].set_visible(False)
        return _svg(figure, id_prefix)
    finally:
        plt.close(figure)


def _svg(figure: Any, id_prefix: str | None) -> str:
    """The figure as inlinable SVG text with prefixed ids (see `bar_chart_svg`)."""
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _STYLE.sub(_attributes, _PROLOG.sub("", buffer.getvalue(), count=1))
    prefix = id_prefix if id_prefix is not None else "c" + hashlib.sha256(svg.encode("utf-8")).hexdigest()[:10]
    return _ID.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)


@dataclass(frozen=True)
class Series:
    """One line of a curve panel: a legend label and its points."""

    label: str
    x: Sequence[float]
    y: Sequence[float]


@dataclass(frozen=True)
class Panel:
    """One square panel of `curve_panels_svg`: axes from 0 to 1, a dotted diagonal (the perfectly
    calibrated model, or the chance line of a ROC) named by `diagonal`."""

    title: str
    xlabel: str
    ylabel: str
    series: Sequence[Series]
    diagonal: str


def curve_panels_svg(panels: Sequence[Panel], *, id_prefix: str | None = None) -> str:
    """Side-by-side line charts on the unit square (calibration, ROC), in one figure of the common
    size: two small curves read better next to each other than each across a page."""
    if not panels:
        raise ValueError("no panel to draw")
    _configure()
    import matplotlib.pyplot as plt

    figure, grid = plt.subplots(1, len(panels), figsize=FIGURE_SIZE, squeeze=False)
    try:
        for axes, panel in zip(grid[0], panels, strict=True):
            axes.plot([0, 1], [0, 1], color=_MISSING, linestyle=":", linewidth=1.0, label=panel.diagonal)
            for number, line in enumerate(panel.series):
                if len(line.x) != len(line.y):
                    raise ValueError(f"{panel.title}: {len(line.x)} x values but {len(line.y)} y values")
                colour = _LINES[number % len(_LINES)]
                axes.plot(
                    line.x,
                    line.y,
                    color=colour,
                    linewidth=1.2,
                    marker="." if len(line.x) <= 20 else None,
                    label=line.label,
                )
            axes.set_xlim(0, 1)
            axes.set_ylim(0, 1)
            axes.set_aspect("equal")
            axes.set_title(panel.title)
            axes.set_xlabel(panel.xlabel)
            axes.set_ylabel(panel.ylabel)
            axes.legend(loc="lower right", fontsize=6.5, frameon=False)
            axes.spines["top"].set_visible(False)
            axes.spines["right"].set_visible(False)
        return _svg(figure, id_prefix)
    finally:
        plt.close(figure)
