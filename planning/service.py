"""Shift planning as a service: call records -> forecast -> staffing -> roster.

Reads the call records of the history window (only what forecasting needs: no caller data is
ever in them), forecasts each queue (or topic), staffs every interval with Erlang A (Erlang C
where no abandonment was seen, or when asked), and rosters the summed positions. ``now`` gives
the current interval's requirement per queue for the wallboard, cached per interval.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, select

from core.errors import DomainError
from metrics.records.models import CallRecordRow
from planning.erlang import Cells, Floats, Targets, staff_many
from planning.forecast import Call, Grid, GroupForecast, SpecialDay, forecast
from planning.roster import Operator, Progress, Roster, RosterProblem, Rules, ShiftTemplate, solve

Grouping = Literal["queue", "topic"]
Model = Literal["erlang_a", "erlang_c"]
NOW_CACHE_SECONDS = 600.0


class PlanningError(DomainError):
    """A plan that cannot be made; ``where`` names the field of the request when known (a
    query parameter as ``query.x``, else a field of the body)."""

    error_id = "planning_error"
    status = 422

    def __init__(self, message: str, where: str | None = None) -> None:
        field = where if where is None or where.startswith("query.") else f"body.{where}"
        super().__init__(message, [{"where": field, "problem": message}] if field else None)
        self.where = where


class NoHistory(PlanningError):
    error_id = "planning_no_history"


class RosterInvalid(PlanningError):
    error_id = "roster_invalid"


@dataclass(frozen=True)
class PlanRequest:
    start: date
    days: int = 7
    minutes: int = 30
    weeks: int = 8
    timezone: str = "Europe/Moscow"
    by: Grouping = "queue"
    model: Model = "erlang_a"
    targets: Targets = field(default_factory=Targets)
    special_days: tuple[SpecialDay, ...] = ()

    def grid(self) -> Grid:
        return Grid(self.start, self.days, self.minutes, ZoneInfo(self.timezone))


@dataclass(frozen=True)
class QueuePlan:
    forecast: GroupForecast
    model: str  # erlang_a or erlang_c (no patience known, or asked for)
    agents: Floats
    positions: Floats
    service_level: Floats
    abandon: Floats
    occupancy: Floats


@dataclass(frozen=True)
class Plan:
    request: PlanRequest
    grid: Grid
    queues: tuple[QueuePlan, ...]

    def required(self) -> np.ndarray:
        total = np.zeros(self.grid.size, dtype=np.int64)
        for q in self.queues:
            total += q.positions.astype(np.int64)
        return total


_COLUMNS = ("started_at", "queue", "topic", "outcome", "wait_seconds", "talk_seconds", "wrapup_seconds")


class PlanningService:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))
        self._now_cache: dict[tuple[date, int, str], tuple[float, Plan]] = {}
        self._lock = threading.Lock()

    def calls(self, since: datetime, until: datetime, by: Grouping) -> list[Call]:
        """Calls that reached a queue in [since, until), reduced to what forecasting needs."""
        records = CallRecordRow.__table__.c
        query = select(*(records[name] for name in _COLUMNS)).where(
            records.started_at >= since, records.started_at < until, records.queue_entered_at.is_not(None)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [c for c in (_call(dict(r), by) for r in rows) if c is not None]

    def plan(self, request: PlanRequest) -> Plan:
        grid = request.grid()
        since = datetime.combine(request.start - timedelta(days=7 * request.weeks), datetime.min.time())
        until = datetime.combine(request.start, datetime.min.time())
        calls = self.calls(_utc(since, grid.zone), _utc(until, grid.zone), request.by)
        forecasts = forecast(calls, grid, request.weeks, request.special_days)
        if not forecasts:
            message = f"no calls reached a queue in the {request.weeks} weeks before {request.start}"
            raise NoHistory(message, "history_weeks")
        return Plan(request, grid, tuple(_staff(f, grid, request) for f in forecasts))

    def roster(
        self,
        plan: Plan,
        templates: Sequence[ShiftTemplate],
        operators: Sequence[Operator],
        rules: Rules,
        time_limit: float,
        progress: Callable[[Progress], None] | None = None,
    ) -> Roster:
        problem = RosterProblem(
            plan.grid.start,
            plan.grid.days,
            plan.grid.minutes,
            plan.required(),
            tuple(templates),
            tuple(operators),
            rules,
        )
        try:
            return solve(problem, time_limit=time_limit, progress=progress)
        except ValueError as exc:
            where = getattr(exc, "where", None)
            raise RosterInvalid(str(exc), where) from exc

    def now(self, request: PlanRequest | None = None) -> tuple[datetime, Plan, int]:
        """Today's plan (cached for ``NOW_CACHE_SECONDS``) and the index of the current interval."""
        at = self._clock()
        base = request or PlanRequest(start=date.today())
        zone = ZoneInfo(base.timezone)
        today = at.astimezone(zone).date()
        key = (today, base.minutes, base.timezone)
        with self._lock:
            cached = self._now_cache.get(key)
        if cached is None or at.timestamp() - cached[0] > NOW_CACHE_SECONDS:
            plan = self.plan(PlanRequest(**{**base.__dict__, "start": today, "days": 1}))
            cached = (at.timestamp(), plan)
            with self._lock:
                self._now_cache = {key: cached}
        plan = cached[1]
        index = plan.grid.index(at)
        return at, plan, 0 if index is None else index


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _call(row: dict[str, object], by: Grouping) -> Call | None:
    group = row[by]
    started = row["started_at"]
    if not isinstance(group, str) or not isinstance(started, datetime):
        return None
    if started.tzinfo is None:  # SQLite hands back naive UTC
        started = started.replace(tzinfo=UTC)
    talk, wrapup = _number(row.get("talk_seconds")), _number(row.get("wrapup_seconds"))
    answered = row["outcome"] == "answered" and talk is not None
    handle = (talk or 0.0) + (wrapup or 0.0) if answered else None
    return Call(
        started_at=started,
        group=group,
        handle=handle,
        queued=True,
        abandoned=row["outcome"] == "abandoned_in_queue",
        wait=_number(row["wait_seconds"]),
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, float | int) else None


def _staff(f: GroupForecast, grid: Grid, request: PlanRequest) -> QueuePlan:
    rate = f.calls / (grid.minutes * 60)
    busy = (rate > 0) & (f.handle > 0)
    use_a = request.model == "erlang_a" and f.patience is not None
    patience = f.patience if use_a and f.patience is not None else math.inf
    cells = Cells(
        rate[busy], f.handle[busy], np.full(int(busy.sum()), patience), request.targets.answer_within
    )
    out = {name: np.zeros(grid.size) for name in ("agents", "service_level", "abandon", "occupancy")}
    out["service_level"][:] = 1.0
    if busy.any():
        agents, m = staff_many(cells, request.targets)
        out["agents"][busy] = agents
        out["service_level"][busy] = m["service_level"]
        out["abandon"][busy] = m["abandon_probability"]
        out["occupancy"][busy] = m["occupancy"]
    positions = np.ceil(out["agents"] / (1 - request.targets.shrinkage) - 1e-9)
    return QueuePlan(
        forecast=f,
        model="erlang_a" if use_a else "erlang_c",
        agents=out["agents"],
        positions=positions,
        service_level=out["service_level"],
        abandon=out["abandon"],
        occupancy=out["occupancy"],
    )
