"""The web console's server time beside the JSON endpoints that serve the same data.

Run from the repository root::

    .venv/bin/python -m bench.console_bench [--versions 1000] [--entries 1000000] [--samples 30]

Builds a SQLite ledger of --versions model versions (each with its training run), 20 of them
promoted to production, and decisions of those 20 up to --entries entries in all (appended with
`record_decisions` in batches of 10,000, no personal input). Then, in one process through the
ASGI app (httpx's ASGI transport, no network), it times in interleaved samples:

- the inventory page (`GET /ui/?page=N`, 50 versions with verdict, approvals, last decision and
  30-day decision count) beside `GET /v1/models?limit=50` (the JSON list of the same versions);
- a decision page (`GET /ui/decisions/{id}`, the trace as a chain) beside
  `GET /v1/decisions/{id}` (the decision's JSON).

Targets (issue 13): inventory median ≤ 200 ms and decision page median ≤ 100 ms. Ratio = page ÷
JSON endpoint, both measured in this run. The machine's load is printed with the table.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Result, Target, environment, load_average, print_report
from govledger.registry import open_ledger
from govledger.service import service_routers
from ledger.access.api_keys import create_api_key, split_token
from ledger.api import Ledger, local_actor
from ledger.config import Settings
from ledger.lineage.decisions import record_decisions
from ledger.log.entry import Actor
from ledger.service import create_app
from ledger.storage.sequencer import CheckpointPolicy

SCIENTIST = Actor("key:bench-ds", "bench data scientist")
OFFICER = Actor("key:bench-ro", "bench risk officer")
PRODUCTION = 20


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build(ledger: Ledger, versions: int, entries: int) -> list[str]:
    """The ledger described above; returns some decision ids."""
    ledger.append(
        "dataset.registered",
        {
            "dataset_id": "bench-data",
            "content_sha256": sha("data"),
            "columns": [{"name": "age", "type": "int"}, {"name": "y", "type": "int"}],
            "rows": 1000,
            "source_uri": "s3://bench/data.csv",
            "licence": "CC-BY-4.0",
            "sensitive_attributes": [],
        },
        actor=SCIENTIST,
    )
    items: list[dict[str, Any]] = []
    for i in range(versions):
        name, version = f"model-{i // 10:03d}", str(i % 10 + 1)
        artifact = sha(f"artifact {i}")
        items.append(
            {
                "kind": "training_run.recorded",
                "data": {
                    "run_id": f"run-{i}",
                    "code_version": "git:bench",
                    "parameters": {"seed": i},
                    "environment": {"python": "3.11"},
                    "input_datasets": ["bench-data"],
                    "metrics": {},
                    "artifact_sha256": artifact,
                },
            }
        )
        items.append(
            {
                "kind": "model.registered",
                "data": {
                    "model": {"name": name, "version": version},
                    "artifact_sha256": artifact,
                    "run_id": f"run-{i}",
                    "intended_use": "benchmark",
                    "owner": "bench",
                    "risk_tier": "high",
                },
            }
        )
    for start in range(0, len(items), 2000):
        ledger.append_many(items[start : start + 2000], actor=SCIENTIST)
    facts = []
    for i in range(PRODUCTION):
        model = {"name": f"model-{i // 10:03d}", "version": str(i % 10 + 1)}
        ledger.append(
            "approval.recorded",
            {"approval_id": f"appr-{i}", "model": model, "decision": "approve", "role": "approver"},
            actor=OFFICER,
        )
        promoted = ledger.append(
            "model.promoted", {"model": model, "stage": "production", "approval_ids": [f"appr-{i}"]}, actor=OFFICER
        )
        facts.append(
            {
                "model": model,
                "model_artifact_sha256": sha(f"artifact {i}"),
                "training_run_id": f"run-{i}",
                "dataset_ids": ["bench-data"],
                "promotion_seq": promoted.seq,
            }
        )
    ids: list[str] = []
    n = 0
    while ledger.size < entries:
        batch = []
        for _ in range(min(10_000, entries - ledger.size)):
            decision_id = f"d-{n:08d}"
            batch.append(
                {
                    "decision_id": decision_id,
                    "request_id": f"req-{decision_id}",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    "ts_start": "2026-11-23T10:00:00Z",
                    "ts_end": "2026-11-23T10:00:00.120Z",
                    "subject_ref": f"applicant-{n}",
                    "output": {"decision": "deny" if n % 3 == 0 else "approve", "score": 0.42, "adverse": n % 3 == 0},
                    "retention": {"retention_class": "reg-b", "earliest_purge": "2029-01-01"},
                    "not_applicable": {
                        "deployment": "benchmark",
                        "input": "no personal input in this benchmark",
                        "reference_database_id": "none",
                        "explanation": "not measured here",
                        "notice": "not measured here",
                    },
                    **facts[n % PRODUCTION],
                }
            )
            n += 1
        record_decisions(ledger, batch, actor=SCIENTIST)
        ids.extend(d["decision_id"] for d in batch[:: max(1, len(batch) // 50)])
        print(f"  {ledger.size:,} entries", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return ids


async def medians(
    app: Any, cookie: str, token: str, decision_ids: list[str], versions: int, samples: int
) -> dict[str, float]:
    rng = random.Random(7)
    pages = max(1, versions // 50)
    timings: dict[str, list[float]] = {"inventory": [], "models_json": [], "decision": [], "decision_json": []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        client.cookies.set("govledger_session", cookie, path="/ui")
        bearer = {"Authorization": f"Bearer {token}"}

        async def timed(key: str, path: str, headers: dict[str, str] | None = None) -> None:
            start = time.perf_counter()
            answer = await client.get(path, headers=headers or {})
            timings[key].append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")

        for round_ in range(samples + 2):  # two warm-up rounds, not kept
            page = rng.randrange(1, pages + 1)
            decision_id = rng.choice(decision_ids)
            order = [
                ("inventory", f"/ui/?page={page}", None),
                ("models_json", f"/v1/models?limit=50&after={(page - 1) * 100}", bearer),
                ("decision", f"/ui/decisions/{decision_id}", None),
                ("decision_json", f"/v1/decisions/{decision_id}", bearer),
            ]
            if round_ % 2:
                order.reverse()
            for key, path, headers in order:
                await timed(key, path, headers)
            if round_ < 2:
                for values in timings.values():
                    values.clear()
    return {key: statistics.median(values) for key, values in timings.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ledger = open_ledger(
            Settings(database_url=f"sqlite:///{home / 'bench.db'}", home=home),
            policy=CheckpointPolicy(after_batch=False, max_delay_s=None),
        )
        ledger.init(origin="bench.example/console")
        started = time.perf_counter()
        decision_ids = build(ledger, args.versions, args.entries)
        built = time.perf_counter() - started
        token, _ = create_api_key(ledger, name="bench auditor", role="auditor", actor=local_actor())
        ledger.checkpoint()
        from ledger.access.sessions import SessionStore

        signed = SessionStore(ledger.engine).sign_in(token)
        assert signed is not None and split_token(token) is not None
        app = create_app(ledger=ledger, routers=service_routers())
        figures = asyncio.run(medians(app, signed[0], token, decision_ids, args.versions, args.samples))
        size = ledger.size
        ledger.close()
    results = [
        Result(
            "inventory page (50 versions)",
            figures["inventory"],
            "ms",
            "GET /v1/models?limit=50",
            figures["models_json"],
            Target("<=", 200),
        ),
        Result(
            "decision page (trace chain)",
            figures["decision"],
            "ms",
            "GET /v1/decisions/{id}",
            figures["decision_json"],
            Target("<=", 100),
        ),
    ]
    lines = [
        *environment(["fastapi", "jinja2", "sqlalchemy"]),
        f"ledger: SQLite, {size:,} entries, {args.versions:,} model versions, built in {built:.0f} s",
        f"medians of {args.samples} interleaved samples per figure, in one process through the ASGI app",
        f"load average after the build: {load_average()}",
    ]
    print_report(
        "python -m bench.console_bench " + " ".join(argv or sys.argv[1:]), lines, results, title="Console server time"
    )


if __name__ == "__main__":
    main()
