"""HTTP API of the metrics room: call records and exports, for shift leads and admins; a
call's after-call summary, for the operator who took it and seniors, shift leads and admins.

No ``from __future__ import annotations`` here: FastAPI must see the closures' guards in the
endpoints' annotations."""

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from agents.auth import Principal
from agents.directory import Role
from core.bounds import MAX_OFFSET, Instant
from core.errors import problems
from core.types import Guard
from core.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from metrics.records.exceptions import (
    CallNotFound,
    CallNotTaken,
    InvalidExportRange,
    SummaryInvalidValue,
    SummaryMissingField,
    SummaryNotFound,
    SummaryPersonalData,
    SummaryTextNotAllowed,
    SummaryTextTooLong,
    SummaryUnknownField,
    SummaryWindowClosed,
)
from metrics.records.export import CallExporter, ExportFormat
from metrics.records.schemas import CallRecordPublic, SummaryIn, SummaryPublic
from metrics.records.store import RecordStore
from metrics.records.summary import SummaryService
from metrics.records.summary_store import SummaryStore

SENIORS = frozenset({Role.SENIOR, Role.SHIFT_LEAD, Role.ADMIN})  # may summarise any operator's call
RecordId = Annotated[str, Path(min_length=1, max_length=32)]
SAVE_ERRORS = problems(
    CallNotFound,
    CallNotTaken,
    SummaryWindowClosed,
    SummaryUnknownField,
    SummaryInvalidValue,
    SummaryMissingField,
    SummaryTextNotAllowed,
    SummaryTextTooLong,
    SummaryPersonalData,
)


def calls_router(
    store: RecordStore,
    guard: Guard,
    exporter: CallExporter | None = None,
    summaries: SummaryStore | None = None,
) -> APIRouter:
    """``guard`` admits who may read call figures (the composition root: shift leads and
    admins); ``exporter`` adds ``/api/calls/export``; ``summaries`` adds each record's
    summary to ``/api/calls``."""
    router = APIRouter(prefix="/api", tags=["calls"], dependencies=[Depends(guard)])

    if exporter is not None:
        _export_route(router, exporter)

    @router.get("/calls", response_model=list[CallRecordPublic])
    async def list_calls(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        since: Instant | None = None,
        node: Annotated[str | None, Query(max_length=40, description="calls that came in there")] = None,
    ) -> list[CallRecordPublic]:
        records = await asyncio.to_thread(store.list, limit, offset, since, node)
        found = await asyncio.to_thread(summaries.of, [r.id for r in records]) if summaries else {}
        return [CallRecordPublic.of(r, found.get(r.id)) for r in records]

    return router


def summary_router(
    service: SummaryService, guard: Guard, saved: Callable[[str], None] = lambda _: None
) -> APIRouter:
    """``guard`` admits every operator; the service decides whose call it is. ``saved`` hears
    of each summary saved (its record id), on the event loop (the wallboard's count)."""
    router = APIRouter(prefix="/api", tags=["calls"])

    @router.get(
        "/calls/{record_id}/summary",
        response_model=SummaryPublic,
        responses=problems(CallNotFound, CallNotTaken, SummaryNotFound),
    )
    async def get_summary(
        record_id: RecordId, principal: Annotated[Principal, Depends(guard)]
    ) -> SummaryPublic:
        senior = principal.role in SENIORS
        return SummaryPublic.of(await asyncio.to_thread(service.get, record_id, principal.name, senior))

    @router.put("/calls/{record_id}/summary", response_model=SummaryPublic, responses=SAVE_ERRORS)
    async def save_summary(
        record_id: RecordId, body: SummaryIn, principal: Annotated[Principal, Depends(guard)]
    ) -> SummaryPublic:
        """Saves (or replaces) the call's summary, checked against the live IVR version's form."""
        senior = principal.role in SENIORS
        summary = await asyncio.to_thread(service.save, record_id, body.values, principal.name, senior)
        saved(record_id)
        return SummaryPublic.of(summary)

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
        Intervals in the configured time zone (metrics.timezone), naive times too; the period
        is widened to whole intervals. CSV and XLSX hold the same table."""
        export = await asyncio.to_thread(exporter.export, since, until, interval_minutes)
        if fmt is ExportFormat.JSON:
            return JSONResponse(export.as_json())
        name = f"calls-{export.since:%Y%m%dT%H%M}-{export.until:%Y%m%dT%H%M}.{fmt.value}"
        if fmt is ExportFormat.XLSX:
            body: str | bytes = await asyncio.to_thread(export.as_xlsx)
            media_type = XLSX_MEDIA_TYPE
        else:
            body, media_type = await asyncio.to_thread(export.as_csv), "text/csv; charset=utf-8"
        return Response(
            body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )
