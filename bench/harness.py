"""What every benchmark shares: figures beside a baseline measured in the same run, timing, the run's
environment, the printed report (a rich table for people, Markdown for docs/performance.md), and
temporary ledgers filled with the benchmarks' note entries.

A figure alone says little on an unknown machine, so each `Result` carries the baseline it was
measured against and their ratio (figure ÷ baseline); a `Target` is judged on the figure or on the
ratio. The benchmarks (`ledger_bench`, `service_bench`, `gate_bench`, `report_bench`,
`install_bench`, `profile_hotspots`) import from here and never from one another.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import create_engine, text

from ledger.api import Ledger
from ledger.log.entry import Actor, format_ts, make_draft, seal
from ledger.storage.sequencer import CheckpointPolicy

__all__ = [
    "BATCH",
    "BUILD_BATCH",
    "DEFAULT_PG_URL",
    "KIND",
    "Item",
    "LedgerWriter",
    "Result",
    "Target",
    "build_ledger",
    "compare",
    "environment",
    "fmt",
    "for_entries",
    "for_seconds",
    "latencies_ms",
    "markdown_table",
    "note_items",
    "open_ledger",
    "percentile",
    "postgres_error",
    "postgres_schema",
    "print_report",
    "rich_table",
    "seal_body",
    "sqlite_url",
    "timed",
]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SOURCE_PACKAGES = ("ledger", "policies", "reports", "console", "govledger")  # a run on edited sources says so
console = Console(stderr=True)


# -- results and their table ----------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    op: Literal[">=", "<="]
    bound: float
    of: Literal["value", "ratio"] = "value"  # judge the figure itself, or figure ÷ baseline

    def met(self, value: float, ratio: float) -> bool:
        judged = value if self.of == "value" else ratio
        return judged >= self.bound if self.op == ">=" else judged <= self.bound


@dataclass(frozen=True)
class Result:
    measure: str
    value: float
    unit: str  # "entries/s", "decisions/s", "ms", "s", "MB", ...
    baseline: str
    baseline_value: float
    target: Target | None = None
    section: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else math.nan

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value, self.ratio)


def fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:,.3f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit.endswith("/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def fmt_ratio(ratio: float) -> str:
    if math.isnan(ratio):
        return "n/a"
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.3g}×"


def fmt_target(result: Result) -> str:
    target = result.target
    if target is None:
        return ""
    op = {">=": "≥", "<=": "≤"}[target.op]
    return f"{op} {fmt(target.bound, result.unit)}" if target.of == "value" else f"ratio {op} {target.bound:.3g}×"


def _columns(result: Result, *, sections: bool) -> list[str]:
    met = {None: "", True: "yes", False: "NO"}[result.met]
    cells = [result.measure, fmt(result.value, result.unit), result.baseline, fmt(result.baseline_value, result.unit)]
    return ([result.section] if sections else []) + [*cells, fmt_ratio(result.ratio), fmt_target(result), met]


def _headers(value_header: str, *, sections: bool) -> list[str]:
    headers = ["Measure", value_header, "Baseline", "Baseline figure", "Ratio", "Target", "Met"]
    return (["Section"] if sections else []) + headers


def rich_table(results: Sequence[Result], *, title: str, value_header: str = "govledger") -> Table:
    sections = any(r.section for r in results)
    table = Table(title=title)
    right = (value_header, "Baseline figure", "Ratio")
    for header in _headers(value_header, sections=sections):
        table.add_column(header, justify="right" if header in right else "left")
    for result in results:
        table.add_row(*(escape(cell) for cell in _columns(result, sections=sections)))  # "[all]" is not markup
    return table


def markdown_table(results: Sequence[Result], *, value_header: str = "govledger") -> str:
    sections = any(r.section for r in results)
    headers = _headers(value_header, sections=sections)
    right = (value_header, "Baseline figure", "Ratio")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if h in right else "---" for h in headers) + "|"]
    return "\n".join(lines + ["| " + " | ".join(_columns(r, sections=sections)) + " |" for r in results])


def print_report(
    command: str,
    lines: Sequence[str],
    results: Sequence[Result],
    *,
    title: str,
    value_header: str = "govledger",
) -> None:
    """The run's header lines and notes, then the table twice: for people, and as Markdown."""
    out = Console(width=None if sys.stdout.isatty() else 220)
    for line in [f"command: {command}", *lines]:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    out.print(rich_table(results, title=title, value_header=value_header))
    out.print(markdown_table(results, value_header=value_header), markup=False, highlight=False, soft_wrap=True)
    judged = [r for r in results if r.met is not None]
    out.print(f"targets met: {sum(r.met is True for r in judged)} rows, missed: {sum(r.met is False for r in judged)}")


# -- timing ---------------------------------------------------------------------------------------
Work = Callable[[], int]  # does one unit of work, returns how many entries it handled
Trial = Callable[[Work], float]  # runs a Work for one trial, returns entries/s


