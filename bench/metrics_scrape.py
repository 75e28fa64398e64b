"""/metrics scrape time with 50 queues and 500 operators (target: under 20 ms).

    .venv/bin/python bench/metrics_scrape.py [--queues 50] [--operators 500] [--scrapes 200]

Builds the service's own collectors (HotlineMetrics + LiveCollector) with every queue's
histograms and per-topic counters filled by 20,000 finished records, 500 operators in 3 queues
each (the service's OperatorBoard, fed member events) and 5 callers waiting per queue, then times
the /metrics route (``exposition.writer.metrics_app``, driven in-process: no socket) as a plain
client asks (text 0.0.4) and as Prometheus asks (OpenMetrics first, ``Accept-Encoding: gzip``).
Baselines of the same run, all prometheus_client's generic writer: the same registry without the
live gauges and the histograms (the plain counters only); the counters as they were before the
CounterFamily (prometheus_client ``Counter`` with ``_created`` samples); ``generate_latest`` of the
served registry; what ``make_asgi_app`` served Prometheus before (OpenMetrics, gzipped). Also
timed: the route when every series moved since the last scrape (no cached line reusable), and
with the operators' states read once instead of at each scrape (what reading the OperatorBoard
itself costs: agents/state.py, not the exposition).
``_created`` samples are off except in the "before" row, as in the service (hotline/app.py).
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    enable_created_metrics,
    generate_latest,
)
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.state import OperatorBoard, OperatorState
from exposition.families import CounterFamily
from exposition.writer import metrics_app
from metrics.live.board import QueueBoard
from metrics.live.prometheus import HotlineMetrics, LiveCollector, LiveSources
from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome
from telephony.ami import NodeStatus
from telephony.events import QueueCallerJoin, QueueMemberAdded

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROMETHEUS_ACCEPT = (  # Prometheus 3's default scrape_protocols
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


def build(
    queues: int, operators: int, full: bool, read_board: bool = True
) -> tuple[CollectorRegistry, HotlineMetrics]:
    """``read_board``: the operators' states read from the OperatorBoard at each scrape, as the
    service does (else read once: the scrape without the board's own cost)."""
    rng = random.Random(6)
    names = [f"queue-{i:02d}" for i in range(queues)]
    levels = ServiceLevels({q: rng.choice([10, 20, 30, 45, 60]) for q in names})
    registry = CollectorRegistry()
    metrics = HotlineMetrics(registry, names, lambda: levels)
    if not full:
        registry.unregister(metrics.wait)
        registry.unregister(metrics.talk)
    for _ in range(20_000):
        queue = rng.choice(names)
        outcome = Outcome.ANSWERED if rng.random() < 0.85 else Outcome.ABANDONED_IN_QUEUE
        metrics.on_record(
            CallRecord(
                id=uuid.uuid4().hex,
                node="local",
                call_id=uuid.uuid4().hex,
                started_at=NOW,
                queue_entered_at=NOW,
                queue=queue,
                topic=f"{queue}-t{rng.randrange(3)}",
                outcome=outcome,
                wait_seconds=rng.expovariate(1 / 25),
                talk_seconds=rng.expovariate(1 / 600) if outcome is Outcome.ANSWERED else None,
            )
        )
    if full:
        board = QueueBoard()
        for q in names:
            for i in range(5):
                board.on_event(
                    QueueCallerJoin("local", NOW - timedelta(seconds=i * 7), f"{q}{i}", f"{q}{i}", q, i, i)
                )
        operators_board = members(names, operators, rng)

        def states() -> list[OperatorState]:  # as hotline/app.py reads them
            return [operators_board.state(n) for n in operators_board.operators()]

        once = states()
        node = NodeStatus("local", True, True, NOW, None, 0, 1_000_000, NOW)
        sources = LiveSources(
            states if read_board else lambda: once, lambda: levels, lambda: 0, lambda: NOW.timestamp()
        )
        registry.register(LiveCollector(board, names, lambda: [node], sources))
    return registry, metrics


def members(names: list[str], operators: int, rng: random.Random) -> OperatorBoard:
    """The service's OperatorBoard (hotline/app.py reads its states at each scrape): each
    operator in 3 queues, device states and pauses mixed, some on a call."""
    board = OperatorBoard(wrapup_for=lambda _queue: 4.0, clock=lambda: NOW)
    for i in range(operators):
        name = f"op-{i:03d}"
        status, paused = rng.choice([1, 1, 2, 6, 5]), rng.random() < 0.15
        for queue in rng.sample(names, 3):
            event = QueueMemberAdded(
                "local",
                NOW,
                "",
                "",
                queue,
                name,
                f"PJSIP/{name}",
                status,
                paused,
                "",
                False,
                rng.randrange(40),
            )
            board.on_event(event)
    return board


def counter_families(metrics: HotlineMetrics) -> list[CounterFamily]:
    return [c for c in vars(metrics).values() if isinstance(c, CounterFamily)]


def with_client_counters(queues: int, operators: int) -> tuple[CollectorRegistry, HotlineMetrics]:
    """The counters as they were before the CounterFamily: prometheus_client Counters with the
    same values (and their _created samples, when enabled)."""
    registry, metrics = build(queues, operators, full=True)
    for family in counter_families(metrics):
        registry.unregister(family)
        counter = Counter(family.name, family.documentation, family.labels, registry=registry)
        for labels, value in family.series().items():
            (counter.labels(*labels) if labels else counter).inc(value)
    return registry, metrics


def served(accept: str) -> Callable[[CollectorRegistry], bytes]:
    """The /metrics route's body for a GET with these headers (the app never suspends: its
    receive and send here return at once, so one ``send(None)`` runs it to the end)."""
    headers = [(b"accept", accept.encode()), (b"accept-encoding", b"gzip")]
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": headers}

    def render(registry: CollectorRegistry) -> bytes:
        body: list[bytes] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.body":
                body.append(message["body"])  # type: ignore[arg-type]

        run = metrics_app(registry)(scope, receive, send)
        try:
            run.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return body[0]
        raise RuntimeError("the /metrics app waited for something")

    return render


def moved(
    metrics: HotlineMetrics, render: Callable[[CollectorRegistry], bytes]
) -> Callable[[CollectorRegistry], bytes]:
    """A scrape after every series moved: none of the cached lines can be reused."""

    def cold(registry: CollectorRegistry) -> bytes:
        for histogram in (metrics.wait, metrics.talk):
            histogram._blocks.clear()
            histogram._body = None
        for family in counter_families(metrics):
            family._lines.clear()
            family._body = None
        return render(registry)

    return cold


Row = tuple[str, CollectorRegistry, Callable[[CollectorRegistry], bytes], bool]


def timed(rows: list[Row], scrapes: int) -> list[tuple[str, float, float, int]]:
    """Round robin: one scrape of each row per round, so a load change on this shared machine
    hits every row alike. Per row: median, p95 (seconds) and the body's size."""
    times: list[list[float]] = [[] for _ in rows]
    sizes = [0] * len(rows)
    for _ in range(scrapes):
        for i, (_label, registry, render, created) in enumerate(rows):
            (enable_created_metrics if created else disable_created_metrics)()  # the service: off
            began = time.perf_counter()
            body = render(registry)
            times[i].append(time.perf_counter() - began)
            sizes[i] = len(body)
    out = []
    for (label, *_), row_times, size in zip(rows, times, sizes, strict=True):
        row_times.sort()
        out.append((label, statistics.median(row_times), row_times[int(len(row_times) * 0.95) - 1], size))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--operators", type=int, default=500)
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    q, ops = args.queues, args.operators
    print(f"{q} queues, {ops} operators, {args.scrapes} scrapes; target: under 20 ms")
    registry, metrics = build(q, ops, full=True)
    before, _ = with_client_counters(q, ops)
    text, prometheus = served("text/plain;version=0.0.4"), served(PROMETHEUS_ACCEPT)
    rows: list[Row] = [
        ("baseline: counters only", build(q, ops, full=False)[0], generate_latest, False),
        ("before: client Counters", before, generate_latest, True),
        ("client generate_latest", registry, generate_latest, False),
        ("client OpenMetrics + gzip", registry, lambda r: gzip.compress(generate_openmetrics(r)), False),
        ("/metrics as served (text)", registry, text, False),
        ("as served, every series moved", registry, moved(metrics, text), False),
        ("/metrics to Prometheus (OM)", registry, prometheus, False),
        ("as served, states read once", build(q, ops, full=True, read_board=False)[0], text, False),
    ]
    figures = timed(rows, args.scrapes)
    for label, median, p95, size in figures:
        print(f"{label:30s} median {median * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  {size / 1024:7.1f} KiB")
    base, old, client, now = (figures[i][1] for i in (0, 1, 2, 4))
    print(
        f"ratio (median): {now / base:.2f}x the counters-only scrape, {now / client:.2f}x the client's ",
        end="",
    )
    print(f"generate_latest, {now / old:.2f}x the scrape before (client Counters, _created)")


if __name__ == "__main__":
    main()
