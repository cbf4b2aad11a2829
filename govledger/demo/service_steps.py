"""The service part of `govledger demo`: the lineage of a credit model and its decisions recorded
through the real HTTP service (uvicorn on 127.0.0.1), one decision traced, its proof pack checked
offline, and a subject erased while every proof still holds."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from ledger.access.api_keys import create_api_key
from ledger.api import Ledger, local_actor
from ledger.cli.context import out
from ledger.log.note import Verifier
from ledger.service import create_app
from ledger.verification.proofpack import verify_pack

__all__ = ["run_service_demo"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serving(ledger: Ledger) -> Iterator[str]:
    """The real service on a free local port, in a thread, for the length of the block."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ledger=ledger), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="govledger-demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _key(ledger: Ledger, role: str, name: str) -> dict[str, str]:
    token, _ = create_api_key(ledger, name=name, role=role, actor=local_actor())
    return {"Authorization": f"Bearer {token}"}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _dataset(dataset_id: str, rows: int, **extra: Any) -> dict[str, Any]:
    return {
        "dataset_id": dataset_id,
        "content_sha256": _sha(dataset_id),
        "rows": rows,
        "licence": "CC-BY-4.0",
        "source_uri": "https://archive.ics.uci.edu/dataset/2/adult",
        "columns": [
            {"name": n, "type": t}
            for n, t in (
                ("age", "int"),
                ("education", "category"),
                ("sex", "category"),
                ("race", "category"),
                ("income", "category"),
            )
        ],
        "sensitive_attributes": ["sex", "race"],
        **extra,
    }


def _call(response: httpx.Response) -> Any:
    if response.is_error:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
    return response.json() if response.headers.get("content-type", "").startswith("application/json") else None


def _verify_offline(workdir: Path, pack: bytes, trace: Any, pinned: Verifier) -> None:
    """What an auditor does with the files: `govledger verify-pack` in a process of its own, which
    opens no database (it is given none)."""
    workdir = workdir.resolve()  # the command runs in workdir, so relative paths would not do
    pack_file, trace_file = workdir / "dec-000004.pack.json", workdir / "dec-000004.trace.json"
    pack_file.write_bytes(pack)
    trace_file.write_text(json.dumps(trace, indent=2))
    command = [sys.executable, "-m", "govledger", "verify-pack", str(pack_file), "--trace", str(trace_file)]
    command += ["--trusted-key", pinned.vkey]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVLEDGER_")}
    checked = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir, check=False)  # noqa: S603 - our own CLI, arguments we built
    if checked.returncode != 0:
        raise RuntimeError(f"verify-pack refused the pack ({checked.returncode}): {checked.stdout}{checked.stderr}")
    out.print(f"$ govledger verify-pack {pack_file.name} --trace {trace_file.name} --trusted-key …  -> exit 0")


