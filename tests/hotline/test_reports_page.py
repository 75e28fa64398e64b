"""The reports page in headless Chromium (Debian's, driven by Playwright) against the reports API
served by uvicorn over a SQLite database of real records: the charts' axes, units, legends and
each queue's own target line; durations as m:ss; the loading and empty states; the XLSX and CSV
downloads hold the same table. The guard admits every request and /api/session answers as a
shift lead's open session (sign-in and guards are tested on their own). The page in Russian and
in Polish: its words, numbers, durations and the legal queue by its topic's name in that language."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter
from playwright.sync_api import Browser, Page, Request, expect

from core.db import make_engine, migrate
from hotline.http import create_app
from metrics.records.levels import ServiceLevels
from metrics.records.record import Outcome
from metrics.records.store import RecordStore
from metrics.reports.api import reports_router
from metrics.reports.service import ReportService
from tests.browser import chromium, serving
from tests.metrics.records.test_retention import call
from tests.xlsx import cells

# Headless Chromium for minutes: run beside the rest by `make test` (the second pytest), so the
# whole run keeps under its time.
pytestmark = pytest.mark.beside

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 15:00 in Moscow, the configured zone
LEVELS = ServiceLevels({"crisis": 10, "legal": 60}, {"crisis": 0.9, "legal": 0.75})
OPEN = threading.Event()  # cleared: the API holds its answers (the page shows it is loading)


async def admit() -> None:
    await asyncio.to_thread(OPEN.wait, 30)


def open_session() -> APIRouter:
    """This browser's session, already open: a shift lead, no second factor to set up."""
    router = APIRouter()

    async def who() -> dict[str, object]:
        return {"id": "lead", "display_name": "Lead", "role": "shift_lead", "csrf": "c", "must_enrol": False}

    router.add_api_route("/api/session", who, methods=["GET"])
    return router


LEGAL = {"ru": "Юридическая помощь", "pl": "Pomoc prawna", "en": "Legal help"}


def live_topics() -> APIRouter:
    """GET /api/topics: the legal queue's topic with its names; crisis has none (shown by its id)."""
    router = APIRouter()

    async def topics() -> list[dict[str, object]]:
        return [{"id": "legal", "names": LEGAL, "queue": "legal"}]

    router.add_api_route("/api/topics", topics, methods=["GET"])
    return router


def records() -> list:  # type: ignore[type-arg]
    crisis = [call(T0 + timedelta(seconds=i), Outcome.ANSWERED, wait_seconds=4.0 * i) for i in range(6)]
    later = [call(T0 + timedelta(hours=1, seconds=i), Outcome.ANSWERED, wait_seconds=61.5) for i in range(2)]
    legal = [
        call(T0 + timedelta(minutes=1), Outcome.ABANDONED_IN_QUEUE, topic="legal", queue="legal"),
        call(T0 + timedelta(minutes=2), Outcome.ANSWERED, topic="legal", queue="legal", wait_seconds=30.0),
    ]
    return [*crisis, *later, *legal]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reports-page') / 'hotline.sqlite3'}")
    migrate(engine)
    RecordStore(engine).save_many(records())
    router = reports_router(ReportService(engine, lambda: LEVELS), lambda: LEVELS, admit, "Europe/Moscow", 1)
    OPEN.set()
    with serving(create_app([open_session(), live_topics(), router])) as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, served: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith(served) and not request.url.startswith("blob:"):
            elsewhere.append(request.url)

    tab.on("request", note)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{served}/reports/")
    expect(tab.locator("#account-name")).to_have_text("Lead (lead, shift lead)")
    yield tab
    context.close()
    assert elsewhere == [] and errors == []


