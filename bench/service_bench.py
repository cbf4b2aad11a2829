"""The HTTP service under load: decision ingest and decision traces over a real uvicorn server,
each figure beside a baseline measured in the same run.

Run from the repository root::

    .venv/bin/python -m bench.service_bench [--quick] [--postgres-url URL | --no-postgres] [--trace-entries N]
                                            [--profile DIR]

For each backend (SQLite, then PostgreSQL if reachable) the benchmark prepares a ledger through
the Python API: init, a producer API key (`create_api_key`, an `access.key_created` entry), and
a lineage chain (`build_chain`: datasets, run, model credit@1, an approval by another key,
promotion). On PostgreSQL the ledgers' tables are ANALYZEd before every trial round
(see `analyze`: the test server has autovacuum off). It starts ``python -m bench.service_app``
as a separate process on 127.0.0.1 (uvicorn, one process, its defaults: uvloop and httptools;
access log off) with GOVLEDGER_DATABASE_URL /
GOVLEDGER_HOME pointing at that ledger. `bench.service_app` is the production `create_app()`
plus trivial routes under ``/bench`` that do no ledger work. The throughput clients are
`bench.http_load` in this process: N keep-alive connections on one asyncio loop, pre-encoded
requests, about 0.03-0.06 ms of client CPU per request (httpx, used before, cost about 1 ms and
capped the single-request figures itself); latencies use a synchronous `httpx.Client` (one
connection, one request at a time). On 2 cores one server process gets one core's worth of
Python (one GIL) and the client the other. What is measured, and beside what:

1. Batched ingest: ``POST /v1/decisions`` with JSON arrays of 1,000 decisions (4 connections),
   with a small `input` object (so the server seals it under a fresh per-subject key) and
   without. Baselines:
   - `Ledger.append_many` in-process (no HTTP) of the same number of `decision.recorded` entries,
     prepared beforehand (lineage facts filled in, input sealed; the preparation is not timed),
     on a second ledger of the same setup: the cost of appending alone.
   - `record_decisions` in-process (prepare + append, what the route runs in its thread pool)
     on a third ledger: everything but HTTP.
   - ``POST /bench/echo`` with the same bodies: HTTP, routing, middleware and parsing (`parse_json`).
2. Single-decision POSTs over 64 connections (a fleet of scoring workers, each waiting for its
   answer; concurrent requests share a write transaction, see `ledger.service.group_commit`),
   with and without input, and with input over 4 connections (the figure of earlier runs).
   Baselines: ``POST /bench/echo`` with the same bodies and connections, and `record_decisions`
   of one decision per call, in-process, one thread.
3. The same service in 2 processes (`ledger.cli.serve_workers`, what ``govledger serve
   --workers 2`` runs: one listening socket per process, the kernel spreading connections by a
   hash of the client port, so 4 connections would land 4-0 one time in eight; batches use 8
   here): batched and single decisions with input, beside the one-process figures of this run
   and the echo endpoint on the 2-process server.
4. ``GET /v1/decisions/{id}/trace`` on a ledger grown to --trace-entries entries (default
   1,000,000) with `append_many` of decisions, 10,000 per call: median and p99 over random
   decisions, one request at a time. Baselines: ``GET /bench/ping`` and
   ``GET /v1/entries/{seq}`` (one authenticated read with an inclusion proof) at random seqs,
   interleaved request by request with the traces. A few trace proof packs are verified
   (`verify_pack`) outside the timing.

Throughput figures are the median of 3 interleaved trials (1 with --quick); in each trial every
contender handles the same number of decisions (20,000 batched and 1,000 single ones; 5,000 and
200 with --quick), so all ledgers grow alike. Latencies: 1,000 requests each (200 with --quick),
on a 50,000-entry ledger with --quick. Every decision has
its own subject (a scoring service sees each applicant once), so each one with input creates a
subject key. Server CPU time per decision is read from /proc for every HTTP trial and printed
below the table. With --profile DIR, py-spy (if installed) samples the server during each phase
and writes collapsed stacks to DIR. Every server process is stopped when its phase ends, also
on errors; all files live in a temporary directory that is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.harness import (
    DEFAULT_PG_URL,
    Result,
    Target,
    console,
    environment,
    load_average,
    percentile,
    postgres_error,
    postgres_schema,
    print_report,
)
from bench.http_load import encode_request, run_connections
from ledger.access.api_keys import Role, create_api_key, split_token
from ledger.api import Ledger
from ledger.config import Settings
from ledger.lineage import open_governance_ledger
from ledger.lineage.decisions import prepare_decisions, record_decisions
from ledger.log.entry import Actor
from ledger.storage.db import create_engine
from ledger.verification.proofpack import verify_pack

BATCH = 1_000
BUILD_BATCH = 10_000
BATCH_CLIENTS = 4
MULTI_BATCH_CLIENTS = 8  # 2 processes: 4 connections land 4-0 on one of them one time in eight
WORKERS = 2  # the multi-process figures: `govledger serve --workers 2`
SINGLE_CLIENTS = 64  # a fleet of scoring workers, each waiting for its answer
FEW_CLIENTS = 4  # the figure of earlier runs, for comparison
MODEL = {"name": "credit", "version": "1"}
INPUT = {"age": 37, "income": 52_000, "employment_years": 6, "existing_loans": 1, "region": "north-west"}
INPUT_SCHEMA = "credit-features/1"
APP = "bench.service_app:create_bench_app"
REPO = Path(__file__).resolve().parent.parent
KEY_NAME = "bench-producer"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Config:
    trials: int  # interleaved trials per throughput figure
    batches: int  # 1,000-decision batches per contender per trial
    singles: int  # single-decision requests (or calls) per contender per trial
    trace_entries: int  # size of the ledger the traces are read from
    trace_samples: int  # timed requests per latency figure
    postgres_url: str | None
    profile_dir: Path | None


# -- decisions --------------------------------------------------------------------------------------
class Ids:
    """Unique decision ids for the whole run (every ledger refuses a decision id twice)."""

    def __init__(self) -> None:
        self.count = 0

    def take(self, prefix: str, n: int) -> list[str]:
        start, self.count = self.count, self.count + n
        return [f"{prefix}-{i:08d}" for i in range(start, start + n)]


# -- the lineage the decisions name ---------------------------------------------------------------------
DATA_SCIENTIST = Actor("key:ds1", "dana (data scientist)")
RISK_OFFICER = Actor("key:ro1", "rui (risk officer)")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dataset(dataset_id: str, *, derived_from: list[str] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {
        "dataset_id": dataset_id,
        "content_sha256": sha(dataset_id),
        "columns": [{"name": "age", "type": "int"}, {"name": "sex", "type": "category"}, {"name": "y", "type": "int"}],
        "rows": 1000,
        "source_uri": f"s3://bucket/{dataset_id}.csv",
        "licence": "CC-BY-4.0",
        "sensitive_attributes": ["sex"],
    }
    if derived_from:
        value["derived_from"] = derived_from
        value["transformation"] = "dropped rows with missing values"
    return value


def build_chain(ledger: Ledger) -> dict[str, Any]:
    """raw -> clean -> run -> model credit@1 (approved by another person, promoted); returns the
    lineage facts a decision of credit@1 names."""
    model = {"name": "credit", "version": "1"}
    ledger.append("dataset.registered", dataset("adult-raw"), actor=DATA_SCIENTIST)
    ledger.append("dataset.registered", dataset("adult-clean", derived_from=["adult-raw"]), actor=DATA_SCIENTIST)
    run = {
        "run_id": "run-1",
        "code_version": "git:abc123",
        "parameters": {"max_depth": 3, "learning_rate": 0.1},
        "environment": {"python": "3.11", "sklearn": "1.5"},
        "input_datasets": ["adult-clean"],
        "metrics": {"auc": 0.87},
        "artifact_sha256": sha("model-bytes"),
    }
    ledger.append("training_run.recorded", run, actor=DATA_SCIENTIST)
    registered = {"model": model, "artifact_sha256": sha("model-bytes"), "run_id": "run-1", "intended_use": "credit"}
    ledger.append("model.registered", registered, actor=DATA_SCIENTIST)
    approval = {"approval_id": "appr-1", "model": model, "decision": "approve", "role": "approver"}
    ledger.append("approval.recorded", approval, actor=RISK_OFFICER)
    promotion = {"model": model, "stage": "production", "approval_ids": ["appr-1"]}
    promoted = ledger.append("model.promoted", promotion, actor=RISK_OFFICER)
    return {
        "model": model,
        "model_artifact_sha256": sha("model-bytes"),
        "training_run_id": "run-1",
        "dataset_ids": ["adult-clean"],
        "promotion_seq": promoted.seq,
    }


def decision(decision_id: str, ledger_facts: dict[str, Any], *, subject: str) -> dict[str, Any]:
    """A decision of credit@1 without personal input (`decision_request` adds one)."""
    return {
        "decision_id": decision_id,
        "request_id": f"req-{decision_id}",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "ts_start": "2026-11-23T10:00:00Z",
        "ts_end": "2026-11-23T10:00:00.120Z",
        "subject_ref": subject,
        "output": {"decision": "approve", "score": 0.42, "adverse": False},
        "retention": {"retention_class": "reg-b", "earliest_purge": "2029-01-01"},
        "not_applicable": {
            "deployment": "single test deployment",
            "input": "no personal input in this decision",
            "reference_database_id": "no matching against a reference database",
            "explanation": "explanations are not measured here",
            "notice": "notices are sent by another system",
        },
        **ledger_facts,
    }


def decision_request(decision_id: str, *, with_input: bool) -> dict[str, Any]:
    """What a scoring service sends: the server fills the lineage facts in (and seals `input`)."""
    value = decision(decision_id, {"model": dict(MODEL)}, subject=f"applicant-{decision_id}")
    if with_input:
        value["input"] = dict(INPUT)
        value["input_schema_version"] = INPUT_SCHEMA
        value["not_applicable"].pop("input", None)  # `decision` explains a missing input away
    return value


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# -- ledgers ----------------------------------------------------------------------------------------
@dataclass
class Prepared:
    url: str
    token: str
    actor: Actor  # the producer key's actor, as the service would name it
    facts: dict[str, Any]  # lineage facts of credit@1, for decisions appended directly


def open_ledger(url: str, home: Path) -> Ledger:
    return open_governance_ledger(Settings(database_url=url, home=home))


def prepare(url: str, home: Path, origin: str) -> Prepared:
    """init, one producer key, the lineage chain up to credit@1 in production."""
    ledger = open_ledger(url, home)
    try:
        ledger.init(origin=origin)
        token, _ = create_api_key(
            ledger, name=KEY_NAME, role=Role.PRODUCER, actor=Actor("local:bench", "service bench")
        )
        parts = split_token(token)
        assert parts is not None
        facts = build_chain(ledger)
    finally:
        ledger.close()
    return Prepared(url, token, Actor(f"key:{parts[0]}", KEY_NAME), facts)


def analyze(urls: Sequence[str]) -> None:
    """PostgreSQL only: ANALYZE the ledgers' own tables (untimed), standing in for autovacuum.

    The test server runs with ``autovacuum = off``, so without this its tables never get
    statistics, and the planner may answer the batched ``... IN (500 ids)`` lookups of
    `record_decisions` (`_existing`, the hook's `_missing`, `subject_keys`) with sequential scans:
    in two runs without it the in-process baselines fell from ~9,000 to 300-700 decisions/s as
    the tables grew, while the server process (whose prepared statements had settled on index
    plans) did not. A live server with autovacuum on re-analyses a table after 10 % of it
    changed; running this before every trial round keeps the statistics at least that fresh.
    """
    for url in urls:
        engine = create_engine(url)
        try:
            if engine.dialect.name != "postgresql":
                return
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                query = text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                for table in conn.execute(query).scalars().all():
                    conn.execute(text(f'ANALYZE "{table}"'))
        finally:
            engine.dispose()


def grow(ledger: Ledger, prepared: Prepared, ids: Ids, entries: int) -> tuple[list[str], float]:
    """Append decisions (facts filled in, no input) with append_many(BUILD_BATCH) until the log has
    `entries` entries. Returns the new decision ids and the append rate (item building untimed)."""
    added: list[str] = []
    appending = 0.0
    while ledger.size < entries:
        batch = ids.take("t", min(BUILD_BATCH, entries - ledger.size))
        items = [
            {"kind": "decision.recorded", "data": decision(d, prepared.facts, subject=f"applicant-{d}")} for d in batch
        ]
        start = time.perf_counter()
        ledger.append_many(items, actor=prepared.actor)
        appending += time.perf_counter() - start
        added += batch
    return added, len(added) / appending if appending else float("nan")


# -- the server -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) and of its live child processes (uvicorn's
    workers), from /proc; NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGINT (a graceful stop for uvicorn and py-spy), then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base}/bench/ping", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_S:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def serve(url: str, home: Path, log: Path, workers: int = 1) -> Iterator[Server]:
    """uvicorn serving the bench app over the ledger at `url`, on 127.0.0.1 (`workers` processes);
    stopped on exit."""
    port = free_port()
    env = {**os.environ, "GOVLEDGER_DATABASE_URL": url, "GOVLEDGER_HOME": str(home)}
    env.pop("GOVLEDGER_SIGNING_KEY", None)
    command = [sys.executable, "-m", "bench.service_app", "--port", str(port), "--workers", str(workers)]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(server)
        yield server
    finally:
        stop_process(process)


@contextlib.contextmanager
def profiled(server: Server, out: Path | None) -> Iterator[None]:
    """py-spy sampling the server (collapsed stacks in `out`) while the block runs; no-op without `out`."""
    if out is None:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(server.process.pid), "--rate", "200", "--nonblocking"]
    command += ["--format", "raw", "--output", str(out)]
    try:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as exc:
        console.log(f"[yellow]py-spy not started ({exc}); no profile for {out.name}")
        yield
        return
    try:
        time.sleep(0.5)  # let it attach
        yield
    finally:
        stop_process(process, timeout=60.0)


# -- HTTP load --------------------------------------------------------------------------------------
Request = tuple[str, str, bytes | None]  # method, path, body


@dataclass(frozen=True)
class Load:
    elapsed: float
    server_cpu: float  # seconds of server CPU during the timed part
    client_cpu: float  # seconds of this process's CPU during the timed part
    bodies: list[bytes]  # response bodies, in request order


def http_load(server: Server, token: str, requests: Sequence[Request], clients: int, expect: int = 201) -> Load:
    """Send `requests` over `clients` keep-alive connections (`bench.http_load`); every answer must
    have status `expect`. Server CPU is read from /proc around the timed part."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    wire = [encode_request(method, path, body, headers) for method, path, body in requests]
    warm = [encode_request("GET", "/bench/ping", None, {})] * clients  # open the connections first
    asyncio.run(run_connections(server.base, warm, clients))
    cpu, server_cpu, start = time.process_time(), server.cpu(), time.perf_counter()
    answers = asyncio.run(run_connections(server.base, wire, clients))
    elapsed = time.perf_counter() - start
    load = Load(elapsed, server.cpu() - server_cpu, time.process_time() - cpu, [a.body for a in answers])
    failures = [
        f"{method} {path}: {a.status} {a.body[:300]!r}"
        for (method, path, _), a in zip(requests, answers, strict=True)
        if a.status != expect
    ]
    if failures:
        raise RuntimeError(f"{len(failures)} unexpected responses (wanted {expect}): {failures[:3]}")
    return load


@dataclass
class CpuNote:
    """Server and client CPU per item of one HTTP contender, over all its trials."""

    label: str
    unit: str
    items: int = 0
    elapsed: float = 0.0
    server: float = 0.0
    client: float = 0.0

    def add(self, load: Load, items: int) -> None:
        self.items += items
        self.elapsed += load.elapsed
        self.server += load.server_cpu
        self.client += load.client_cpu

    def line(self) -> str:
        per = 1000 / self.items if self.items else float("nan")
        return (
            f"{self.label}: server CPU {self.server * per:.3f} ms/{self.unit} "
            f"({self.server / self.elapsed:.0%} of one core), client CPU {self.client * per:.3f} ms/{self.unit}"
        )


# -- interleaved throughput trials ------------------------------------------------------------------
Contender = Callable[[], float]  # runs one trial, returns items/s


def interleaved(
    contenders: dict[str, Contender], trials: int, before_round: Callable[[], None] | None = None
) -> dict[str, float]:
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for trial in range(trials):
        if before_round is not None:
            before_round()  # untimed
        for name, run in contenders.items():
            rates[name].append(run())
            console.log(f"  trial {trial + 1}/{trials} {name}: {rates[name][-1]:,.0f}/s")
    return {name: statistics.median(values) for name, values in rates.items()}


@dataclass
class Phase:
    """One backend's contenders: the server's ledger, the two in-process ledgers, the server."""

    backend: str
    cfg: Config
    ids: Ids
    server: Server
    served: Prepared
    append_ledger: Ledger
    append_prepared: Prepared
    record_ledger: Ledger
    record_prepared: Prepared
    cpu: dict[str, CpuNote] = field(default_factory=dict)  # the current measurement's HTTP contenders
    kept: list[str] = field(default_factory=list)  # CPU notes of finished measurements
    posted: list[str] = field(default_factory=list)  # decision ids recorded through the server

    def refresh_statistics(self) -> None:
        analyze([self.served.url, self.append_prepared.url, self.record_prepared.url])

    def note(self, label: str, unit: str) -> CpuNote:
        return self.cpu.setdefault(label, CpuNote(f"{self.backend} {label}", unit))

    # 1. batches
    def batch_bodies(self, with_input: bool, batches: int) -> list[bytes]:
        return [
            json_bytes([decision_request(d, with_input=with_input) for d in self.ids.take("b", BATCH)])
            for _ in range(batches)
        ]

    def http_batches(self, path: str, with_input: bool, label: str, clients: int = BATCH_CLIENTS) -> float:
        bodies = self.batch_bodies(with_input, self.cfg.batches)
        load = http_load(self.server, self.served.token, [("POST", path, b) for b in bodies], clients)
        if path == "/v1/decisions":
            recorded = [r["decision_id"] for body in load.bodies for r in json.loads(body)["recorded"]]
            if len(recorded) != len(bodies) * BATCH:
                raise RuntimeError(f"{len(recorded)} decisions recorded of {len(bodies) * BATCH}")
            self.posted += recorded
        self.note(label, "decision").add(load, len(bodies) * BATCH)
        return len(bodies) * BATCH / load.elapsed

    def append_batches(self, with_input: bool) -> float:
        elapsed = 0.0
        for _ in range(self.cfg.batches):
            requests = [decision_request(d, with_input=with_input) for d in self.ids.take("b", BATCH)]
            items = prepare_decisions(self.append_ledger, requests).items  # not timed
            start = time.perf_counter()
            self.append_ledger.append_many(items, actor=self.append_prepared.actor)
            elapsed += time.perf_counter() - start
        return self.cfg.batches * BATCH / elapsed

    def record_calls(self, with_input: bool, calls: int, size: int) -> float:
        elapsed = 0.0
        for _ in range(calls):
            requests = [decision_request(d, with_input=with_input) for d in self.ids.take("r", size)]
            start = time.perf_counter()
            record_decisions(self.record_ledger, requests, actor=self.record_prepared.actor)
            elapsed += time.perf_counter() - start
        return calls * size / elapsed

    def batched(self) -> list[Result]:
        results = []
        for with_input in (True, False):
            how = "with input" if with_input else "without input"
            console.log(f"{self.backend}: batched ingest, {BATCH:,} decisions per POST, {how}")
            self.http_batches("/v1/decisions", with_input, f"batched POST /v1/decisions {how}")  # warm-up
            self.http_batches("/bench/echo", with_input, "warm-up")
            self.append_batches(with_input)
            self.record_calls(with_input, 1, BATCH)
            self.cpu.clear()
            contenders: dict[str, Contender] = {
                "POST /v1/decisions": lambda w=with_input, h=how: self.http_batches(
                    "/v1/decisions", w, f"batched POST /v1/decisions {h}"
                ),
                "append_many": lambda w=with_input: self.append_batches(w),
                "record_decisions": lambda w=with_input: self.record_calls(w, self.cfg.batches, BATCH),
                "POST /bench/echo": lambda w=with_input, h=how: self.http_batches(
                    "/bench/echo", w, f"batched POST /bench/echo {h}"
                ),
            }
            rates = interleaved(contenders, self.cfg.trials, self.refresh_statistics)
            self.keep_cpu_notes()
            measure = f"POST /v1/decisions, arrays of {BATCH:,}, {BATCH_CLIENTS} conns, {how}"
            target = Target(">=", 20_000)
            figure = rates["POST /v1/decisions"]
            results += [
                Result(
                    measure,
                    figure,
                    "decisions/s",
                    "Ledger.append_many in-process, same decisions prepared",
                    rates["append_many"],
                    target,
                    section=self.backend,
                ),
                Result(
                    measure,
                    figure,
                    "decisions/s",
                    f"record_decisions({BATCH:,}) in-process (prepare + append)",
                    rates["record_decisions"],
                    target,
                    section=self.backend,
                ),
                Result(
                    measure,
                    figure,
                    "decisions/s",
                    "trivial POST /bench/echo, same bodies (parsed)",
                    rates["POST /bench/echo"],
                    target,
                    section=self.backend,
                ),
            ]
        return results

    # 2. single decisions
    def http_singles(self, path: str, with_input: bool, label: str, count: int, clients: int) -> float:
        ids = self.ids.take("s", count)
        requests = [("POST", path, json_bytes(decision_request(d, with_input=with_input))) for d in ids]
        load = http_load(self.server, self.served.token, requests, clients)
        if path == "/v1/decisions":
            self.posted += ids
        self.note(label, "request").add(load, count)
        return count / load.elapsed

    def singles(self) -> list[Result]:
        console.log(f"{self.backend}: single-decision POSTs, {SINGLE_CLIENTS} and {FEW_CLIENTS} connections")
        n, warm = self.cfg.singles, min(200, self.cfg.singles)
        self.http_singles("/v1/decisions", True, "warm-up", warm, SINGLE_CLIENTS)
        self.http_singles("/bench/echo", True, "warm-up", warm, SINGLE_CLIENTS)
        self.record_calls(True, warm, 1)
        self.cpu.clear()
        many, few = SINGLE_CLIENTS, FEW_CLIENTS
        contenders: dict[str, Contender] = {
            f"{many} with input": lambda: self.http_singles(
                "/v1/decisions", True, f"single POST /v1/decisions, {many} conns, with input", n, many
            ),
            f"{many} without input": lambda: self.http_singles(
                "/v1/decisions", False, f"single POST /v1/decisions, {many} conns, without input", n, many
            ),
            f"{few} with input": lambda: self.http_singles(
                "/v1/decisions", True, f"single POST /v1/decisions, {few} conns, with input", n, few
            ),
            f"{many} echo": lambda: self.http_singles(
                "/bench/echo", True, f"single POST /bench/echo, {many} conns", n, many
            ),
            f"{few} echo": lambda: self.http_singles(
                "/bench/echo", True, f"single POST /bench/echo, {few} conns", n, few
            ),
            "record_decisions(1) with input": lambda: self.record_calls(True, n, 1),
            "record_decisions(1) without input": lambda: self.record_calls(False, n, 1),
        }
        rates = interleaved(contenders, self.cfg.trials, self.refresh_statistics)
        self.keep_cpu_notes()
        results = []
        for clients, how in ((many, "with input"), (many, "without input"), (few, "with input")):
            measure = f"single-decision POSTs, {clients} conns, {how}"
            figure, target = rates[f"{clients} {how}"], Target(">=", 1_500)
            results += [
                Result(
                    measure,
                    figure,
                    "requests/s",
                    f"trivial POST /bench/echo, same conns{', same bodies' if how == 'with input' else ''}",
                    rates[f"{clients} echo"],
                    target,
                    section=self.backend,
                ),
                Result(
                    measure,
                    figure,
                    "requests/s",
                    f"record_decisions(1) in-process, 1 thread, {how}",
                    rates[f"record_decisions(1) {how}"],
                    target,
                    section=self.backend,
                ),
            ]
        return results

    # 4. the same service in several processes (govledger serve --workers N)
    def multi_process(self, one_worker: list[Result]) -> list[Result]:
        """Run on a server with WORKERS processes (the caller swaps `self.server`); each figure
        beside the same measure on the one-process server earlier in this run, and beside the
        echo endpoint on this server (interleaved)."""
        many, n = SINGLE_CLIENTS, self.cfg.singles
        console.log(f"{self.backend}: {WORKERS} worker processes, batched and single decisions with input")
        self.http_batches("/v1/decisions", True, "warm-up")
        self.cpu.clear()
        contenders: dict[str, Contender] = {
            "batched": lambda: self.http_batches(
                "/v1/decisions",
                True,
                f"{WORKERS} workers: batched POST /v1/decisions with input, {MULTI_BATCH_CLIENTS} conns",
                MULTI_BATCH_CLIENTS,
            ),
            "batched echo": lambda: self.http_batches(
                "/bench/echo", True, f"{WORKERS} workers: batched POST /bench/echo", MULTI_BATCH_CLIENTS
            ),
            "single": lambda: self.http_singles(
                "/v1/decisions",
                True,
                f"{WORKERS} workers: single POST /v1/decisions, {many} conns, with input",
                n,
                many,
            ),
            "single echo": lambda: self.http_singles(
                "/bench/echo", True, f"{WORKERS} workers: single POST /bench/echo, {many} conns", n, many
            ),
        }
        rates = interleaved(contenders, self.cfg.trials, self.refresh_statistics)
        self.keep_cpu_notes()
        batched = f"POST /v1/decisions, arrays of {BATCH:,}, {BATCH_CLIENTS} conns, with input"
        single = f"single-decision POSTs, {many} conns, with input"
        earlier = {r.measure: r.value for r in one_worker}
        results = []
        for measure, key, unit, target in (
            (batched, "batched", "decisions/s", Target(">=", 20_000)),
            (single, "single", "requests/s", Target(">=", 1_500)),
        ):
            label = f"{measure}, {WORKERS} workers"
            if key == "batched":  # a connection per process is not guaranteed: the kernel hashes them
                label = label.replace(f"{BATCH_CLIENTS} conns", f"{MULTI_BATCH_CLIENTS} conns")
            results += [
                Result(
                    label,
                    rates[key],
                    unit,
                    "the same, 1 worker (this run)",
                    earlier[measure],
                    target,
                    section=self.backend,
                ),
                Result(
                    label,
                    rates[key],
                    unit,
                    f"trivial POST /bench/echo, {WORKERS} workers, same conns",
                    rates[f"{key} echo"],
                    target,
                    section=self.backend,
                ),
            ]
        return results

    def keep_cpu_notes(self) -> None:
        self.kept += [note.line() for note in self.cpu.values()]
        self.cpu.clear()


# -- 3. traces ----------------------------------------------------------------------------------------
def trace_latencies(
    server: Server, token: str, decision_ids: Sequence[str], size: int, samples: int, seed: int = 5
) -> dict[str, list[float]]:
    """Latency (ms) of trace, ping and entry requests, interleaved request by request."""
    rng = random.Random(seed)
    headers = {"authorization": f"Bearer {token}"}
    out: dict[str, list[float]] = {"trace": [], "ping": [], "entry": []}
    with httpx.Client(base_url=server.base, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:

        def timed(name: str, path: str) -> None:
            start = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
            out[name].append(elapsed)

        calls = [
            ("trace", lambda: f"/v1/decisions/{rng.choice(decision_ids)}/trace"),
            ("ping", lambda: "/bench/ping"),
            ("entry", lambda: f"/v1/entries/{rng.randrange(size)}"),
        ]
        for i in range(min(50, samples) + samples):  # the first ones warm up and are dropped
            for j in range(len(calls)):
                name, path = calls[(i + j) % len(calls)]
                timed(name, path())
        out = {name: values[-samples:] for name, values in out.items()}
        for decision_id in rng.sample(list(decision_ids), 3):  # not timed: the packs must verify
            trace = client.get(f"/v1/decisions/{decision_id}/trace").json()
            if trace["trace"]["decision_id"] != decision_id or not trace["trace"]["seqs"]:
                raise RuntimeError(f"unexpected trace of {decision_id}: {str(trace)[:300]}")
            verify_pack(client.get(f"/v1/decisions/{decision_id}/trace/pack").content)
    return out


def trace_results(backend: str, latencies: dict[str, list[float]], size: int) -> list[Result]:
    measure = f"GET /v1/decisions/{{id}}/trace (n={size:,})"
    trace, ping, entry = latencies["trace"], latencies["ping"], latencies["entry"]
    median, target = statistics.median, Target("<=", 50.0)
    return [
        Result(
            f"{measure} median", median(trace), "ms", "GET /bench/ping median", median(ping), target, section=backend
        ),
        Result(
            f"{measure} median",
            median(trace),
            "ms",
            "GET /v1/entries/{seq} median",
            median(entry),
            target,
            section=backend,
        ),
        Result(
            f"{measure} p99", percentile(trace, 99), "ms", "GET /bench/ping p99", percentile(ping, 99), section=backend
        ),
        Result(
            f"{measure} p99",
            percentile(trace, 99),
            "ms",
            "GET /v1/entries/{seq} p99",
            percentile(entry, 99),
            section=backend,
        ),
    ]


# -- one backend --------------------------------------------------------------------------------------
def run_backend(
    backend: str, urls: dict[str, str], work: Path, cfg: Config, ids: Ids, notes: list[str]
) -> list[Result]:
    """The three measurements on one backend; `urls` names the served, append and record ledgers."""
    home, tag = work / "home", backend.lower()
    served = prepare(urls["served"], home, f"bench.govledger.local/{tag}-served")
    append_prepared = prepare(urls["append"], home, f"bench.govledger.local/{tag}-append")
    record_prepared = prepare(urls["record"], home, f"bench.govledger.local/{tag}-record")
    log = work / f"{tag}-server.log"

    def profile(name: str) -> Path | None:
        return None if cfg.profile_dir is None else cfg.profile_dir / f"{tag}-{name}.txt"

    results: list[Result] = []
    with contextlib.ExitStack() as ledgers:
        append_ledger = ledgers.enter_context(contextlib.closing(open_ledger(urls["append"], home)))
        record_ledger = ledgers.enter_context(contextlib.closing(open_ledger(urls["record"], home)))
        with serve(urls["served"], home, log) as server:
            phase = Phase(
                backend, cfg, ids, server, served, append_ledger, append_prepared, record_ledger, record_prepared
            )
            with profiled(server, profile("batched")):
                results += phase.batched()
            with profiled(server, profile("single")):
                results += phase.singles()
        with serve(urls["served"], home, log, workers=WORKERS) as phase.server:
            results += phase.multi_process(results)
            notes += phase.kept
    # the server is stopped while its log grows in-process, then started again for the traces
    with contextlib.closing(open_ledger(urls["served"], home)) as ledger:
        before = ledger.size
        console.log(f"{backend}: growing the served ledger from {before:,} to {cfg.trace_entries:,} entries")
        start = time.perf_counter()
        built, rate = grow(ledger, served, ids, cfg.trace_entries)
        size = ledger.size
    analyze([urls["served"]])
    notes.append(
        f"{backend}: the served ledger had {before:,} entries after the ingest measurements; "
        + (
            f"grown to {size:,} with append_many({BUILD_BATCH:,}) of decisions in {time.perf_counter() - start:.0f} s "
            f"({rate:,.0f} decisions/s appending)"
            if built
            else "not grown (already at --trace-entries)"
        )
    )
    console.log(notes[-1])
    with serve(urls["served"], home, log) as server:
        console.log(f"{backend}: trace latency, {cfg.trace_samples:,} requests each")
        with profiled(server, profile("trace")):
            latencies = trace_latencies(server, served.token, phase.posted + built, size, cfg.trace_samples)
    return results + trace_results(backend, latencies, size)


def sqlite_backend(work: Path, cfg: Config, ids: Ids, notes: list[str]) -> list[Result]:
    urls = {name: f"sqlite:///{work / f'{name}.db'}" for name in ("served", "append", "record")}
    return run_backend("SQLite", urls, work, cfg, ids, notes)


def postgres_backend(work: Path, cfg: Config, ids: Ids, notes: list[str]) -> list[Result]:
    base = cfg.postgres_url
    assert base is not None
    error = postgres_error(base)
    if error is not None:
        notes.append(f"PostgreSQL skipped: unreachable at {base}: {error}")
        console.log(notes[-1], style="yellow", markup=False)
        return []
    with contextlib.ExitStack() as schemas:
        separator = "&" if "?" in base else "?"
        urls = {
            name: f"{base}{separator}options=-csearch_path%3D{schemas.enter_context(postgres_schema(base))}"
            for name in ("served", "append", "record")
        }
        return run_backend("PostgreSQL", urls, work, cfg, ids, notes)


# -- driver -------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench.service_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short trial of each, a 50,000-entry trace ledger")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL, help=f"PostgreSQL server (default {DEFAULT_PG_URL})")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--trace-entries",
        type=int,
        default=None,
        help="size of the trace ledger (default 1,000,000; 50,000 with --quick)",
    )
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR", help="py-spy the server into DIR")
    args = parser.parse_args(argv)
    quick = args.quick
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    return Config(
        trials=1 if quick else 3,
        batches=5 if quick else 20,
        singles=200 if quick else 1_000,
        trace_entries=max(100, args.trace_entries or (50_000 if quick else 1_000_000)),
        trace_samples=200 if quick else 1_000,
        postgres_url=None if args.no_postgres else args.postgres_url,
        profile_dir=args.profile.resolve() if args.profile is not None else None,
    )


def run(cfg: Config) -> tuple[list[Result], list[str]]:
    notes = [
        f"server: python -m bench.service_app ({APP}), 1 process on 127.0.0.1 (uvicorn {version('uvicorn')}, "
        f"fastapi {version('fastapi')}, loop/http auto: uvloop {version('uvloop')}, httptools {version('httptools')})",
        f"clients: bench.http_load (asyncio keep-alive HTTP/1.1) in the benchmark process, {BATCH_CLIENTS} "
        f"connections for batches, {SINGLE_CLIENTS} and {FEW_CLIENTS} for single decisions; one sync httpx "
        f"{version('httpx')} Client for latencies",
        f"throughput: {cfg.trials} interleaved trial(s) per contender, each {cfg.batches * BATCH:,} batched decisions "
        f"or {cfg.singles:,} single ones; latencies: {cfg.trace_samples:,} requests each",
        f"decision request: {len(json_bytes(decision_request('b-00000000', with_input=False)))} bytes of JSON, "
        f"{len(json_bytes(decision_request('b-00000000', with_input=True)))} with input; one subject per decision",
    ]
    results: list[Result] = []
    ids = Ids()
    with tempfile.TemporaryDirectory(prefix="govledger-service-bench-") as tmp:
        work = Path(tmp)
        sections: list[tuple[str, Callable[[], list[Result]]]] = [
            ("SQLite", lambda: sqlite_backend(work, cfg, ids, notes))
        ]
        if cfg.postgres_url is not None:
            sections.append(("PostgreSQL", lambda: postgres_backend(work, cfg, ids, notes)))
        for name, section in sections:
            try:
                results += section()
            except Exception as exc:  # report the other backend's figures anyway
                console.print_exception(max_frames=8)
                notes.append(f"{name} FAILED: {type(exc).__name__}: {exc}")
    return results, notes


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the context managers, which stop the servers


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    cfg = parse_args(argv)
    header = environment(["psycopg"])
    started = time.perf_counter()
    results, notes = run(cfg)
    command = " ".join(["python -m bench.service_bench", *(sys.argv[1:] if argv is None else argv)])
    lines = [*header, f"run time: {time.perf_counter() - started:.0f} s", f"load average at end: {load_average()}"]
    print_report(command, [*lines, *notes], results, title="govledger vs baselines (ratio = govledger ÷ baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
