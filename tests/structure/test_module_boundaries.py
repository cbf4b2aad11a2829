"""The package structure holds: no module imports another module's private names, and the
command-line root does not pull the ML or PDF stack in at import time.

Why: a split that needs another module's `_private` names was the wrong cut (the names are the
interface between the two modules and should say so), and `govledger --help`, `verify` and the
service must start without paying for shap, fairlearn or weasyprint.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "policies", "reports", "console", "govledger")


def _private_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            found += [f"{node.module}.{alias.name}" for alias in node.names if alias.name.startswith("_")]
    return found


def test_the_checker_sees_a_private_import() -> None:
    assert _private_imports("from ledger.lineage.graph_levels import _Walk, Walk\n") == [
        "ledger.lineage.graph_levels._Walk"
    ]
    assert _private_imports("from os import _exit\n") == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_private_names_of_another(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in sorted((ROOT / package).rglob("*.py"))
        if (names := _private_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_cli_imports_without_the_ml_or_pdf_stack() -> None:
    code = (
        "import sys, govledger.cli\n"
        "heavy = sorted(m for m in ('shap', 'fairlearn', 'sklearn', 'weasyprint', 'matplotlib', 'pandas') "
        "if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""
