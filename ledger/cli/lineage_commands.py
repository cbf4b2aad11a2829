"""Commands over the lineage projections: rebuild them from the log, or check they match it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ledger.cli.context import out, print_json, state
from ledger.cli.errors import EXIT_FAILED, EXIT_OK
from ledger.lineage import rebuild_projections

__all__ = ["app"]


app = typer.Typer()


@app.command()
def rebuild(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option("--check", help="Only compare; change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Rebuild the current-state tables from the log (exit 1 with --check if they differ)."""
    with state(ctx).open() as ledger:
        report = rebuild_projections(ledger, check=check)
    if as_json:
        print_json(report.as_json())
    else:
        table = Table("table", "rows now", "rows from the log", "matches")
        for name, row in report.tables.items():
            table.add_row(name, str(row["rows_before"]), str(row["rows_rebuilt"]), "yes" if row["matches"] else "NO")
        out.print(table)
        verdict = "match the log" if report.matches else "DIFFER from the log"
        action = "checked" if check else "rebuilt"
        out.print(f"{action} from {report.entries_replayed} entries: projections {verdict}")
    raise typer.Exit(EXIT_OK if report.matches or not check else EXIT_FAILED)
