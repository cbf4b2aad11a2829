"""`govledger backup DEST`: a consistent copy of a live ledger, and `--check` of a restored copy."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from ledger.api import Ledger
from ledger.cli.context import out, state
from ledger.cli.errors import EXIT_FAILED, EXIT_OK, fail
from ledger.storage.backup import backup_sqlite, pg_dump_command, pg_restore_commands
from ledger.storage.db import create_engine, normalise_url

__all__ = ["app"]

app = typer.Typer()


def _copy_url(copy: str) -> str:
    """A restored copy named by URL, or by the path of a SQLite file."""
    if "://" in copy:
        return normalise_url(copy)
    path = Path(copy)
    if not path.is_file():
        fail(f"{copy} is neither a database URL nor a SQLite file")
    return f"sqlite:///{path.resolve()}"


def _check(copy: str, against: Path | None) -> None:
    saved = None
    if against is not None:
        try:
            saved = against.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read checkpoint file {against}: {exc}")
    with Ledger.open(_copy_url(copy), migrate=False) as ledger:  # a copy under test is not changed
        report = ledger.verify(deep=True, against=saved)
    if report.ok:
        covered = f"; consistent with the saved checkpoint of size {report.against['size']}" if report.against else ""
        out.print(f"[green]the copy verifies[/green]: {report.size} entries, root {report.root.hex()}{covered}")
        raise typer.Exit(EXIT_OK)
    out.print(f"[red bold]the copy does not verify[/red bold]: first bad entry {report.first_bad_seq}")
    for problem in report.problems:
        out.print(f"  seq {problem.seq if problem.seq is not None else '-'}: [{problem.code}] {problem.message}")
    raise typer.Exit(EXIT_FAILED)


def _backup_postgres(url: str, dest: Path) -> None:
    if dest.exists():
        fail(f"{dest} already exists: give a new file for the backup")
    dump = pg_dump_command(url, dest)
    restored = make_url(url).set(database="RESTORED_DB").render_as_string(hide_password=False)
    if shutil.which("pg_dump") is None:
        fail(f"pg_dump is not installed; the backup is: {shlex.join(dump)}")
    done = subprocess.run(dump, capture_output=True, text=True, check=False)  # noqa: S603 - our own argv
    if done.returncode != 0:
        dest.unlink(missing_ok=True)
        fail(f"pg_dump failed: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    out.print(f"backed up with: {shlex.join(dump)}")
    out.print("restore into an empty database, then check the copy against a checkpoint you saved:")
    out.print(f"  createdb RESTORED_DB && {' && '.join(shlex.join(c) for c in pg_restore_commands(dest, restored))}")
    out.print(f"  govledger backup --check {shlex.quote(restored)} --against saved.txt")


@app.command()
def backup(
    ctx: typer.Context,
    dest: Annotated[str, typer.Argument(help="The copy: a new file (or, with --check, the copy to verify)")],
    check: Annotated[
        bool, typer.Option("--check", help="Verify DEST (a SQLite file or a database URL): deep, and --against")
    ] = False,
    against: Annotated[Path | None, typer.Option(help="With --check: a checkpoint saved before the backup")] = None,
) -> None:
    """Copy the live ledger consistently (SQLite: online backup; PostgreSQL: pg_dump), or --check a copy."""
    if check:
        _check(dest, against)
    if against is not None:
        fail("--against goes with --check")
    url = state(ctx).settings().database_url
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "postgresql":
        _backup_postgres(url, Path(dest))
        return
    source = parsed.database
    if not source or source == ":memory:" or not Path(source).is_file():
        fail(f"there is no ledger at {url}")
    engine = create_engine(url)
    try:
        pages = backup_sqlite(engine, Path(dest))
    finally:
        engine.dispose()
    out.print(f"backed up {source} to {dest} ({pages} pages, one snapshot; the -wal's entries included)")
    out.print(f"check the copy: govledger backup --check {shlex.quote(dest)} --against saved.txt")
