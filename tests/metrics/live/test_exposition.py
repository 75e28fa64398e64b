"""The /metrics text our collectors write themselves (exposition/writer.py) is what
prometheus_client's generic ``generate_latest`` writes for the same state, in both formats, after
any sequence of changes between scrapes (no stale cached line); and the route serves it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client import metrics as client_metrics
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from agents.state import OperatorState, OperatorStatus
from exposition.writer import Format, exposition, metrics_app
from metrics.live.board import QueueBoard
from metrics.live.prometheus import HotlineMetrics, LiveCollector, LiveSources
from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome
from telephony.ami import NodeStatus
from telephony.events import AgentConnect, QueueCallerJoin, QueueCallerLeave
from tests.exposition.test_writer import PROMETHEUS_ACCEPT

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
QUEUES = ("crisis", "legal", 'odd "queue"\\with\nall')  # label values that need escaping
TOPICS = ("none", "debt", "grief")


@pytest.fixture(autouse=True)
def without_created() -> Iterator[None]:
    """As the service runs (process-wide switch, restored after)."""
    before = client_metrics._use_created
    client_metrics._use_created = False
    yield
    client_metrics._use_created = before


@dataclass
class Service:
    """The service's collectors over state a test moves, and another collector of the client's."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    board: QueueBoard = field(default_factory=QueueBoard)
    levels: ServiceLevels = field(default_factory=lambda: ServiceLevels({"crisis": 10, "legal": 75}))
    operators: list[OperatorState] = field(default_factory=list)
    node: NodeStatus = field(default_factory=lambda: NodeStatus("local", True, True, T0, None, 2, 100, T0, 1))
    now: float = T0.timestamp()
    agi_errors: int = 0

    def __post_init__(self) -> None:
        self.metrics = HotlineMetrics(self.registry, QUEUES[:2], lambda: self.levels)
        sources = LiveSources(
            lambda: self.operators, lambda: self.levels, lambda: self.agi_errors, self.clock
        )
        self.registry.register(LiveCollector(self.board, QUEUES[:2], lambda: [self.node], sources))
        self.other = Gauge("process_things", "Another collector's gauge", ["kind"], registry=self.registry)
        self.other.labels("a").set(3)

    def clock(self) -> float:
        return self.now


def record(queue: str, outcome: Outcome, wait: float, topic: str = "none", **kw: object) -> CallRecord:
    return CallRecord(
        id=uuid.uuid4().hex,
        node="local",
        call_id=uuid.uuid4().hex,
        started_at=T0,
        queue_entered_at=T0,
        queue=queue,
        topic=None if topic == "none" else topic,
        outcome=outcome,
        wait_seconds=wait,
        **kw,  # type: ignore[arg-type]
    )


Parsed = dict[tuple[str, str, frozenset[tuple[str, str]]], float]


def parsed(families: Iterator[object]) -> Parsed:
    return {
        (f.name, s.name, frozenset(s.labels.items())): s.value  # type: ignore[attr-defined]
        for f in families
        for s in f.samples  # type: ignore[attr-defined]
    }


def assert_same_as_client(registry: CollectorRegistry) -> str:
    """Both formats: the same samples as prometheus_client's, and the very same text."""
    ours, theirs = exposition(registry).decode(), generate_latest(registry).decode()
    assert parsed(text_string_to_metric_families(ours)) == parsed(text_string_to_metric_families(theirs))
    assert ours == theirs
    ours_om = exposition(registry, Format.OPENMETRICS).decode()
    theirs_om = openmetrics.generate_latest(registry).decode()
    assert parsed(parse_openmetrics(ours_om)) == parsed(parse_openmetrics(theirs_om))
    assert ours_om == theirs_om
    return ours


def test_the_full_state_is_written_as_prometheus_client_writes_it() -> None:
    service = Service()
    service.metrics.on_record(record("crisis", Outcome.ANSWERED, 8.25, "debt", talk_seconds=1_234_567.5))
    service.metrics.on_record(record(QUEUES[2], Outcome.ABANDONED_IN_QUEUE, 30))
    service.metrics.on_record(record("legal", Outcome.ANSWERED, 0.1, fallback=True, menu_version="3"))
    service.metrics.on_event(QueueCallerJoin("local", T0, "c1", "u1", QUEUES[2], 1, 1))
    service.board.on_event(
        QueueCallerJoin("local", T0 - timedelta(seconds=42.5), "c1", "u1", QUEUES[2], 1, 1)
    )
    service.operators = [
        OperatorState("op-anna", OperatorStatus.ON_CALL, "", ("crisis", QUEUES[2]), 3),
        OperatorState("op-boris", OperatorStatus.PAUSED, "break", ("crisis",), 0),
    ]
    text = assert_same_as_client(service.registry)
    assert 'hotline_talk_seconds_sum{queue="crisis"} 1.2345675e+06' in text  # Go's float format
    assert r'hotline_calls_waiting{queue="odd \"queue\"\\with\nall"} 1.0' in text
    assert 'hotline_longest_wait_seconds{queue="odd' in text and "} 42.5\n" in text
    assert 'process_things{kind="a"} 3.0' in text


