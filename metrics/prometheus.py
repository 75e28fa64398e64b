"""Prometheus metrics (``hotline_`` prefix). Labels are queue, topic, state, reason and node
names only: never callers.

Two kinds of call counters, on purpose:
- ``hotline_calls_{offered,answered}_total{queue}`` move live with the queue events (a call
  that overflows is offered to each queue it joins); ``hotline_calls_abandoned_total{queue}``
  follows finished records (app_queue reports an overflow's timeout as an abandon too);
- ``hotline_topic_calls_{offered,answered,abandoned}_total{queue,topic}`` count finished calls
  once, in their last queue, with the reports' definitions (metrics/reports.py), so a
  Prometheus ``increase`` over an interval matches the report of that interval.
Wait and talk histograms come from finished records; the wait buckets hold every queue's
service-level threshold (a new threshold after a publish restarts the wait histogram, which
Prometheus reads as a counter reset).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from agents.state import OperatorState
from ivr.engine import RouteReason
from metrics.live import QueueBoard, ServiceLevels
from metrics.records import CallRecord, Outcome
from metrics.reports import is_offered
from telephony.ami import NodeStatus
from telephony.events import AgentConnect, AmiEvent, QueueCallerJoin

WAIT_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1200.0)
TALK_BUCKETS = (60.0, 180.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0)
NO_TOPIC = "none"  # the topic label of calls that reached a queue without choosing one
# Route reasons that send a caller to a human on the fallback path instead of their choice.
FALLBACK_REASONS = frozenset({RouteReason.NO_INPUT, RouteReason.INVALID_INPUT, RouteReason.TOO_MANY_STEPS})
DIALPLAN_FALLBACK = "dialplan"  # the IVR failed or never answered: Asterisk's own fallback


class Histogram(Collector):
    """A labelled histogram whose bucket bounds can be replaced (which resets it).

    A scrape reuses each series' samples until that series observes again: most series do not
    move between two scrapes, and building 14 samples per series was most of the collect time."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str], bounds: Iterable[float]) -> None:
        self._name, self._doc, self._labels = name, documentation, tuple(labels)
        self._bounds: tuple[float, ...] = ()
        self._edges: list[str] = []
        self._series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}
        self._samples: dict[tuple[str, ...], list[Sample]] = {}  # per series, until it moves
        self._order: list[tuple[str, ...]] | None = None  # sorted series, until a new one
        self.set_bounds(bounds)

    @property
    def bounds(self) -> tuple[float, ...]:
        return self._bounds

    def set_bounds(self, bounds: Iterable[float]) -> None:
        wanted = tuple(sorted(set(bounds)))
        if wanted != self._bounds:
            self._bounds = wanted
            self._edges = [_le(b) for b in wanted] + ["+Inf"]
            self._series, self._samples, self._order = {}, {}, None

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = ([0] * (len(self._bounds) + 1), [0.0])
            self._order = None
        counts, total = series
        counts[bisect_left(self._bounds, value)] += 1
        total[0] += value
        self._samples.pop(labels, None)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self._name, self._doc, labels=self._labels)
        if self._order is None:
            self._order = sorted(self._series)
        for labels in self._order:
            samples = self._samples.get(labels)
            if samples is None:
                samples = self._samples[labels] = self._build(labels)
            family.samples.extend(samples)
        yield family

    def _build(self, labels: tuple[str, ...]) -> list[Sample]:
        counts, total = self._series[labels]
        one = HistogramMetricFamily(self._name, self._doc, labels=self._labels)
        running, buckets = 0, []
        for edge, count in zip(self._edges, counts, strict=True):
            running += count
            buckets.append((edge, float(running)))
        one.add_metric(list(labels), buckets, total[0])
        return one.samples


def _le(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{int(bound)}.0"


class CounterFamily(Collector):
    """A labelled counter in a plain dict, its samples reused between scrapes until they move.

    prometheus_client's ``Counter`` builds every child's samples anew at each scrape (with a
    ``_created`` sample per child unless disabled); the exposition is the same ``_total`` lines.
    """

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = ()) -> None:
        self._name, self._doc, self._labels = name, documentation, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {}
        self._samples: dict[tuple[str, ...], Sample] = {}
        self._order: list[tuple[str, ...]] | None = None

    def touch(self, *labels: str) -> None:
        """Show this series (at 0) before its first increment."""
        if labels not in self._values:
            self._check(labels)
            self._values[labels] = 0.0
            self._order = None

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self.touch(*labels)
        self._values[labels] += amount
        self._samples.pop(labels, None)

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self._name, self._doc, labels=self._labels)
        if self._order is None:
            self._order = sorted(self._values)
        for labels in self._order:
            sample = self._samples.get(labels)
            if sample is None:
                sample = self._samples[labels] = self._sample(labels)
            family.samples.append(sample)
        yield family

    def _sample(self, labels: tuple[str, ...]) -> Sample:
        names = dict(zip(self._labels, labels, strict=True))
        return Sample(f"{self._name}_total", names, self._values[labels], None, None)

    def _check(self, labels: tuple[str, ...]) -> None:
        if len(labels) != len(self._labels):
            raise ValueError(f"{self._name}: labels {self._labels} expected, got {len(labels)} values")


