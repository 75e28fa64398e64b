"""The 30-minute interval report over one year of call records, on PostgreSQL and SQLite.

    .venv/bin/python bench/reports.py                 # 5,000,000 calls, both databases
    .venv/bin/python bench/reports.py --rows 200000   # a quick run
    .venv/bin/python bench/reports.py --only sqlite

The records are loaded into a database migrated to 0005 (before the live cells), then the
real migration 0006 backfills their 15-minute cells, which is how the cells of records kept
before it are made (the record store adds the same contributions as it saves records). The
generated databases are cached (SQLite under /tmp/hotline-bench/, PostgreSQL as the database
``hotline_bench_reports_v<version>_<rows>`` on 127.0.0.1:5432) with a version stamp written
last, so a rerun skips generation; ``--regenerate`` forces it. Figures: load and backfill time,
then per database the median of ``--repeat`` runs of the report service (SQL + Python rows)
and, as baselines of the same run: over the records, ``COUNT(*)`` of the year and a ``GROUP BY``
of 30-minute buckets with nothing but a count (what reports read before the cells), the former
report SQL over the records, and the bare ``GROUP BY`` over the cells.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command

from core.db import alembic_config, make_engine, migrate
from metrics.records.levels import ServiceLevels
from metrics.reports.service import Dimension, Interval, ReportQuery, ReportService
from metrics.reports.sql import Stretch, Thresholds, bucket, records_statement

VERSION = 3  # bump when the generated rows change (3: cells backfilled by migration 0006)
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
QUEUES = ("main", "crisis", "violence", "loss", "addiction", "legal", "social", "senior")
THRESHOLDS = {"main": 20, "crisis": 10, "violence": 20, "loss": 30, "addiction": 30, "legal": 60}
OUTCOMES = ("answered", "abandoned_in_queue", "abandoned_in_ivr", "referred")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CACHE = Path("/tmp/hotline-bench")
COLUMNS = (
    "id, node, call_id, started_at, queue_entered_at, answered_at, ended_at, path, topic, queue,"
    " fallback, outcome, wait_seconds, talk_seconds, complete, wrapup_seconds"
)
CHUNK = 250_000
Stamp = Callable[[np.ndarray], list[str]]


def calls(rows: int, stamp: Stamp, seed: int = 6) -> Iterator[list[list[Any]]]:
    """Chunks of rows in time order, as column lists (times formatted by ``stamp``): 8 queues,
    80% answered, 12% abandoned in a queue, the rest gone in the IVR or referred; exponential
    waits (mean 25 s), talks (mean 10 min) and, for 60% of answered calls, wrap-ups (1 min)."""
    rng = np.random.default_rng(seed)
    span_us = int((YEAR_END - YEAR_START).total_seconds() * 1e6)
    starts = np.sort(rng.integers(0, span_us, rows)) + int(YEAR_START.timestamp() * 1e6)
    for first in range(0, rows, CHUNK):
        yield _chunk(rng, starts[first : first + CHUNK], first, stamp)


def _chunk(rng: np.random.Generator, start_us: np.ndarray, first: int, stamp: Stamp) -> list[list[Any]]:
    n = len(start_us)
    outcome = rng.choice(4, n, p=[0.80, 0.12, 0.05, 0.03])
    queue = np.array(QUEUES, dtype=object)[rng.integers(0, len(QUEUES), n)].tolist()
    in_queue, answered = outcome < 2, outcome == 0
    wait = np.round(rng.exponential(25.0, n), 3)
    talk = np.round(rng.exponential(600.0, n), 3)
    wrapup = np.round(rng.exponential(60.0, n), 3)
    entered = start_us + 8_000_000
    answered_at = entered + (wait * 1e6).astype(np.int64)
    ended = answered_at + np.where(answered, (talk * 1e6).astype(np.int64), 0)
    ids = range(first, first + n)
    return [
        [f"{i:032x}" for i in ids],
        ["local"] * n,
        [f"c{i:012d}" for i in ids],
        stamp(start_us),
        _masked(stamp(entered), in_queue),
        _masked(stamp(answered_at), answered),
        stamp(ended),
        ["1"] * n,
        _masked(queue, outcome != 3),
        _masked(queue, in_queue),
        [False] * n,
        np.array(OUTCOMES, dtype=object)[outcome].tolist(),
        _masked(wait.tolist(), in_queue),
        _masked(talk.tolist(), answered),
        [True] * n,
        _masked(wrapup.tolist(), answered & (rng.random(n) < 0.6)),
    ]


def _masked(values: list[Any], keep: np.ndarray) -> list[Any]:
    return [v if k else None for v, k in zip(values, keep.tolist(), strict=True)]


def _iso(us: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(us.astype("datetime64[us]"), unit="us")


def sqlite_stamps(us: np.ndarray) -> list[str]:
    """How SQLAlchemy stores a UTC DateTime in SQLite: ``2025-01-01 00:00:00.000000``."""
    return list(np.char.replace(_iso(us), "T", " ").tolist())


def pg_stamps(us: np.ndarray) -> list[str]:
    return list(np.char.add(_iso(us), "+00").tolist())


def _stamped(engine: Engine, rows: int) -> bool:
    with engine.connect() as conn:
        try:
            found = conn.execute(text("SELECT version, rows FROM bench_stamp")).one_or_none()
        except Exception:
            return False
    return found is not None and tuple(found) == (VERSION, rows)


def _stamp(engine: Engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_stamp (version INTEGER, rows INTEGER)"))
        conn.execute(text("INSERT INTO bench_stamp VALUES (:v, :r)"), {"v": VERSION, "r": rows})


Timings = tuple[float, float] | None  # (load, backfill) seconds; None: cached


def sqlite_engine(rows: int, regenerate: bool) -> tuple[Engine, Timings]:
    path = CACHE / f"reports-v{VERSION}-{rows}.sqlite3"
    if path.exists() and not regenerate:
        engine = make_engine(f"sqlite:///{path}")
        if _stamped(engine, rows):
            return engine, None
        engine.dispose()
    for stale in CACHE.glob(f"reports-v{VERSION}-{rows}.sqlite3*"):
        stale.unlink()
    engine = make_engine(f"sqlite:///{path}")
    began = time.perf_counter()
    command.upgrade(alembic_config(engine), "0005")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA cache_size = -1000000")  # 1 GB: the indexes stay in memory
        cursor.execute("PRAGMA synchronous = OFF")  # a bench database, regenerated if cut short
        marks = ", ".join("?" * 16)
        for chunk in calls(rows, sqlite_stamps):
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO call_records ({COLUMNS}) VALUES ({marks})", zip(*chunk, strict=True)
            )
            cursor.execute("COMMIT")
    finally:
        raw.close()
    loaded = time.perf_counter()
    migrate(engine)  # 0006: the backfill of the cells
    backfilled = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    _stamp(engine, rows)
    return engine, (loaded - began, backfilled - loaded)


def postgres_engine(rows: int, regenerate: bool) -> tuple[Engine, Timings]:
    name = f"hotline_bench_reports_v{VERSION}_{rows}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    if exists and not regenerate and _stamped(make_engine(url), rows):
        return make_engine(url), None
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(url)
    began = time.perf_counter()
    command.upgrade(alembic_config(engine), "0005")
    _copy(engine, rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE call_records"))
    loaded = time.perf_counter()
    migrate(engine)  # 0006: the backfill of the cells
    backfilled = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE call_intervals"))
    _stamp(engine, rows)
    return engine, (loaded - began, backfilled - loaded)


def _copy(engine: Engine, rows: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY call_records ({COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for chunk in calls(rows, pg_stamps):
                for row in zip(*chunk, strict=True):
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def median_seconds(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def baselines(engine: Engine, repeat: int) -> dict[str, float]:
    params = {"a": YEAR_START, "b": YEAR_END}
    dialect = engine.dialect.name
    records = bucket(dialect, "started_at", 0, 1800)  # the report's own epoch expression
    cells = bucket(dialect, "interval_start", 0, 1800)
    statements = {
        "records: bare COUNT(*)": "SELECT COUNT(*) FROM call_records"
        " WHERE started_at >= :a AND started_at < :b",
        "records: bare GROUP BY 30-min bucket": f"SELECT {records} AS b, COUNT(*) FROM call_records"
        " WHERE started_at >= :a AND started_at < :b GROUP BY 1",
        "cells: bare GROUP BY 30-min bucket": f"SELECT {cells} AS b, SUM(report_offered) FROM call_intervals"
        " WHERE interval_start >= :a AND interval_start < :b GROUP BY 1",
    }
    out = {}
    with engine.connect() as conn:
        for label, sql in statements.items():
            statement = text(sql)
            out[label], _ = median_seconds(lambda s=statement: conn.execute(s, params).all(), repeat)
        former = records_statement(
            dialect,
            Stretch(YEAR_START, YEAR_END, 0, cells=False),
            1800,
            (),
            ((), (), ()),
            0.0,
            Thresholds(THRESHOLDS, 20),
        )
        label = "records: the former report SQL, 30m, all queues, UTC"
        out[label], _ = median_seconds(lambda: conn.execute(former).all(), repeat)
    return out


def measure(engine: Engine, repeat: int) -> list[tuple[str, float, int]]:
    service = ReportService(engine, lambda: ServiceLevels(THRESHOLDS))
    cases = [
        ("report 30m, all queues, UTC", ReportQuery(YEAR_START, YEAR_END, Interval.M30)),
        (
            "report 30m, per queue, UTC",
            ReportQuery(YEAR_START, YEAR_END, Interval.M30, group_by=(Dimension.QUEUE,)),
        ),
        (
            "report 30m, all queues, Europe/Berlin (2 DST changes)",
            ReportQuery(YEAR_START, YEAR_END, Interval.M30, timezone="Europe/Berlin"),
        ),
        (
            "report 30m, bounds inside quarter-hours, 45 s threshold",
            ReportQuery(
                YEAR_START + timedelta(minutes=7),
                YEAR_END - timedelta(minutes=7),
                Interval.M30,
                threshold_seconds=45,
                short_abandon_seconds=5,
            ),
        ),
        (
            "report per month, per queue and topic",
            ReportQuery(YEAR_START, YEAR_END, Interval.MONTH, group_by=(Dimension.QUEUE, Dimension.TOPIC)),
        ),
    ]
    out = []
    for label, query in cases:
        seconds, report = median_seconds(lambda q=query: service.report(q), repeat)
        out.append((label, seconds, len(report.rows)))  # type: ignore[attr-defined]
    return out


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def run(kind: str, rows: int, repeat: int, regenerate: bool) -> None:
    make = postgres_engine if kind == "postgresql" else sqlite_engine
    engine, timings = make(rows, regenerate)
    print(f"\n## {kind}: {rows:,} calls over 2025, {count(engine, 'call_intervals'):,} cells")
    if timings is None:
        print("generation: cached (version stamp found)")
    else:
        load, backfill = timings
        print(f"load: {load:.1f} s ({rows / load:,.0f} rows/s)")
        print(f"migration 0006 (backfill of the cells): {backfill:.1f} s ({rows / backfill:,.0f} records/s)")
    base = baselines(engine, repeat)
    for label, seconds in base.items():
        print(f"{label:58s} {seconds * 1000:8.0f} ms")
    bare = base["records: bare GROUP BY 30-min bucket"]
    for label, seconds, found in measure(engine, repeat):
        print(
            f"{label:58s} {seconds * 1000:8.0f} ms  {found:6d} rows"
            f"  {seconds / bare:4.2f}x records' bare GROUP BY"
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"median of {args.repeat} runs; targets: PostgreSQL < 1 s, SQLite < 2 s (30-minute report)")
    for kind in ("postgresql", "sqlite"):
        if args.only in (None, kind):
            run(kind, args.rows, args.repeat, args.regenerate)


if __name__ == "__main__":
    main()
