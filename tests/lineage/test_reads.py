"""The read repositories that `policies` and `reports` use answer as of a log size: a row whose
entry is at or beyond it is not seen, so a report reads one log state while the log grows. On
SQLite and PostgreSQL."""

from __future__ import annotations

from ledger.api import Ledger
from ledger.lineage.policy_reads import (
    evaluation_seqs_of_artifact,
    evaluations_page,
    newest_active_policy,
    published_policies,
    published_policy,
    recorded_evaluation,
)
from ledger.lineage.registry_reads import (
    approval_seqs,
    datasets_by_id,
    first_dataset_with_content,
    model_version,
    model_versions,
    newest_model_with_artifact,
    run_input_ids,
    run_seq,
    stage_changes,
)
from tests.lineage.factories import build_evaluated_chain, policy_text, sha


def test_policy_reads_ignore_entries_at_or_after_as_of(gov: Ledger) -> None:
    s = build_evaluated_chain(gov).seq
    cut = s["policy-2"]
    with gov.read_snapshot() as conn:
        assert [p.version for p in published_policies(conn)] == ["1", "2", "3"]
        assert [p.version for p in published_policies(conn, as_of=cut)] == ["1"]
        active = newest_active_policy(conn)
        assert active is not None and (active.version, active.activate) == ("2", True)
        earlier = newest_active_policy(conn, as_of=cut)
        assert earlier is not None and (earlier.seq, earlier.approvals_required) == (s["policy-1"], 1)
        assert newest_active_policy(conn, as_of=s["policy-1"]) is None
        third = published_policy(conn, sha(policy_text("3")))
        assert third is not None and (third.seq, third.activate) == (s["policy-3"], False)
        assert published_policy(conn, sha(policy_text("3")), as_of=s["policy-3"]) is None
        assert published_policy(conn, sha("never published")) is None
        assert evaluation_seqs_of_artifact(conn, sha("model-bytes")) == [s["ev-3"], s["ev-2"], s["ev-1"]]
        assert evaluation_seqs_of_artifact(conn, sha("model-bytes"), as_of=cut) == [s["ev-2"], s["ev-1"]]
        recorded = recorded_evaluation(conn, "ev-3")
        assert recorded is not None and (recorded.seq, recorded.policy_sha256) == (s["ev-3"], sha(policy_text("2")))
        assert recorded_evaluation(conn, "ev-3", as_of=cut) is None


def test_evaluations_page_is_newest_first_with_a_cursor(gov: Ledger) -> None:
    s = build_evaluated_chain(gov).seq
    with gov.read_snapshot() as conn:
        first = evaluations_page(conn, name="credit", version="1", before=None, limit=2)
        assert [e["evaluation_id"] for e in first.items] == ["ev-3", "ev-2"]
        assert first.next_before == s["ev-2"]
        rest = evaluations_page(conn, name="credit", version="1", before=first.next_before, limit=2)
        assert [e["evaluation_id"] for e in rest.items] == ["ev-1"]
        assert rest.next_before is None


def test_registry_reads_ignore_entries_at_or_after_as_of(gov: Ledger) -> None:
    s = build_evaluated_chain(gov).seq
    with gov.read_snapshot() as conn:
        assert [m.version for m in model_versions(conn, "credit")] == ["1", "2"]
        assert [m.version for m in model_versions(conn, "credit", as_of=s["credit@2"])] == ["1"]
        credit = model_version(conn, "credit", "1")
        assert credit is not None and (credit.stage, credit.stage_seq) == ("production", s["prod-1"])
        assert model_version(conn, "credit", "2", as_of=s["credit@2"]) is None
        newest = newest_model_with_artifact(conn, sha("model-bytes-2"))
        assert newest is not None and newest.version == "2"
        assert [c.seq for c in stage_changes(conn, "credit", "1")] == [s["prod-1"]]
        assert stage_changes(conn, "credit", "1", as_of=s["prod-1"]) == []
        assert approval_seqs(conn, "credit", "1") == [s["appr-1"]]
        assert approval_seqs(conn, "credit", "1", as_of=s["appr-1"]) == []
        assert run_seq(conn, "run-2") == s["run-2"]
        assert run_seq(conn, "run-2", as_of=s["run-2"]) is None
        assert run_input_ids(conn, "run-1") == ["adult-clean"]
        found = datasets_by_id(conn, ["adult-clean", "adult-raw", "unknown"])
        assert [(d.dataset_id, d.seq) for d in found] == [("adult-raw", s["raw"]), ("adult-clean", s["clean"])]
        assert found[0].sensitive_attributes == ["sex"]
        assert datasets_by_id(conn, ["adult-clean"], as_of=s["clean"]) == []
        evaluation_data = first_dataset_with_content(conn, sha("adult-eval"))
        assert evaluation_data is not None and evaluation_data.dataset_id == "adult-eval"
