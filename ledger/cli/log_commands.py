"""Commands that write to or read from the log: init, append, log, show, checkpoint, keys."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ledger.access.api_keys import Role, create_api_key
from ledger.api import local_actor
from ledger.cli.context import err, out, print_json, state
from ledger.cli.errors import fail
from ledger.errors import ConflictError, InvalidInputError
from ledger.log.entry import Entry
from ledger.storage.residue import purge_dead_copies

__all__ = ["app"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _read_ndjson(raw: bytes) -> list[dict[str, Any]]:
    """Parse NDJSON from standard input; any bad line is an error for the whole batch."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"standard input is not valid UTF-8 (byte {exc.start})") from None
    items: list[dict[str, Any]] = []
    # Lines end at "\n" only (a trailing "\r" is whitespace): str.splitlines would also split at
    # U+2028, U+0085 and others, which JSON allows unescaped inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(value, dict):
            raise InvalidInputError(f"line {number}: each line must be a JSON object with kind and data")
        items.append(value)
    if not items:
        raise InvalidInputError("standard input holds no entries")
    return items


def _entry_table(rows: list[Entry]) -> Table:
    table = Table("seq", "time (UTC)", "kind", "subject", "actor", "leaf hash")
    for entry in rows:
        table.add_row(
            str(entry.seq),
            entry.ts[:19].replace("T", " "),
            entry.kind,
            entry.subject or "",
            entry.actor.name,
            entry.leaf_hash.hex()[:16] + "…",
        )
    return table


app = typer.Typer()

keys = typer.Typer(help="Checkpoint signing keys and API keys.", no_args_is_help=True)
app.add_typer(keys, name="keys")


