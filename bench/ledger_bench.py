"""govledger throughput and latency, each figure beside a raw-driver baseline measured in the same run.

Run from the repository root::

    .venv/bin/python -m bench.ledger_bench [--quick] [--postgres-url URL | --no-postgres] [--proof-entries N]
                                           [--subjects N]

A figure alone says little on an unknown machine (a 2-core VM, a shared disk, a busy database).
So every govledger figure is printed beside a baseline taken in the same process, on the same
disk and server, with the ledger and baseline trials interleaved, and the ratio of the two
(govledger ÷ baseline). What each baseline is, and why it was chosen:

- Durable single appends on SQLite: the raw ``sqlite3`` module with the ledger's own settings
  (WAL, synchronous=FULL), one INSERT of the same bytes (a sealed ~300-byte entry body and its
  32-byte leaf hash) per committed transaction. That is the fsync floor: nothing can commit a
  durable transaction faster on this disk, so the ratio is what the ledger adds to durability.
- Batched appends on SQLite: raw ``executemany`` of the same rows, 1,000 per transaction: the
  cost of storing the bytes, without validation, canonical encoding, sequencing, hashing, the
  Merkle frontier, indexes or SQLAlchemy.
- A second SQLite baseline for both: raw ``sqlite3`` replaying the ledger's own statements on a
  file govledger created (head read, the 7-column insert with its two indexes, head update,
  under BEGIN IMMEDIATE). It separates what the schema costs from what the Python library adds.
- PostgreSQL: raw psycopg into a plain table in the same server and schema: ``executemany``
  (psycopg pipelines it) of 1,000 rows per transaction, and single-row commits. The same two
  floors through the same driver, so the ratios isolate the ledger from the server.
- Deep verify: SHA-256 of every stored body read with raw ``sqlite3`` (the irreducible work of
  re-hashing the log), and the raw read alone (the cost of getting the bytes off the table). On
  PostgreSQL the same two with raw psycopg (a server-side cursor, binary results), over the
  ledger the append trials filled.
- Proofs: one raw ``SELECT`` of a single row by primary key on an open connection, the cheapest
  possible round trip. A stored proof needs one indexed query for its O(log n) subtree hashes
  (plus the head), so this is its floor.
- Checkpoint coverage: one Ed25519 signature (``cryptography``), the only cryptographic work a
  checkpoint needs; the rest of the coverage latency is the policy's deliberate delay
  (``max_delay_s``) and the commit.

Append figures are the median of three interleaved trials in which every contender writes the
same number of entries (3,000 single, 100,000 batched), so ledger and baseline are timed at the
same table sizes: append cost grows with the table (the `subject` index). Deep-verify figures are
the median of three trials of at least 3 s each; latencies come from 5,000 timed calls each.
--quick runs one short trial of each and a 50,000-entry proof ledger. Payloads are ~300-byte
`note.recorded` entries spread uniformly over --subjects distinct subjects (default 1,000).
All files, including the signing-key home, live in a temporary directory that is removed.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from hashlib import sha256
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from bench.harness import (
    BATCH,
    BUILD_BATCH,
    DEFAULT_PG_URL,
    KIND,
    Item,
    LedgerWriter,
    Result,
    Target,
    build_ledger,
    compare,
    console,
    environment,
    for_entries,
    for_seconds,
    latencies_ms,
    load_average,
    note_items,
    open_ledger,
    percentile,
    postgres_error,
    postgres_schema,
    print_report,
    seal_body,
    sqlite_url,
)
from ledger.api import Ledger, local_actor
from ledger.log.entry import Actor, format_ts
from ledger.log.subtrees import Frontier

TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# -- configuration and results --------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    trials: int  # interleaved ledger/baseline trials per throughput figure
    single_entries: int  # entries per single-append trial (each contender)
    batched_entries: int  # entries per batched-append trial (each contender)
    verify_seconds: float  # minimum duration of one deep-verify / scan trial
    subjects: int  # distinct entry subjects the payloads are drawn from
    proof_entries: int  # size of the big SQLite ledger (proofs, deep verify)
    proof_samples: int  # timed calls per latency figure
    coverage_rate: float  # appends per second in the coverage test
    coverage_seconds: float
    postgres_url: str | None


# -- payloads -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sealed:
    """One entry as the ledger stores it: what the raw baselines write."""

    body: bytes
    leaf_hash: bytes
    closes: bytes
    kind: str
    subject: str | None


def sealed_rows(items: Sequence[Item], actor: Actor) -> list[Sealed]:
    """The stored form of `items` as a chain from entry 1, for the raw baselines to write."""
    rows: list[Sealed] = []
    prev, frontier = bytes(32), Frontier(1, [bytes(32)])
    for seq, item in enumerate(items, start=1):
        body, leaf = seal_body(item["data"], item["subject"], actor, seq, prev)
        rows.append(Sealed(body, leaf, b"".join(frontier.append(leaf)), KIND, item["subject"]))
        prev = leaf
    return rows


# -- writers ------------------------------------------------------------------------------------
Batch = list[tuple[int, Sealed]]
Committer = Callable[[Batch], None]


class RawWriter:
    """Writes the next `n` prepared rows in one committed transaction through a raw driver."""

    def __init__(self, commit: Committer, rows: Sequence[Sealed], start: int = 0) -> None:
        self.commit, self.rows = commit, rows
        self.seq = start

    def write(self, n: int) -> int:
        rows, seq = self.rows, self.seq
        self.commit([(seq + i, rows[(seq + i) % len(rows)]) for i in range(n)])
        self.seq += n
        return n


RAW_INSERT = "INSERT INTO raw_entries (seq, leaf_hash, body) VALUES ({0}, {0}, {0})"


@contextlib.contextmanager
def raw_sqlite(path: Path) -> Iterator[Committer]:
    """Plain table, WAL + synchronous=FULL, explicit BEGIN/COMMIT around each batch."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE raw_entries (seq INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL, body BLOB NOT NULL)")
    sql = RAW_INSERT.format("?")

    def commit(batch: Batch) -> None:
        conn.execute("BEGIN")
        conn.executemany(sql, [(seq, row.leaf_hash, row.body) for seq, row in batch])
        conn.execute("COMMIT")

    try:
        yield commit
    finally:
        conn.close()