def run_service_demo(ledger: Ledger, step: Any, first: int, decisions: int, workdir: Path) -> None:
    """Steps `first`.. of the demo, through HTTP; raises if anything does not check out."""
    pinned: Verifier = ledger.key_ring().records[0].verifier  # the key an auditor got out of band
    step(first, "Create API keys (stored hashed; creating one is itself a ledger entry)")
    producer, approver, auditor = (
        _key(ledger, "producer", "ml-platform"),
        _key(ledger, "approver", "risk-officer"),
        _key(ledger, "auditor", "external-auditor"),
    )
    out.print("producer 'ml-platform', approver 'risk-officer', auditor 'external-auditor'")
    with _serving(ledger) as base, httpx.Client(base_url=base, timeout=60) as http:
        out.print(f"service running at {base} (OpenAPI docs at {base}/docs)")
        step(first + 1, "Record the lineage through the service: data, derivation, training run, model")
        _call(http.post("/v1/datasets", json=_dataset("adult-raw", 32_561), headers=producer))
        _call(
            http.post(
                "/v1/datasets",
                json=_dataset(
                    "adult-clean", 30_162, derived_from=["adult-raw"], transformation="dropped rows with missing values"
                ),
                headers=producer,
            )
        )
        run = {
            "run_id": "run-2026-11-23",
            "code_version": "git:4f2a9c1",
            "input_datasets": ["adult-clean"],
            "parameters": {"max_depth": 4},
            "metrics": {"auc": 0.89},
            "artifact_sha256": _sha("credit-1.4.0"),
        }
        _call(http.post("/v1/runs", json=run, headers=producer))
        model = {
            "model": {"name": "credit-risk", "version": "1.4.0"},
            "artifact_sha256": _sha("credit-1.4.0"),
            "run_id": "run-2026-11-23",
            "intended_use": "consumer credit pre-screening",
        }
        _call(http.post("/v1/models", json=model, headers=producer))
        out.print("adult-raw -> adult-clean -> run-2026-11-23 -> credit-risk 1.4.0")

        step(first + 2, "A risk officer approves and promotes the model (a different key: separation of duties)")
        approval = {
            "approval_id": "appr-001",
            "model": model["model"],
            "decision": "approve",
            "role": "approver",
            "comment": "validation report reviewed",
        }
        _call(http.post("/v1/approvals", json=approval, headers=approver))
        promoted = _call(
            http.post(
                "/v1/models/credit-risk/1.4.0/promotions",
                json={"stage": "production", "approval_ids": ["appr-001"]},
                headers=approver,
            )
        )
        out.print(f"in production from entry {promoted['seq']}")

        step(first + 3, f"The scoring service records {decisions:,} decisions in one batch (inputs sealed per subject)")
        batch = [
            {
                "decision_id": f"dec-{i:06d}",
                "ts_start": "2026-11-23T12:00:00Z",
                "ts_end": "2026-11-23T12:00:00.150Z",
                "model": model["model"],
                "subject_ref": f"applicant-{i % 2500:05d}",
                "input": {"age": 20 + i % 50, "income": 20_000 + 37 * i, "postcode": f"NW{i % 9} 1AA"},
                "input_schema_version": "applicant-v3",
                "output": {
                    "decision": "deny" if i % 4 == 0 else "approve",
                    "score": round((i % 100) / 100, 2),
                    "adverse": i % 4 == 0,
                },
                "retention": {"retention_class": "reg-b-25-months", "earliest_purge": "2029-01-01"},
                "request_id": f"req-{i:06d}",
                "deployment": {"deployer": "acme-bank", "environment": "production", "threshold_version": "t-7"},
                "explanation": {
                    "explainer": "shap.TreeExplainer",
                    "explainer_version": "0.46",
                    "reason_codes": [{"code": "R02", "text": "Income insufficient for the amount requested"}],
                },
                "not_applicable": {
                    "trace_id": "the batch scorer does not propagate W3C trace context",
                    "reference_database_id": "no matching against a reference database",
                    "notice": "adverse-action notices are sent by the letters service and recorded later",
                },
            }
            for i in range(decisions)
        ]
        tick = time.perf_counter()
        recorded = _call(http.post("/v1/decisions", json=batch, headers=producer))
        elapsed = time.perf_counter() - tick
        out.print(
            f"{len(recorded['recorded']):,} decisions in {elapsed:.2f} s ({decisions / elapsed:,.0f}/s); "
            "no clear input reaches the log"
        )

        step(first + 4, "An auditor traces decision dec-000004 and checks its proof pack offline")
        traced = _call(http.get("/v1/decisions/dec-000004/trace", headers=auditor))
        trace = traced["trace"]
        pack = http.get("/v1/decisions/dec-000004/trace/pack", headers=auditor)
        report = verify_pack(pack.content, trusted_keys=[pinned])
        out.print(f"{len(trace['seqs'])} entries behind it ({', '.join(n['id'] for n in trace['lineage']['nodes'])})")
        out.print(
            f"proof pack: {len(report.entries)} entries proven against checkpoint {report.size}, "
            f"anchored by the pinned key {pinned.key_id_hex}: [green]verified[/green]"
        )
        _verify_offline(workdir, pack.content, traced, pinned)

        step(first + 5, "Erase applicant-00004 (GDPR Art. 17): the key is destroyed, every proof still holds")
        admin = _key(ledger, "admin", "dpo")
        _call(http.delete("/v1/subjects/applicant-00004", params={"reason": "GDPR Art. 17 request"}, headers=admin))
        again = verify_pack(
            http.get("/v1/decisions/dec-000004/trace/pack", headers=auditor).content, trusted_keys=[pinned]
        )
        out.print(
            f"trace after erasure: {len(again.entries)} entries, still [green]verified[/green]; the input of "
            "dec-000004 can no longer be decrypted by anyone"
        )
