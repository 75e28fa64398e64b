"""HTTP for shift leads and admins: historical reports (JSON, CSV, XLSX). Operators get a 403.

The CSV and the XLSX of one query hold the same table (``export_table``): the same columns,
named as in the JSON, the same rows, times in the report's time zone.

No ``from __future__ import annotations`` here: FastAPI must see the closure's dependency
(the report query reader) in the endpoints' annotations."""

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from core.bounds import Instant
from core.errors import problems
from core.types import Guard
from core.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from core.xlsx import workbook
from metrics.records.levels import ServiceLevels
from metrics.reports.schemas import EXPORT_COLUMNS, FiguresPublic, ReportPublic
from metrics.reports.service import (
    Dimension,
    Interval,
    Report,
    ReportError,
    ReportQuery,
    ReportRangeError,
    ReportService,
    ReportTimezoneError,
    Totals,
    zone,
)
from metrics.reports.sql import FIGURES
from privacy.suppression import suppress_small_cells

REPORT_ERRORS = problems(ReportError, ReportRangeError, ReportTimezoneError)


def _instant(value: datetime | None, tz_name: str, where: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=zone(tz_name))
    return value


def reports_router(
    service: ReportService,
    levels: Callable[[], ServiceLevels],
    require_lead: Guard,
    timezone: str,
    small_cell_k: int,
) -> APIRouter:
    router = APIRouter()
    api = APIRouter(prefix="/api/reports", tags=["reports"], dependencies=[Depends(require_lead)])

    def query(
        start: Annotated[Instant | None, Query(description="default: today's midnight")] = None,
        end: Annotated[Instant | None, Query(description="exclusive; default: start + 1 day")] = None,
        interval: Interval = Interval.M30,
        group: Annotated[list[Dimension] | None, Query()] = None,
        queue: Annotated[list[str] | None, Query(max_length=40)] = None,
        topic: Annotated[list[str] | None, Query(max_length=40)] = None,
        node: Annotated[list[str] | None, Query(max_length=40, description="came in there")] = None,
        tz: Annotated[str | None, Query(max_length=64)] = None,
        short_abandon_seconds: Annotated[float, Query(ge=0, le=3600)] = 0.0,
        threshold_seconds: Annotated[float | None, Query(gt=0, le=3600)] = None,
    ) -> ReportQuery:
        tz_name = tz or timezone
        begin = _instant(start, tz_name, "start") or _midnight(tz_name)
        return ReportQuery(
            start=begin,
            end=_instant(end, tz_name, "end") or begin + timedelta(days=1),
            interval=interval,
            group_by=tuple(dict.fromkeys(group or ())),
            queues=tuple(queue or ()),
            topics=tuple(topic or ()),
            nodes=tuple(node or ()),
            timezone=tz_name,
            short_abandon_seconds=short_abandon_seconds,
            threshold_seconds=threshold_seconds,
        )

    @api.get("", response_model=ReportPublic, responses=REPORT_ERRORS)
    async def report(q: Annotated[ReportQuery, Depends(query)]) -> ReportPublic:
        made = await asyncio.to_thread(service.report, q)
        summaries = await asyncio.to_thread(service.summaries, q, small_cell_k)
        now = levels()
        return ReportPublic.of(made, _thresholds(now), _targets(now), summaries)

    @api.get(".csv", response_class=Response, responses=REPORT_ERRORS)
    async def report_csv(q: Annotated[ReportQuery, Depends(query)]) -> Response:
        made = await asyncio.to_thread(service.report, q)
        text = await asyncio.to_thread(to_csv, made, small_cell_k)
        return _attachment(text, "text/csv; charset=utf-8", _file_name(q, "csv"))

    @api.get(".xlsx", response_class=Response, responses=REPORT_ERRORS)
    async def report_xlsx(q: Annotated[ReportQuery, Depends(query)]) -> Response:
        """The CSV's table as a workbook: the same columns and rows, cell for cell."""
        made = await asyncio.to_thread(service.report, q)
        data = await asyncio.to_thread(to_xlsx, made, small_cell_k)
        return _attachment(data, XLSX_MEDIA_TYPE, _file_name(q, "xlsx"))

    router.include_router(api)
    return router


def _file_name(q: ReportQuery, suffix: str) -> str:
    return f"report-{q.interval.value}-{q.start.date()}-{q.end.date()}.{suffix}"


def _attachment(body: str | bytes, media_type: str, name: str) -> Response:
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _midnight(tz_name: str) -> datetime:
    tz = zone(tz_name)
    now = datetime.now(tz)
    return datetime(now.year, now.month, now.day, tzinfo=tz)


def _thresholds(levels: ServiceLevels) -> dict[str, float]:
    return {queue: float(t) for queue, t in sorted(levels.thresholds.items())}


def _targets(levels: ServiceLevels) -> dict[str, float]:
    """Each queue's target, for the queues whose threshold is known (the default for the rest)."""
    return {queue: float(levels.target(queue)) for queue in sorted(levels.thresholds)}


def to_csv(report: Report, k: int) -> str:
    header, rows = export_table(report, k)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def to_xlsx(report: Report, k: int) -> bytes:
    header, rows = export_table(report, k)
    return workbook(header, rows, sheet="report")


def export_table(report: Report, k: int) -> tuple[Sequence[str], list[list[Any]]]:
    """The report's rows with the small-cell rule of privacy/suppression.py: within each
    interval, cells under ``k`` calls merge into "other", and an "other" still under ``k`` is
    hidden. Without a queue or topic column, a whole interval under ``k`` is hidden."""
    dims = [d.value for d in report.query.group_by] or ["scope"]
    cells = [_cell(row.start, row.queue, row.topic, row.totals) for row in report.rows]
    for cell in cells:
        cell["calls"] = cell["offered"] + cell["short_abandoned"]
        cell.setdefault("scope", "all")
    kept = suppress_small_cells(
        cells, k, suppressed=dims, kept=["interval_start"], count="calls", maxima=["longest_wait"]
    )
    rows = [_public(cell) for cell in kept.rows]
    return EXPORT_COLUMNS, [[row.get(name) for name in EXPORT_COLUMNS] for row in rows]


def _cell(start: datetime, queue: str | None, topic: str | None, t: Totals) -> dict[str, Any]:
    cell: dict[str, Any] = {"interval_start": start.isoformat(), "queue": queue or "", "topic": topic or ""}
    cell.update({name: getattr(t, name) for name in FIGURES})
    return cell


def _public(cell: dict[str, Any]) -> dict[str, Any]:
    t = Totals(
        offered=cell["offered"],
        answered=cell.get("answered") or 0,
        abandoned=cell.get("abandoned") or 0,
        short_abandoned=cell.get("short_abandoned") or 0,
        answered_within=cell.get("answered_within") or 0,
        answer_wait_sum=cell.get("answer_wait_sum") or 0.0,
        handle_sum=cell.get("handle_sum") or 0.0,
        handled=cell.get("handled") or 0,
        longest_wait=cell.get("longest_wait"),
    )
    where = {
        "interval_start": cell["interval_start"],
        "queue": cell.get("queue", ""),
        "topic": cell.get("topic", ""),
    }
    return where | FiguresPublic.of(t).model_dump()


__all__ = ["ReportError", "export_table", "reports_router", "to_csv", "to_xlsx"]
