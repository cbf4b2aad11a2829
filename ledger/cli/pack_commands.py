"""Proof packs on the command line: `pack` writes one, `verify-pack` checks one offline.

`verify-pack` never opens a database (it reads only the files and the --trusted-key options), so
an auditor can run it anywhere; with `--trace` it also checks a decision trace against the pack
(`ledger.verification.trace_check`). Exit codes: 0 valid, 1 the pack (or the trace) fails verification, 2 bad usage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ledger.cli.context import out, print_json, state
from ledger.cli.errors import EXIT_FAILED, EXIT_OK, fail
from ledger.kinds.registry import KindRegistry
from ledger.log.note import NoteError, Verifier, parse_verifier
from ledger.verification.proofpack import PackError, PackReport, build_pack, verify_pack
from ledger.verification.trace_check import trace_nodes, verify_trace

__all__ = ["app"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _trusted(texts: list[str] | None) -> list[Verifier]:
    pinned = []
    for text in texts or []:
        try:
            pinned.append(parse_verifier(text))
        except NoteError as exc:
            fail(f"--trusted-key is not a verifier key: {exc}")
    return pinned


def _read(path: Path, what: str = "proof pack") -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {what} {path}: {exc.strerror or exc}")


def _verify(
    data: bytes, trace_file: Path | None, pinned: list[Verifier], kinds: Callable[[], KindRegistry]
) -> tuple[PackReport, dict[str, Any] | None]:
    """The pack's report and, with a trace file, what the trace check found (PackError if either fails)."""
    if trace_file is None:
        return verify_pack(data, trusted_keys=pinned), None
    text = _read(trace_file, "trace")
    try:
        trace = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PackError(f"the trace is not JSON ({exc})") from None
    if not isinstance(trace, dict):
        raise PackError("the trace is not a JSON object")
    registry = kinds()
    report = verify_trace(data, trace, kinds=registry, trusted_keys=pinned)
    inner = trace.get("trace", trace)
    return report, {"decision_id": inner["decision_id"], "nodes": len(trace_nodes(inner, registry))}


def _print_report(report: PackReport) -> None:
    seqs = ", ".join(str(envelope["seq"]) for envelope in report.entries)
    out.print(
        f"[green]valid[/green] proof pack: origin {escape(report.origin)}, checkpoint size {report.size} "
        f"(root {report.root.hex()}, signed by {', '.join(report.signed_by)}), "
        f"{len(report.entries)} entries verified: {seqs}"
    )
    if report.purpose is not None:
        out.print(f"purpose (not signed): {escape(report.purpose)}")
    if report.pinned:
        out.print("anchored: a trusted key is in the pack's key ring")
    else:
        out.print(
            "[yellow]warning[/yellow]: no --trusted-key given: the pack is only self-consistent "
            "(anyone can build one under their own key); pin a key of this log with --trusted-key "
            f"(its key ids: {', '.join(report.key_ids)})"
        )


app = typer.Typer()


@app.command()
def pack(
    ctx: typer.Context,
    seqs: Annotated[list[int], typer.Argument(min=0, help="Sequence numbers of the entries to prove")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Write the proof pack (JSON) here")],
    purpose: Annotated[
        str | None, typer.Option(help="Why the pack was made (an unsigned label stored in the pack)")
    ] = None,
) -> None:
    """Write a proof pack: the entries, their inclusion proofs, one signed checkpoint and the key entries."""
    with state(ctx).open() as ledger:
        data = build_pack(ledger, seqs, purpose=purpose)
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    report = verify_pack(data)
    out.print(
        f"wrote {escape(str(output))}: {len(report.entries)} entries proven against checkpoint size "
        f"{report.size} of {escape(report.origin)} ({len(data)} bytes)"
    )


@app.command("verify-pack")
def verify_pack_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The proof pack to check")],
    trusted_key: Annotated[
        list[str] | None,
        typer.Option(help="A verifier key you hold out of band (name+id+key); it must be in the pack's key ring"),
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(
            help="A decision trace (the JSON of GET /v1/decisions/{id}/trace, whole or its `trace`) to "
            "check against the pack: every node's entry, leaf hash, kind, id and time"
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a proof pack offline (no database); exit 0 valid, 1 invalid, 2 bad usage."""
    pinned = _trusted(trusted_key)
    data = _read(file)
    try:
        report, traced = _verify(data, trace, pinned, state(ctx).kinds)
    except PackError as exc:
        if as_json:
            print_json({"ok": False, "error": str(exc)})
            raise typer.Exit(EXIT_FAILED) from None
        fail(f"{'proof pack' if trace is None else 'proof pack or trace'} rejected: {exc}", EXIT_FAILED)
    if as_json:
        print_json({**report.as_json(), **({} if traced is None else {"trace": traced})})
    else:
        _print_report(report)
        if traced is not None:
            out.print(
                f"trace of decision {escape(str(traced['decision_id']))}: {traced['nodes']} nodes, each "
                "matching its entry in the pack (leaf hash, kind, id, time)"
            )
    raise typer.Exit(EXIT_OK)
