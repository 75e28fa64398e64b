"""Migration 0006 on SQLite and PostgreSQL: the records kept before it become cells equal to the
ones the record store writes, added to the cells retention made before; later saves land in
the same rows; the downgrade takes the records out again."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from core.db import alembic_config, make_engine
from metrics.records.intervals import CellCounts, CellKey, roll_up, utc
from metrics.records.levels import ServiceLevels
from metrics.records.models import CallIntervalRow
from metrics.records.record import CallRecord, Outcome
from metrics.records.store import RecordStore, _values
from tests.databases import migrated_postgres

START = datetime(2026, 2, 1, tzinfo=UTC)
OLD_CELL = datetime(2026, 1, 31, 23, 45, tzinfo=UTC)  # retention's last cell: the cutoff after it
LIVE_IVR = ServiceLevels({"crisis": 10, "main": 25})  # what the migration reads; default 20


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def at_0005(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database migrated to 0005 (before the live cells)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        command.upgrade(alembic_config(engine), "0005")
        yield engine
        engine.dispose()
        return
    yield from migrated_postgres(lambda engine: command.upgrade(alembic_config(engine), "0005"))


def kept_records(count: int = 400) -> list[CallRecord]:
    """Three weeks of calls (three chunks of the backfill), of every shape the cells tell apart."""
    rng = random.Random(6)
    out = []
    for i in range(count):
        start = START + timedelta(seconds=rng.randrange(0, 21 * 86400), microseconds=rng.randrange(10**6))
        queue = rng.choice(["crisis", "main", "loss", None])
        outcome = rng.choice(list(Outcome))
        out.append(
            CallRecord(
                id=uuid.uuid4().hex,
                node=rng.choice(["a", "b"]),
                call_id=f"c{i}",
                started_at=start,
                queue_entered_at=start + timedelta(seconds=3) if queue and rng.random() < 0.8 else None,
                topic=rng.choice([queue, None, "legal"]),
                queue=queue,
                outcome=outcome,
                wait_seconds=rng.choice([None, 10.0, 20.0, 25.0, round(rng.uniform(0, 200), 3)]),
                talk_seconds=rng.choice([None, round(rng.uniform(1, 900), 3)]),
                wrapup_seconds=rng.choice([None, 30.0]),
                after_hours=rng.random() < 0.1,
                overflowed=rng.random() < 0.1,
                escalated=rng.random() < 0.1,
            )
        )
    # one kept record in the quarter-hour retention rolled up last (its cutoff fell inside it)
    straddler = CallRecord(
        id=uuid.uuid4().hex,
        node="a",
        call_id="straddler",
        started_at=OLD_CELL + timedelta(minutes=10),
        queue_entered_at=OLD_CELL + timedelta(minutes=10, seconds=3),
        topic="crisis",
        queue="crisis",
        outcome=Outcome.ANSWERED,
        wait_seconds=7.0,
        talk_seconds=100.0,
    )
    return [*out, straddler]


OLD_FIGURES = {"calls": 3, "offered": 2, "answered": 2, "answered_within_sl": 1, "max_wait_seconds": 40.0}
OLD_KEY = CellKey(OLD_CELL, "a", "crisis", "crisis")


LATER_COLUMNS = ("transferred", "conferenced", "emergency", "switchboarded_from")  # after 0005 (0009, 0012)


def _as_0005(record: CallRecord) -> dict[str, object]:
    return {k: v for k, v in _values(record).items() if k not in LATER_COLUMNS}


def fill_0005(engine: Engine, records: list[CallRecord]) -> None:
    """Records, a cell retention made, and a live IVR version, as 0005 knew them."""
    old_cells = sa.table(  # the columns of 0005, typed as retention wrote them
        "call_intervals",
        sa.column("interval_start", sa.DateTime(timezone=True)),
        *(sa.column(n) for n in ("node", "topic", "queue", *OLD_FIGURES)),
    )
    document = {
        "queues": [
            {"name": "crisis", "service_level_seconds": 10},
            {"name": "main", "service_level_seconds": 25},
        ]
    }
    with engine.begin() as conn:
        rows = [_as_0005(r) for r in records]
        conn.execute(insert(sa.table("call_records", *(sa.column(n) for n in rows[0]))), rows)
        conn.execute(
            insert(old_cells).values(
                interval_start=OLD_CELL, node="a", topic="crisis", queue="crisis", **OLD_FIGURES
            )
        )
        conn.execute(
            text(
                "INSERT INTO ivr_versions (number, document, prompt_paths, checksum, created_at, author,"
                " note) VALUES (1, :doc, '[]', 'x', :at, 'test', '')"
            ),
            {"doc": json.dumps(document), "at": START},
        )
        conn.execute(
            text(
                "INSERT INTO ivr_activations (version, activated_at, action, author)"
                " VALUES (1, :at, 'publish', 'test')"
            ),
            {"at": START},
        )


def stored(engine: Engine) -> dict[CellKey, CellCounts]:
    with Session(engine) as session:
        rows = session.scalars(select(CallIntervalRow)).all()
        return {
            CellKey(utc(r.interval_start), r.node, r.topic, r.queue): CellCounts.of_columns(r) for r in rows
        }


def expected(records: list[CallRecord]) -> dict[CellKey, CellCounts]:
    cells = roll_up(records, LIVE_IVR.threshold)
    old = CellCounts(**OLD_FIGURES, sl_seconds=-1.0)  # type: ignore[arg-type]
    old.merge(cells.get(OLD_KEY, CellCounts()))
    cells[OLD_KEY] = old
    return cells


def same(got: dict[CellKey, CellCounts], want: dict[CellKey, CellCounts]) -> None:
    assert got.keys() == want.keys()
    for key, counts in want.items():
        have = got[key].columns()
        for name, value in counts.columns().items():
            if isinstance(value, float):
                assert have[name] == pytest.approx(value, abs=1e-6), (key, name)
            else:
                assert have[name] == value, (key, name)


def test_the_backfill_equals_the_store_and_keeps_retentions_cells(at_0005: Engine) -> None:
    records = kept_records()
    fill_0005(at_0005, records)
    command.upgrade(alembic_config(at_0005), "head")
    same(stored(at_0005), expected(records))
    with at_0005.connect() as conn:
        cutoff = conn.execute(text("SELECT cutoff FROM call_retention WHERE id = 1")).scalar_one()
    assert utc(
        cutoff if isinstance(cutoff, datetime) else datetime.fromisoformat(cutoff)
    ) == OLD_CELL + timedelta(minutes=15)


def test_later_saves_land_in_the_backfilled_rows(at_0005: Engine) -> None:
    records = kept_records(50)
    fill_0005(at_0005, records)
    command.upgrade(alembic_config(at_0005), "head")
    store = RecordStore(at_0005, lambda: LIVE_IVR)
    first = records[0]
    more = [
        replace(first, call_id="new-1", id=uuid.uuid4().hex),
        replace(first, outcome=Outcome.ANSWERED, wait_seconds=1.0),  # saved again, changed
        replace(records[-1], call_id="late", id=uuid.uuid4().hex),  # a retired quarter-hour: refused
    ]
    store.save_many(more)
    current = [r for r in records if (r.node, r.call_id) != (first.node, first.call_id)] + more[:2]
    same(stored(at_0005), expected(current))


def test_the_downgrade_takes_the_kept_records_out_again(at_0005: Engine) -> None:
    records = kept_records(60)
    fill_0005(at_0005, records)
    command.upgrade(alembic_config(at_0005), "head")
    command.downgrade(alembic_config(at_0005), "0005")
    with at_0005.connect() as conn:
        rows = conn.execute(text("SELECT node, topic, queue, calls, answered FROM call_intervals")).all()
    assert [tuple(r) for r in rows] == [("a", "crisis", "crisis", 3, 2)]
