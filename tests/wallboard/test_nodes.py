"""The wallboard of a line of several Asterisk nodes: each queue's callers for the whole line, and
node by node."""

from __future__ import annotations

from datetime import timedelta

from metrics.live.board import QueueBoard
from telephony.events import QueueCallerJoin
from tests.wallboard.test_service import T0, Clock, hub


def test_each_queue_shows_its_callers_per_node() -> None:
    clock, board = Clock(), QueueBoard()
    wall = hub(board, [], clock)
    for node, call in (("a", "1.1"), ("b", "2.1"), ("b", "2.2")):
        board.on_event(QueueCallerJoin(node, T0 - timedelta(seconds=5), call, call, "crisis", 1, 1))
    crisis, legal = wall.snapshot()["queues"]
    assert (crisis["queue"], crisis["waiting"], crisis["waiting_by_node"]) == ("crisis", 3, {"a": 1, "b": 2})
    assert (legal["waiting"], legal["waiting_by_node"]) == (0, {})