REPLAY_HEAD = "SELECT origin, size, head_hash, last_ts, checkpoint_size, checkpoint_ts FROM log_head WHERE id = 1"
REPLAY_INSERT = "INSERT INTO entries (seq, leaf_hash, closes, kind, subject, ts, body) VALUES (?, ?, ?, ?, ?, ?, ?)"
REPLAY_UPDATE = "UPDATE log_head SET size = ?, head_hash = ?, last_ts = ? WHERE id = 1"


@contextlib.contextmanager
def replay_sqlite(path: Path, home: Path) -> Iterator[Committer]:
    """The ledger's own schema and statements (head read, 7-column insert, head update) run raw.

    The file is created and initialised by govledger (so it has the same indexes and triggers);
    the difference to govledger's figure is then what the library adds in Python.
    """
    with open_ledger(sqlite_url(path), home, "replay"):
        pass
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")

    def commit(batch: Batch) -> None:
        ts = format_ts(datetime.now(UTC))
        conn.execute("BEGIN IMMEDIATE")
        size = conn.execute(REPLAY_HEAD).fetchone()[1]
        conn.executemany(
            REPLAY_INSERT, [(seq, row.leaf_hash, row.closes, row.kind, row.subject, ts, row.body) for seq, row in batch]
        )
        conn.execute(REPLAY_UPDATE, (size + len(batch), batch[-1][1].leaf_hash, ts))
        conn.execute("COMMIT")

    try:
        yield commit
    finally:
        conn.close()


