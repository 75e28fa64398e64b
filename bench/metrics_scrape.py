"""/metrics scrape time with 50 queues and 500 operators (target: under 20 ms).

    .venv/bin/python bench/metrics_scrape.py [--queues 50] [--operators 500] [--scrapes 200]

Builds the service's own collectors (HotlineMetrics + LiveCollector) with every queue's
histograms and per-topic counters filled by 20,000 finished records, 500 operators in 3 queues
each and 5 callers waiting per queue, then times ``generate_latest`` (what /metrics serves).
Baseline of the same run: the same registry without the live gauges and the histograms (the
plain counters only), so the figures say what the live state and the buckets cost. Also timed:
the counters as they were before (prometheus_client ``Counter`` with ``_created`` samples, every
sample rebuilt at each scrape); the service's scrape when every series moved since the last one
(no cached sample reusable); the OpenMetrics text Prometheus asks for by default, and that text
gzipped (Prometheus sends ``Accept-Encoding: gzip``), as ``make_asgi_app`` serves them.
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

from agents.state import OperatorState, OperatorStatus
from metrics.live import QueueBoard
from metrics.prometheus import CounterFamily, HotlineMetrics, LiveCollector, LiveSources
from metrics.records import CallRecord, Outcome
from metrics.reports import ServiceLevels
from telephony.ami import NodeStatus
from telephony.events import QueueCallerJoin

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def build(queues: int, operators: int, full: bool) -> tuple[CollectorRegistry, HotlineMetrics]:
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
        statuses = list(OperatorStatus)
        states = [
            OperatorState(
                f"op-{i:03d}", rng.choice(statuses), "", tuple(rng.sample(names, 3)), rng.randrange(40)
            )
            for i in range(operators)
        ]
        node = NodeStatus("local", True, True, NOW, None, 0, 1_000_000, NOW)
        sources = LiveSources(lambda: states, lambda: levels, lambda: 0, lambda: NOW.timestamp())
        registry.register(LiveCollector(board, names, lambda: [node], sources))
    return registry, metrics


def counter_families(metrics: HotlineMetrics) -> list[CounterFamily]:
    return [c for c in vars(metrics).values() if isinstance(c, CounterFamily)]


def with_client_counters(queues: int, operators: int) -> tuple[CollectorRegistry, HotlineMetrics]:
    """The counters as they were before the CounterFamily: prometheus_client Counters with the
    same values (and their _created samples, when enabled)."""
    registry, metrics = build(queues, operators, full=True)
    for family in counter_families(metrics):
        registry.unregister(family)
        counter = Counter(family._name, family._doc, family._labels, registry=registry)
        for labels, value in family._values.items():
            (counter.labels(*labels) if labels else counter).inc(value)
    return registry, metrics


def cold(metrics: HotlineMetrics) -> Callable[[CollectorRegistry], bytes]:
    """A scrape after every series moved: none of the cached samples can be reused."""

    def render(registry: CollectorRegistry) -> bytes:
        for histogram in (metrics.wait, metrics.talk):
            histogram._samples.clear()
        for family in counter_families(metrics):
            family._samples.clear()
        return generate_latest(registry)

    return render


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
    served, metrics = build(q, ops, full=True)
    before, before_metrics = with_client_counters(q, ops)
    rows: list[Row] = [
        ("baseline: counters only", build(q, ops, full=False)[0], generate_latest, False),
        ("before: client Counters", before, cold(before_metrics), True),
        ("/metrics as served", served, generate_latest, False),
        ("as served, every series moved", served, cold(metrics), False),
        ("OpenMetrics (Prometheus)", served, generate_openmetrics, False),
        ("OpenMetrics + gzip", served, lambda r: gzip.compress(generate_openmetrics(r)), False),
    ]
    figures = timed(rows, args.scrapes)
    for label, median, p95, size in figures:
        print(f"{label:30s} median {median * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  {size / 1024:7.1f} KiB")
    base, old, now = (figures[i][1] for i in range(3))
    print(f"ratio (median): {now / base:.2f}x the counters-only scrape, ", end="")
    print(f"{now / old:.2f}x the scrape before (client Counters, _created)")


if __name__ == "__main__":
    main()
