"""Referential rules at append time, projections in the same transaction, and rebuild --check,
on SQLite and PostgreSQL. Every refusal must leave the log exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from ledger.api import Ledger
from ledger.errors import ConflictError, ForbiddenError, GovledgerError, InvalidInputError, NotFoundError
from ledger.lineage import rebuild_projections
from ledger.lineage import tables as t
from tests.lineage.factories import (
    DATA_SCIENTIST,
    RISK_OFFICER,
    SCORING_SERVICE,
    build_chain,
    dataset,
    decision,
    model,
    run,
    sha,
)


def refused(
    ledger: Ledger,
    error: type[GovledgerError],
    kind: str,
    data: dict[str, Any],
    actor: Any = None,
    match: str | None = None,
) -> None:
    size = ledger.size
    with pytest.raises(error, match=match):
        ledger.append(kind, data, actor=actor or DATA_SCIENTIST)
    assert ledger.size == size, "a refused entry must write nothing"


def test_full_chain_is_projected_with_subjects(gov: Ledger) -> None:
    facts = build_chain(gov)
    receipts = gov.append_many(
        [{"kind": "decision.recorded", "data": decision(f"d-{i}", facts, adverse=i % 3 == 0)} for i in range(50)],
        actor=SCORING_SERVICE,
    )
    assert len(receipts) == 50
    assert gov.get(receipts[0].seq).subject == "decision:d-0"
    with gov.engine.connect() as conn:
        stage = conn.execute(select(t.models.c.stage, t.models.c.stage_seq)).one()
        assert tuple(stage) == ("production", facts["promotion_seq"])
        assert conn.execute(select(t.dataset_parents)).all() == [("adult-clean", "adult-raw")]
        adverse = conn.execute(text("SELECT COUNT(*) FROM lineage_decisions WHERE adverse")).scalar_one()
        assert adverse == 17
    assert rebuild_projections(gov, check=True).matches


def test_unknown_references_are_404(gov: Ledger) -> None:
    refused(gov, NotFoundError, "dataset.registered", dataset("child", derived_from=["nope"]), match="nope")
    refused(gov, NotFoundError, "training_run.recorded", run("r", ["nope"]), match="unknown datasets")
    refused(gov, NotFoundError, "model.registered", model("m", "1", "no-run"), match="not recorded")
    refused(gov, NotFoundError, "model.promoted", {"model": {"name": "m", "version": "9"}, "stage": "production"})
    refused(
        gov,
        NotFoundError,
        "decision.reviewed",
        {"decision_id": "nope", "outcome": "accepted", "reviewed_at": "2026-11-23T10:00:00Z"},
    )


def test_duplicates_and_wrong_states_are_409(gov: Ledger) -> None:
    facts = build_chain(gov)
    refused(gov, ConflictError, "dataset.registered", dataset("adult-raw"), match="already registered")
    refused(gov, ConflictError, "model.registered", model("credit", "1", "run-1"), match="already registered")
    gov.append("model.registered", model("credit", "2", "run-1"), actor=DATA_SCIENTIST)
    refused(
        gov,
        ConflictError,
        "decision.recorded",
        decision("d-x", {**facts, "model": {"name": "credit", "version": "2"}}),
        actor=SCORING_SERVICE,
        match="not in production",
    )
    gov.append("decision.recorded", decision("d-1", facts), actor=SCORING_SERVICE)
    refused(
        gov, ConflictError, "decision.recorded", decision("d-1", facts), actor=SCORING_SERVICE, match="already recorded"
    )
    gov.append("model.retired", {"model": {"name": "credit", "version": "1"}, "reason": "replaced"}, actor=RISK_OFFICER)
    refused(
        gov,
        ConflictError,
        "decision.recorded",
        decision("d-2", facts),
        actor=SCORING_SERVICE,
        match="not in production",
    )
    refused(
        gov,
        ConflictError,
        "model.promoted",
        {"model": {"name": "credit", "version": "1"}, "stage": "production"},
        match="retired",
    )


def test_facts_contradicting_the_lineage_are_422(gov: Ledger) -> None:
    facts = build_chain(gov)
    refused(
        gov, InvalidInputError, "model.registered", model("other", "1", "run-1", artifact="different"), match="artifact"
    )
    for field, wrong in (
        ("model_artifact_sha256", sha("x")),
        ("training_run_id", "run-9"),
        ("dataset_ids", ["adult-raw"]),
        ("promotion_seq", 1),
    ):
        refused(
            gov,
            InvalidInputError,
            "decision.recorded",
            decision("d-1", {**facts, field: wrong}),
            actor=SCORING_SERVICE,
            match=field,
        )


def test_approver_who_recorded_the_training_run_is_forbidden(gov: Ledger) -> None:
    build_chain(gov)
    refused(
        gov,
        ForbiddenError,
        "approval.recorded",
        {
            "approval_id": "appr-2",
            "model": {"name": "credit", "version": "1"},
            "decision": "approve",
            "role": "approver",
        },
        actor=DATA_SCIENTIST,
        match="separation of duties",
    )


def test_batch_with_a_bad_decision_writes_none_of_them(gov: Ledger) -> None:
    facts = build_chain(gov)
    size = gov.size
    items = [{"kind": "decision.recorded", "data": decision(f"d-{i}", facts)} for i in range(10)]
    items[7]["data"] = decision("d-7", {**facts, "training_run_id": "run-x"})
    with pytest.raises(InvalidInputError, match="training_run_id"):
        gov.append_many(items, actor=SCORING_SERVICE)
    items[7]["data"] = decision("d-3", facts)
    with pytest.raises(InvalidInputError, match="twice"):
        gov.append_many(items, actor=SCORING_SERVICE)
    assert gov.size == size
    with gov.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM lineage_decisions")).scalar_one() == 0


def test_a_batch_may_register_a_dataset_and_use_it(gov: Ledger) -> None:
    gov.append_many(
        [
            {"kind": "dataset.registered", "data": dataset("a")},
            {"kind": "dataset.registered", "data": dataset("b", derived_from=["a"])},
            {"kind": "training_run.recorded", "data": run("r", ["a", "b"])},
        ],
        actor=DATA_SCIENTIST,
    )
    assert rebuild_projections(gov, check=True).matches


def test_subject_must_match_the_object(gov: Ledger) -> None:
    size = gov.size
    with pytest.raises(InvalidInputError, match="subject"):
        gov.append("dataset.registered", dataset("a"), actor=DATA_SCIENTIST, subject="dataset:b")
    assert gov.size == size


def test_rebuild_check_finds_a_changed_projection_and_rebuild_repairs_it(gov: Ledger) -> None:
    build_chain(gov)
    with gov.engine.begin() as conn:
        conn.execute(text("UPDATE lineage_models SET stage = 'staging'"))
        conn.execute(text("DELETE FROM lineage_dataset_parents"))
    report = rebuild_projections(gov, check=True)
    assert not report.matches
    mismatched = {name for name, table in report.tables.items() if not table["matches"]}
    assert mismatched == {"lineage_models", "lineage_dataset_parents"}
    assert not rebuild_projections(gov, check=True).matches  # the check changed nothing
    rebuild_projections(gov, check=False)
    assert rebuild_projections(gov, check=True).matches
    with gov.engine.connect() as conn:
        assert conn.execute(select(t.models.c.stage)).scalar_one() == "production"


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("dataset.registered", dataset("a", derived_from=["b"], transformation=None), "data"),
        ("dataset.registered", dataset("a", sensitive_attributes=["race"]), "data"),
        ("dataset.registered", {**dataset("a"), "content_sha256": "ABC"}, "content_sha256"),
        (
            "decision.reviewed",
            {"decision_id": "d", "outcome": "overridden", "reviewed_at": "2026-11-23T10:00:00Z"},
            "data",
        ),
        ("model.promoted", {"model": {"name": "m", "version": "1"}, "stage": "prod"}, "stage"),
    ],
)
def test_schema_violations_are_422_with_the_field(gov: Ledger, kind: str, data: dict[str, Any], field: str) -> None:
    size = gov.size
    with pytest.raises(InvalidInputError) as caught:
        gov.append(kind, data, actor=DATA_SCIENTIST)
    assert any(field in map(str, error["loc"]) for error in caught.value.errors), caught.value.errors
    assert gov.size == size


def test_cli_rebuild_check_exit_codes(
    gov: Ledger, db_url: str, home: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from govledger.cli import main

    build_chain(gov)
    monkeypatch.setenv("GOVLEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVLEDGER_HOME", str(home))
    with pytest.raises(SystemExit) as exited:
        main(["rebuild", "--check"])
    assert exited.value.code == 0 and "match the log" in capsys.readouterr().out
    with gov.engine.begin() as conn:
        conn.execute(text("DELETE FROM lineage_approvals"))
    with pytest.raises(SystemExit) as exited:
        main(["rebuild", "--check", "--json"])
    assert exited.value.code == 1
    with pytest.raises(SystemExit) as exited:
        main(["rebuild"])
    assert exited.value.code == 0
    with pytest.raises(SystemExit) as exited:
        main(["rebuild", "--check"])
    assert exited.value.code == 0


def test_no_new_decision_may_name_an_erased_subject(gov: Ledger) -> None:
    facts = build_chain(gov)
    gov.append("decision.recorded", decision("d-1", facts, subject="s-9"), actor=SCORING_SERVICE)
    gov.append("subject.erased", {"subject_ref": "s-9", "reason": "GDPR Art. 17"}, actor=RISK_OFFICER)
    refused(
        gov,
        ConflictError,
        "decision.recorded",
        decision("d-2", facts, subject="s-9"),
        actor=SCORING_SERVICE,
        match="erased",
    )
    assert rebuild_projections(gov, check=True).matches


def test_promotion_citing_approvals_is_checked(gov: Ledger) -> None:
    build_chain(gov)
    gov.append("model.registered", model("credit", "2", "run-1"), actor=DATA_SCIENTIST)
    gov.append(
        "approval.recorded",
        {"approval_id": "rej-2", "model": {"name": "credit", "version": "2"}, "decision": "reject", "role": "approver"},
        actor=RISK_OFFICER,
    )
    promote = {"model": {"name": "credit", "version": "2"}, "stage": "production"}
    refused(gov, NotFoundError, "model.promoted", {**promote, "approval_ids": ["nope"]}, actor=RISK_OFFICER)
    refused(
        gov,
        InvalidInputError,
        "model.promoted",
        {**promote, "approval_ids": ["appr-1"]},
        actor=RISK_OFFICER,
        match="is for credit@1",
    )
    refused(
        gov,
        ConflictError,
        "model.promoted",
        {**promote, "approval_ids": ["rej-2"]},
        actor=RISK_OFFICER,
        match="rejected",
    )


def test_decision_record_items_are_given_or_explained(gov: Ledger) -> None:
    facts = build_chain(gov)
    unexplained = decision("d-1", facts)
    del unexplained["not_applicable"]["notice"]
    with pytest.raises(InvalidInputError) as caught:
        gov.append("decision.recorded", unexplained, actor=SCORING_SERVICE)
    assert "'notice'" in caught.value.errors[0]["msg"] and "not_applicable" in caught.value.errors[0]["msg"]
    bogus = decision("d-1", facts)
    bogus["not_applicable"]["favourite_colour"] = "n/a"
    refused(gov, InvalidInputError, "decision.recorded", bogus, actor=SCORING_SERVICE)
    explained_by_value = decision("d-1", facts)
    del explained_by_value["not_applicable"]["notice"]
    explained_by_value["notice"] = {
        "notice_id": "n-1",
        "sent_at": "2026-11-23T10:01:00Z",
        "channel": "mail",
        "template_version": "aan-3",
    }
    gov.append("decision.recorded", explained_by_value, actor=SCORING_SERVICE)