def timed(call: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def for_seconds(seconds: float) -> Trial:
    """A trial that repeats the work for at least `seconds` (for work that does not change the data)."""

    def trial(work: Work) -> float:
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            done += work()
        return done / (time.perf_counter() - start)

    return trial


def for_entries(entries: int) -> Trial:
    """A trial of a fixed number of entries, so that every contender's table grows by the same amount
    and ledger and baseline are timed at the same table sizes (append cost grows with the table)."""

    def trial(work: Work) -> float:
        done, start = 0, time.perf_counter()
        while done < entries:
            done += work()
        return done / (time.perf_counter() - start)

    return trial


def compare(subject: Work, baselines: Sequence[Work], trial: Trial, trials: int) -> tuple[float, list[float]]:
    """Median throughput of `subject` and of each baseline over interleaved trials."""
    subject_rates: list[float] = []
    baseline_rates: list[list[float]] = [[] for _ in baselines]
    for _ in range(trials):
        subject_rates.append(trial(subject))
        for rates, baseline in zip(baseline_rates, baselines, strict=True):
            rates.append(trial(baseline))
    return statistics.median(subject_rates), [statistics.median(rates) for rates in baseline_rates]


def latencies_ms(call: Callable[[], object], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# -- the run's environment ----------------------------------------------------------------------
def git_revision() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "--no-optional-locks",
                "status",
                "--porcelain",
                "--",
                "ledger",
                "policies",
                "reports",
                "console",
                "govledger",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' (with uncommitted changes)' if dirty else ''}"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def environment(libraries: Sequence[str] = ()) -> list[str]:
    """Date, machine, Python and the given libraries' versions, revision, load: a run's header."""
    import sqlite3
    from importlib.metadata import version

    versions = ", ".join([f"SQLite {sqlite3.sqlite_version}", *(f"{name} {version(name)}" for name in libraries)])
    return [
        f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        f"python {platform.python_version()}, {versions}",
        f"govledger revision: {git_revision()}",
        f"load average at start: {load_average()}",
    ]


# -- temporary ledgers and what fills them ----------------------------------------------------
KIND = "note.recorded"
ENTRY_BYTES = 300  # the realistic size of one canonical entry
BATCH = 1_000
BUILD_BATCH = 10_000
VOCABULARY = (
    "model dataset approval risk review fairness drift audit release owner metric threshold sign-off bias "
    "lineage retrain incident control evidence"
)
WORDS = tuple(VOCABULARY.split())
Item = dict[str, Any]


@contextlib.contextmanager
def open_ledger(url: str, home: Path, name: str) -> Iterator[Ledger]:
    """A fresh, initialised ledger with the default checkpoint policy; closed afterwards."""
    ledger = Ledger.open(url, home=home, policy=CheckpointPolicy())
    try:
        ledger.init(origin=f"bench.govledger.local/{name}")
        yield ledger
    finally:
        ledger.close()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def postgres_error(url: str) -> str | None:
    """Why the server at `url` cannot be used (None: it answers)."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema on the server at `url`, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def seal_body(data: Item, subject: str | None, actor: Actor, seq: int, prev: bytes) -> tuple[bytes, bytes]:
    """The exact bytes (and leaf hash) the ledger would store for this payload at `seq`."""
    entry = seal(
        make_draft(KIND, data, actor=actor, subject=subject), seq=seq, ts=format_ts(datetime.now(UTC)), prev=prev
    )
    return entry.body, entry.leaf_hash


def _words(rng: random.Random, length: int) -> str:
    out = ""
    while len(out) < length:
        out += rng.choice(WORDS) + " "
    return out[:length].rstrip() or "x"


def _subject_names(count: int) -> list[str]:
    """`count` distinct subjects such as ``model:drift-v3``."""
    return [f"model:{WORDS[i % len(WORDS)]}-v{i // len(WORDS)}" for i in range(count)]


def _note_item(rng: random.Random, actor: Actor, subjects: Sequence[str]) -> Item:
    """A `note.recorded` item, subject drawn uniformly, whose canonical entry is about ENTRY_BYTES long."""
    refs = [rng.randrange(1_000_000) for _ in range(rng.randrange(4))]
    subject = rng.choice(subjects)
    fixed = len(seal_body({"text": "", "refs": refs}, subject, actor, 500_000, bytes(32))[0])
    return {"kind": KIND, "data": {"text": _words(rng, ENTRY_BYTES - fixed), "refs": refs}, "subject": subject}


def note_items(count: int, actor: Actor, subjects: int, seed: int = 7) -> list[Item]:
    """`count` note items of about ENTRY_BYTES each, spread uniformly over `subjects` subjects."""
    rng, names = random.Random(seed), _subject_names(subjects)
    return [_note_item(rng, actor, names) for _ in range(count)]


class LedgerWriter:
    """Appends items from a pool through the public API, one call per `single()` / `batch()`."""

    def __init__(self, ledger: Ledger, pool: Sequence[Item], actor: Actor) -> None:
        self.ledger, self.pool, self.actor = ledger, pool, actor
        self.next = 0

    def single(self) -> int:
        item = self.pool[self.next % len(self.pool)]
        self.next += 1
        self.ledger.append(KIND, item["data"], actor=self.actor, subject=item["subject"])
        return 1

    def batch(self, size: int) -> int:
        return len(self.ledger.append_many(self.pool[:size], actor=self.actor))


def build_ledger(ledger: Ledger, pool: Sequence[Item], actor: Actor, entries: int) -> list[tuple[int, float]]:
    """Grow `ledger` to `entries` entries with append_many in batches of BUILD_BATCH.

    Returns (size, perf_counter) after every batch, starting with the initial size.
    """
    size = ledger.size
    marks = [(size, time.perf_counter())]
    while size < entries:
        size += len(ledger.append_many(pool[: min(BUILD_BATCH, entries - size)], actor=actor))
        marks.append((size, time.perf_counter()))
    return marks