class HotlineMetrics:
    """Counters and histograms moved by AMI events and finished records."""

    def __init__(
        self,
        registry: CollectorRegistry,
        queues: Iterable[str],
        levels: Callable[[], ServiceLevels] | None = None,
    ) -> None:
        self._levels = levels or (lambda: ServiceLevels({}))
        q, qt = ("queue",), ("queue", "topic")
        self.offered = CounterFamily("hotline_calls_offered", "Calls that entered a queue", q)
        self.answered = CounterFamily("hotline_calls_answered", "Calls answered by an operator", q)
        self.abandoned = CounterFamily("hotline_calls_abandoned", "Callers who hung up while waiting", q)
        self.topic_offered = CounterFamily(
            "hotline_topic_calls_offered", "Finished calls offered, by last queue and topic", qt
        )
        self.topic_answered = CounterFamily(
            "hotline_topic_calls_answered", "Finished calls answered, by queue and topic", qt
        )
        self.topic_abandoned = CounterFamily(
            "hotline_topic_calls_abandoned", "Finished calls abandoned in a queue, by topic", qt
        )
        self.topic_within = CounterFamily(
            "hotline_topic_calls_answered_within_threshold",
            "Finished calls answered within their queue's service-level threshold",
            qt,
        )
        self.fallbacks = CounterFamily(
            "hotline_ivr_fallbacks", "Callers sent to a human on the fallback path, by why", ("reason",)
        )
        self.ivr_errors = CounterFamily(
            "hotline_ivr_errors", "Calls the IVR started but could not route (an error)"
        )
        self.ivr_errors.touch()
        self.wait = Histogram(
            "hotline_wait_seconds",
            "Time offered calls waited, by queue and outcome",
            ["queue", "outcome"],
            (),
        )
        self.talk = Histogram(
            "hotline_talk_seconds", "Talk time of answered calls, by queue", ["queue"], TALK_BUCKETS
        )
        self._follow_thresholds()
        per_queue = (self.offered, self.answered, self.abandoned)
        per_topic = (self.topic_offered, self.topic_answered, self.topic_abandoned, self.topic_within)
        for collector in (*per_queue, *per_topic, self.fallbacks, self.ivr_errors, self.wait, self.talk):
            registry.register(collector)
        for queue in queues:  # every configured queue shows 0 before its first call
            for counter in per_queue:
                counter.touch(queue)
        for reason in (*sorted(FALLBACK_REASONS), DIALPLAN_FALLBACK):
            self.fallbacks.touch(reason)

    def _follow_thresholds(self) -> ServiceLevels:
        levels = self._levels()
        wanted = {*WAIT_BUCKETS, *map(float, levels.thresholds.values()), float(levels.default_seconds)}
        if not wanted <= set(self.wait.bounds):
            self.wait.set_bounds(wanted | set(self.wait.bounds))
        return levels

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueCallerJoin):
            self.offered.inc(event.queue)
        elif isinstance(event, AgentConnect):
            self.answered.inc(event.queue)

    def on_record(self, record: CallRecord) -> None:
        """Abandons are counted from finished records: app_queue also reports a queue timeout
        (an overflow) as an abandon, and only the caller's hangup tells the two apart."""
        if record.outcome is Outcome.ABANDONED_IN_QUEUE and record.queue:
            self.abandoned.inc(record.queue)
        self._count_ivr(record)
        if is_offered(record):
            self._count_offered(record)

    def _count_offered(self, record: CallRecord) -> None:
        levels = self._follow_thresholds()
        queue, topic = record.queue or "", record.topic or NO_TOPIC
        self.topic_offered.inc(queue, topic)
        self.topic_within.touch(queue, topic)  # 0 shown until the first
        if record.outcome is Outcome.ANSWERED:
            self.topic_answered.inc(queue, topic)
            if (record.wait_seconds or 0.0) <= levels.threshold(queue):
                self.topic_within.inc(queue, topic)
            self.wait.observe((queue, "answered"), record.wait_seconds or 0.0)
            if record.talk_seconds is not None:
                self.talk.observe((queue,), record.talk_seconds)
        elif record.outcome is Outcome.ABANDONED_IN_QUEUE:
            self.topic_abandoned.inc(queue, topic)
            self.wait.observe((queue, "abandoned"), record.wait_seconds or 0.0)

    def _count_ivr(self, record: CallRecord) -> None:
        if record.fallback:
            self.fallbacks.inc(DIALPLAN_FALLBACK)
            if record.menu_version is not None and record.route_reason is None:
                self.ivr_errors.inc()  # the IVR answered the call, then failed (ivr_failed)
        elif record.route_reason in FALLBACK_REASONS:
            self.fallbacks.inc(record.route_reason)


