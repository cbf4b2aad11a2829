"""Where govledger spends its time: cProfile of the operations `bench.ledger_bench` measures
(with the same payloads, from `bench.harness`).

Run from the repository root::

    .venv/bin/python -m bench.profile_hotspots [batched|single|verify|proof ...] [--entries N] [--top K]
    .venv/bin/python -m bench.profile_hotspots wal [--subjects N]

cProfile inflates pure-Python call overhead, so each profile is preceded by the wall-clock rate
of the same work without the profiler; use the profile for shares, not absolute times. The
payloads are the benchmark's own (about 300-byte canonical entries over 1,000 subjects).

`wal` does not profile: it measures how many bytes one append_many(1,000) commit writes to the
SQLite WAL as the log grows, then drops the `subject` index on its scratch copy and measures
again, to show what that index costs (batched appends slow down as the table grows).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness import BATCH, Item, LedgerWriter, build_ledger, note_items, open_ledger, sqlite_url
from ledger.api import Ledger, local_actor

Work = Callable[[], object]


def timed(label: str, work: Work, repeat: int, entries_per_call: int) -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        work()
    elapsed = time.perf_counter() - start
    print(f"{label}: {repeat * entries_per_call / elapsed:,.0f} entries/s, {elapsed / repeat * 1000:.3f} ms/call")


def profiled(work: Work, repeat: int, top: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(repeat):
        work()
    profile.disable()
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def scenarios(ledger: Ledger, writer: LedgerWriter) -> dict[str, tuple[Work, int, int]]:
    """name -> (work, calls, entries per call), for the ledger at its current size."""
    rng, size = random.Random(3), ledger.size
    return {
        "batched": (lambda: writer.batch(BATCH), 30, BATCH),
        "single": (writer.single, 2_000, 1),
        "verify": (lambda: ledger.verify(deep=True), 1, size),
        "proof": (lambda: ledger.inclusion_proof(rng.randrange(size), size), 2_000, 1),
    }


def wal_bytes_per_commit(path: Path, writer: LedgerWriter, commits: int = 5) -> tuple[float, float]:
    """Median WAL bytes of one append_many(BATCH) commit (the WAL is emptied before each), and entries/s."""
    wal, sizes, elapsed = path.with_name(path.name + "-wal"), [], 0.0
    raw = sqlite3.connect(path)
    try:
        for _ in range(commits):
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            start = time.perf_counter()
            writer.batch(BATCH)
            elapsed += time.perf_counter() - start
            sizes.append(wal.stat().st_size)
    finally:
        raw.close()
    return statistics.median(sizes), commits * BATCH / elapsed


def wal_growth(ledger: Ledger, path: Path, writer: LedgerWriter, pool: Sequence[Item], entries: int) -> None:
    """WAL bytes per batched commit at growing sizes, then without the subject index at the largest size."""
    print(f"=== WAL written per append_many({BATCH:,}) commit, with ix_entries_subject ===")
    for size in [s for s in (50_000, 150_000, 300_000, 600_000, 1_000_000) if s < entries] + [entries]:
        build_ledger(ledger, pool, writer.actor, size)
        report_wal(ledger, path, writer)
    raw = sqlite3.connect(path)
    raw.execute("DROP INDEX IF EXISTS ix_entries_subject")
    raw.close()
    print("=== the same after DROP INDEX ix_entries_subject (on this scratch copy only) ===")
    for _ in range(3):
        report_wal(ledger, path, writer)


def report_wal(ledger: Ledger, path: Path, writer: LedgerWriter) -> None:
    wal, rate = wal_bytes_per_commit(path, writer)
    print(f"log of {ledger.size:>9,} entries: {wal / 1e6:5.2f} MB of WAL per commit, {rate:,.0f} entries/s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_hotspots", description=__doc__.splitlines()[0])
    parser.add_argument(
        "which", nargs="*", default=["batched", "single", "verify", "proof"], help="batched, single, verify, proof, wal"
    )
    parser.add_argument("--subjects", type=int, default=1_000, help="distinct subjects of the entries")
    parser.add_argument("--entries", type=int, default=200_000, help="ledger size (verify, proofs; wal: largest)")
    parser.add_argument("--top", type=int, default=25, help="functions to list per profile")
    args = parser.parse_args(argv)
    actor = local_actor()
    pool = note_items(10_000, actor, args.subjects)
    with tempfile.TemporaryDirectory(prefix="govledger-profile-") as tmp:
        work = Path(tmp)
        with open_ledger(sqlite_url(work / "profile.db"), work / "home", "profile") as ledger:
            writer = LedgerWriter(ledger, pool, actor)
            if args.which == ["wal"]:
                wal_growth(ledger, work / "profile.db", writer, pool, args.entries)
                return 0
            build_ledger(ledger, pool, actor, args.entries)
            for name in args.which:
                call, repeat, per_call = scenarios(ledger, writer)[name]
                print(f"\n=== {name} (ledger of {ledger.size:,} entries) ===")
                timed(f"{name} without profiler", call, repeat, per_call)
                profiled(call, repeat, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
