"""Live queue state: who waits where and since when (from queue events and QueueStatus
snapshots), each queue's service-level policy, and service level over a sliding window."""

from __future__ import annotations

import heapq
from collections import defaultdict
from datetime import datetime, timedelta

from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome, is_offered
from metrics.reports.service import Totals
from telephony.events import (
    AmiEvent,
    Hangup,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
    QueueSnapshot,
)


class QueueBoard:
    """Callers waiting per queue, keyed by their channel; a snapshot after every (re)connect
    replaces a node's view, so a missed leave event cannot leave a caller waiting forever."""

    def __init__(self) -> None:
        # node -> caller channel (Uniqueid) -> (queue, waiting since)
        self._calls: dict[str, dict[str, tuple[str, datetime]]] = defaultdict(dict)

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueCallerJoin):
            self._calls[event.node][event.uniqueid or event.call_id] = (event.queue, event.at)
        elif isinstance(event, QueueCallerLeave | QueueCallerAbandon | Hangup):
            self._calls[event.node].pop(event.uniqueid or event.call_id, None)
        elif isinstance(event, QueueSnapshot):
            self._calls[event.node] = {
                e.uniqueid or e.call_id: (e.queue, event.at - timedelta(seconds=e.wait_seconds))
                for e in event.entries
            }

    def waiting(self) -> dict[str, int]:
        """Queue -> calls waiting, summed over nodes."""
        total: dict[str, int] = defaultdict(int)
        for calls in self._calls.values():
            for queue, _ in calls.values():
                total[queue] += 1
        return dict(total)

    def waiting_by_node(self) -> dict[tuple[str, str], int]:
        """(Asterisk node, queue) -> calls waiting there: a line of several nodes, node by node."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        for node, calls in self._calls.items():
            for queue, _ in calls.values():
                out[(node, queue)] += 1
        return dict(out)

    def oldest(self) -> dict[str, datetime]:
        """Queue -> when its longest-waiting caller joined."""
        out: dict[str, datetime] = {}
        for calls in self._calls.values():
            for queue, since in calls.values():
                if queue not in out or since < out[queue]:
                    out[queue] = since
        return out


def record_totals(record: CallRecord, threshold: float) -> Totals:
    """One finished call as report figures (the reports' definitions; no short-abandon rule)."""
    if not is_offered(record):
        return Totals()
    wait = record.wait_seconds or 0.0
    answered = record.outcome is Outcome.ANSWERED
    handled = answered and record.talk_seconds is not None
    return Totals(
        offered=1,
        answered=int(answered),
        abandoned=int(record.outcome is Outcome.ABANDONED_IN_QUEUE),
        answered_within=int(answered and wait <= threshold),
        answer_wait_sum=wait if answered else 0.0,
        handle_sum=(record.talk_seconds or 0.0) + (record.wrapup_seconds or 0.0) if handled else 0.0,
        handled=int(handled),
        longest_wait=record.wait_seconds,
    )


class SlidingTotals:
    """Report figures per queue over calls that started in the last ``span`` (minute steps),
    and since a moving start (midnight): a call counts by its start, as in the reports."""

    def __init__(self, span: timedelta = timedelta(hours=24)) -> None:
        self._span = span
        self._minutes: dict[tuple[str, int], Totals] = {}
        self._heap: list[tuple[int, str]] = []
        self._window: dict[str, Totals] = defaultdict(Totals)
        self._today: dict[str, Totals] = defaultdict(Totals)
        self._midnight: datetime | None = None

    def add(self, queue: str, started_at: datetime, totals: Totals, now: datetime) -> None:
        if started_at < now - self._span:
            return
        minute = int(started_at.timestamp() // 60)
        key = (queue, minute)
        if key not in self._minutes:
            heapq.heappush(self._heap, (minute, queue))
        self._minutes[key] = self._minutes.get(key, Totals()) + totals
        self._window[queue] = self._window[queue] + totals
        if self._midnight is not None and started_at >= self._midnight:
            self._today[queue] = self._today[queue] + totals

    def advance(self, now: datetime, midnight: datetime) -> None:
        """Drop minutes that left the window; start a new day at ``midnight``."""
        cutoff = int((now - self._span).timestamp() // 60)
        while self._heap and self._heap[0][0] < cutoff:
            minute, queue = heapq.heappop(self._heap)
            gone = self._minutes.pop((queue, minute))
            self._window[queue] = _minus(self._window[queue], gone)
        if self._midnight != midnight:
            self._today = defaultdict(Totals)
            for (queue, minute), totals in self._minutes.items():
                if minute * 60 >= midnight.timestamp():
                    self._today[queue] = self._today[queue] + totals
            self._midnight = midnight

    def window(self, queue: str) -> Totals:
        return self._window.get(queue, Totals())

    def today(self, queue: str) -> Totals:
        return self._today.get(queue, Totals())


def _minus(total: Totals, gone: Totals) -> Totals:
    """Counts and sums subtract; the longest wait of what is left is not known exactly, so it
    is dropped from the window (the wallboard shows service level, not the day's longest)."""
    return Totals(
        total.offered - gone.offered,
        total.answered - gone.answered,
        total.abandoned - gone.abandoned,
        total.short_abandoned - gone.short_abandoned,
        total.answered_within - gone.answered_within,
        total.answer_wait_sum - gone.answer_wait_sum,
        total.handle_sum - gone.handle_sum,
        total.handled - gone.handled,
        None,
    )


__all__ = ["QueueBoard", "ServiceLevels", "SlidingTotals", "record_totals"]
