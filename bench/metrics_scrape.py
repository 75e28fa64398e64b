"""/metrics scrape time with 50 queues and 500 operators (target: under 20 ms).

    .venv/bin/python bench/metrics_scrape.py [--queues 50] [--operators 500] [--scrapes 200]

Builds the service's own collectors (HotlineMetrics + LiveCollector) with every queue's
histograms and per-topic counters filled by 20,000 finished records, 500 operators in 3 queues
each and 5 callers waiting per queue, then times ``generate_latest`` (what /metrics serves).
Baseline of the same run: the same registry without the live gauges and the histograms (the
plain counters only), so the figures say what the live state and the buckets cost.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.state import OperatorState, OperatorStatus
from metrics.live import QueueBoard
from metrics.prometheus import HotlineMetrics, LiveCollector, LiveSources
from metrics.records import CallRecord, Outcome
from metrics.reports import ServiceLevels
from telephony.ami import NodeStatus
from telephony.events import QueueCallerJoin

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def build(queues: int, operators: int, full: bool) -> CollectorRegistry:
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
    return registry


def timed(registry: CollectorRegistry, scrapes: int) -> tuple[float, float, int]:
    times = []
    for _ in range(scrapes):
        began = time.perf_counter()
        body = generate_latest(registry)
        times.append(time.perf_counter() - began)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--operators", type=int, default=500)
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.queues} queues, {args.operators} operators, {args.scrapes} scrapes; target: under 20 ms")
    base = timed(build(args.queues, args.operators, full=False), args.scrapes)
    full = timed(build(args.queues, args.operators, full=True), args.scrapes)
    for label, (median, p95, size) in (("baseline: counters only", base), ("/metrics as served", full)):
        print(f"{label:28s} median {median * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  {size / 1024:7.1f} KiB")
    print(f"ratio (median): {full[0] / base[0]:.2f}x the counters-only scrape")


if __name__ == "__main__":
    main()
