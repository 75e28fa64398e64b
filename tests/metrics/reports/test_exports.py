"""The report's exports: the CSV and the XLSX of one query hold the same table, cell for cell
(the JSON's names, the report's time zone, small cells merged or hidden alike); the JSON gives
each queue's target beside its threshold. The guard is the route's business elsewhere
(test_api.py); here it admits every request."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from core.db import make_engine, migrate
from core.xlsx import MEDIA_TYPE
from hotline.http import create_app
from metrics.records.levels import ServiceLevels
from metrics.records.record import Outcome
from metrics.records.store import RecordStore
from metrics.reports.api import reports_router
from metrics.reports.schemas import EXPORT_COLUMNS, FiguresPublic, ReportRowPublic
from metrics.reports.service import ReportService
from tests.metrics.records.test_retention import call
from tests.xlsx import cells

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LEVELS = ServiceLevels({"crisis": 10, "legal": 60}, {"crisis": 0.9})
DAY = "start=2026-11-22T00:00:00Z&end=2026-11-23T00:00:00Z"


async def admit() -> None:
    return None


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(engine)
    crisis = [call(T0 + timedelta(seconds=i), Outcome.ANSWERED, wait_seconds=4.0 * i) for i in range(6)]
    later = [call(T0 + timedelta(hours=1, seconds=i), Outcome.ANSWERED, wait_seconds=61.5) for i in range(5)]
    legal = [call(T0 + timedelta(minutes=1), Outcome.ABANDONED_IN_QUEUE, topic="legal", queue="legal")]
    RecordStore(engine).save_many([*crisis, *later, *legal])
    router = reports_router(ReportService(engine, lambda: LEVELS), lambda: LEVELS, admit, "Europe/Moscow", 5)
    transport = httpx.ASGITransport(app=create_app([router]))
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as made:
        yield made
    engine.dispose()


@pytest.mark.parametrize(
    "query", [f"{DAY}&interval=60m&group=queue", f"{DAY}&interval=30m", f"{DAY}&interval=day"]
)
async def test_xlsx_and_csv_of_one_report_are_equal_cell_for_cell(
    client: httpx.AsyncClient, query: str
) -> None:
    as_csv = await client.get(f"/api/reports.csv?{query}")
    as_xlsx = await client.get(f"/api/reports.xlsx?{query}")
    assert (as_csv.status_code, as_xlsx.status_code) == (200, 200)
    assert as_xlsx.headers["content-type"] == MEDIA_TYPE
    assert as_xlsx.headers["content-disposition"].endswith('.xlsx"')
    table = list(csv.reader(io.StringIO(as_csv.text)))
    assert cells(as_xlsx.content) == table
    assert table[0] == list(EXPORT_COLUMNS) and len(table) > 1


async def test_the_exports_are_in_the_reports_time_zone_with_small_cells_hidden(
    client: httpx.AsyncClient,
) -> None:
    query = f"{DAY}&interval=60m&group=queue"
    table = cells((await client.get(f"/api/reports.xlsx?{query}")).content)
    rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    # Moscow (the configured zone): 12:00 UTC is 15:00; legal's one call is under k = 5: hidden
    assert [(r["interval_start"], r["queue"], r["offered"]) for r in rows] == [
        ("2026-11-22T15:00:00+03:00", "crisis", "6"),
        ("2026-11-22T16:00:00+03:00", "crisis", "5"),
    ]
    assert rows[1]["longest_wait_seconds"] == "61.5" and rows[0]["service_level"] == "0.5"
    asked = cells((await client.get(f"/api/reports.xlsx?{query}&tz=UTC")).content)
    assert [row[0] for row in asked[1:]] == ["2026-11-22T12:00:00+00:00", "2026-11-22T13:00:00+00:00"]


async def test_the_json_names_each_figure_as_the_exports_do_and_gives_each_queues_target(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get(f"/api/reports?{DAY}&interval=60m&group=queue")).json()
    assert body["thresholds"] == {"crisis": 10.0, "legal": 60.0}
    assert body["targets"] == {"crisis": 0.9, "legal": 0.8}  # legal: the default target
    assert set(body["rows"][0]) == set(EXPORT_COLUMNS) == set(ReportRowPublic.model_fields)
    assert set(body["total"]) == set(FiguresPublic.model_fields) == set(EXPORT_COLUMNS[3:])
    assert body["rows"][0]["interval_start"] == "2026-11-22T15:00:00+03:00"
