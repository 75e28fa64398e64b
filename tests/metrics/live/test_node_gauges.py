"""/metrics for a line of several Asterisk nodes: each queue's callers summed over the line, and
node by node."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from metrics.live.board import QueueBoard
from metrics.live.prometheus import LiveCollector, LiveSources
from metrics.records.levels import ServiceLevels
from telephony.ami import NodeStatus
from telephony.events import QueueCallerJoin, QueueCallerLeave
from tests.metrics.live.test_prometheus import T0, labels, samples


def test_calls_waiting_per_node_and_for_the_line() -> None:
    board = QueueBoard()
    at = T0 - timedelta(seconds=5)
    board.on_event(QueueCallerJoin("a", at, "1.1", "1.1", "main", 1, 1))
    board.on_event(QueueCallerJoin("b", at, "2.1", "2.1", "main", 1, 1))
    board.on_event(QueueCallerJoin("b", at, "2.2", "2.2", "support-b", 1, 1))
    board.on_event(QueueCallerJoin("a", at, "1.2", "1.2", "support-a", 1, 1))
    board.on_event(QueueCallerLeave("a", T0, "1.2", "1.2", "support-a", 1, 0))  # overflowed to b
    nodes = [NodeStatus(n, True, True, T0, None, 0, 10, T0, 1) for n in ("a", "b")]
    registry = CollectorRegistry()
    sources = LiveSources(list, lambda: ServiceLevels({}), lambda: 0, T0.timestamp)  # a fixed clock
    registry.register(LiveCollector(board, ["main", "support-a", "support-b"], lambda: nodes, sources))
    got = samples(registry)
    assert got[("hotline_calls_waiting", labels(queue="main"))] == 2
    assert got[("hotline_node_calls_waiting", labels(node="a", queue="main"))] == 1
    assert got[("hotline_node_calls_waiting", labels(node="b", queue="main"))] == 1
    assert got[("hotline_node_calls_waiting", labels(node="b", queue="support-b"))] == 1
    assert ("hotline_node_calls_waiting", labels(node="a", queue="support-a")) not in got