@contextlib.contextmanager
def raw_postgres(conninfo: str, schema: str) -> Iterator[Committer]:
    """Plain table in the benchmark's schema; autocommit off only inside `transaction()`."""
    conn = psycopg.connect(conninfo, options=f"-csearch_path={schema}", autocommit=True)
    conn.execute("CREATE TABLE raw_entries (seq BIGINT PRIMARY KEY, leaf_hash BYTEA NOT NULL, body BYTEA NOT NULL)")
    sql = RAW_INSERT.format("%s")

    def commit(batch: Batch) -> None:
        params = [(seq, row.leaf_hash, row.body) for seq, row in batch]
        with conn.transaction(), conn.cursor() as cur:
            if len(params) == 1:
                cur.execute(sql, params[0])
            else:
                cur.executemany(sql, params)

    try:
        yield commit
    finally:
        conn.close()


# -- 1-3: appends -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    label: str
    commit: Committer
    start: int = 0  # first sequence number to write


def append_results(
    backend: str,
    ledger: Ledger,
    baselines: Sequence[Baseline],
    pool: Sequence[Item],
    rows: Sequence[Sealed],
    actor: Actor,
    cfg: Config,
    batch_target: float,
) -> list[Result]:
    writer = LedgerWriter(ledger, pool, actor)
    raws = [RawWriter(b.commit, rows, b.start) for b in baselines]
    console.log(f"{backend}: durable single appends")
    single, raw_single = compare(
        writer.single, [partial(raw.write, 1) for raw in raws], for_entries(cfg.single_entries), cfg.trials
    )
    console.log(f"{backend}: batched appends ({BATCH:,}/call)")
    batched, raw_batched = compare(
        lambda: writer.batch(BATCH),
        [partial(raw.write, BATCH) for raw in raws],
        for_entries(cfg.batched_entries),
        cfg.trials,
    )
    return [
        *throughput_rows(backend, "durable single append (1 entry/txn)", single, baselines, raw_single, "1 row/commit"),
        *throughput_rows(
            backend,
            f"batched append_many ({BATCH:,}/txn)",
            batched,
            baselines,
            raw_batched,
            f"executemany {BATCH:,}/commit",
            Target(">=", batch_target),
        ),
    ]


def throughput_rows(
    backend: str,
    measure: str,
    figure: float,
    baselines: Sequence[Baseline],
    baseline_figures: Sequence[float],
    how: str,
    target: Target | None = None,
) -> list[Result]:
    """One result row per baseline, all for the same govledger figure."""
    return [
        Result(measure, figure, "entries/s", f"{baseline.label}, {how}", baseline_figure, target, section=backend)
        for baseline, baseline_figure in zip(baselines, baseline_figures, strict=True)
    ]


def sqlite_appends(cfg: Config, work: Path, pool: Sequence[Item], rows: Sequence[Sealed], actor: Actor) -> list[Result]:
    home = work / "home"
    with (
        open_ledger(sqlite_url(work / "appends.db"), home, "appends") as ledger,
        raw_sqlite(work / "raw-appends.db") as raw,
        replay_sqlite(work / "replay.db", home) as replay,
    ):
        baselines = [
            Baseline("raw sqlite3 plain table", raw),
            Baseline("raw sqlite3 replaying the ledger's SQL", replay, start=1),
        ]
        return append_results("SQLite", ledger, baselines, pool, rows, actor, cfg, 50_000)


def postgres_appends(
    cfg: Config, work: Path, pool: Sequence[Item], rows: Sequence[Sealed], actor: Actor, notes: list[str]
) -> list[Result]:
    assert cfg.postgres_url is not None
    error = postgres_error(cfg.postgres_url)
    if error is not None:
        notes.append(f"PostgreSQL skipped: unreachable at {cfg.postgres_url}: {error}")
        console.log(notes[-1], style="yellow", markup=False)
        return []
    base = cfg.postgres_url
    conninfo = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with postgres_schema(base) as schema:
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        with open_ledger(url, work / "home", "postgres") as ledger, raw_postgres(conninfo, schema) as raw:
            baselines = [Baseline("raw psycopg plain table", raw)]
            appended = append_results("PostgreSQL", ledger, baselines, pool, rows, actor, cfg, 20_000)
            return appended + postgres_verify_results(ledger, conninfo, schema, cfg)


