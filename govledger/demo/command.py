"""`govledger demo`: the main job on the embedded SQLite default, narrated step by step.

It builds a fresh ledger under ./out/demo, appends sample entries one by one and in a batch,
saves a signed checkpoint as an auditor would, proves inclusion and consistency with the pure
RFC 9162 verifier, rotates the signing key, records a model's lineage and its decisions through
the real HTTP service, traces a decision and checks its proof pack offline, erases a subject,
verifies the whole log deeply, and finally shows that a one-byte change made behind the
ledger's back (triggers dropped) is caught.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import text

from govledger.registry import open_ledger
from ledger.api import Ledger, local_actor
from ledger.cli.context import out
from ledger.cli.errors import fail
from ledger.cli.serve_workers import PortInUseError, check_port_free
from ledger.config import Settings
from ledger.log import merkle
from ledger.log.checkpoint import open_signed
from ledger.storage.db import create_engine
from ledger.storage.sequencer import CheckpointPolicy

if TYPE_CHECKING:
    pass

__all__ = ["app"]

ORIGIN = "demo.govledger.local/ledger"
DEMO_HOST = "127.0.0.1"


def _step(number: int, title: str) -> None:
    out.print(f"\n[bold cyan]{number}.[/bold cyan] [bold]{title}[/bold]")


def _tamper_copy(source: Path, target: Path) -> tuple[int, str]:
    """Copy the database and change one byte of one entry, as a database owner could."""
    shutil.copyfile(source, target)
    engine = create_engine(f"sqlite:///{target}")
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER entries_no_update"))
        seq = 42
        body = bytes(conn.execute(text("SELECT body FROM entries WHERE seq = :s"), {"s": seq}).scalar_one())
        changed = body.replace(b"approved", b"rejected", 1)
        conn.execute(text("UPDATE entries SET body = :b WHERE seq = :s"), {"b": changed, "s": seq})
    engine.dispose()
    return seq, "approved -> rejected"


def run_demo(workdir: Path, batch: int, decisions: int, *, serve_port: int | None = None) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    database = workdir / "govledger.db"
    actor = local_actor()
    policy = CheckpointPolicy(after_batch=True, max_delay_s=None)
    started = time.perf_counter()

    settings = Settings(database_url=f"sqlite:///{database}", home=workdir / ".govledger")
    with open_ledger(settings, policy=policy) as ledger:
        _step(1, "Initialise a ledger (embedded SQLite, WAL, synchronous=FULL)")
        ledger.init(origin=ORIGIN)
        ring = ledger.key_ring()
        out.print(f"database {database}; origin {ORIGIN}")
        out.print(f"checkpoint key {ring.current.vkey} (private key file mode 0600 under {workdir / '.govledger'})")

        _step(2, "Append sample entries, one transaction each")
        for number, text_value in enumerate(
            [
                "dataset adult-2026q3 registered for the credit-risk model",
                "training run 7 recorded: gradient boosting, 48 features",
                "model credit-risk 1.4.0 evaluated against the four-fifths policy",
            ],
            start=1,
        ):
            receipt = ledger.append("note.recorded", {"text": text_value}, actor=actor, subject=f"demo:{number}")
            out.print(f"entry {receipt.seq}: {text_value} (leaf {receipt.leaf_hash.hex()[:16]}…)")

        _step(3, f"Append a batch of {batch:,} entries in one transaction")
        items = [
            {
                "kind": "note.recorded",
                "data": {"text": f"decision {i} approved", "refs": [i]},
                "subject": f"applicant:{i % 997}",
            }
            for i in range(batch)
        ]
        tick = time.perf_counter()
        receipts = ledger.append_many(items, actor=actor)
        elapsed = time.perf_counter() - tick
        out.print(
            f"entries {receipts[0].seq}..{receipts[-1].seq} in {elapsed:.2f} s ({batch / elapsed:,.0f} entries/s)"
        )

        _step(4, "An auditor saves a signed checkpoint (C2SP tlog-checkpoint, Ed25519)")
        saved = ledger.checkpoint()
        saved_path = workdir / f"checkpoint-{saved.size}.txt"
        saved_path.write_text(saved.note, encoding="utf-8")
        out.print(saved.note.rstrip())
        out.print(f"saved to {saved_path}")

        _step(5, "Prove that entry 42 is in the log, and check the proof without the database")
        proof = ledger.inclusion_proof(42, saved.size)
        entry = ledger.get(42)
        opened = open_signed(saved_path.read_text(encoding="utf-8"), ring.verifiers, origin=ORIGIN)
        merkle.verify_inclusion(merkle.leaf_hash(entry.body), 42, opened.size, proof.path, opened.root)
        out.print(
            f"{len(proof.path)} hashes prove entry 42 ({entry.data['text']!r}) is in the tree of "
            f"size {opened.size}: [green]verified[/green]"
        )

        _step(6, "Rotate the signing key; the rotation is itself an entry, signed by old and new key")
        rotation = ledger.rotate_key(actor=actor, reason="demo: scheduled rotation")
        out.print(f"entry {rotation.seq}: key {ring.current.key_id_hex} -> {ledger.key_ring().current.key_id_hex}")
        ledger.append("note.recorded", {"text": "model credit-risk 1.4.0 approved"}, actor=actor)

        _step(7, "Prove the log only grew since the saved checkpoint (consistency proof)")
        latest = ledger.checkpoint()
        consistency = ledger.consistency_proof(saved.size, latest.size)
        merkle.verify_consistency(saved.size, latest.size, saved.root, latest.root, consistency.path)
        out.print(
            f"tree {saved.size} is a prefix of tree {latest.size} ({len(consistency.path)} hashes): "
            "[green]verified[/green]"
        )

        from govledger.demo.service_steps import run_service_demo  # the HTTP stack, only when the demo runs

        run_service_demo(ledger, _step, 8, decisions, workdir)
        number = _policy_and_report_steps(ledger, workdir, 14)

        _step(number, "Deep verification: every entry re-hashed, chain, subtrees, checkpoints, signatures")
        tick = time.perf_counter()
        report = ledger.verify(deep=True, against=saved.note)
        elapsed = time.perf_counter() - tick
        status = "[green]intact[/green]" if report.ok else "[red]TAMPERED[/red]"
        out.print(
            f"{status}: {report.size:,} entries, {report.checkpoints_checked} checkpoints, "
            f"in {elapsed:.2f} s ({report.size / elapsed:,.0f} entries/s); consistent with the saved checkpoint"
        )
        if not report.ok:
            raise typer.Exit(1)

    _step(number + 1, "Tamper with a copy behind the ledger's back (triggers dropped, one word changed)")
    tampered = workdir / "tampered.db"
    seq, change = _tamper_copy(database, tampered)
    with Ledger.open(f"sqlite:///{tampered}", home=workdir / ".govledger", policy=policy) as copy:
        caught = copy.verify(deep=True)
    out.print(
        f"changed entry {seq} ({change}); verify says: "
        f"[red]TAMPERED[/red], first bad entry {caught.first_bad_seq}: {caught.problems[0].message}"
    )
    if caught.ok or caught.first_bad_seq != seq:
        raise typer.Exit(1)

    out.print(
        f"\n[bold green]demo finished in {time.perf_counter() - started:.1f} s.[/bold green] "
        f"Try: govledger --database-url sqlite:///{database} --home {workdir / '.govledger'} log --limit 5"
    )
    if serve_port is not None:
        _serve(settings, workdir, serve_port)


def _serve(settings: Settings, workdir: Path, port: int) -> None:
    """Leave the service running on the demo ledger so the API can be browsed (Ctrl-C stops it)."""
    import uvicorn

    from govledger.service import full_app
    from ledger.access.api_keys import create_api_key

    with open_ledger(settings) as ledger:
        token, _ = create_api_key(ledger, name="demo auditor (browse)", role="auditor", actor=local_actor())
        officer, _ = create_api_key(ledger, name="demo risk officer (browse)", role="approver", actor=local_actor())
    out.print(
        f"\n[bold]The service is running on http://127.0.0.1:{port}[/bold] (OpenAPI docs at /docs).\n"
        f"[bold]Web console: http://127.0.0.1:{port}/ui/[/bold]; sign in with one of these keys:\n"
        f"  risk officer (approves, promotes, issues reports): {officer}\n"
        f"  auditor (reads, looks up and verifies decisions):  {token}\n"
        f"API, e.g. curl -H 'Authorization: Bearer {token}' http://127.0.0.1:{port}/v1/models?stage=production\n"
        "Ctrl-C stops it."
    )
    uvicorn.run(full_app(settings), host=DEMO_HOST, port=port, log_level="warning")


def _policy_and_report_steps(ledger: Ledger, workdir: Path, number: int) -> int:
    """The steps that need the policy engine and the reports (the gate, decisions of the promoted
    model, every report kind); returns the number of the next step."""
    from govledger.demo.policy_steps import run_policy_demo
    from govledger.demo.report_steps import run_report_demo

    facts = run_policy_demo(ledger, workdir, _step, number)
    return run_report_demo(ledger, workdir, _step, facts["next"], facts)


app = typer.Typer()


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo ledger is (re)created")] = Path("out/demo"),
    batch: Annotated[int, typer.Option(min=100, max=1_000_000, help="Entries in the batch step")] = 50_000,
    decisions: Annotated[int, typer.Option(min=10, max=10_000, help="Decisions posted through the service")] = 5_000,
    serve: Annotated[
        bool, typer.Option(help="Afterwards, serve the API on 127.0.0.1:8000 with the demo ledger")
    ] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --serve")] = 8000,
) -> None:
    """Run the end-to-end scenario on a fresh SQLite ledger step by step, then serve its API (--no-serve: stop)."""
    if serve:
        _check_demo_port(port)
    run_demo(workdir, batch, decisions, serve_port=port if serve else None)


def _check_demo_port(port: int) -> None:
    """Exit 2 before the scenario if the port to serve on is taken, naming a free one to use instead.

    Why: the scenario takes about a minute and ends by serving; finding the port taken only then
    (uvicorn's "address already in use") wastes the run. A free port is looked for just above it.
    """
    try:
        check_port_free(DEMO_HOST, port)
    except PortInUseError:
        free = next((p for p in range(port + 1, min(port + 200, 65536)) if _is_free(p)), None)
        if free is None:
            fail(f"port {port} on {DEMO_HOST} is taken: pass a free one with --port (make demo DEMO_PORT=...)")
        fail(
            f"port {port} on {DEMO_HOST} is taken; {free} is free: "
            f"govledger demo --port {free} (or make demo DEMO_PORT={free})"
        )


def _is_free(port: int) -> bool:
    try:
        check_port_free(DEMO_HOST, port)
    except PortInUseError:
        return False
    return True