def ask(page: Page, day: str, *, per_queue: bool = True) -> None:
    page.fill("#start", day)
    page.fill("#end", (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat())
    page.select_option("#interval", "60m")
    page.set_checked("#by-queue", per_queue)
    page.click("#show")


def texts(page: Page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_text_contents()]


def test_the_charts_have_axes_units_legends_and_each_queues_target(page: Page) -> None:
    ask(page, "2026-11-22")
    expect(page.locator("#rows tbody tr")).to_have_count(3)  # crisis 15:00, legal 15:00, crisis 16:00
    # calls per interval: a y axis of calls from 0, the hours in Moscow on the x axis, three bars each
    assert texts(page, "#volume .axis .title") == ["Calls", "Interval start (Europe/Moscow)"]
    assert texts(page, "#volume .axis.y .tick")[0] == "0"
    assert texts(page, "#volume .axis.x .tick") == ["15:00", "16:00"]
    assert page.locator("#volume rect.bar").count() == 6
    assert texts(page, "#volume-legend li") == ["Offered", "Answered", "Abandoned"]
    offered = page.locator("#volume rect.bar.offered title").first.text_content()
    assert offered == "15:00: Offered 8"  # crisis 6 + legal 2
    # service level: 0-100 %, a line per queue, each queue's own target, dashed, in the legend
    assert texts(page, "#level .axis.y .tick") == ["0%", "25%", "50%", "75%", "100%"]
    assert texts(page, "#level .axis .title")[0] == "Service level (%)"
    assert page.locator("#level polyline.series").count() == 2
    lines = page.locator("#level line.target")
    drawn = {lines.nth(i).get_attribute("data-queues") or "": lines.nth(i) for i in range(lines.count())}
    assert sorted(drawn) == ["crisis", "legal"]
    grid = page.locator("#level .axis.y line.grid")  # at 0, 25, 50, 75 and 100 %
    zero, full = (float(grid.nth(i).get_attribute("y1") or "") for i in (0, 4))
    for queue, target in (("crisis", 0.9), ("legal", 0.75)):
        assert float(drawn[queue].get_attribute("y1") or "") == pytest.approx(zero + (full - zero) * target)
    legend = texts(page, "#level-legend li")
    assert "Target of crisis: 90%" in legend and "Target of Legal help: 75%" in legend
    assert "Service level: crisis" in legend
    # waits in m:ss
    assert texts(page, "#wait .axis .title")[0] == "Wait (m:ss)"
    assert all(":" in tick for tick in texts(page, "#wait .axis.y .tick"))
    assert texts(page, "#wait-legend li") == ["ASA", "Longest wait"]


def test_durations_read_m_ss(page: Page) -> None:
    ask(page, "2026-11-22")
    expect(page.locator("#rows tbody tr")).to_have_count(3)
    header = texts(page, "#rows thead th")
    assert {"ASA (m:ss)", "AHT (m:ss)", "Service level (%)", "Interval start"} <= set(header)
    rows = {tuple(texts(page, f"#rows tbody tr:nth-child({n}) td")[:3]): n for n in (1, 2, 3)}
    crisis = texts(page, f"#rows tbody tr:nth-child({rows[('22/11/2026, 15:00', 'crisis', 'all')]}) td")
    column = dict(zip(header, crisis, strict=True))
    # waits 0, 4, 8, 12, 16, 20 s: ASA 10 s; talk 60 s: AHT 1:00; the longest wait 20 s
    waits = (column["ASA (m:ss)"], column["AHT (m:ss)"], column["Longest wait (m:ss)"])
    assert waits == ("0:10", "1:00", "0:20")
    later = texts(page, f"#rows tbody tr:nth-child({rows[('22/11/2026, 16:00', 'crisis', 'all')]}) td")
    assert dict(zip(header, later, strict=True))["Longest wait (m:ss)"] == "1:02"  # 61.5 s
    totals = dict(zip(texts(page, "#totals dt"), texts(page, "#totals dd"), strict=True))
    assert totals["Longest wait (m:ss)"] == "1:02" and totals["AHT (m:ss)"] == "1:00"
    assert not [v for v in totals.values() if v.endswith(" s")]


def test_loading_then_the_empty_state(page: Page) -> None:
    ask(page, "2026-11-22")
    expect(page.locator("#rows tbody tr")).to_have_count(3)
    OPEN.clear()
    try:
        ask(page, "2026-11-25")
        expect(page.locator("#report-state")).to_have_text("Loading the report…")
        expect(page.locator("#show")).to_be_disabled()
        expect(page.locator("#report")).to_have_attribute("aria-busy", "true")
    finally:
        OPEN.set()
    expect(page.locator("#report-state")).to_have_text("No calls in this period for these queues and topics.")
    expect(page.locator("#report")).to_be_hidden()
    expect(page.locator("#show")).to_be_enabled()
    ask(page, "2026-11-22", per_queue=False)  # calls again: the report shows, the state goes
    expect(page.locator("#report")).to_be_visible()
    expect(page.locator("#report-state")).to_be_hidden()
    # one service level line for all queues, and a target line per distinct target, naming its queues
    assert page.locator("#level polyline.series").count() == 1
    targets = sorted(texts(page, "#level line.target title"))
    assert targets == ["Target 75% (Legal help)", "Target 90% (crisis)"]


def test_the_xlsx_and_csv_downloads_hold_the_same_table(page: Page) -> None:
    ask(page, "2026-11-22")
    expect(page.locator("#rows tbody tr")).to_have_count(3)
    with page.expect_download() as got_csv:
        page.click("#csv")
    with page.expect_download() as got_xlsx:
        page.click("#xlsx")
    assert got_xlsx.value.suggested_filename == "hotline-report-2026-11-22.xlsx"
    csv_path, xlsx_path = got_csv.value.path(), got_xlsx.value.path()
    table = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert cells(xlsx_path.read_bytes()) == table
    assert table[0][:3] == ["interval_start", "queue", "topic"]
    assert [row[0] for row in table[1:]] == ["2026-11-22T15:00:00+03:00"] * 2 + ["2026-11-22T16:00:00+03:00"]


IN = {
    "ru": {
        "title": "Отчёты горячей линии",
        "volume": ["Поступило", "Принято", "Потеряно"],
        "longest": "Макс. ожидание (м:сс)",  # noqa: RUF001
        "target": "Цель для «Юридическая помощь»: 75\u00a0%",
        "ticks": ["0\u00a0%", "25\u00a0%", "50\u00a0%", "75\u00a0%", "100\u00a0%"],
        "start": "22.11.2026, 15:00",
        "show": "Показать",
    },
    "pl": {
        "title": "Raporty infolinii",
        "volume": ["Przychodzące", "Odebrane", "Porzucone"],
        "longest": "Najdłuższe oczekiwanie (min:s)",
        "target": "Cel dla „Pomoc prawna”: 75%",
        "ticks": ["0%", "25%", "50%", "75%", "100%"],
        "start": "22.11.2026, 15:00",
        "show": "Pokaż",
    },
}


@pytest.mark.parametrize("language", sorted(IN))
def test_the_page_in_russian_and_in_polish(browser: Browser, served: str, language: str) -> None:
    words = IN[language]
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{served}/reports/?lang={language}")
    expect(tab.locator("h1")).to_have_text(words["title"])
    assert tab.title() == words["title"]
    expect(tab.locator("#show")).to_have_text(words["show"])
    ask(tab, "2026-11-22")
    expect(tab.locator("#rows tbody tr")).to_have_count(3)
    assert texts(tab, "#volume-legend li") == words["volume"]
    assert words["target"] in texts(tab, "#level-legend li")
    assert texts(tab, "#level .axis.y .tick") == words["ticks"]
    totals = dict(zip(texts(tab, "#totals dt"), texts(tab, "#totals dd"), strict=True))
    assert totals[words["longest"]] == "1:02"
    assert words["start"] in texts(tab, "#rows tbody td")
    assert LEGAL[language] in texts(tab, "#rows tbody td")  # the queue by its topic's name
    tab.set_viewport_size({"width": 375, "height": 800})  # a phone, with the language's longer words
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    tab.set_viewport_size({"width": 1200, "height": 900})
    assert not [text for text in texts(tab, "#totals dt") if text in ("Offered", "Answered", "Abandoned")]
    tab.select_option("#language", "en")  # the charts, totals and table drawn again in English
    expect(tab.locator("#volume-legend li")).to_have_text(["Offered", "Answered", "Abandoned"])
    expect(tab.locator("#rows tbody td").filter(has_text=LEGAL["en"])).to_have_count(1)
    expect(tab.locator("#show")).to_have_text("Show")
    context.close()
    assert errors == []
