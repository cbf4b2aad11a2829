"""What the check before signing costs (`ledger.storage.tail_check`), as ratios in the same run.

Run from the repository root::

    .venv/bin/python -m bench.tail_check_bench [--entries N] [--trials N] [--postgres-url URL]

Rows, each the median of three interleaved trials on a fresh ledger per trial:

- batched append, 1,000 ~300-byte entries per batch and a checkpoint every 10,000 entries:
  with the check off (the baseline: what signing cost before), with the check as it runs by
  default (one writer: the head is what this sequencer wrote, so nothing is read back), and with
  the check forced on every signature (what a second writer, or a tail written by another
  process, pays: the unsigned entries are read back and checked);
- the check alone over N unsigned entries (one `checkpoint()` after N appends), against its
  floor: the same rows read with the driver and SHA-256'd (`store.iter_entry_rows`).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path

from bench.harness import postgres_schema
from ledger.api import Ledger, local_actor
from ledger.storage import store
from ledger.storage.sequencer import CheckpointPolicy

BATCH = 1000
TEXT = "x" * 200  # with the envelope, a ~330-byte entry


def _open(url: str, home: Path, policy: CheckpointPolicy) -> Ledger:
    ledger = Ledger.open(url, home=home, policy=policy)
    ledger.init(origin="bench.example/log")
    return ledger


def _append_rate(url: str, home: Path, entries: int, mode: str) -> float:
    ledger = _open(url, home, CheckpointPolicy(after_batch=False, every_entries=10_000, max_delay_s=None))
    sequencer = ledger._sequencer
    sequencer.tail.enabled = mode != "off"
    items = [{"kind": "note.recorded", "data": {"text": TEXT}} for _ in range(BATCH)]
    start = time.perf_counter()
    for _ in range(entries // BATCH):
        if mode == "forced":
            sequencer.tail.vouched = None  # as if another process had written the tail
        ledger.append_many(items, actor=local_actor())
    elapsed = time.perf_counter() - start
    ledger.close()
    return (entries // BATCH) * BATCH / elapsed


def _check_rates(url: str, home: Path, entries: int) -> tuple[float, float]:
    ledger = _open(url, home, CheckpointPolicy(after_batch=False, every_entries=None, max_delay_s=None))
    items = [{"kind": "note.recorded", "data": {"text": TEXT}} for _ in range(BATCH)]
    for _ in range(entries // BATCH):
        ledger.append_many(items, actor=local_actor())
    with ledger.read_snapshot() as conn:
        head = store.read_head(conn)
        start = time.perf_counter()
        for _seq, body, *_rest in store.iter_entry_rows(conn, head.checkpoint_size, head.size):
            sha256(b"\x00" + body).digest()
        raw = (head.size - head.checkpoint_size) / (time.perf_counter() - start)
    ledger._sequencer.tail.vouched = None
    with ledger.read_snapshot() as conn:
        start = time.perf_counter()
        ledger._sequencer.tail.check(conn, store.read_head(conn))
        checked = (head.size - head.checkpoint_size) / (time.perf_counter() - start)
    ledger.close()
    return checked, raw


@contextlib.contextmanager
def _database(root: Path, n: int, postgres_url: str | None) -> Iterator[tuple[str, Path]]:
    """A fresh database for one trial: a SQLite file, or a schema of its own on the server."""
    trial = root / f"t{n}"
    trial.mkdir()
    if postgres_url is None:
        yield f"sqlite:///{trial / 'ledger.db'}", trial / "home"
        return
    with postgres_schema(postgres_url) as schema:
        yield f"{postgres_url}{'&' if '?' in postgres_url else '?'}options=-csearch_path%3D{schema}", trial / "home"


def _run(backend: str, postgres_url: str | None, entries: int, trials: int) -> None:
    rates: dict[str, list[float]] = {"off": [], "default": [], "forced": []}
    checks: list[tuple[float, float]] = []
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for _ in range(trials):
            for mode in rates:
                n += 1
                with _database(root, n, postgres_url) as (url, home):
                    rates[mode].append(_append_rate(url, home, entries, mode))
            n += 1
            with _database(root, n, postgres_url) as (url, home):
                checks.append(_check_rates(url, home, entries))
    off = statistics.median(rates["off"])
    print(f"\n{backend}, {entries:,} entries, median of {trials} interleaved trials")
    print(f"{'measure':<62} {'entries/s':>12} {'ratio':>7}")
    print(f"{'batched append, check off (baseline)':<62} {off:>12,.0f} {1.0:>7.2f}")
    for mode, label in (("default", "check on, one writer (head vouched)"), ("forced", "check forced each sign")):
        value = statistics.median(rates[mode])
        print(f"{'batched append, ' + label:<62} {value:>12,.0f} {value / off:>7.2f}")
    checked = statistics.median(c for c, _ in checks)
    raw = statistics.median(r for _, r in checks)
    print(f"{'raw read + SHA-256 of the unsigned rows (baseline)':<62} {raw:>12,.0f} {1.0:>7.2f}")
    print(f"{'the tail check alone':<62} {checked:>12,.0f} {checked / raw:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=30_000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--postgres-url", help="also on this PostgreSQL server (a schema per trial)")
    args = parser.parse_args()
    _run("SQLite", None, args.entries, args.trials)
    if args.postgres_url:
        _run("PostgreSQL", args.postgres_url, args.entries, args.trials)


if __name__ == "__main__":
    main()
