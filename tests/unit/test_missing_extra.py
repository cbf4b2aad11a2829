"""A command whose extra is not installed names the extra to install, in one line, with exit code 2."""

from __future__ import annotations

import importlib.util
from importlib.machinery import ModuleSpec

import pytest

from govledger import extras
from govledger.cli import main
from govledger.extras import missing_extra


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        ("sklearn", ["gate", "--policy", "p"], "gate"),
        ("shap.explainers", [], "gate"),
        ("weasyprint", ["report", "dossier", "m", "1"], "reports"),
        ("numpy", ["gate"], "gate"),
        ("pandas", ["--home", "report", "report", "attestation"], "reports"),
        ("numpy", ["serve"], "all"),
        ("sklearn", ["demo"], "all"),
        ("jinja2", ["--database-url", "sqlite:///x.db", "demo"], "all"),
    ],
)
def test_the_extra_named_is_the_one_that_brings_the_missing_module(module: str, args: list[str], extra: str) -> None:
    assert missing_extra(ModuleNotFoundError(f"No module named {module!r}", name=module), args) == extra


def test_a_module_of_no_extra_is_not_blamed_on_one() -> None:
    assert missing_extra(ModuleNotFoundError("No module named 'ledger.nope'", name="ledger.nope"), ["gate"]) is None


def test_a_command_of_an_absent_extra_stops_before_it_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def without_shap(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "shap" else real(name, package)

    monkeypatch.setattr(extras.importlib.util, "find_spec", without_shap)
    with pytest.raises(SystemExit) as exited:
        main(["gate", "--policy", "four-fifths", "--model", "m.skops", "--data", "d.csv", "--target", "y"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "govledger: error: this needs govledger[gate] (shap is not installed): pip install 'govledger[gate]'\n"
    )