def test_every_change_after_a_scrape_shows_in_the_next() -> None:
    service = Service()
    service.metrics.on_record(record("crisis", Outcome.ANSWERED, 5, "debt", talk_seconds=60))
    first = assert_same_as_client(service.registry)  # every cache filled
    service.metrics.on_record(record("crisis", Outcome.ANSWERED, 12, "debt", talk_seconds=30))  # moved
    service.metrics.on_record(record("legal", Outcome.ABANDONED_IN_QUEUE, 3, "grief"))  # new series
    service.metrics.on_event(AgentConnect("local", T0, "c9", "u9", "crisis", "op-anna", 3, 1))
    service.metrics.ivr_errors.inc()
    service.node = NodeStatus("local", False, False, T0, "refused", 3, 120, T0, 2)
    service.now += 7
    second = assert_same_as_client(service.registry)
    assert second != first
    assert 'hotline_wait_seconds_count{outcome="answered",queue="crisis"} 2.0' in second
    assert 'hotline_topic_calls_abandoned_total{queue="legal",topic="grief"} 1.0' in second
    service.levels = ServiceLevels({"crisis": 17, "legal": 75})  # a new bound resets the wait buckets
    service.metrics.on_record(record("crisis", Outcome.ANSWERED, 16, talk_seconds=1))
    third = assert_same_as_client(service.registry)
    assert 'hotline_wait_seconds_bucket{le="17.0",outcome="answered",queue="crisis"} 1.0' in third
    assert 'queue="legal"' not in "".join(line for line in third.splitlines() if "wait_seconds_count" in line)


@st.composite
def changes(draw: st.DrawFn) -> list[tuple[str, int, int, float]]:
    """(what, queue, topic or state, amount); "scrape" compares the two expositions."""
    what = st.sampled_from(["answered", "abandoned", "offered", "join", "leave", "operator", "tick"])
    step = st.tuples(
        st.one_of(what, st.just("scrape"), st.just("threshold")),
        st.integers(0, len(QUEUES) - 1),
        st.integers(0, len(TOPICS) - 1),
        st.floats(0, 5000, allow_nan=False),
    )
    return draw(st.lists(step, max_size=40))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes())
def test_any_changes_between_scrapes_give_the_clients_exposition(
    steps: list[tuple[str, int, int, float]],
) -> None:
    service = Service()
    for i, (what, q, t, amount) in enumerate(steps):
        apply(service, i, what, QUEUES[q], t, amount)
        if what == "scrape":
            assert_same_as_client(service.registry)
    assert_same_as_client(service.registry)


def apply(service: Service, i: int, what: str, queue: str, t: int, amount: float) -> None:
    topic, states = TOPICS[t], list(OperatorStatus)
    if what in ("answered", "abandoned"):
        outcome = Outcome.ANSWERED if what == "answered" else Outcome.ABANDONED_IN_QUEUE
        service.metrics.on_record(record(queue, outcome, amount % 400, topic, talk_seconds=amount))
    elif what == "offered":
        service.metrics.on_event(QueueCallerJoin("local", T0, f"c{i}", f"u{i}", queue, 1, 1))
    elif what == "join":
        service.board.on_event(
            QueueCallerJoin("local", T0 - timedelta(seconds=amount), "c", f"u{t}", queue, 1, 1)
        )
    elif what == "leave":
        service.board.on_event(QueueCallerLeave("local", T0, "c", f"u{t}", queue, 0, 0))
    elif what == "operator":
        service.operators.append(OperatorState(f"op-{i}", states[t], "", (queue,), 0))
    elif what == "threshold":
        service.levels = ServiceLevels({queue: 1 + amount // 10})
    elif what == "tick":
        service.now += amount


async def get(registry: CollectorRegistry, path: str = "/", **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=metrics_app(registry))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        return await client.get(path, headers=headers)


async def test_the_route_serves_what_was_asked_uncompressed() -> None:
    service = Service()
    service.metrics.on_record(record("crisis", Outcome.ANSWERED, 8, talk_seconds=100))
    prometheus = await get(service.registry, accept=PROMETHEUS_ACCEPT, **{"accept-encoding": "gzip"})
    assert prometheus.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert "content-encoding" not in prometheus.headers
    assert prometheus.content == openmetrics.generate_latest(service.registry)
    plain = await get(service.registry)
    assert plain.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert plain.content == generate_latest(service.registry)


async def test_a_selection_or_an_unusual_escaping_is_left_to_prometheus_client() -> None:
    service = Service()
    chosen = await get(service.registry, "/?name[]=hotline_calls_waiting")
    assert chosen.text.startswith("# HELP hotline_calls_waiting ") and "hotline_operators" not in chosen.text
    dots = await get(service.registry, accept="text/plain;version=1.0.0;escaping=dots")
    assert "hotline__calls__waiting" in dots.text


def test_a_registry_with_target_info_is_written_by_prometheus_client() -> None:
    registry = CollectorRegistry(target_info={"site": "main"})
    Counter("hotline_things", "Things", registry=registry).inc()
    HotlineMetrics(registry, ["crisis"])
    assert exposition(registry) == generate_latest(registry)
    assert exposition(registry, Format.OPENMETRICS) == openmetrics.generate_latest(registry)
