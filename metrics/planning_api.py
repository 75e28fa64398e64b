"""HTTP API and page of shift planning: /api/planning/* (shift leads and admins), /planning/.

Forecasts, staffing and rosters are CPU work: they run in a worker thread, never on the loop.
Planning errors become the common error JSON (``error_id``, ``message``, ``details``) here, in
the routes' own handler, with the field they concern in ``details[].where``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from metrics.planning import PlanningError, PlanningService, PlanRequest
from metrics.planning_schemas import NowOut, NowQueueOut, PlanIn, PlanOut, RosterIn, RosterOut

PAGE = Path(__file__).resolve().parent.parent / "hotline" / "static" / "planning.html"


class PlanningRoute(APIRoute):
    """Turns a PlanningError into the common error JSON, naming the field when known."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except PlanningError as exc:
                where = (
                    exc.where if exc.where is None or exc.where.startswith("query.") else f"body.{exc.where}"
                )
                details = [{"where": where, "problem": str(exc)}] if where else None
                body = {"error_id": exc.error_id, "message": str(exc), "details": details}
                return JSONResponse(body, status_code=exc.status)

        return handle


def _today(zone: str) -> Any:
    return datetime.now(ZoneInfo(zone)).date()


def planning_router(
    engine: Engine, guard: Callable[[Request], Awaitable[object]], service: PlanningService | None = None
) -> APIRouter:
    planning = service or PlanningService(engine)
    api = APIRouter(
        prefix="/api/planning", tags=["planning"], dependencies=[Depends(guard)], route_class=PlanningRoute
    )

    @api.post("/forecast", response_model=PlanOut)
    async def plan(body: PlanIn) -> PlanOut:
        """Forecast and staffing per interval and queue, with the backtest error of each forecast."""
        result = await asyncio.to_thread(planning.plan, body.build(_today(body.timezone)))
        return PlanOut.of(result)

    @api.post("/roster", response_model=RosterOut)
    async def roster(body: RosterIn) -> RosterOut:
        """Forecast, staffing, then a roster covering the summed positions."""
        request = body.build(_today(body.timezone))
        result = await asyncio.to_thread(planning.plan, request)
        solved = await asyncio.to_thread(
            planning.roster,
            result,
            [t.build() for t in body.templates],
            [o.build() for o in body.operators],
            body.rules.build(),
            body.time_limit_seconds,
        )
        return RosterOut.of(result, solved, [o.id for o in body.operators])

    @api.get("/now", response_model=NowOut)
    async def now(
        interval_minutes: Annotated[int, Query()] = 30,
        timezone: Annotated[str, Query(max_length=64)] = "Europe/Moscow",
    ) -> NowOut:
        """The current interval's required positions per queue (for the wallboard)."""
        if interval_minutes not in (15, 30, 60):
            raise PlanningError("the interval is 15, 30 or 60 minutes", "query.interval_minutes")
        try:
            zone = ZoneInfo(timezone).key
        except (ZoneInfoNotFoundError, ValueError):
            raise PlanningError(f"unknown time zone {timezone!r}", "query.timezone") from None
        base = PlanRequest(start=_today(zone), minutes=interval_minutes, timezone=zone)
        at, result, index = await asyncio.to_thread(planning.now, base)
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

    outer = APIRouter()
    outer.include_router(api)

    @outer.get("/planning", include_in_schema=False)
    async def page_redirect() -> RedirectResponse:
        return RedirectResponse("/planning/")

    @outer.get("/planning/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(PAGE)

    return outer
