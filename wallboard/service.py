"""The shift leads' wallboard: live figures per queue, operators by state and time in state,
alerts, pushed to every open page (Server-Sent Events) as soon as an AMI event changes them.

Fed like the other consumers: ``on_event`` (from the AMI fanout, after the queue and operator
boards) and ``on_record`` (finished calls). A change schedules one push ``coalesce`` seconds
later, so a burst of events costs one snapshot; a one-second tick re-checks the time-driven
alerts (a wait that crosses its threshold, a new day) and pushes only when they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agents.state import OperatorState
from core.outbox import Backlog
from core.tasks import TaskSupervisor
from metrics.live.board import QueueBoard, SlidingTotals, record_totals
from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord
from metrics.reports.service import Dimension, Interval, ReportQuery, ReportService, Totals
from telephony.events import (
    AmiEvent,
    Hangup,
    MemberState,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
    QueueSnapshot,
)
from wallboard.alerts import Acknowledgement, Alerts, queue_alerts
from wallboard.lead import LeadSources

log = logging.getLogger("hotline.wallboard")
_LIVE_EVENTS = (QueueCallerJoin, QueueCallerLeave, QueueCallerAbandon, MemberState, QueueSnapshot, Hangup)
UTC_ZONE = ZoneInfo("UTC")
SUBSCRIBER_BACKLOG = 4  # snapshots a slow page may fall behind before older ones are dropped
RECORDS_ALERT_SECONDS = 60.0  # finished records waiting longer for the database: an alert
EMERGENCY_ALERT = timedelta(hours=1)  # an emergency line brought into a call stays this long


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WallboardSources:
    board: QueueBoard
    queues: Callable[[], Iterable[str]]
    operators: Callable[[], Iterable[OperatorState]]
    levels: Callable[[], ServiceLevels]
    timezone: ZoneInfo = UTC_ZONE
    clock: Callable[[], datetime] = _utcnow
    records: Callable[[], Backlog] | None = None  # the record writer's backlog
    switchboard: Callable[[], list[dict[str, Any]]] | None = None  # redirects in force (ivr/switchboard.py)


class Wallboard:
    def __init__(
        self, sources: WallboardSources, coalesce: float = 0.02, tasks: TaskSupervisor | None = None
    ) -> None:
        self._s = sources
        self._coalesce = coalesce
        tasks = tasks or TaskSupervisor()  # failures logged once per outage, each one counted
        self._tick_outage = tasks.outage("wallboard", "wallboard tick", log)
        self._push_outage = tasks.outage("wallboard", "wallboard push", log)
        self._totals = SlidingTotals()
        self._since: dict[str, tuple[str, datetime]] = {}  # operator -> (status, since)
        self._subscribers: set[asyncio.Queue[str | None]] = set()
        self._pending: asyncio.TimerHandle | None = None
        self._alerts: tuple[tuple[str, str], ...] = ()
        self._emergencies: list[dict[str, Any]] = []  # the desk's emergency calls, newest last
        # Today's calls an operator took, by record id: their start, and whether summarised.
        self._taken: dict[str, tuple[datetime, bool]] = {}
        self.alerts = Alerts()  # ranked; acknowledged by leads
        self.lead = LeadSources()
        self._totals.advance(self._s.clock(), self._midnight(self._s.clock()))

    # -- inputs -----------------------------------------------------------------------------------
    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, _LIVE_EVENTS):
            self._changed()

    def on_record(self, record: CallRecord) -> None:
        if record.operator is not None:
            self._taken.setdefault(record.id, (record.started_at, False))
        if record.queue is None:
            return
        totals = record_totals(record, self._s.levels().threshold(record.queue))
        if totals.offered:
            self._totals.add(record.queue, record.started_at, totals, self._s.clock())
            self._changed()

    def preload(self, rows: Iterable[tuple[str, datetime, Totals]]) -> None:
        """Figures of calls finished before this process started: (queue, start, totals)."""
        now = self._s.clock()
        for queue, started, totals in rows:
            self._totals.add(queue, started, totals, now)

    def on_summary(self, record_id: str) -> None:
        """A call's after-call summary was saved."""
        taken = self._taken.get(record_id)
        if taken is not None and not taken[1]:
            self._taken[record_id] = (taken[0], True)
            self._changed()

    def preload_taken(self, rows: Iterable[tuple[str, datetime, bool]]) -> None:
        """Calls taken before this process started: (record id, start, whether summarised)."""
        for record_id, started, summarised in rows:
            self._taken[record_id] = (started, summarised)

    def on_emergency(self, operator: str, by: str, at: datetime, queue: str, topic: str | None) -> None:
        """An operator's desk brought the emergency line into a call: an alert for an hour
        (who, who asked, when, the queue and topic; never a number)."""
        message = f"{operator} brought the emergency line into a call" + (
            f" (asked by {by})" if by != operator else ""
        )
        alert = {"queue": queue, "kind": "emergency", "message": message, "operator": operator, "rank": 4}
        self._emergencies.append({**alert, "by": by, "at": at.isoformat(), "topic": topic, "_at": at})
        self._changed()

    # -- outputs ----------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        now = self._s.clock()
        self._totals.advance(now, self._midnight(now))
        operators = self._operators(now)
        queues = self._queues(now, operators)
        records = _records(self._s.records() if self._s.records else None)
        midnight = self._midnight(now)
        self._taken = {k: v for k, v in self._taken.items() if v[0] >= midnight}
        crisis = self.lead.crisis_queues()
        found = [alert for q in queues for alert in queue_alerts(q, q["queue"] in crisis)]
        found += _records_alert(records) + self._emergency_alerts(now)
        alerts = self.alerts.ranked(found)
        return {
            "at": now.isoformat(),
            "timezone": str(self._s.timezone),
            "queues": queues,
            "operators": operators,
            "alerts": alerts,
            "records": records,
            # today's calls an operator took whose after-call summary is not saved yet
            "summaries": {"missing_today": sum(1 for _, done in self._taken.values() if not done)},
            "switchboard": self._s.switchboard() if self._s.switchboard else [],
            "debriefs": self.lead.debriefs(),  # open debrief requests (agents/debriefs.py)
        }

    def acknowledge(self, alert: str, by: str) -> Acknowledgement:
        """A shift lead acknowledges one of the current alerts (AlertNotFound, AlertAcknowledged)."""
        self.snapshot()  # the alerts as they are now
        made = self.alerts.acknowledge(alert, by, self._s.clock())
        self._changed()
        return made

    def changed(self) -> None:
        """A debrief request came, started or closed: a new snapshot."""
        self._changed()

    async def subscribe(self) -> AsyncGenerator[str, None]:
        """Snapshots as JSON text: the current one at once, then one per change, until
        :meth:`close` (the service stopping) ends every stream."""
        inbox: asyncio.Queue[str | None] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        self._subscribers.add(inbox)
        try:
            yield json.dumps(self.snapshot())
            while (text := await inbox.get()) is not None:
                yield text
        finally:
            self._subscribers.discard(inbox)

    def close(self) -> None:
        """End every open stream (a stopping service must not wait for the browsers)."""
        for inbox in self._subscribers:
            while inbox.full():
                inbox.get_nowait()
            inbox.put_nowait(None)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def run(self, tick: float = 1.0) -> None:
        """Time-driven changes: alerts that start or end without an event, a new day."""
        while True:
            await asyncio.sleep(tick)
            try:
                self._track_operators(self._s.clock())
                if self._subscribers and self._alert_keys() != self._alerts:
                    self._push()
            except Exception as exc:  # never let the wallboard stop the service
                self._tick_outage.failed(exc)
            else:
                self._tick_outage.ok()

    # -- internals --------------------------------------------------------------------------------
    def _changed(self) -> None:
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script, a test): nothing to push to
            self._track_operators(self._s.clock())
            return
        self._pending = loop.call_later(self._coalesce, self._flush)

    def _flush(self) -> None:
        self._pending = None
        try:
            self._track_operators(self._s.clock())
            if self._subscribers:
                self._push()
        except Exception as exc:
            self._push_outage.failed(exc)
        else:
            self._push_outage.ok()

    def _push(self) -> None:
        data = self.snapshot()
        self._alerts = tuple((a["queue"], a["kind"]) for a in data["alerts"])
        text = json.dumps(data)
        for inbox in self._subscribers:
            if inbox.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    inbox.get_nowait()
            inbox.put_nowait(text)

    def _emergency_alerts(self, now: datetime) -> list[dict[str, Any]]:
        self._emergencies = [e for e in self._emergencies if now - e["_at"] <= EMERGENCY_ALERT]
        return [{k: v for k, v in e.items() if k != "_at"} for e in reversed(self._emergencies)]

    def _alert_keys(self) -> tuple[tuple[str, str], ...]:
        return tuple((a["queue"], a["kind"]) for a in self.snapshot()["alerts"])

    def _track_operators(self, now: datetime) -> None:
        seen = set()
        for state in self._s.operators():
            seen.add(state.operator)
            status = str(state.status)
            previous = self._since.get(state.operator)
            if previous is None or previous[0] != status:
                self._since[state.operator] = (status, now)
        for gone in set(self._since) - seen:
            del self._since[gone]

    def _operators(self, now: datetime) -> list[dict[str, Any]]:
        self._track_operators(now)
        out = []
        for state in sorted(self._s.operators(), key=lambda s: s.operator):
            status, since = self._since[state.operator]
            out.append(
                {
                    "operator": state.operator,
                    "status": status,
                    "paused_reason": state.paused_reason,
                    "queues": list(state.queues),
                    "since": since.isoformat(),
                    "seconds_in_state": round((now - since).total_seconds(), 1),
                    "moved": self.lead.moves(state.operator),  # queue -> in | out, this shift
                }
            )
        return out

    def _queues(self, now: datetime, operators: list[dict[str, Any]]) -> list[dict[str, Any]]:
        levels = self._s.levels()
        waiting, oldest = self._s.board.waiting(), self._s.board.oldest()
        by_node: dict[str, dict[str, int]] = {}  # a line of several Asterisk nodes: queue -> node -> waiting
        for (node, queue), count in self._s.board.waiting_by_node().items():
            by_node.setdefault(queue, {})[node] = count
        states: dict[str, dict[str, int]] = {}
        for op in operators:
            for queue in op["queues"]:
                per_state = states.setdefault(queue, {})
                per_state[op["status"]] = per_state.get(op["status"], 0) + 1
        out = []
        for queue in sorted(set(self._s.queues()) | set(waiting)):
            since = oldest.get(queue)
            window, today = self._totals.window(queue), self._totals.today(queue)
            members = states.get(queue, {})
            out.append(
                {
                    "queue": queue,
                    "waiting": waiting.get(queue, 0),
                    "waiting_by_node": by_node.get(queue, {}),
                    "longest_wait_seconds": round((now - since).total_seconds(), 1) if since else 0.0,
                    "oldest_since": since.isoformat() if since else None,
                    "threshold_seconds": levels.threshold(queue),
                    "target": levels.target(queue),
                    "service_level_24h": window.service_level,
                    "offered_24h": window.offered,
                    "service_level_today": today.service_level,
                    "offered_today": today.offered,
                    "answered_today": today.answered,
                    "abandoned_today": today.abandoned,
                    "logged_in": sum(members.values()),
                    "operators": members,
                }
            )
        return out

    def _midnight(self, now: datetime) -> datetime:
        local = now.astimezone(self._s.timezone)
        return datetime(local.year, local.month, local.day, tzinfo=self._s.timezone)


def _records(backlog: Backlog | None) -> dict[str, Any]:
    """Finished records not in the database yet (it is away), and how long the oldest waited."""
    return backlog.brief() if backlog is not None else {"pending": 0, "oldest_pending_seconds": 0.0}


def _records_alert(records: dict[str, Any]) -> list[dict[str, Any]]:
    waited = records["oldest_pending_seconds"]
    if waited <= RECORDS_ALERT_SECONDS:
        return []
    message = f"{records['pending']} call records have waited {waited:.0f} s for the database"
    return [{"queue": None, "kind": "records", "message": message, "rank": 5}]


def recent_totals(
    service: ReportService, now: datetime, hours: int = 24
) -> list[tuple[str, datetime, Totals]]:
    """Calls of the last ``hours`` already in the database, per queue and 15 minutes: what a
    restarted service preloads so its sliding service level does not start from nothing."""
    start = now - timedelta(hours=hours)
    query = ReportQuery(start, now + timedelta(minutes=1), Interval.M15, group_by=(Dimension.QUEUE,))
    return [(row.queue, max(row.start, start), row.totals) for row in service.report(query).rows if row.queue]
