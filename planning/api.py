"""HTTP API and page of shift planning: /api/planning/* (shift leads and admins), /planning/.

Forecasts, staffing and rosters are CPU work: they run in bounded pools of their own (forecasts
in one, rosters in another), never on the loop nor in the default thread pool; a full pool is a
429 planning_busy. A PlanningError names the field it concerns in ``details[].where``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Engine

from core.errors import problems
from core.types import Guard
from planning.pool import MAX_MODEL_SIZE, PlanningBusy, WorkerPool, model_size
from planning.roster import Roster
from planning.schemas import (
    NowOut,
    NowQueueOut,
    PlanIn,
    PlanOut,
    RosterableOut,
    RosterIn,
    RosterOut,
    SetupOut,
)
from planning.service import NoHistory, Plan, PlanningError, PlanningService, PlanRequest, RosterInvalid


def _today(zone: str) -> Any:
    return datetime.now(ZoneInfo(zone)).date()


FORECAST_WORKERS, FORECAST_WAITING = 2, 6
FORMER_ZONE = "Europe/Moscow"  # the default before the line's own zone was passed in


def planning_router(
    engine: Engine,
    guard: Guard,
    service: PlanningService | None = None,
    pool: WorkerPool | None = None,
    forecasts: WorkerPool | None = None,
    timezone: str = FORMER_ZONE,
    operators: Callable[[], Sequence[RosterableOut]] = list,
) -> APIRouter:
    """``pool``: where rosters are made (default: one at a time, two waiting); ``forecasts``:
    where forecasts and the current interval are (default: two at a time, six waiting);
    ``timezone``: the line's (metrics.timezone), for every request that names none; ``operators``:
    the active people a roster can use (a blocking read: it runs in a thread)."""
    planning = service or PlanningService(engine)
    rosters = pool or WorkerPool()
    forecasting = forecasts or WorkerPool(FORECAST_WORKERS, FORECAST_WAITING, name="forecast")
    api = APIRouter(prefix="/api/planning", tags=["planning"], dependencies=[Depends(guard)])

    @api.get("/setup", response_model=SetupOut)
    async def setup() -> SetupOut:
        """The line's time zone and the active people a roster can use (the page's starting point)."""
        people = await asyncio.to_thread(operators)
        return SetupOut(timezone=timezone, operators=list(people))

    @api.post("/forecast", response_model=PlanOut, responses=problems(NoHistory, PlanningBusy))
    async def plan(body: PlanIn) -> PlanOut:
        """Forecast and staffing per interval and queue, with the backtest error of each forecast,
        in the forecast pool (429 when it is full)."""
        zone = body.timezone or timezone
        request = body.build(_today(zone), zone)
        result = await forecasting.run(lambda: planning.plan(request))
        return PlanOut.of(result)

    @api.post("/roster", response_model=RosterOut, responses=problems(NoHistory, RosterInvalid, PlanningBusy))
    async def roster(body: RosterIn) -> RosterOut:
        """Forecast, staffing, then a roster covering the summed positions, in the roster pool
        (429 when it is full). ``time_limit_seconds`` covers the forecast and the model's
        building too, from the moment a worker takes the request."""
        size = model_size(len(body.operators), len(body.templates), body.days, body.interval_minutes)
        if size > MAX_MODEL_SIZE:
            problem = f"operators x templates x intervals is {size}; at most {MAX_MODEL_SIZE}"
            raise RosterInvalid(f"the roster is too large: {problem}", "operators")
        zone = body.timezone or timezone
        request = body.build(_today(zone), zone)

        def make() -> tuple[Plan, Roster]:
            started = time.monotonic()
            result = planning.plan(request)
            left = body.time_limit_seconds - (time.monotonic() - started)
            templates, operators = [t.build() for t in body.templates], [o.build() for o in body.operators]
            return result, planning.roster(result, templates, operators, body.rules.build(), left)

        result, solved = await rosters.run(make)
        return RosterOut.of(result, solved, [o.id for o in body.operators])

    @api.get("/now", response_model=NowOut, responses=problems(PlanningError, NoHistory, PlanningBusy))
    async def now(
        interval_minutes: Annotated[int, Query()] = 30,
        zone_name: Annotated[str | None, Query(alias="timezone", max_length=64)] = None,
    ) -> NowOut:
        """The current interval's required positions per queue (for the wallboard), in the
        forecast pool (429 when it is full)."""
        if interval_minutes not in (15, 30, 60):
            raise PlanningError("the interval is 15, 30 or 60 minutes", "query.interval_minutes")
        try:
            zone = ZoneInfo(zone_name or timezone).key
        except (ZoneInfoNotFoundError, ValueError):
            raise PlanningError(f"unknown time zone {zone_name!r}", "query.timezone") from None
        base = PlanRequest(start=_today(zone), minutes=interval_minutes, timezone=zone)
        at, result, index = await forecasting.run(lambda: planning.now(base))
        queues = [
            NowQueueOut(
                queue=q.forecast.group,
                required_positions=int(q.positions[index]),
                agents=int(q.agents[index]),
                calls_forecast=round(float(q.forecast.calls[index]), 2),
            )
            for q in result.queues
        ]
        return NowOut(
            at=at,
            interval_start=result.grid.slot_start(index),
            interval_minutes=result.grid.minutes,
            total_positions=sum(q.required_positions for q in queues),
            queues=queues,
        )

    return api
