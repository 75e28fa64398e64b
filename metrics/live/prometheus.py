"""Prometheus metrics (``hotline_`` prefix). Labels are queue, topic, state, reason and node
names only: never callers.

Two kinds of call counters, on purpose:
- ``hotline_calls_{offered,answered}_total{queue}`` move live with the queue events (a call
  that overflows is offered to each queue it joins); ``hotline_calls_abandoned_total{queue}``
  follows finished records (app_queue reports an overflow's timeout as an abandon too);
- ``hotline_topic_calls_{offered,answered,abandoned}_total{queue,topic}`` count finished calls
  once, in their last queue, with the reports' definitions (metrics/reports/service.py), so a
  Prometheus ``increase`` over an interval matches the report of that interval.
Wait and talk histograms come from finished records; the wait buckets hold every queue's
service-level threshold (a new threshold after a publish restarts the wait histogram, which
Prometheus reads as a counter reset).
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric

from agents.state import OperatorState
from exposition.families import CounterFamily, Histogram
from exposition.writer import ExposedCollector, FamilyText, Format
from ivr.engine import RouteReason
from metrics.live.board import QueueBoard
from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome, is_offered
from telephony.ami import NodeStatus
from telephony.events import AgentConnect, AmiEvent, QueueCallerJoin

WAIT_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1200.0)
TALK_BUCKETS = (60.0, 180.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0)
NO_TOPIC = "none"  # the topic label of calls that reached a queue without choosing one
# Route reasons that send a caller to a human on the fallback path instead of their choice.
FALLBACK_REASONS = frozenset({RouteReason.NO_INPUT, RouteReason.INVALID_INPUT, RouteReason.TOO_MANY_STEPS})
DIALPLAN_FALLBACK = "dialplan"  # the IVR failed or never answered: Asterisk's own fallback


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


Series = list[tuple[tuple[str, ...], float]]  # label values and value, in exposition order


class LiveCollector(ExposedCollector):
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
        q, node = ("queue",), ("node",)
        self._waiting = FamilyText("hotline_calls_waiting", "Calls waiting in a queue", "gauge", q)
        self._longest = FamilyText(
            "hotline_longest_wait_seconds", "How long the longest-waiting caller has waited", "gauge", q
        )
        self._everyone = FamilyText("hotline_operators", "Operators logged in, by state", "gauge", ("state",))
        self._members = FamilyText(
            "hotline_queue_operators", "Operators logged in to a queue, by state", "gauge", ("queue", "state")
        )
        self._threshold = FamilyText(
            "hotline_service_level_threshold_seconds",
            "Answered within this counts for the service level",
            "gauge",
            q,
        )
        self._target = FamilyText(
            "hotline_service_level_target",
            "Share of offered calls to answer within the threshold",
            "gauge",
            q,
        )
        self._up = FamilyText("hotline_ami_connected", "AMI session logged in (1) or not (0)", "gauge", node)
        self._reconnects = FamilyText(
            "hotline_ami_reconnects", "AMI connection attempts after the first", "counter", node
        )
        self._events = FamilyText("hotline_ami_events", "AMI events handled", "counter", node)
        self._failed = FamilyText(
            "hotline_ami_events_failed", "AMI events that failed to parse or apply", "counter", node
        )
        self._node_waiting = FamilyText(
            "hotline_node_calls_waiting", "Calls waiting in a queue, by Asterisk node", "gauge", ("node", *q)
        )
        self._agi = FamilyText(
            "hotline_agi_errors", "FastAGI sessions that failed (bad request or handler error)", "counter"
        )

    def texts(self) -> Sequence[FamilyText]:
        fixed = (self._waiting, self._longest, self._everyone, self._members, self._threshold, self._target)
        nodes = (self._up, self._reconnects, self._events, self._failed, self._node_waiting)
        return (*fixed, *nodes) if self._s.agi_errors is None else (*fixed, *nodes, self._agi)

    def collect(self) -> Iterator[Metric]:
        for text, series in self._families():
            yield text.metric(series)

    def exposition(self, fmt: Format) -> str:
        return "".join([text.header(fmt) + text.lines(series) for text, series in self._families()])

    def _families(self) -> list[tuple[FamilyText, Series]]:
        """Every family's series, read now, in the order of the exposition."""
        waiting = self._board.waiting()
        queues = sorted(set(self._queues()) | set(waiting))
        return [
            *self._queue_gauges(queues, waiting),
            *self._operator_gauges(),
            *self._levels(queues),
            *self._node_gauges(),
        ]

    def _queue_gauges(self, queues: list[str], counts: dict[str, int]) -> list[tuple[FamilyText, Series]]:
        oldest, now = self._board.oldest(), self._s.clock()
        longest: Series = []
        for queue in queues:
            since = oldest.get(queue)
            longest.append(((queue,), max(now - since.timestamp(), 0.0) if since else 0.0))
        return [(self._waiting, [((q,), counts.get(q, 0)) for q in queues]), (self._longest, longest)]

    def _operator_gauges(self) -> list[tuple[FamilyText, Series]]:
        overall: Tally[str] = Tally()
        per_queue: Tally[tuple[str, str]] = Tally()
        for state in self._s.operators():
            status = str(state.status)
            overall[status] += 1
            for queue in state.queues:
                per_queue[(queue, status)] += 1
        return [
            (self._everyone, [((status,), count) for status, count in sorted(overall.items())]),
            (self._members, [(pair, count) for pair, count in sorted(per_queue.items())]),
        ]

    def _levels(self, queues: list[str]) -> list[tuple[FamilyText, Series]]:
        levels = self._s.levels()
        return [
            (self._threshold, [((q,), levels.threshold(q)) for q in queues]),
            (self._target, [((q,), levels.target(q)) for q in queues]),
        ]

    def _node_gauges(self) -> list[tuple[FamilyText, Series]]:
        statuses: list[tuple[tuple[str, ...], NodeStatus]] = [((s.node,), s) for s in self._nodes()]
        out: list[tuple[FamilyText, Series]] = [
            (self._up, [(node, 1.0 if s.logged_in else 0.0) for node, s in statuses]),
            (self._reconnects, [(node, float(s.reconnects)) for node, s in statuses]),
            (self._events, [(node, float(s.events_total)) for node, s in statuses]),
            (self._failed, [(node, float(s.events_failed)) for node, s in statuses]),
            (self._node_waiting, sorted(self._board.waiting_by_node().items())),
        ]
        if self._s.agi_errors is not None:
            out.append((self._agi, [((), float(self._s.agi_errors()))]))
        return out


def _fixed(names: tuple[str, ...]) -> Callable[[], Iterable[str]]:
    return lambda: names