@app.command()
def init(
    ctx: typer.Context,
    origin: Annotated[str | None, typer.Option(help="The log's name in checkpoints, e.g. bank.example/models")] = None,
    owner_url: Annotated[
        str | None,
        typer.Option(
            envvar="GOVLEDGER_MIGRATION_DATABASE_URL",
            help="PostgreSQL: migrate as this URL's role (the tables' owner); the database URL's role "
            "becomes the service's app role, granted only what the service needs",
        ),
    ] = None,
    create_roles: Annotated[
        bool, typer.Option("--create-roles", help="With --owner-url: create the app role (the owner needs CREATEROLE)")
    ] = False,
    print_role_sql: Annotated[
        bool, typer.Option("--print-role-sql", help="With --owner-url: print the roles' SQL for a DBA; write nothing")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create the ledger: database schema, signing key, entry 0 and the first checkpoint."""
    if (create_roles or print_role_sql) and owner_url is None:
        fail("--create-roles and --print-role-sql need --owner-url (or $GOVLEDGER_MIGRATION_DATABASE_URL)")
    if owner_url is not None:
        from ledger.cli import role_setup

        runtime_url = state(ctx).settings().database_url
        if print_role_sql:
            role_setup.print_role_sql(runtime_url, owner_url)
            return
        role_setup.set_up_roles(runtime_url, owner_url, create=create_roles)
    with state(ctx).open() as ledger:
        try:
            ledger.init(origin=origin)
        except ConflictError:
            head = ledger.head
            if origin is not None and origin != head.origin:
                fail(f"this ledger is already initialised as {head.origin!r}")
            message = f"already initialised: {head.origin} with {head.size} entries"
            print_json({"origin": head.origin, "size": head.size, "created": False}) if as_json else out.print(message)
            return
        head, ring = ledger.head, ledger.key_ring()
        if as_json:
            print_json({"origin": head.origin, "size": head.size, "key": ring.current.vkey, "created": True})
        else:
            out.print(f"initialised ledger [bold]{head.origin}[/bold] at {ledger.engine.url.render_as_string()}")
            out.print(f"checkpoint key: {ring.current.vkey}")


@app.command()
def append(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option(help="Entry kind, e.g. note.recorded")] = None,
    data: Annotated[str | None, typer.Option(help="Payload as a JSON object")] = None,
    subject: Annotated[str | None, typer.Option(help="What the entry is about, e.g. model:credit@3")] = None,
    as_json: JsonOption = False,
) -> None:
    """Append one entry (--kind/--data), or NDJSON lines from standard input as one batch."""
    if kind is not None:
        if data is None:
            fail("--data is required with --kind")
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            fail(f"--data is not valid JSON ({exc.msg} at column {exc.colno})")
        items = [{"kind": kind, "data": payload, "subject": subject}]
    elif data is not None or subject is not None:
        fail("--data and --subject need --kind")
    elif sys.stdin.isatty():
        fail("give --kind and --data, or pipe NDJSON entries on standard input")
    else:
        items = _read_ndjson(sys.stdin.buffer.read())
    with state(ctx).open() as ledger:
        receipts = ledger.append_many(items, actor=local_actor())
        latest = ledger.latest_checkpoint()
        if any(item.get("kind") == "subject.erased" for item in items):  # keys destroyed: their copies go too
            purge = purge_dead_copies(ledger.engine, "subject_keys")
            if not purge.complete:
                err.print(f"govledger: warning: the destroyed keys' old copies may remain: {purge.detail}")
    if as_json:
        print_json(
            {
                "appended": [{"seq": r.seq, "leaf_hash": r.leaf_hash.hex(), "ts": r.ts} for r in receipts],
                "checkpoint_size": latest.size if latest else None,
            }
        )
    else:
        first, last = receipts[0].seq, receipts[-1].seq
        span = f"entry {first}" if first == last else f"entries {first}..{last}"
        out.print(f"appended {span}; checkpoint signed at size {latest.size if latest else '-'}")


@app.command("log")
def log_(
    ctx: typer.Context,
    start: Annotated[int, typer.Option(min=0, help="First sequence number")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most entries to list")] = 50,
    kind: Annotated[str | None, typer.Option(help="Only this kind")] = None,
    subject: Annotated[str | None, typer.Option(help="Only this subject")] = None,
    as_json: JsonOption = False,
) -> None:
    """List entries in sequence order."""
    with state(ctx).open() as ledger:
        rows = ledger.entries(start=start, limit=limit, kind=kind, subject=subject)
        size = ledger.size
    if as_json:
        print_json({"size": size, "entries": [e.as_json() for e in rows]})
    else:
        out.print(_entry_table(rows))
        out.print(f"{len(rows)} shown of {size} entries")


@app.command()
def show(
    ctx: typer.Context,
    seq: Annotated[int, typer.Argument(min=0, help="Sequence number")],
    as_json: JsonOption = False,
) -> None:
    """Show one entry with its inclusion proof against the latest checkpoint."""
    with state(ctx).open() as ledger:
        entry = ledger.get(seq)
        latest = ledger.latest_checkpoint()
        proof = ledger.inclusion_proof(seq, latest.size) if latest and latest.size > seq else None
    value = entry.as_json()
    value["inclusion_proof"] = proof.as_json() if proof else None
    value["checkpoint"] = latest.note if latest and proof else None
    if as_json:
        print_json(value)
        return
    out.print_json(json.dumps(value, ensure_ascii=False))


@app.command()
def checkpoint(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also save the signed note here")] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign a checkpoint of the current tree (or show the latest if it covers the whole log)."""
    with state(ctx).open() as ledger:
        signed = ledger.checkpoint()
    if output is not None:
        output.write_text(signed.note, encoding="utf-8")
    if as_json:
        print_json({"size": signed.size, "root": signed.root.hex(), "note": signed.note})
    else:
        sys.stdout.write(signed.note)


@keys.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    reason: Annotated[str | None, typer.Option(help="Why the key is replaced (recorded in the log)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Replace the checkpoint signing key; the rotation is an entry signed by old and new key."""
    with state(ctx).open() as ledger:
        receipt = ledger.rotate_key(actor=local_actor(), reason=reason)
        ring = ledger.key_ring()
    if as_json:
        print_json({"seq": receipt.seq, "old_key": ring.records[-2].verifier.vkey, "new_key": ring.current.vkey})
    else:
        out.print(f"rotated at entry {receipt.seq}; new key {ring.current.vkey}")


@keys.command("create")
def keys_create(
    ctx: typer.Context,
    role: Annotated[Role, typer.Option(help="admin, producer, ci, approver or auditor")],
    name: Annotated[str, typer.Option(help="Who or what holds the key, e.g. 'scoring-service' or 'rui'")],
    display_name: Annotated[
        str | None, typer.Option(help="The holder's full name, as report covers print it (e.g. 'Rui Carvalho')")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option(help="The holder's organisation, printed on report covers")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key for the HTTP service; it is shown once and stored only as a hash."""
    with state(ctx).open() as ledger:
        token, written = create_api_key(
            ledger, name=name, role=role, actor=local_actor(), display_name=display_name, organisation=organisation
        )
    key_id = token.split("_")[1]
    if as_json:
        print_json({"key_id": key_id, "name": name, "role": role.value, "token": token, "seq": written.seq})
    else:
        out.print(f"created {role.value} key {key_id} for {name!r} (entry {written.seq})")
        out.print("the key (shown only now; send it as 'Authorization: Bearer <key>'):")
        sys.stdout.write(token + "\n")


@keys.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key id (the part after glk_)")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the log)")],
) -> None:
    """Revoke an API key; from now on it is refused with 401."""
    with state(ctx).open() as ledger:
        written = ledger.append("access.key_revoked", {"key_id": key_id, "reason": reason}, actor=local_actor())
    out.print(f"revoked key {key_id} (entry {written.seq})")


@keys.command("list")
def keys_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the checkpoint key ring read from the log (old keys still verify their checkpoints)."""
    with state(ctx).open() as ledger:
        ring = ledger.key_ring()
    rows = [
        {
            "key": r.verifier.vkey,
            "key_id": r.verifier.key_id_hex,
            "introduced_at": r.introduced_at,
            "retired_at": r.retired_at,
        }
        for r in ring.records
    ]
    if as_json:
        print_json({"origin": ring.origin, "keys": rows})
        return
    table = Table("key id", "introduced at", "retired at", "verifier key")
    for row in rows:
        table.add_row(str(row["key_id"]), str(row["introduced_at"]), str(row["retired_at"] or "-"), str(row["key"]))
    out.print(table)
