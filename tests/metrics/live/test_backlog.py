"""The record backlog on /metrics: what the writer's backlog says at each scrape, written byte
for byte as prometheus_client writes it, and moving with a real writer through an outage."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from core.outbox import Backlog
from exposition.writer import Format, exposition
from metrics.live.backlog import BacklogCollector
from metrics.records.record import CallRecord
from metrics.records.writer import RecordWriter
from tests.metrics.records.test_writer import calls


def scrape(backlog: Backlog) -> dict[str, float]:
    """One backlog, read once, written by our collector and by prometheus_client."""
    registry = CollectorRegistry()
    registry.register(BacklogCollector(lambda: backlog))
    text = exposition(registry, Format.TEXT).decode()
    assert text == generate_latest(registry).decode()
    assert exposition(registry, Format.OPENMETRICS) == openmetrics.generate_latest(registry)  # type: ignore[no-untyped-call]
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_the_families_say_what_the_backlog_says() -> None:
    now = Backlog(3, 61.23456, 10, 1, 2, outage=True, stopped=False, failed_tries_total=7)
    assert scrape(now) == {
        "hotline_records_pending": 3.0,
        "hotline_records_oldest_pending_seconds": 61.235,
        "hotline_records_saved_total": 10.0,
        "hotline_records_rejected_total": 1.0,
        "hotline_records_journal_errors_total": 2.0,
        "hotline_records_save_failures_total": 7.0,
    }


class Away:
    """A store whose database is away until ``back``."""

    def __init__(self) -> None:
        self.back = False
        self.saved: list[str] = []

    def save_many(self, records: list[CallRecord]) -> None:
        if not self.back:
            raise OperationalError("INSERT", {}, ConnectionRefusedError())
        self.saved += [r.call_id for r in records]


async def test_the_gauges_move_with_the_writer_through_an_outage(tmp_path: Path) -> None:
    store = Away()
    writer = RecordWriter(store, tmp_path, interval=0.01, backoff=(0.01, 0.05))  # type: ignore[arg-type]
    assert scrape(writer.backlog())["hotline_records_pending"] == 0
    for r in calls(5):
        writer.submit(r)
    await asyncio.wait_for(writer.wait_until(lambda b: b.outage and b.oldest_pending_seconds > 0), 30)
    during = scrape(writer.backlog())
    assert (during["hotline_records_pending"], during["hotline_records_saved_total"]) == (5, 0)
    assert during["hotline_records_oldest_pending_seconds"] > 0
    assert during["hotline_records_save_failures_total"] >= 1
    store.back = True
    await asyncio.wait_for(writer.wait_until(lambda b: b.pending == 0), 30)
    after = scrape(writer.backlog())
    assert (after["hotline_records_pending"], after["hotline_records_oldest_pending_seconds"]) == (0, 0)
    assert after["hotline_records_saved_total"] == 5
    await writer.close()
