"""Prometheus output: names and labels, per-topic counters from records, histograms with each
queue's threshold as a bucket bound, live gauges at scrape time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from agents.state import OperatorState, OperatorStatus
from exposition.writer import exposition
from metrics.live.board import QueueBoard
from metrics.live.prometheus import HotlineMetrics, LiveCollector, LiveSources
from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome
from telephony.ami import NodeStatus
from telephony.events import QueueCallerJoin

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def record(queue: str | None, outcome: Outcome, wait: float | None = None, **kw: object) -> CallRecord:
    return CallRecord(
        id=uuid.uuid4().hex,
        node="local",
        call_id=uuid.uuid4().hex,
        started_at=T0,
        queue_entered_at=T0 if queue else None,
        queue=queue,
        outcome=outcome,
        wait_seconds=wait,
        **kw,  # type: ignore[arg-type]
    )


def samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(registry).decode()
    assert exposition(registry).decode() == text  # what /metrics serves
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def labels(**kw: str) -> frozenset[tuple[str, str]]:
    return frozenset(kw.items())


def test_records_count_per_queue_and_topic_and_fill_histograms() -> None:
    registry = CollectorRegistry()
    levels = ServiceLevels({"crisis": 10, "legal": 75})
    metrics = HotlineMetrics(registry, ["crisis", "legal"], lambda: levels)
    metrics.on_record(record("crisis", Outcome.ANSWERED, 8, topic="crisis", talk_seconds=100))
    metrics.on_record(record("crisis", Outcome.ANSWERED, 12, topic="crisis", talk_seconds=200))
    metrics.on_record(record("crisis", Outcome.ABANDONED_IN_QUEUE, 30))
    metrics.on_record(record(None, Outcome.ABANDONED_IN_IVR, route_reason="no_input"))
    got = samples(registry)
    assert got[("hotline_topic_calls_offered_total", labels(queue="crisis", topic="crisis"))] == 2
    assert got[("hotline_topic_calls_offered_total", labels(queue="crisis", topic="none"))] == 1
    assert got[("hotline_topic_calls_answered_total", labels(queue="crisis", topic="crisis"))] == 2
    assert got[("hotline_topic_calls_abandoned_total", labels(queue="crisis", topic="none"))] == 1
    assert got[("hotline_calls_abandoned_total", labels(queue="crisis"))] == 1
    assert (
        got[("hotline_topic_calls_answered_within_threshold_total", labels(queue="crisis", topic="crisis"))]
        == 1
    )
    answered = {"queue": "crisis", "outcome": "answered"}
    assert got[("hotline_wait_seconds_bucket", labels(le="10.0", **answered))] == 1  # T of crisis
    assert got[("hotline_wait_seconds_bucket", labels(le="75.0", **answered))] == 2  # T of legal
    assert got[("hotline_wait_seconds_count", labels(**answered))] == 2
    assert got[("hotline_wait_seconds_sum", labels(**answered))] == 20
    assert got[("hotline_talk_seconds_sum", labels(queue="crisis"))] == 300
    assert got[("hotline_ivr_fallbacks_total", labels(reason="no_input"))] == 1


def test_a_new_threshold_becomes_a_bucket_bound() -> None:
    levels = [ServiceLevels({"crisis": 10})]
    registry = CollectorRegistry()
    metrics = HotlineMetrics(registry, ["crisis"], lambda: levels[0])
    assert 17.0 not in metrics.wait.bounds
    levels[0] = ServiceLevels({"crisis": 17})
    metrics.on_record(record("crisis", Outcome.ANSWERED, 16, talk_seconds=1))
    assert 17.0 in metrics.wait.bounds
    got = samples(registry)
    assert got[("hotline_wait_seconds_bucket", labels(le="17.0", queue="crisis", outcome="answered"))] == 1


def test_ivr_errors_and_dialplan_fallbacks() -> None:
    registry = CollectorRegistry()
    metrics = HotlineMetrics(registry, [])
    metrics.on_record(record("main", Outcome.ANSWERED, 1, fallback=True, menu_version="3", talk_seconds=1))
    metrics.on_record(record("main", Outcome.ANSWERED, 1, fallback=True, talk_seconds=1))  # no IVR at all
    got = samples(registry)
    assert got[("hotline_ivr_errors_total", labels())] == 1
    assert got[("hotline_ivr_fallbacks_total", labels(reason="dialplan"))] == 2


def test_live_gauges_read_the_boards_at_scrape_time() -> None:
    board = QueueBoard()
    now = T0.timestamp()
    board.on_event(QueueCallerJoin("local", T0 - timedelta(seconds=42), "c1", "u1", "crisis", 1, 1))
    board.on_event(QueueCallerJoin("local", T0 - timedelta(seconds=5), "c2", "u2", "crisis", 2, 2))
    operators = [
        OperatorState("op-anna", OperatorStatus.ON_CALL, "", ("crisis", "main"), 3),
        OperatorState("op-boris", OperatorStatus.PAUSED, "break", ("crisis",), 0),
    ]
    status = NodeStatus("local", True, True, T0, None, 2, 100, T0, 1)
    sources = LiveSources(lambda: operators, lambda: ServiceLevels({"crisis": 10}), lambda: 4, lambda: now)
    registry = CollectorRegistry()
    registry.register(LiveCollector(board, ["crisis", "main"], lambda: [status], sources))
    got = samples(registry)
    assert got[("hotline_calls_waiting", labels(queue="crisis"))] == 2
    assert got[("hotline_calls_waiting", labels(queue="main"))] == 0
    assert got[("hotline_longest_wait_seconds", labels(queue="crisis"))] == 42
    assert got[("hotline_operators", labels(state="on_call"))] == 1
    assert got[("hotline_queue_operators", labels(queue="crisis", state="paused"))] == 1
    assert got[("hotline_service_level_threshold_seconds", labels(queue="crisis"))] == 10
    assert got[("hotline_service_level_target", labels(queue="main"))] == 0.8
    assert got[("hotline_ami_connected", labels(node="local"))] == 1
    assert got[("hotline_ami_reconnects_total", labels(node="local"))] == 2
    assert got[("hotline_agi_errors_total", labels())] == 4
