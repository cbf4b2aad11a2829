"""`govledger report KIND ... -o FILE` and `govledger verify-report FILE.pdf`.

A report written to a `.pdf` file is issued (its hash is appended as `report.issued`, at the
sequence number its first page names); `--preview` renders without issuing. `-o x.html` writes
the HTML (also issued with the PDF unless `--preview`, so the two stay a pair). Exit codes:
0 written (or, for verify-report, issued by this ledger), 1 verify-report: not issued by this
ledger, 2 bad usage or unknown subject.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ledger.api import Ledger, local_actor
from ledger.cli.context import state

__all__ = ["app"]

out = Console(highlight=False, soft_wrap=True)
Output = Annotated[Path, typer.Option("-o", "--output", help="File to write (.pdf or .html; both are written)")]
Preview = Annotated[bool, typer.Option("--preview", help="Render without issuing (nothing is recorded)")]


def _write(ledger: Ledger, kind: str, output: Path, preview: bool, params: dict[str, Any]) -> None:
    from reports.document import issue, prepare, render
    from reports.kinds import BUILDERS

    builder = BUILDERS[kind]
    if preview:
        rendered = render(prepare(ledger, builder, **params), issue_seq=None)
        note = "preview, not issued"
    else:
        rendered, seq = issue(ledger, builder, actor=local_actor(), **params)
        note = f"issued as entry {seq}; check it with: govledger verify-report {output.with_suffix('.pdf')}"
    if output.suffix.lower() == ".html":
        output.write_text(rendered.html, encoding="utf-8")
        if not preview:
            output.with_suffix(".pdf").write_bytes(rendered.pdf)
    else:
        output.write_bytes(rendered.pdf)
        output.with_suffix(".html").write_text(rendered.html, encoding="utf-8")
    out.print(f"{kind} report written to {output} (PDF sha256 {rendered.pdf_sha256}); {note}")


app = typer.Typer()

report_app = typer.Typer(help="Regulator-ready reports in PDF and HTML, each verifiable against the ledger.")
app.add_typer(report_app, name="report")


def run(ctx: typer.Context, kind: str, output: Path, preview: bool, **params: Any) -> None:
    if output.suffix.lower() not in (".pdf", ".html"):
        sys.stderr.write("govledger: error: --output must end in .pdf or .html\n")
        raise typer.Exit(2)
    ledger = state(ctx).open()
    try:
        _write(ledger, kind, output, preview, params)
    finally:
        ledger.close()


@report_app.command("dossier")
def dossier(ctx: typer.Context, name: str, version: str, output: Output, preview: Preview = False) -> None:
    """Model compliance dossier for one model version (EU AI Act Annex IV; SR 26-2)."""
    run(ctx, "dossier", output, preview, name=name, version=version)


@report_app.command("decision")
def decision(ctx: typer.Context, decision_id: str, output: Output, preview: Preview = False) -> None:
    """Decision trace report: the whole chain behind one decision, with proofs."""
    run(ctx, "decision", output, preview, decision_id=decision_id)


def _given(**options: str | None) -> dict[str, str]:
    """The options given on the command line (recorded in report.issued by the builder)."""
    return {key: value for key, value in options.items() if value}


@report_app.command("adverse-action")
def adverse_action(
    ctx: typer.Context,
    decision_id: str,
    output: Output,
    preview: Preview = False,
    creditor_name: Annotated[str | None, typer.Option(help="Creditor's name (default: the recorded deployer)")] = None,
    creditor_address: Annotated[str | None, typer.Option(help="Creditor's address (Reg B 1002.9(a)(2))")] = None,
    agency: Annotated[str | None, typer.Option(help="Federal agency, name and address (default: CFPB)")] = None,
    score_range: Annotated[str | None, typer.Option(help="Range of possible scores, e.g. '0 to 1'")] = None,
) -> None:
    """Adverse-action notice to the applicant (Regulation B 1002.9); refused (exit 2) when no adverse action stands."""
    extra = _given(
        creditor_name=creditor_name, creditor_address=creditor_address, agency=agency, score_range=score_range
    )
    run(ctx, "adverse-action", output, preview, decision_id=decision_id, **extra)


@report_app.command("bias-audit")
def bias_audit(
    ctx: typer.Context,
    name: str,
    version: str,
    output: Output,
    since: Annotated[str, typer.Option(help="First decision time included (RFC 3339 UTC)")],
    until: Annotated[str, typer.Option(help="End of the period, excluded (RFC 3339 UTC)")],
    auditor: Annotated[str | None, typer.Option(help="Auditor identity printed in the report")] = None,
    preview: Preview = False,
    auditor_firm: Annotated[str | None, typer.Option(help="The auditor's firm")] = None,
    independence: Annotated[str | None, typer.Option(help="The auditor's independence statement")] = None,
    law: Annotated[str | None, typer.Option(help="ll144 or fair-lending (default: by the model's use_domain)")] = None,
    override_reason: Annotated[str | None, typer.Option(help="Why a law the model's use does not call for")] = None,
) -> None:
    """Bias audit under the law the model's declared use calls for: NYC LL144 (employment) or a
    fair-lending analysis (credit, housing); another law only with --override-reason (exit 2 otherwise)."""
    extra = _given(
        auditor=auditor, auditor_firm=auditor_firm, independence=independence, law=law, override_reason=override_reason
    )
    run(ctx, "bias-audit", output, preview, name=name, version=version, since=since, until=until, **extra)


@report_app.command("attestation")
def attestation(ctx: typer.Context, output: Output, preview: Preview = False) -> None:
    """Ledger integrity attestation: size, root, signed checkpoint, deep verification, consistency."""
    run(ctx, "attestation", output, preview)


@app.command("verify-report")
def verify_report(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A report PDF")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tell whether this exact PDF was issued by the ledger (exit 0) or not (exit 1)."""
    from reports.verification import check_report

    try:
        pdf = file.read_bytes()
    except OSError as exc:
        sys.stderr.write(f"govledger: error: cannot read {file}: {exc.strerror}\n")
        raise typer.Exit(2) from None
    ledger = state(ctx).open()
    try:
        check = check_report(ledger, pdf)
    finally:
        ledger.close()
    if as_json:
        sys.stdout.write(json.dumps(check.as_json(), indent=2) + "\n")
    elif check.issued and check.entry is not None:
        data, actor = check.entry["data"], check.entry["actor"]
        out.print(
            f"[green]issued[/green]: entry {check.seq} ({data['report_kind']}: {data['subject']}), "
            f"by {actor['name']} at {check.entry['ts']}; inclusion proven against the checkpoint of size "
            f"{check.checkpoint_size}"
        )
    else:
        out.print(
            f"[red]NOT ISSUED[/red] by this ledger: no report.issued entry has SHA-256 {check.pdf_sha256} "
            "(the file was altered, or comes from elsewhere)"
        )
    raise typer.Exit(0 if check.issued else 1)