def raw_pg_scan(conninfo: str, schema: str, *, hash_bodies: bool) -> int:
    """Read every row the verifier reads with raw psycopg (one server-side cursor, binary results,
    5,000 rows a fetch); optionally re-hash each body like a leaf."""
    count = bad = 0
    with (
        psycopg.connect(conninfo, options=f"-csearch_path={schema}") as conn,
        conn.cursor(name="raw_scan", binary=True) as cursor,
    ):
        cursor.itersize = 5_000
        cursor.execute("SELECT seq, body, leaf_hash, closes, kind, subject, ts FROM entries ORDER BY seq")
        for _seq, body, leaf, _closes, _kind, _subject, _ts in cursor:
            if hash_bodies and sha256(b"\x00" + body).digest() != leaf:
                bad += 1
            count += 1
    if bad:
        raise RuntimeError(f"{bad} stored bodies do not hash to their leaf hash")
    return count


def postgres_verify_results(ledger: Ledger, conninfo: str, schema: str, cfg: Config) -> list[Result]:
    """Deep verify of the PostgreSQL ledger the append trials filled, beside raw psycopg reads of its rows."""
    console.log(f"PostgreSQL deep verify of {ledger.size:,} entries")
    raw_pg_scan(conninfo, schema, hash_bodies=False)  # warm the server's buffers for every contender alike
    verify, (hashed, read) = compare(
        lambda: deep_verify(ledger),
        [
            lambda: raw_pg_scan(conninfo, schema, hash_bodies=True),
            lambda: raw_pg_scan(conninfo, schema, hash_bodies=False),
        ],
        for_seconds(cfg.verify_seconds),
        cfg.trials,
    )
    target, section, rate = Target(">=", 150_000), "PostgreSQL", "entries/s"
    return [
        Result("deep verify", verify, rate, "raw psycopg read + sha256 per row", hashed, target, section=section),
        Result("deep verify", verify, rate, "raw psycopg read of the rows alone", read, target, section=section),
    ]


