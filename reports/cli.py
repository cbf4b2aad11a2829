"""`govledger report KIND ... -o FILE` and `govledger verify-report FILE.pdf`.

A report written to a `.pdf` file is issued (its hash is appended as `report.issued`, at the
sequence number its first page names); `--preview` renders without issuing. `-o x.html` writes
the HTML (also issued with the PDF unless `--preview`, so the two stay a pair). A report reads an
existing ledger: an SQLite file that does not exist is refused, never created. `--since` and
`--until` take a plain date (a whole day, UTC: see reports.period) or an RFC 3339 UTC time.

`verify-report FILE.pdf` checks the proof pack attached to the PDF and whether the ledger issued
these exact bytes. With the ledger, the pack is checked against the ledger's own keys. With
`--offline --trusted-key KEY` (what an auditor holding only the PDF and the ledger's verifier
key, obtained out of band, needs) no database is opened and only the proofs are checked.

Exit codes: 0 written (verify-report: proofs hold and, unless offline, issued by this ledger),
1 verify-report: not issued, or the proofs fail, 2 bad usage or unknown subject.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from ledger.api import Ledger, local_actor
from ledger.cli.context import state
from ledger.log.note import NoteError, Verifier, parse_verifier

if TYPE_CHECKING:
    from reports.verification import ProofCheck, ReportCheck

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
    from reports.period import period_bound

    for name in ("since", "until"):
        if name in params:
            params[name] = period_bound(params[name], name)
    ledger = state(ctx).open_existing()
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
    since: Annotated[
        str, typer.Option(help="First day (YYYY-MM-DD, from its start, UTC) or time included (RFC 3339 UTC)")
    ],
    until: Annotated[
        str, typer.Option(help="Last day included (YYYY-MM-DD, to its end, UTC) or the excluded end time")
    ],
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


def _trusted(texts: list[str]) -> list[Verifier]:
    keys = []
    for text in texts:
        try:
            keys.append(parse_verifier(text))
        except NoteError as exc:
            sys.stderr.write(f"govledger: error: --trusted-key is not a verifier key: {exc}\n")
            raise typer.Exit(2) from None
    return keys


def _print_proofs(proofs: ProofCheck, online: bool) -> None:
    pack = proofs.pack
    if proofs.ok and pack is not None:
        out.print(
            f"[green]proofs verified[/green]: {len(pack.entries)} cited entries proven against the signed checkpoint "
            f"of size {pack.size} of {pack.origin} (root {pack.root.hex()}), signed by key {', '.join(pack.signed_by)}"
            + ("" if online else ", a key you trust")
        )
    elif not proofs.attached:
        out.print(
            f"[yellow]no proofs attached[/yellow]: {proofs.problem} (a report rendered before template reports-2)"
        )
    else:
        out.print(f"[red]PROOFS FAIL[/red]: {proofs.problem}")


def _print_issued(check: ReportCheck) -> None:
    if check.issued and check.entry is not None:
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


@app.command("verify-report")
def verify_report(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A report PDF")],
    trusted_key: Annotated[
        list[str] | None,
        typer.Option(help="The ledger's verifier key (name+id+key), held out of band; repeatable"),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Check only the attached proofs, against --trusted-key; no database")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a report PDF: its attached proofs, and whether the ledger issued it (exit 0), or not (1)."""
    from reports.verification import check_proofs, check_report

    keys = _trusted(trusted_key or [])
    if offline and not keys:
        sys.stderr.write("govledger: error: --offline needs --trusted-key (the ledger's verifier key)\n")
        raise typer.Exit(2)
    try:
        pdf = file.read_bytes()
    except OSError as exc:
        sys.stderr.write(f"govledger: error: cannot read {file}: {exc.strerror}\n")
        raise typer.Exit(2) from None
    check: ReportCheck | None = None
    if not offline:
        ledger = state(ctx).open_existing()
        try:
            check = check_report(ledger, pdf)
            keys = keys or list(ledger.key_ring().verifiers)
        finally:
            ledger.close()
    proofs = check_proofs(pdf, keys)
    # A PDF from before attached proofs still verifies by its hash; a damaged attachment never does.
    proofs_hold = proofs.ok or (not proofs.attached and not offline)
    good = proofs_hold and (check is None or check.issued)
    if as_json:
        result = {**(check.as_json() if check else {"pdf_sha256": hashlib.sha256(pdf).hexdigest()})}
        result.update({"offline": offline, "proofs": proofs.as_json(), "ok": good})
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        _print_proofs(proofs, online=not offline)
        if check is not None:
            _print_issued(check)
    raise typer.Exit(0 if good else 1)
