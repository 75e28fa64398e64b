"""The records API and the export in the real app: only shift leads and admins get in; errors
in the common format."""

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
from core.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from hotline.http import create_app
from metrics.records.api import calls_router
from metrics.records.export import CallExporter
from metrics.records.record import Outcome
from metrics.records.store import RecordStore
from tests.accounts import authenticator
from tests.metrics.records.test_retention import call
from tests.problems import problem_of
from tests.xlsx import cells

ADMIN_TOKEN = "admin-t0ken"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def _nothing(_: object) -> None:
    return None


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[Role, str]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'hotline.sqlite3'}")
    migrate(engine)
    directory = OperatorDirectory(engine)
    tokens = {
        role: directory.create(f"op-{role.value.replace('_', '-')}", role.value, role, {}).api_token
        for role in (Role.OPERATOR, Role.SENIOR, Role.SHIFT_LEAD)
    }
    tokens[Role.ADMIN] = ADMIN_TOKEN
    auth = authenticator(engine, directory, admin_token=ADMIN_TOKEN)
    store = RecordStore(engine)
    store.save_many([call(T0 + timedelta(seconds=i), Outcome.ANSWERED) for i in range(6)])
    exporter = CallExporter(engine, k=5, clock=lambda: T0 + timedelta(hours=1))
    application = create_app(
        [calls_router(store, auth.guard({Role.SHIFT_LEAD, Role.ADMIN}, "records"), exporter)]
    )
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
        yield client, tokens
    engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


PATHS = ["/api/calls", "/api/calls/export", "/api/calls/export?format=csv", "/api/calls/export?format=xlsx"]


@pytest.mark.parametrize("path", PATHS)
async def test_without_a_token_401(app: tuple[httpx.AsyncClient, dict[Role, str]], path: str) -> None:
    client, _ = app
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["error_id"] == "unauthorized"


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.SENIOR])
@pytest.mark.parametrize("path", PATHS)
async def test_operators_and_seniors_403(
    app: tuple[httpx.AsyncClient, dict[Role, str]], path: str, role: Role
) -> None:
    client, tokens = app
    response = await client.get(path, headers=bearer(tokens[role]))
    assert response.status_code == 403
    body = problem_of(response)
    assert body["error_id"] == "forbidden" and "admin, shift_lead" in body["detail"]


@pytest.mark.parametrize("role", [Role.SHIFT_LEAD, Role.ADMIN])
async def test_shift_leads_and_admins_read_records_and_exports(
    app: tuple[httpx.AsyncClient, dict[Role, str]], role: Role
) -> None:
    client, tokens = app
    headers = bearer(tokens[role])
    records = await client.get("/api/calls", headers=headers)
    assert records.status_code == 200 and len(records.json()) == 6
    params = {"since": "2026-11-22T12:00:00Z", "until": "2026-11-22T13:00:00Z"}
    exported = await client.get("/api/calls/export", headers=headers, params=params)
    assert exported.status_code == 200
    body = exported.json()
    assert (body["k"], body["interval_minutes"]) == (5, 15)
    assert body["suppressed"] == {"merged": 0, "hidden": 0, "summary_values": 0}
    assert [(r["topic"], r["calls"]) for r in body["rows"]] == [("crisis", 6)]
    as_csv = await client.get("/api/calls/export", headers=headers, params={**params, "format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="calls-20261122T1200-20261122T1300.csv"' in as_csv.headers["content-disposition"]
    assert [r["calls"] for r in csv.DictReader(io.StringIO(as_csv.text))] == ["6"]
    as_xlsx = await client.get("/api/calls/export", headers=headers, params={**params, "format": "xlsx"})
    assert as_xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
    assert 'filename="calls-20261122T1200-20261122T1300.xlsx"' in as_xlsx.headers["content-disposition"]
    assert cells(as_xlsx.content) == list(csv.reader(io.StringIO(as_csv.text)))


@pytest.mark.parametrize(
    ("params", "error_id", "where"),
    [
        ({"since": "2026-11-22T13:00:00Z", "until": "2026-11-22T12:00:00Z"}, "invalid_export_range", "since"),
        ({"interval_minutes": "7"}, "invalid_export_range", "interval_minutes"),
        ({"format": "xml"}, "invalid_request", "query.format"),
        ({"since": "yesterday"}, "invalid_request", "query.since"),
    ],
)
async def test_bad_export_requests_say_what_and_where(
    app: tuple[httpx.AsyncClient, dict[Role, str]], params: dict[str, str], error_id: str, where: str
) -> None:
    client, _ = app
    response = await client.get("/api/calls/export", headers=bearer(ADMIN_TOKEN), params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error_id"] == error_id
    assert where in str(body["details"])
