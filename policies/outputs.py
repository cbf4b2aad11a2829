"""The gate's outputs: a rich table for people, JUnit XML for CI test reports, Markdown for a CI
job summary. Each failing rule says which group, which value and which threshold."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET  # only used to write XML, never to parse it

from rich.table import Table

from policies.evaluate import Evaluation, RuleOutcome

__all__ = ["markdown_summary", "rule_table", "write_junit"]

_STYLE = {"pass": "green", "fail": "bold red", "insufficient_evidence": "yellow", "not_evaluated": "dim"}
_WORD = {
    "pass": "pass",
    "fail": "FAIL",
    "insufficient_evidence": "insufficient evidence",
    "not_evaluated": "not evaluated",
}


def _value(outcome: RuleOutcome) -> str:
    m = outcome.measurement
    if m.value is None:
        return "n/a"
    text = f"{m.value:.4g}"
    if m.interval is not None:
        text += f" [{m.interval[0]:.3g}, {m.interval[1]:.3g}]"
    return text


def _excluded(outcome: RuleOutcome) -> str:
    not_mapped = outcome.measurement.details.get("not_mapped")
    if not_mapped:
        return f"class {', '.join(not_mapped)} not mapped"
    return ", ".join(f"{g.group} (n={g.count})" for g in outcome.measurement.groups if g.excluded)


def rule_table(evaluation: Evaluation) -> Table:
    policy = evaluation.policy.policy
    table = Table(title=f"{policy.name} version {policy.version} — {evaluation.verdict.upper()}", title_justify="left")
    for column in ("rule", "metric", "value", "threshold", "worst group", "excluded", "severity", "verdict"):
        table.add_column(column, overflow="fold")
    for o in evaluation.outcomes:
        r = o.rule
        table.add_row(
            r.id,
            r.metric + (f" by {'×'.join(r.by)}" if r.by else ""),
            _value(o),
            f"{r.comparison} {r.threshold:g}" + (f" @{r.confidence:.0%}" if r.confidence else ""),
            o.measurement.worst_group or "",
            _excluded(o),
            r.severity,
            f"[{_STYLE[o.verdict]}]{_WORD[o.verdict]}[/]",
        )
    for r in evaluation.deferred:
        table.add_row(r.id, r.metric, "", f">= {r.threshold:g}", "", "", r.severity, "checked at promotion")
    return table


def write_junit(evaluation: Evaluation, path: Path) -> None:
    """One test case per rule: a failing blocking rule is a failure, insufficient evidence an
    error (it is not a pass), a warning or deferred approval rule a passing or skipped case."""
    policy = evaluation.policy.policy
    suite = ET.Element(
        "testsuite",
        name=f"govledger policy {policy.name} {policy.version}",
        tests=str(len(evaluation.outcomes) + len(evaluation.deferred)),
        failures=str(sum(o.verdict == "fail" and o.rule.severity == "block" for o in evaluation.outcomes)),
        errors=str(
            sum(o.verdict == "insufficient_evidence" and o.rule.severity == "block" for o in evaluation.outcomes)
        ),
        skipped=str(len(evaluation.deferred) + sum(o.verdict == "not_evaluated" for o in evaluation.outcomes)),
    )
    for o in evaluation.outcomes:
        case = ET.SubElement(suite, "testcase", classname=f"{policy.name}.{o.rule.category}", name=o.rule.id)
        if o.rule.severity == "block" and o.verdict == "fail":
            ET.SubElement(
                case, "failure", message=o.judgement.message, type="policy_rule_failed"
            ).text = o.judgement.message
        elif o.rule.severity == "block" and o.verdict == "insufficient_evidence":
            ET.SubElement(
                case, "error", message=o.judgement.message, type="insufficient_evidence"
            ).text = o.judgement.message
        elif o.verdict == "not_evaluated":
            ET.SubElement(case, "skipped", message=o.judgement.message)
        ET.SubElement(case, "system-out").text = o.judgement.message
    for r in evaluation.deferred:
        case = ET.SubElement(suite, "testcase", classname=f"{policy.name}.approval", name=r.id)
        ET.SubElement(case, "skipped", message=f"enforced at promotion: {r.threshold:g} approvals by role approver")
    if evaluation.coverage.shortfall:
        case = ET.SubElement(suite, "testcase", classname=f"{policy.name}.protected_classes", name="classes-mapped")
        message = evaluation.coverage.shortfall
        ET.SubElement(case, "error", message=message, type="insufficient_evidence").text = message
        suite.set("tests", str(int(suite.get("tests", "0")) + 1))
        suite.set("errors", str(int(suite.get("errors", "0")) + 1))
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    path.write_bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(evaluation: Evaluation, *, recorded: str | None = None) -> str:
    policy = evaluation.policy.policy
    icon = {"passed": "✅", "blocked": "❌", "insufficient_evidence": "⚠️"}[evaluation.verdict]
    lines = [
        f"## {icon} govledger gate: {evaluation.verdict.replace('_', ' ')}",
        "",
        f"Policy **{policy.name}** version {policy.version} (`{evaluation.policy.sha256[:12]}`), "
        f"model artifact `{evaluation.model_sha256[:12]}`, data `{evaluation.data_sha256[:12]}` "
        f"({evaluation.rows:,} rows).",
        "",
        _classes_line(evaluation),
        "",
        "| rule | metric | value | threshold | worst group | excluded groups | severity | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in evaluation.outcomes:
        r = o.rule
        lines.append(
            f"| {r.id} | {r.metric}{' by ' + ' × '.join(r.by) if r.by else ''} | {_value(o)} | "
            f"{_md(r.comparison)} {r.threshold:g} | {_md(o.measurement.worst_group or '')} | {_md(_excluded(o))} | "
            f"{r.severity} | {_WORD[o.verdict]} |"
        )
    for r in evaluation.deferred:
        lines.append(f"| {r.id} | {r.metric} | | >= {r.threshold:g} | | | {r.severity} | checked at promotion |")
    failing = [o for o in evaluation.outcomes if o.verdict != "pass"]
    if failing or evaluation.coverage.shortfall:
        lines += ["", "### Findings", ""] + [
            f"- **{o.rule.id}** ({o.rule.severity}): {_md(o.judgement.message)}" for o in failing
        ]
        if evaluation.coverage.shortfall:
            lines.append(f"- **insufficient evidence**: {_md(evaluation.coverage.shortfall)}")
    if recorded:
        lines += ["", recorded]
    return "\n".join(lines) + "\n"


def _classes_line(evaluation: Evaluation) -> str:
    """Which column stood for which protected class, and which classes were not evaluated."""
    mapped = ", ".join(f"{name} = `{column}`" for name, column in sorted(evaluation.classes.columns.items()))
    line = f"Protected classes: {mapped or 'none mapped'}"
    if evaluation.coverage.not_mapped:
        line += f"; not mapped, so not evaluated: {', '.join(evaluation.coverage.not_mapped)}"
    if evaluation.classes.proxies:
        line += f"; declared proxies: {', '.join(f'`{p}`' for p in evaluation.classes.proxies)}"
    return line + "."
