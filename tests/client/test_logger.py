"""`DecisionLogger` against a real service: everything recorded exactly once, through retries,
outages and refusals; whatever cannot be recorded is counted and put on the record."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger.client import DecisionLogger, GovledgerClient
from tests.client.conftest import GatedTransport, LiveServer, LosingTransport
from tests.client.helpers import decision_request
from tests.lineage.factories import build_chain


@pytest.fixture
def chain(live: LiveServer) -> dict[str, Any]:
    return build_chain(live.ledger)


def recorded_ids(live: LiveServer) -> list[str]:
    """Decision ids of every `decision.recorded` entry in the log (through the cursor)."""
    auditor = live.client("auditor")
    return [e["data"]["decision_id"] for e in auditor.iter_entries(kind="decision.recorded")]


def dropped_entries(live: LiveServer) -> list[dict[str, Any]]:
    return [e["data"] for e in live.client("auditor").iter_entries(kind="decisions.dropped")]


MakeLogger = Callable[..., DecisionLogger]


@pytest.fixture
def make_logger(live: LiveServer) -> Iterator[MakeLogger]:
    """DecisionLoggers with short waits, closed (before the server stops) when the test ends."""
    made: list[DecisionLogger] = []

    def make(client: GovledgerClient, **kwargs: Any) -> DecisionLogger:
        options: dict[str, Any] = {
            "client_id": "scoring-test",
            "flush_interval": 0.05,
            "backoff": 0.05,
            "max_backoff": 0.3,
            "max_retries": 60,
        }
        logger = DecisionLogger(client, **{**options, **kwargs})
        made.append(logger)
        return logger

    yield make
    for logger in made:
        logger.close(timeout=5)


def test_2000_decisions_are_recorded_exactly_once(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    logger = make_logger(live.client("producer"), batch_size=500)
    started = time.monotonic()
    for i in range(2000):
        assert logger.log(decision_request(f"d-{i:04d}", subject=f"s-{i % 50}"))
    assert time.monotonic() - started < 2.0  # logging does not wait on the network
    assert logger.flush(timeout=30)
    logger.close()
    stats = logger.stats()
    assert (stats.queued, stats.sent, stats.duplicates, stats.dropped, stats.pending) == (2000, 2000, 0, 0, 0)
    ids = recorded_ids(live)
    assert len(ids) == 2000 and set(ids) == {f"d-{i:04d}" for i in range(2000)}
    assert dropped_entries(live) == []


def test_server_stopped_mid_way_then_restarted_loses_and_duplicates_nothing(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    logger = make_logger(live.client("producer", timeout=2.0), batch_size=50)
    for i in range(300):
        logger.log(decision_request(f"a-{i}"))
    live.stop()  # possibly while a batch is in flight
    for i in range(300):
        logger.log(decision_request(f"b-{i}"))
    time.sleep(0.6)  # the logger is retrying against a closed port
    assert logger.stats().pending > 0
    live.start()
    for i in range(300):
        logger.log(decision_request(f"c-{i}"))
    assert logger.flush(timeout=20)
    logger.close()
    stats = logger.stats()
    assert stats.dropped == 0 and stats.sent + stats.duplicates == 900 and stats.pending == 0
    ids = recorded_ids(live)
    assert len(ids) == 900 and len(set(ids)) == 900


def test_lost_answers_are_retried_and_come_back_as_duplicates(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    transport = LosingTransport(lose=3)
    logger = make_logger(live.client("producer", transport=transport), batch_size=40)
    for i in range(200):
        logger.log(decision_request(f"d-{i}"))
    logger.close()
    stats = logger.stats()
    assert transport.lost == 3
    assert stats.duplicates > 0 and stats.sent + stats.duplicates == 200 and stats.dropped == 0
    ids = recorded_ids(live)
    assert len(ids) == 200 and len(set(ids)) == 200


def test_the_same_decision_logged_twice_is_recorded_once(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    logger = make_logger(live.client("producer"), batch_size=100, flush_interval=0.5)
    for i in range(10):
        logger.log(decision_request(f"d-{i}"))
    logger.log(decision_request("d-3"))  # in the same batch: the service refuses the batch, the split sorts it out
    assert logger.flush(timeout=10)
    assert (logger.sent, logger.duplicates, logger.dropped) == (10, 1, 0)
    assert sorted(recorded_ids(live)) == sorted(f"d-{i}" for i in range(10))


def test_bad_decisions_are_isolated_counted_and_put_on_the_record(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    logger = make_logger(live.client("producer"), batch_size=100, flush_interval=0.5)
    good = [decision_request(f"good-{i}") for i in range(60)]
    unknown_model = decision_request("bad-model", version="9")  # 404: no such model
    no_output = {k: v for k, v in decision_request("bad-output").items() if k != "output"}  # 422
    for request in [*good[:30], unknown_model, *good[30:45], no_output, *good[45:]]:
        logger.log(request)
    assert logger.flush(timeout=20)
    stats = logger.stats()
    assert (stats.sent, stats.dropped, stats.dropped_reported, stats.pending) == (60, 2, 2, 0)
    assert sorted(recorded_ids(live)) == sorted(r["decision_id"] for r in good)
    entries = sorted(dropped_entries(live), key=lambda e: e["reason"])
    assert [(e["client_id"], e["count"]) for e in entries] == [("scoring-test", 1), ("scoring-test", 1)]
    assert "HTTP 404" in entries[0]["reason"] and "bad-model" in entries[0]["reason"]
    assert "HTTP 422" in entries[1]["reason"] and "bad-output" in entries[1]["reason"]
    assert entries[0]["first_dropped_at"] <= entries[0]["last_dropped_at"]
    logger.close()
    assert len(dropped_entries(live)) == 2  # nothing reported twice


def test_full_queue_without_blocking_drops_counts_and_records(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    transport = GatedTransport()
    logger = make_logger(live.client("producer", transport=transport), batch_size=5, max_queue=10, block_timeout=0)
    accepted = [logger.log(decision_request("d-0"))]
    assert transport.entered.wait(5)  # the sender holds a batch, waiting on the gate
    accepted += [logger.log(decision_request(f"d-{i}")) for i in range(1, 100)]
    assert accepted.count(True) == logger.queued and 10 <= logger.queued < 20
    assert logger.dropped == accepted.count(False) > 0
    transport.gate.set()
    logger.close()
    stats = logger.stats()
    assert stats.sent == stats.queued and stats.dropped == 100 - stats.queued == stats.dropped_reported
    assert len(recorded_ids(live)) == stats.queued
    entries = dropped_entries(live)
    assert sum(e["count"] for e in entries) == stats.dropped
    assert all(e["reason"].startswith("queue full") for e in entries)


def test_blocking_log_waits_for_room_instead_of_dropping(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    logger = make_logger(live.client("producer"), batch_size=10, max_queue=5, block_timeout=None)
    for i in range(200):
        assert logger.log(decision_request(f"d-{i}"))
    logger.close()
    assert (logger.sent, logger.dropped) == (200, 0)


def test_a_refused_key_drops_the_batch_at_once(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    logger = make_logger(live.client("auditor"), batch_size=100)
    for i in range(30):
        logger.log(decision_request(f"d-{i}"))
    assert not logger.flush(timeout=10)  # dropped, and the auditor may not report it either
    logger.close()
    stats = logger.stats()
    assert (stats.sent, stats.dropped, stats.dropped_reported) == (0, 30, 0)
    assert recorded_ids(live) == [] and dropped_entries(live) == []


def test_close_with_a_timeout_while_the_service_is_down_is_bounded(
    live: LiveServer, chain: dict[str, Any], make_logger: MakeLogger
) -> None:
    live.stop()
    logger = make_logger(live.client("producer", timeout=1.0), batch_size=10)
    for i in range(25):
        logger.log(decision_request(f"d-{i}"))
    started = time.monotonic()
    logger.close(timeout=1.0)
    assert time.monotonic() - started < 8
    assert (logger.sent, logger.dropped, logger.stats().pending) == (0, 25, 0)
    with pytest.raises(RuntimeError, match="closed"):
        logger.log(decision_request("late"))


def test_log_refuses_what_it_could_never_send(live: LiveServer, make_logger: MakeLogger) -> None:
    with make_logger(live.client("producer")) as logger:
        with pytest.raises(TypeError):
            logger.log(["not", "a", "mapping"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="decision_id"):
            logger.log({"subject_ref": "s"})
        with pytest.raises(ValueError):
            logger.log({**decision_request("d-1"), "output": {"score": float("nan")}})
        with pytest.raises(TypeError):
            logger.log({**decision_request("d-2"), "when": object()})
    assert logger.queued == 0