@dataclass(frozen=True)
class LiveSources:
    """What the scrape-time gauges read; all callables are cheap and never do I/O."""

    operators: Callable[[], Iterable[OperatorState]] = lambda: ()
    levels: Callable[[], ServiceLevels] = lambda: ServiceLevels({})
    agi_errors: Callable[[], int] | None = None
    clock: Callable[[], float] = time.time  # epoch seconds


class LiveCollector(Collector):
    """Gauges read from live state at scrape time. ``queues``: names shown even before their
    first call (a list, or a callable for names that follow the live IVR)."""

    def __init__(
        self,
        board: QueueBoard,
        queues: Iterable[str] | Callable[[], Iterable[str]],
        nodes: Callable[[], Iterable[NodeStatus]],
        sources: LiveSources | None = None,
    ) -> None:
        self._board = board
        self._queues = queues if callable(queues) else _fixed(tuple(queues))
        self._nodes = nodes
        self._s = sources or LiveSources()

    def collect(self) -> Iterator[Metric]:
        queues = sorted(set(self._queues()) | set(self._board.waiting()))
        yield from self._queue_gauges(queues)
        yield from self._operator_gauges(queues)
        yield from self._levels(queues)
        yield from self._node_gauges()

    def _queue_gauges(self, queues: list[str]) -> Iterator[Metric]:
        counts, oldest = self._board.waiting(), self._board.oldest()
        now = self._now()
        waiting = GaugeMetricFamily("hotline_calls_waiting", "Calls waiting in a queue", labels=["queue"])
        longest = GaugeMetricFamily(
            "hotline_longest_wait_seconds", "How long the longest-waiting caller has waited", labels=["queue"]
        )
        for queue in queues:
            waiting.add_metric([queue], counts.get(queue, 0))
            since = oldest.get(queue)
            longest.add_metric([queue], max(now - since.timestamp(), 0.0) if since else 0.0)
        yield waiting
        yield longest

    def _operator_gauges(self, queues: list[str]) -> Iterator[Metric]:
        overall: Tally[str] = Tally()
        per_queue: Tally[tuple[str, str]] = Tally()
        for state in self._s.operators():
            status = str(state.status)
            overall[status] += 1
            for queue in state.queues:
                per_queue[(queue, status)] += 1
        everyone = GaugeMetricFamily("hotline_operators", "Operators logged in, by state", labels=["state"])
        for status, count in sorted(overall.items()):
            everyone.add_metric([status], count)
        yield everyone
        members = GaugeMetricFamily(
            "hotline_queue_operators", "Operators logged in to a queue, by state", labels=["queue", "state"]
        )
        for (queue, status), count in sorted(per_queue.items()):
            members.add_metric([queue, status], count)
        yield members

    def _levels(self, queues: list[str]) -> Iterator[Metric]:
        levels = self._s.levels()
        threshold = GaugeMetricFamily(
            "hotline_service_level_threshold_seconds",
            "Answered within this counts for the service level",
            labels=["queue"],
        )
        target = GaugeMetricFamily(
            "hotline_service_level_target",
            "Share of offered calls to answer within the threshold",
            labels=["queue"],
        )
        for queue in queues:
            threshold.add_metric([queue], levels.threshold(queue))
            target.add_metric([queue], levels.target(queue))
        yield threshold
        yield target

    def _node_gauges(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "hotline_ami_connected", "AMI session logged in (1) or not (0)", labels=["node"]
        )
        reconnects = CounterMetricFamily(
            "hotline_ami_reconnects", "AMI connection attempts after the first", labels=["node"]
        )
        events = CounterMetricFamily("hotline_ami_events", "AMI events handled", labels=["node"])
        failed = CounterMetricFamily(
            "hotline_ami_events_failed", "AMI events that failed to parse or apply", labels=["node"]
        )
        for status in self._nodes():
            up.add_metric([status.node], 1.0 if status.logged_in else 0.0)
            reconnects.add_metric([status.node], status.reconnects)
            events.add_metric([status.node], status.events_total)
            failed.add_metric([status.node], status.events_failed)
        yield from (up, reconnects, events, failed)
        if self._s.agi_errors is not None:
            agi = CounterMetricFamily(
                "hotline_agi_errors", "FastAGI sessions that failed (bad request or handler error)"
            )
            agi.add_metric([], self._s.agi_errors())
            yield agi

    def _now(self) -> float:
        return self._s.clock()


def _fixed(names: tuple[str, ...]) -> Callable[[], Iterable[str]]:
    return lambda: names
