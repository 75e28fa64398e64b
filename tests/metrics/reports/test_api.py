"""Reports and the wallboard in the real app: only shift leads and admins get in; figures,
CSV with small cells merged or hidden; errors in the common format; the SSE frames."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from agents.directory import OperatorDirectory, Role
from core.db import make_engine, migrate
from hotline.http import create_app
from metrics.live.board import QueueBoard
from metrics.records.levels import ServiceLevels
from metrics.records.record import Outcome
from metrics.records.store import RecordStore
from metrics.reports.api import reports_router
from metrics.reports.service import ReportService
from tests.accounts import authenticator
from tests.metrics.records.test_retention import call
from tests.problems import problem_of
from wallboard.api import wallboard_router
from wallboard.service import Wallboard, WallboardSources

ADMIN_TOKEN = "admin-t0ken"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LEVELS = ServiceLevels({"crisis": 10, "legal": 60})
Client = tuple[httpx.AsyncClient, dict[Role, str]]


async def _nothing(_: object) -> None:
    return None


def wallboard(board: QueueBoard | None = None) -> Wallboard:
    sources = WallboardSources(board or QueueBoard(), lambda: ["crisis", "legal"], lambda: [], lambda: LEVELS)
    return Wallboard(sources)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Client]:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'hotline.sqlite3'}")
    migrate(engine)
    directory = OperatorDirectory(engine)
    tokens = {
        role: directory.create(f"op-{role.value.replace('_', '-')}", role.value, role, {}).api_token
        for role in (Role.OPERATOR, Role.SENIOR, Role.SHIFT_LEAD)
    }
    tokens[Role.ADMIN] = ADMIN_TOKEN
    auth = authenticator(engine, directory, admin_token=ADMIN_TOKEN)
    lead = auth.guard({Role.SHIFT_LEAD, Role.ADMIN}, "reports")
    board = auth.guard({Role.SHIFT_LEAD, Role.ADMIN}, "wallboard")
    crisis = [call(T0 + timedelta(seconds=i), Outcome.ANSWERED, wait_seconds=4.0 * i) for i in range(6)]
    legal = [call(T0 + timedelta(minutes=1), Outcome.ABANDONED_IN_QUEUE, topic="legal", queue="legal")]
    RecordStore(engine).save_many([*crisis, *legal])
    routers = [
        reports_router(ReportService(engine, lambda: LEVELS), lambda: LEVELS, lead, "UTC", 5),
        wallboard_router(wallboard(), board, auth.still_admits({Role.SHIFT_LEAD, Role.ADMIN}, "wallboard")),
    ]
    application = create_app(routers)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        yield client, tokens
    engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


DAY = "start=2026-11-22T00:00:00Z&end=2026-11-23T00:00:00Z"
PATHS = [f"/api/reports?{DAY}", f"/api/reports.csv?{DAY}", "/api/wallboard"]


@pytest.mark.parametrize("path", PATHS)
async def test_without_a_token_401(app: Client, path: str) -> None:
    client, _ = app
    response = await client.get(path)
    assert (response.status_code, response.json()["error_id"]) == (401, "unauthorized")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SENIOR])
async def test_operators_get_403_in_the_common_format(app: Client, path: str, role: Role) -> None:
    client, tokens = app
    response = await client.get(path, headers=bearer(tokens[role]))
    assert response.status_code == 403
    body = problem_of(response)
    assert body["error_id"] == "forbidden" and "shift_lead" in body["detail"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("role", [Role.SHIFT_LEAD, Role.ADMIN])
async def test_shift_leads_and_admins_get_in(app: Client, path: str, role: Role) -> None:
    client, tokens = app
    assert (await client.get(path, headers=bearer(tokens[role]))).status_code == 200


async def test_the_report_per_queue(app: Client) -> None:
    client, tokens = app
    response = await client.get(
        f"/api/reports?{DAY}&interval=60m&group=queue", headers=bearer(tokens[Role.ADMIN])
    )
    body = response.json()
    rows = {r["queue"]: r for r in body["rows"]}
    crisis, legal = rows["crisis"], rows["legal"]
    # waits 0, 4, 8, 12, 16, 20 s against T = 10 s
    assert (crisis["offered"], crisis["answered_within_threshold"], crisis["service_level"]) == (6, 3, 0.5)
    assert (crisis["asa_seconds"], crisis["interval_start"]) == (10.0, "2026-11-22T12:00:00Z")
    assert (legal["offered"], legal["abandoned"], legal["abandonment"]) == (1, 1, 1.0)
    assert body["thresholds"] == {"crisis": 10.0, "legal": 60.0} and body["total"]["offered"] == 7


async def test_naive_times_are_in_the_asked_time_zone(app: Client) -> None:
    client, tokens = app
    path = "/api/reports?start=2026-11-22T15:00:00&end=2026-11-22T16:00:00&tz=Europe/Moscow&interval=15m"
    body = (await client.get(path, headers=bearer(tokens[Role.ADMIN]))).json()
    assert [(r["interval_start"], r["offered"]) for r in body["rows"]] == [("2026-11-22T15:00:00+03:00", 7)]


async def test_csv_merges_small_cells_into_other_or_hides_them(app: Client) -> None:
    client, tokens = app
    response = await client.get(
        f"/api/reports.csv?{DAY}&interval=60m&group=queue", headers=bearer(tokens[Role.ADMIN])
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # crisis (6 calls) is shown; legal (1 call) would become "other", still under k = 5: hidden
    assert [(r["queue"], r["offered"], r["service_level"]) for r in rows] == [("crisis", "6", "0.5")]


@pytest.mark.parametrize(
    ("query", "error_id", "where"),
    [
        ("start=2026-11-23T00:00:00Z&end=2026-11-22T00:00:00Z", "report_invalid_range", "end"),
        (f"{DAY}&tz=Mars/Base", "report_unknown_timezone", "tz"),
        ("start=2020-01-01T00:00:00Z&end=2026-01-01T00:00:00Z&interval=15m", "report_invalid_range", "end"),
    ],
)
async def test_bad_reports_say_what_and_where(app: Client, query: str, error_id: str, where: str) -> None:
    client, tokens = app
    response = await client.get(f"/api/reports?{query}", headers=bearer(tokens[Role.ADMIN]))
    assert response.status_code == 422
    body = response.json()
    assert (body["error_id"], body["details"]["where"]) == (error_id, where), body


async def test_an_unknown_interval_is_a_request_error(app: Client) -> None:
    client, tokens = app
    response = await client.get(f"/api/reports?{DAY}&interval=7m", headers=bearer(tokens[Role.ADMIN]))
    body = response.json()
    assert (response.status_code, body["error_id"], body["details"][0]["where"]) == (
        422,
        "invalid_request",
        "query.interval",
    )


@pytest.mark.parametrize("page", ["wallboard", "reports"])
async def test_pages_and_their_assets_are_served_locally(app: Client, page: str) -> None:
    client, _ = app
    html = (await client.get(f"/{page}/")).text
    assert f'src="/static/{page}.js"' in html and "http" not in html.replace('lang="en"', "")
    assert (await client.get(f"/static/{page}.js")).status_code == 200
    assert (await client.get(f"/{page}")).status_code in (301, 302, 307)
