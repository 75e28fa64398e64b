"""Prometheus metrics (``hotline_`` prefix). Labels are queue and node names only: never callers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from metrics.live import QueueBoard
from metrics.records import CallRecord, Outcome
from telephony.ami import NodeStatus
from telephony.events import AgentConnect, AmiEvent, QueueCallerJoin


class HotlineMetrics:
    def __init__(self, registry: CollectorRegistry, queues: Iterable[str]) -> None:
        self.offered = Counter(
            "hotline_calls_offered", "Calls that entered a queue", ["queue"], registry=registry
        )
        self.answered = Counter(
            "hotline_calls_answered", "Calls answered by an operator", ["queue"], registry=registry
        )
        self.abandoned = Counter(
            "hotline_calls_abandoned",
            "Callers who hung up while waiting",
            ["queue"],
            registry=registry,
        )
        for queue in queues:  # every configured queue shows 0 before its first call
            for counter in (self.offered, self.answered, self.abandoned):
                counter.labels(queue=queue)

    def on_record(self, record: CallRecord) -> None:
        """Abandons are counted from finished records: app_queue also reports a queue timeout
        (an overflow) as an abandon, and only the caller's hangup tells the two apart."""
        if record.outcome is Outcome.ABANDONED_IN_QUEUE and record.queue:
            self.abandoned.labels(queue=record.queue).inc()

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueCallerJoin):
            self.offered.labels(queue=event.queue).inc()
        elif isinstance(event, AgentConnect):
            self.answered.labels(queue=event.queue).inc()


class LiveCollector(Collector):
    """Gauges read from live state at scrape time."""

    def __init__(
        self,
        board: QueueBoard,
        queues: Iterable[str],
        nodes: Callable[[], Iterable[NodeStatus]],
    ) -> None:
        self._board = board
        self._queues = tuple(queues)
        self._nodes = nodes

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily("hotline_calls_waiting", "Calls waiting in a queue", labels=["queue"])
        counts = self._board.waiting()
        for queue in sorted(set(self._queues) | set(counts)):
            waiting.add_metric([queue], counts.get(queue, 0))
        yield waiting
        up = GaugeMetricFamily(
            "hotline_ami_connected", "AMI session logged in (1) or not (0)", labels=["node"]
        )
        for status in self._nodes():
            up.add_metric([status.node], 1.0 if status.logged_in else 0.0)
        yield up
