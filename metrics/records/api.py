"""HTTP API of the metrics room: call records and exports, for shift leads and admins."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from core.bounds import MAX_OFFSET, Instant
from core.errors import problems
from core.types import Guard
from metrics.records.exceptions import InvalidExportRange
from metrics.records.export import CallExporter, ExportFormat
from metrics.records.schemas import CallRecordPublic
from metrics.records.store import RecordStore


def calls_router(store: RecordStore, guard: Guard, exporter: CallExporter | None = None) -> APIRouter:
    """``guard`` admits who may read call figures (the composition root: shift leads and
    admins); ``exporter`` adds ``/api/calls/export``."""
    router = APIRouter(prefix="/api", tags=["calls"], dependencies=[Depends(guard)])

    if exporter is not None:
        _export_route(router, exporter)

    @router.get("/calls", response_model=list[CallRecordPublic])
    async def list_calls(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        since: Instant | None = None,
    ) -> list[CallRecordPublic]:
        records = await asyncio.to_thread(store.list, limit, offset, since)
        return [CallRecordPublic.of(r) for r in records]

    return router


def _export_route(router: APIRouter, exporter: CallExporter) -> None:
    @router.get("/calls/export", response_model=None, responses=problems(InvalidExportRange))
    async def export_calls(
        fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.JSON,
        since: Instant | None = None,
        until: Instant | None = None,
        interval_minutes: Annotated[int, Query(ge=1, le=1440)] = 15,
    ) -> Response:
        """Calls per interval and topic; cells under k calls merged into "other" or hidden.
        Naive times are UTC; the period is widened to whole intervals."""
        export = await asyncio.to_thread(exporter.export, since, until, interval_minutes)
        if fmt is ExportFormat.JSON:
            return JSONResponse(export.as_json())
        name = f"calls-{export.since:%Y%m%dT%H%M}-{export.until:%Y%m%dT%H%M}.csv"
        return Response(
            export.as_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
