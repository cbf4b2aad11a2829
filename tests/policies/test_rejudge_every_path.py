"""Re-judging is an append check of `evaluation.recorded`, so it holds on every path: the Python
API, `govledger append --kind`, the local gate (`govledger gate`, which records through
`policies.record.record_evaluation`) and `POST /v1/evaluations`. On each, an evaluation with a forged
verdict or a weakened threshold is refused and writes nothing; a correct one is accepted."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from govledger.cli import main
from govledger.service import service_routers
from ledger.access.api_keys import create_api_key
from ledger.api import Ledger, local_actor
from ledger.errors import InvalidInputError
from ledger.service import create_app
from policies.evaluate import Evaluation, GateInputs, evaluate
from policies.judge import Judgement
from policies.loader import load_policy
from policies.protected import ClassMapping
from policies.record import facts_from, publish_policy, record_evaluation
from tests.conftest import AdultModels

Payload = dict[str, Any]


def forged_verdict(payload: Payload) -> Payload:
    """A passing rule claims to fail (the overall verdict is made to agree, so only re-judging finds it)."""
    forged = copy.deepcopy(payload)
    rule = next(r for r in forged["rules"] if r["verdict"] == "pass" and r["severity"] == "block")
    rule["verdict"] = "fail"
    forged["verdict"] = "blocked"
    return forged


def changed_threshold(payload: Payload) -> Payload:
    """The first rule judged against a threshold the published policy does not have."""
    weaker = copy.deepcopy(payload)
    weaker["rules"][0]["threshold"] = 0.1
    return weaker


def renamed(payload: Payload, suffix: str) -> Payload:
    return {**payload, "evaluation_id": f"{payload['evaluation_id'][:150]}-{suffix}"}


@pytest.fixture
def evaluation(adult_ledger: Ledger, adult_models: AdultModels) -> Evaluation:
    """The mitigated model evaluated under the published four-fifths pack (it passes)."""
    loaded = load_policy("four-fifths")
    publish_policy(adult_ledger, loaded, actor=local_actor())
    inputs = GateInputs(
        adult_models.mitigated,
        adult_models.prepared.eval.path,
        "income",
        ClassMapping({"sex": "sex", "race": "race"}),
        loaded,
    )
    found = evaluate(inputs, facts_from(adult_ledger))
    assert found.verdict == "passed"
    return found


def refuses_and_writes_nothing(ledger: Ledger, attempt: Callable[[], object]) -> None:
    size = ledger.size
    with pytest.raises(InvalidInputError) as refused:
        attempt()
    assert refused.value.errors[0]["type"] == "verdict_mismatch", refused.value.errors
    assert ledger.size == size


def test_the_python_api_rejudges(adult_ledger: Ledger, evaluation: Evaluation) -> None:
    payload = renamed(evaluation.payload(), "api")
    actor = local_actor()
    for bad in (forged_verdict(payload), changed_threshold(payload)):
        refuses_and_writes_nothing(
            adult_ledger, lambda bad=bad: adult_ledger.append("evaluation.recorded", bad, actor=actor)
        )
    size = adult_ledger.size
    adult_ledger.append("evaluation.recorded", payload, actor=actor)
    assert adult_ledger.size == size + 1


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return int(exited.value.code or 0), capsys.readouterr().err


def test_govledger_append_rejudges(
    adult_ledger: Ledger, evaluation: Evaluation, db_url: str, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = renamed(evaluation.payload(), "append")
    where = ["--database-url", db_url, "--home", str(home)]
    size = adult_ledger.size
    for bad in (forged_verdict(payload), changed_threshold(payload)):
        code, err = run_cli(capsys, *where, "append", "--kind", "evaluation.recorded", "--data", json.dumps(bad))
        assert code == 2 and "do not follow from the published policy" in err, err
        assert adult_ledger.size == size
    code, err = run_cli(capsys, *where, "append", "--kind", "evaluation.recorded", "--data", json.dumps(payload))
    assert code == 0, err
    assert adult_ledger.size == size + 1


def test_the_local_gate_rejudges(
    adult_ledger: Ledger,
    adult_models: AdultModels,
    evaluation: Evaluation,
    db_url: str,
    home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The gate records through `record_evaluation`; an Evaluation altered after judging (its
    verdict, or the rule it was judged by) is refused there, and the real command records."""
    first = evaluation.outcomes[0]
    lied = dataclasses.replace(first, judgement=Judgement("fail", "forged"))
    weakened = dataclasses.replace(first, rule=first.rule.model_copy(update={"threshold": 0.1}))
    for outcome in (lied, weakened):
        forged = dataclasses.replace(evaluation, outcomes=[outcome, *evaluation.outcomes[1:]])
        refuses_and_writes_nothing(
            adult_ledger, lambda forged=forged: record_evaluation(adult_ledger, forged, actor=local_actor())
        )
    size = adult_ledger.size
    args = ["--database-url", db_url, "--home", str(home), "gate", "--policy", "four-fifths"]
    args += ["--model", str(adult_models.mitigated), "--data", str(adult_models.prepared.eval.path)]
    code, err = run_cli(capsys, *args, "--target", "income", "--sensitive", "sex,race")
    assert code == 0, err
    assert adult_ledger.size == size + 1


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_http_api_rejudges(adult_ledger: Ledger, evaluation: Evaluation) -> None:
    token, _ = create_api_key(adult_ledger, name="ci-key", role="ci", actor=local_actor())
    headers = {"Authorization": f"Bearer {token}"}
    payload = renamed(evaluation.payload(), "http")
    transport = httpx.ASGITransport(app=create_app(ledger=adult_ledger, routers=service_routers()))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        size = adult_ledger.size
        for bad in (forged_verdict(payload), changed_threshold(payload)):
            refused = await client.post("/v1/evaluations", json=bad, headers=headers)
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["errors"][0]["type"] == "verdict_mismatch"
            assert adult_ledger.size == size
        accepted = await client.post("/v1/evaluations", json=payload, headers=headers)
        assert accepted.status_code == 201 and accepted.json()["already_recorded"] is False
        assert adult_ledger.size == size + 1
        again = await client.post("/v1/evaluations", json=payload, headers=headers)  # idempotent answer kept
        assert again.json() == {**accepted.json(), "already_recorded": True}
        forged_again = await client.post("/v1/evaluations", json=forged_verdict(payload), headers=headers)
        assert forged_again.status_code == 422  # the same id with a forged body is not "already recorded"
        assert adult_ledger.size == size + 1