# -- 4-5: the big ledger: deep verify and proofs --------------------------------------------------
def build_note(marks: Sequence[tuple[int, float]]) -> str:
    """The build rate overall and in its first and last tenth: append cost grows with the table."""

    def rate_between(a: tuple[int, float], b: tuple[int, float]) -> float:
        return (b[0] - a[0]) / (b[1] - a[1])

    tenth = max(1, (len(marks) - 1) // 10)
    head, tail = (marks[0], marks[tenth]), (marks[-1 - tenth], marks[-1])
    return (
        f"building the {marks[-1][0]:,}-entry ledger with append_many({BUILD_BATCH:,}): "
        f"{rate_between(marks[0], marks[-1]):,.0f} entries/s overall, {rate_between(*head):,.0f}/s over the first "
        f"{head[1][0] - head[0][0]:,} entries, {rate_between(*tail):,.0f}/s over the last {tail[1][0] - tail[0][0]:,}"
    )


def deep_verify(ledger: Ledger) -> int:
    report = ledger.verify(deep=True)
    if not report.ok:
        raise RuntimeError(f"deep verify found problems: {report.problems[:3]}")
    return report.entries_checked


def raw_scan(path: Path, *, hash_bodies: bool) -> int:
    """Read every row the verifier reads with raw sqlite3; optionally re-hash each body like a leaf."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    count = bad = 0
    try:
        query = "SELECT seq, body, leaf_hash, closes, kind, subject FROM entries ORDER BY seq"
        for _seq, body, leaf, _closes, _kind, _subject in conn.execute(query):
            if hash_bodies and sha256(b"\x00" + body).digest() != leaf:
                bad += 1
            count += 1
    finally:
        conn.close()
    if bad:
        raise RuntimeError(f"{bad} stored bodies do not hash to their leaf hash")
    return count


def verify_results(ledger: Ledger, path: Path, cfg: Config) -> list[Result]:
    console.log(f"deep verify of {ledger.size:,} entries")
    raw_scan(path, hash_bodies=False)  # warm the page cache for every contender alike
    verify, (hashed, read) = compare(
        lambda: deep_verify(ledger),
        [lambda: raw_scan(path, hash_bodies=True), lambda: raw_scan(path, hash_bodies=False)],
        for_seconds(cfg.verify_seconds),
        cfg.trials,
    )
    target = Target(">=", 200_000)
    return [
        Result(
            "deep verify", verify, "entries/s", "raw sqlite3 read + sha256 per row", hashed, target, section="SQLite"
        ),
        Result(
            "deep verify", verify, "entries/s", "raw sqlite3 read of the rows alone", read, target, section="SQLite"
        ),
    ]


def pk_select(path: Path, size: int, rng: random.Random, samples: int) -> list[float]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT body, leaf_hash FROM entries WHERE seq = ?"
        return latencies_ms(lambda: conn.execute(query, (rng.randrange(size),)).fetchone(), samples)
    finally:
        conn.close()


def checked_inclusion(ledger: Ledger, size: int, rng: random.Random, samples: int) -> list[float]:
    seqs = [rng.randrange(size) for _ in range(samples)]
    timings = latencies_ms(lambda: ledger.inclusion_proof(seqs.pop(), size), samples)
    for seq in rng.sample(range(size), min(50, size)):  # untimed: the proofs must be valid
        ledger.inclusion_proof(seq, size).verify()
    return timings


def checked_consistency(ledger: Ledger, size: int, rng: random.Random, samples: int) -> list[float]:
    olds = [rng.randrange(1, size) for _ in range(samples)]
    timings = latencies_ms(lambda: ledger.consistency_proof(olds.pop(), size), samples)
    for old in rng.sample(range(1, size), min(50, size - 1)):
        ledger.consistency_proof(old, size).verify()
    return timings


def latency_rows(
    measure: str, timings: Sequence[float], baseline: str, base: Sequence[float], median_target: Target | None = None
) -> list[Result]:
    return [
        Result(
            f"{measure} median",
            statistics.median(timings),
            "ms",
            f"{baseline} median",
            statistics.median(base),
            median_target,
            section="SQLite",
        ),
        Result(
            f"{measure} p99", percentile(timings, 99), "ms", f"{baseline} p99", percentile(base, 99), section="SQLite"
        ),
    ]


def proof_results(ledger: Ledger, path: Path, cfg: Config) -> list[Result]:
    size, rng = ledger.size, random.Random(11)
    console.log(f"inclusion and consistency proofs on {size:,} entries ({cfg.proof_samples:,} each)")
    latencies_ms(lambda: ledger.inclusion_proof(rng.randrange(size), size), 200)  # warm the connection pool
    inclusion = checked_inclusion(ledger, size, rng, cfg.proof_samples)
    consistency = checked_consistency(ledger, size, rng, cfg.proof_samples)
    select = pk_select(path, size, rng, cfg.proof_samples)
    base = "raw sqlite3 SELECT 1 row by PK"
    inclusion_rows = latency_rows(f"inclusion proof (n={size:,})", inclusion, base, select, Target("<=", 2.0))
    return inclusion_rows + latency_rows(f"consistency proof (n={size:,})", consistency, base, select)


def big_ledger(cfg: Config, work: Path, pool: Sequence[Item], actor: Actor, notes: list[str]) -> list[Result]:
    path = work / "big.db"
    with open_ledger(sqlite_url(path), work / "home", "big") as ledger:
        console.log(f"building a {cfg.proof_entries:,}-entry SQLite ledger (append_many, {BUILD_BATCH:,}/call)")
        notes.append(build_note(build_ledger(ledger, pool, actor, cfg.proof_entries)))
        notes.append(f"the {ledger.size:,}-entry SQLite file is {path.stat().st_size / 1e6:,.0f} MB")
        console.log(notes[-2])
        return verify_results(ledger, path, cfg) + proof_results(ledger, path, cfg)


# -- 6: checkpoint coverage -----------------------------------------------------------------------
class CheckpointWatcher(threading.Thread):
    """Polls latest_checkpoint() and records when each larger checkpoint first became visible."""

    def __init__(self, ledger: Ledger, interval: float = 0.002) -> None:
        super().__init__(name="bench-checkpoint-watcher", daemon=True)
        self.ledger, self.interval = ledger, interval
        self.stop = threading.Event()
        self.sizes: list[int] = []
        self.seen_at: list[float] = []

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            latest = self.ledger.latest_checkpoint()
            if latest is not None and (not self.sizes or latest.size > self.sizes[-1]):
                self.seen_at.append(time.perf_counter())
                self.sizes.append(latest.size)

    def covered_at(self, seq: int) -> float | None:
        """When a checkpoint covering entry `seq` (size > seq) was first seen."""
        index = bisect.bisect_right(self.sizes, seq)
        return self.seen_at[index] if index < len(self.seen_at) else None

    def wait_for(self, seq: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.covered_at(seq) is None and time.perf_counter() < deadline:
            time.sleep(0.01)


def steady_appends(writer: LedgerWriter, per_second: float, seconds: float) -> list[tuple[int, str, float]]:
    """Single appends at a steady rate: (seq, entry ts, perf_counter when the append was called)."""
    out = []
    start = time.perf_counter()
    for i in range(int(per_second * seconds)):
        delay = start + i / per_second - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        called = time.perf_counter()
        item = writer.pool[i % len(writer.pool)]
        receipt = writer.ledger.append(KIND, item["data"], actor=writer.actor, subject=item["subject"])
        out.append((receipt.seq, receipt.ts, called))
    return out


def ts_coverage_ms(path: Path, appended: Sequence[tuple[int, str, float]]) -> list[float]:
    """Coverage from the stored timestamps: checkpoint `ts` minus entry `ts` (both RFC 3339 UTC)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        checkpoints = conn.execute("SELECT size, ts FROM checkpoints ORDER BY size").fetchall()
    finally:
        conn.close()
    sizes = [size for size, _ in checkpoints]
    out = []
    for seq, entry_ts, _ in appended:
        index = bisect.bisect_right(sizes, seq)
        if index < len(sizes):
            gap = datetime.strptime(checkpoints[index][1], TS_FORMAT) - datetime.strptime(entry_ts, TS_FORMAT)
            out.append(gap.total_seconds() * 1000)
    return out


def ed25519_sign_ms(samples: int) -> list[float]:
    key = Ed25519PrivateKey.generate()
    message = f"bench.govledger.local/coverage\n1000000\n{base64.b64encode(os.urandom(32)).decode()}\n".encode()
    return latencies_ms(lambda: key.sign(message), samples)


def coverage(cfg: Config, work: Path, pool: Sequence[Item], actor: Actor) -> list[Result]:
    path = work / "coverage.db"
    console.log(f"checkpoint coverage: {cfg.coverage_rate:.0f} single appends/s for {cfg.coverage_seconds:.0f} s")
    with open_ledger(sqlite_url(path), work / "home", "coverage") as ledger:
        watcher = CheckpointWatcher(ledger)
        watcher.start()
        appended = steady_appends(LedgerWriter(ledger, pool, actor), cfg.coverage_rate, cfg.coverage_seconds)
        watcher.wait_for(appended[-1][0], timeout=5.0)
        watcher.stop.set()
        watcher.join()
        seen = [(watcher.covered_at(seq), called) for seq, _, called in appended]
        polled = [(at - called) * 1000 for at, called in seen if at is not None]
        if len(polled) < len(appended):
            console.log(f"[red]{len(appended) - len(polled)} entries were not covered within 5 s")
        stamped = ts_coverage_ms(path, appended)
    sign = ed25519_sign_ms(2_000)
    base, target = "one Ed25519 sign", Target("<=", 1000.0)
    p50, p99 = statistics.median(sign), percentile(sign, 99)
    return [
        Result(
            "checkpoint coverage p50 (polled)", statistics.median(polled), "ms", f"{base} median", p50, section="SQLite"
        ),
        Result(
            "checkpoint coverage p99 (polled)",
            percentile(polled, 99),
            "ms",
            f"{base} p99",
            p99,
            target,
            section="SQLite",
        ),
        Result(
            "checkpoint coverage p50 (ts columns)",
            statistics.median(stamped),
            "ms",
            f"{base} median",
            p50,
            section="SQLite",
        ),
        Result(
            "checkpoint coverage p99 (ts columns)",
            percentile(stamped, 99),
            "ms",
            f"{base} p99",
            p99,
            target,
            section="SQLite",
        ),
    ]


# -- driver ---------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short trials and a 50,000-entry proof ledger (~1 min)")
    parser.add_argument(
        "--postgres-url", default=DEFAULT_PG_URL, help=f"server for section 3 (default {DEFAULT_PG_URL})"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--proof-entries",
        type=int,
        default=None,
        help="size of the big SQLite ledger (default 1,000,000; 50,000 with --quick)",
    )
    parser.add_argument(
        "--subjects", type=int, default=1_000, help="distinct subjects the entries are spread over (default 1,000)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    return Config(
        trials=1 if quick else 3,
        single_entries=500 if quick else 3_000,
        batched_entries=20 * BATCH if quick else 100 * BATCH,
        verify_seconds=1.0 if quick else 3.0,
        subjects=max(1, args.subjects),
        proof_entries=max(2, args.proof_entries or (50_000 if quick else 1_000_000)),
        proof_samples=500 if quick else 5_000,
        coverage_rate=200.0,
        coverage_seconds=3.0 if quick else 10.0,
        postgres_url=None if args.no_postgres else args.postgres_url,
    )


def run(cfg: Config) -> tuple[list[Result], list[str]]:
    actor = local_actor()
    pool = note_items(BUILD_BATCH, actor, cfg.subjects)
    rows = sealed_rows(pool, actor)
    notes = [
        f"payload: a pool of {len(pool):,} note.recorded items over {cfg.subjects:,} subjects, mean canonical entry "
        f"{statistics.mean(len(row.body) for row in rows):.0f} bytes",
        f"append trials: {cfg.trials} interleaved per contender; each writes {cfg.single_entries:,} single entries, "
        f"then {cfg.batched_entries:,} batched, so all tables grow alike (0 -> "
        f"{cfg.trials * (cfg.single_entries + cfg.batched_entries):,} entries)",
    ]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="govledger-bench-") as tmp:
        work = Path(tmp)
        sections: list[tuple[str, Callable[[], list[Result]]]] = [
            ("SQLite appends", lambda: sqlite_appends(cfg, work, pool, rows, actor)),
            ("PostgreSQL appends", lambda: postgres_appends(cfg, work, pool, rows, actor, notes)),
            ("deep verify and proofs", lambda: big_ledger(cfg, work, pool, actor, notes)),
            ("checkpoint coverage", lambda: coverage(cfg, work, pool, actor)),
        ]
        for name, section in sections:
            if name.startswith("PostgreSQL") and cfg.postgres_url is None:
                continue
            try:
                results += section()
            except Exception as exc:  # report the other sections' figures anyway
                console.print_exception(max_frames=5)
                notes.append(f"section {name!r} FAILED: {type(exc).__name__}: {exc}")
    return results, notes


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    header = environment(["psycopg"])
    started = time.perf_counter()
    results, notes = run(cfg)
    command = " ".join(["python -m bench.ledger_bench", *(sys.argv[1:] if argv is None else argv)])
    lines = [*header, f"run time: {time.perf_counter() - started:.0f} s", f"load average at end: {load_average()}"]
    print_report(command, [*lines, *notes], results, title="govledger vs baselines (ratio = govledger ÷ baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
