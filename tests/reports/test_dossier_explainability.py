"""The dossier's explainability section with data: an ecoa-credit evaluation (SHAP) of the model in
production is recorded, and the dossier shows its global importance chart, ranking and checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ledger.api import local_actor
from policies.evaluate import GateInputs, evaluate
from policies.loader import load_policy
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy, record_evaluation
from reports.document import prepare, render
from reports.dossier import build_dossier
from tests.conftest import AdultModels
from tests.reports.conftest import Governed


def test_dossier_shows_the_recorded_shap_explanation(
    governed: Governed, adult_models: AdultModels, tmp_path: Path
) -> None:
    ledger = governed.ledger
    policy = load_policy("ecoa-credit")
    publish_policy(ledger, policy, actor=local_actor(), activate=False)
    inputs = GateInputs(
        adult_models.mitigated,
        adult_models.prepared.eval.path,
        "income",
        ClassMapping({"sex": "sex", "race": "race"}),
        policy,
    )
    evaluation = evaluate(inputs, facts_from(ledger))
    recorded = record_evaluation(ledger, evaluation, actor=local_actor())
    explained = ledger.get(recorded.seq).data["explainability"]
    top = explained["ranking"][0]

    rendered = render(prepare(ledger, build_dossier, name="income-mitigated", version="1"), issue_seq=None)
    assert "<svg" in rendered.html  # the global importance chart, inline
    path = tmp_path / "dossier.pdf"
    path.write_bytes(rendered.pdf)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout.split()
    )
    assert "Global feature importance" in text and top in text
    assert explained["explainer_kind"] in text and explained["background_sha256"][:12] in text
    assert "no-prohibited-basis-in-top-5" in rendered.html and "sensitive_in_top_k" in text  # the check, as recorded
    assert "Not applicable: no explainability rule was evaluated" not in text
