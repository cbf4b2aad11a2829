"""Commands an auditor uses: verify and proofs. Tampering is exit 1, bad usage exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ledger.cli.context import err, out, print_json, state
from ledger.cli.errors import EXIT_FAILED, EXIT_OK, fail
from ledger.log.note import NoteError, parse_verifier
from ledger.verification.log_check import VerifyReport

__all__ = ["app"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PROGRESS_FROM = 20_000  # entries: below this a progress bar is noise


def _print_report(report: VerifyReport) -> None:
    if report.ok:
        out.print(
            f"[green]intact[/green]: {report.size} entries, root {report.root.hex()}, "
            f"{report.checkpoints_checked} checkpoints checked ({'deep' if report.deep else 'fast'})"
        )
        if report.against:
            out.print(f"consistent with the saved checkpoint of size {report.against['size']}")
    else:
        out.print(f"[red bold]TAMPERED[/red bold]: {report.headline}")
        for problem in report.problems:
            where = f"seq {problem.seq}" if problem.seq is not None else "seq -"
            if problem.seq is None and problem.span is not None:
                where = f"seq {problem.span[0]}..{problem.span[1]}"
            out.print(f"  {where}: [{problem.code}] {problem.message}")
    for warning in report.warnings:
        out.print(f"[yellow]note[/yellow]: {warning}")


app = typer.Typer()

proof = typer.Typer(help="Inclusion and consistency proofs (RFC 9162).", no_args_is_help=True)
app.add_typer(proof, name="proof")


@app.command()
def verify(
    ctx: typer.Context,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep/--fast",
            help="Re-hash every entry (deep) or check checkpoints, signatures and stored subtrees only (fast)",
        ),
    ] = True,
    against: Annotated[
        Path | None, typer.Option(help="A checkpoint saved earlier: detect truncation or forks", exists=False)
    ] = None,
    trusted_key: Annotated[
        list[str] | None,
        typer.Option(help="A verifier key you hold out of band (name+id+key); it must be in the log's key ring"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify the log; exit 0 if intact, 1 if tampered (naming the first bad entry), 2 on bad usage."""
    pinned = []
    for text in trusted_key or []:
        try:
            pinned.append(parse_verifier(text))
        except NoteError as exc:
            fail(f"--trusted-key is not a verifier key: {exc}")
    saved = None
    if against is not None:
        try:
            saved = against.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read checkpoint file {against}: {exc}")
    with state(ctx).open() as ledger:
        size = ledger.size
        if as_json or size < PROGRESS_FROM or not deep:
            report = ledger.verify(deep=deep, against=saved, trusted_keys=pinned)
        else:
            columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("verify", total=size)
                report = ledger.verify(
                    deep=deep,
                    against=saved,
                    trusted_keys=pinned,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    if as_json:
        print_json(report.as_json())
    else:
        _print_report(report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)


@proof.command("inclusion")
def proof_inclusion(
    ctx: typer.Context,
    seq: Annotated[int, typer.Argument(min=0)],
    size: Annotated[int | None, typer.Option(min=1, help="Tree size (default: the whole log)")] = None,
    as_json: JsonOption = False,
) -> None:
    """The audit path of entry SEQ in the tree of SIZE, checked before it is printed."""
    with state(ctx).open() as ledger:
        result = ledger.inclusion_proof(seq, size)
    result.verify()
    if as_json:
        print_json(result.as_json())
        return
    out.print(f"entry {result.seq} in tree of size {result.size}, root {result.root.hex()}")
    out.print(f"leaf hash {result.leaf_hash.hex()}")
    for position, node in enumerate(result.path):
        out.print(f"  {position:2d} {node.hex()}")


@proof.command("consistency")
def proof_consistency(
    ctx: typer.Context,
    old: Annotated[int, typer.Argument(min=0)],
    new: Annotated[int, typer.Argument(min=0)],
    as_json: JsonOption = False,
) -> None:
    """Proof that the tree of size OLD is a prefix of the tree of size NEW."""
    with state(ctx).open() as ledger:
        result = ledger.consistency_proof(old, new)
    result.verify()
    if as_json:
        print_json(result.as_json())
        return
    out.print(f"tree {result.old_size} (root {result.old_root.hex()})")
    out.print(f"  is a prefix of tree {result.new_size} (root {result.new_root.hex()})")
    for position, node in enumerate(result.path):
        out.print(f"  {position:2d} {node.hex()}")
